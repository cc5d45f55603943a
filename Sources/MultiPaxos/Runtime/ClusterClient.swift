/// A client of a `LocalCluster`: submits commands one at a time and awaits their results. It sends each request
/// to the leader's node when the cluster's events name one (its replica hands the command to the leader without
/// a message between nodes), else to a node of its own, and, when no answer comes in time, sends the same request
/// (same number) to the next node, so the cluster runs it once however often it is sent. It gives up with a typed error, and stops
/// waiting at once when the calling task is cancelled. One client serialises its calls: concurrent calls on
/// the same client wait their turn (make one client per task for requests in parallel).
public actor ClusterClient {
    /// The client's identity in the cluster's reply caches.
    public nonisolated let id: ClientID
    private let router: Router
    private let hub: EventHub
    private let members: [NodeID]
    private let requestTimeout: Duration
    private let giveUpAfter: Duration
    private var nextRequest: UInt64 = 1
    private var gateway: Int
    private var busy = false
    private var turn: [CheckedContinuation<Void, Never>] = []

    init(id: ClientID, router: Router, hub: EventHub, members: [NodeID], requestTimeout: Duration, giveUpAfter: Duration) {
        self.id = id
        self.router = router
        self.hub = hub
        self.members = members
        self.requestTimeout = requestTimeout
        self.giveUpAfter = giveUpAfter
        gateway = Int(id.value % UInt64(members.count))
    }

    /// Runs `operation` (in the state machine's encoding) and returns its result. A read (an operation the state
    /// machine answers without changing, see `StateMachine.query(_:)`) is made linearizable as `consistency`
    /// says, or as the cluster's configuration does when it is nil; other operations always go through the log.
    public func submit(_ operation: [UInt8], consistency: ReadConsistency? = nil) async throws(ClusterError) -> [UInt8] {
        while busy { await withCheckedContinuation { turn.append($0) } }
        busy = true
        defer {
            busy = false
            if !turn.isEmpty { turn.removeFirst().resume() }
        }
        let key = RequestKey(client: id, request: RequestNumber(nextRequest))
        nextRequest += 1
        let command = Command(key: key, operation: operation)
        let clock = ContinuousClock()
        let submitted = clock.now
        let deadline = submitted + giveUpAfter
        var first = true
        while clock.now < deadline {
            if Task.isCancelled { throw .cancelled }
            if router.isClosed { throw .shutDown }
            // The first try goes to the leader's node if one is known; a retry goes round the members.
            let preferred = first ? hub.leader ?? members[gateway % members.count] : members[gateway % members.count]
            first = false
            guard let node = router.gateway(preferring: preferred) else { throw .clusterUnavailable }
            // The request enters at the node's own replica, as from a client on that node.
            let result = await router.reply(to: key, timeout: requestTimeout) {
                router.deliver(.message(.request(Request(command: command, consistency: consistency)), from: node), to: node)
            }
            if let result {
                router.counters[node.value].committed(after: clock.now - submitted)  // the answering node's metrics
                return result
            }
            if Task.isCancelled { throw .cancelled }
            if router.isClosed { throw .shutDown }
            gateway += 1
        }
        throw .timeout(after: giveUpAfter)
    }

    /// Runs a key-value operation against the built-in store. On a cluster that replicates another state machine
    /// the operation is still committed and applied (as bytes that machine makes of it), but its answer is not a
    /// key-value result: that throws `ClusterError.notKeyValueStore` (use `submit(_:)` with such a cluster).
    /// A `get` is made linearizable as `consistency` says (nil: as the cluster's configuration does): by read
    /// index, without a log slot, or through the log.
    public func run(_ operation: KeyValueOperation, consistency: ReadConsistency? = nil) async throws(ClusterError) -> KeyValueResult {
        let bytes = try await submit(operation.encoded, consistency: consistency)
        guard let result = try? KeyValueResult(decoding: bytes) else { throw .notKeyValueStore(answer: bytes) }
        return result
    }

    /// Runs `operations` in order as one pipeline: they share one request and one log entry (each applied as if
    /// alone, exactly once together), and their results come back in order. Gets alone are a read, made
    /// linearizable as `consistency` says; with any other operation the pipeline goes through the log. As `run`,
    /// on the built-in key-value store only.
    public func run(_ operations: [KeyValueOperation], consistency: ReadConsistency? = nil) async throws(ClusterError) -> [KeyValueResult] {
        guard operations.count > 1 else {
            guard let only = operations.first else { return [] }
            return [try await run(only, consistency: consistency)]
        }
        let bytes = try await submit(KeyValueStore.pipeline(operations.map(\.encoded)), consistency: consistency)
        guard let parts = KeyValueStore.pipelined(bytes), parts.count == operations.count else {
            throw .notKeyValueStore(answer: bytes)
        }
        var results: [KeyValueResult] = []
        for part in parts {
            guard let result = try? KeyValueResult(decoding: part) else { throw .notKeyValueStore(answer: bytes) }
            results.append(result)
        }
        return results
    }
}
