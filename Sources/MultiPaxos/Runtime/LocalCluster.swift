#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One entry of the committed log: a slot, the value chosen for it, and what applying it returned.
public struct CommittedEntry: Sendable, Equatable {
    /// The slot.
    public let slot: Slot
    /// The chosen value: a client command or a no-op (a slot that holds a batch gives one entry per command, each
    /// with the command as its value, in the order they ran).
    public let value: Value
    /// The command's result (nil for a no-op).
    public let result: [UInt8]?
}

/// Why the cluster could not do what was asked.
public enum ClusterError: Error, Equatable, CustomStringConvertible {
    /// No node answered within the client's deadline. The command may still take effect: it was sent, and a
    /// majority that comes back can commit it later (exactly once).
    case timeout(after: Duration)
    /// Every node is stopped.
    case clusterUnavailable
    /// The calling task was cancelled; the request may still run once, or never.
    case cancelled
    /// The cluster has been shut down.
    case shutDown
    /// A node id that is not a member.
    case unknownNode(NodeID)
    /// Durable storage could not be read or written; the message names the file (and offset) and the cause.
    case storage(String)
    /// The cluster was asked for something it cannot be, naming the bad value.
    case invalidConfiguration(String)
    /// `ClusterClient.run(_:)` was used on a cluster whose state machine is not the key-value store: the command
    /// was committed and applied, and this is the machine's answer (use `submit(_:)` with such a cluster).
    case notKeyValueStore(answer: [UInt8])

    public var description: String {
        switch self {
        case .timeout(let d): "no answer within \(d) (the command may still take effect later)"
        case .clusterUnavailable: "every node is stopped"
        case .cancelled: "the request's task was cancelled (it may still run once, or never)"
        case .shutDown: "the cluster has been shut down"
        case .unknownNode(let n): "node \(n) is not a member"
        case .storage(let message): "storage: \(message)"
        case .invalidConfiguration(let message): "invalid configuration: \(message)"
        case .notKeyValueStore(let answer):
            "the cluster's state machine is not the key-value store (its answer: \(answer.count) bytes); use submit(_:)"
        }
    }
}

/// A cluster of replicas inside one process, on the real clock: the same roles as the simulation, each node on
/// its own serial executor. Start it, make clients, read the committed log, stop and restart nodes, shut down.
///
/// ```swift
/// let cluster = try await LocalCluster(nodes: 3)
/// let client = await cluster.makeClient()
/// _ = try await client.run(.put("greeting", "hello"))
/// await cluster.shutdown()
/// ```
public actor LocalCluster {
    /// The members, mode and timing.
    public nonisolated let configuration: ClusterConfiguration
    let router: Router
    let hub: EventHub
    let makeMachine: @Sendable () -> any StateMachine
    var storages: [DurableState]
    var files: [FileStorage?]
    private var loops: [Task<Void, Never>?]
    private(set) var nodes: [Node?]
    /// Every node this cluster started: the initial members and the nodes added since (removed ones too).
    var known: NodeSet
    /// The storage directory, if the cluster keeps its state in one.
    let directory: String?
    private var issuedClients: Set<UInt64> = []
    private(set) var isShutDown = false

    /// Starts `nodes` members in `mode`, replicating `makeStateMachine()` (the key-value store by default), and
    /// returns once they have formed a cluster. With a `storageDirectory`, each node keeps its durable state in
    /// `node-N.log` there, writes it before sending anything that depends on it, and a cluster started again on
    /// the same directory resumes where it stopped; without one, durable state lives in memory. A `logger`
    /// receives the cluster's debug and trace records (none by default; see `MultiPaxosLogger`). Throws
    /// `.invalidConfiguration` for a size outside 1...64 or a `Timing` that cannot work (see `Timing.problem`).
    /// `batching` sets how leaders pack commands into slots and how many slots they keep in flight
    /// (`Batching.off` is one command per slot, the protocol as the papers describe it). `reads` is how reads
    /// are made linearizable when a request does not say: by read index (no log slot), by leader lease, or
    /// through the log. `leases` turns leader leases on with a clock-drift bound (nil: on, with a 1% bound, when
    /// `reads` is `.lease`; off otherwise, and a request asking for a lease is served by read index).
    public init(nodes count: Int = 3, mode: Mode = .stableLeader, timing: Timing = Timing(), batching: Batching = .standard,
                reads: ReadConsistency = .readIndex, leases: Leases? = nil, storageDirectory: String? = nil, logger: (any MultiPaxosLogger)? = nil,
                makeStateMachine: @escaping @Sendable () -> any StateMachine = { KeyValueStore() }) async throws(ClusterError) {
        guard (1...NodeSet.capacity).contains(count) else { throw .invalidConfiguration("nodes \(count) is not in 1...64") }
        if let problem = timing.problem { throw .invalidConfiguration(problem) }
        if let problem = batching.problem { throw .invalidConfiguration(problem) }
        let leases = leases ?? (reads == .lease ? Leases() : nil)
        if let problem = leases?.problem(timing) { throw .invalidConfiguration(problem) }
        var configuration = ClusterConfiguration(members: (0..<count).map(NodeID.init), mode: mode, timing: timing)
        configuration.batching = batching
        configuration.reads = reads
        configuration.leases = leases
        configuration.snapshotIntervalSlots = Self.snapshotIntervalSlots
        configuration.snapshotIntervalBytes = Self.snapshotIntervalBytes
        configuration.snapshotGrowth = Self.snapshotGrowth
        self.configuration = configuration
        router = Router(nodes: NodeSet.capacity)
        known = configuration.memberSet
        directory = storageDirectory
        hub = EventHub(logger: logger)
        makeMachine = makeStateMachine
        if let directory = storageDirectory {
            guard !directory.isEmpty else { throw .invalidConfiguration("storageDirectory is empty (give a folder's path)") }
            try makeDirectory(directory)
            // Nodes removed through the log left their file renamed (`removeNode`); nodes added have files past
            // `count`, whose identity names the `count` initial voters.
            let removed = Set((0..<NodeSet.capacity).filter { access(Self.removedPath(directory, NodeID($0)), F_OK) == 0 })
            let added = (count..<NodeSet.capacity).filter { access(Self.path(directory, NodeID($0)), F_OK) == 0 }
            let ids = (0..<count).filter { !removed.contains($0) } + added
            let paths = ids.map { Self.path(directory, NodeID($0)) }
            let existedBefore = paths.map { access($0, F_OK) == 0 }
            let removeCreated = { for (path, existed) in zip(paths, existedBefore) where !existed { unlink(path) } }
            var opened: [FileStorage] = []
            do {
                for (id, path) in zip(ids, paths) {
                    let file = try FileStorage(path: path)
                    opened.append(file)
                    try file.claim(Self.identity(of: NodeID(id), initial: count, mode: mode))
                }
            } catch {
                removeCreated()
                throw error
            }
            // A node file without state, beside files with state, belonged to a node that lost its storage:
            // it may have voted and forgotten, so it comes back as a learner. A directory with no state at all
            // is a new cluster: each file records that its node was provisioned, so a later loss is detected.
            let existing = opened.contains { !$0.wasEmpty }
            let lost = zip(paths, opened).filter { $0.1.wasEmpty || $0.1.state.membership == .learner }.map(\.0)
            let voters = opened.count - lost.count, majority = opened.count / 2 + 1
            if existing && voters < majority {
                // Fewer than a majority remember their votes: no quorum can be trusted again.
                removeCreated()
                throw .storage("\(lost.joined(separator: ", ")): \(lost.count) of \(opened.count) nodes lost their state, "
                               + "and \(voters) remembering their votes are fewer than a majority (\(majority)): "
                               + "the cluster cannot be recovered safely")
            }
            for file in opened {
                if file.wasEmpty && existing { file.state.membership = .learner }
                try file.persist(always: file.wasEmpty)  // new files record their provisioning; old ones their identity
            }
            files = Array(repeating: nil, count: NodeSet.capacity)
            storages = (0..<NodeSet.capacity).map { _ in DurableState() }
            for (id, file) in zip(ids, opened) {
                files[id] = file
                storages[id] = file.state
            }
            known = NodeSet(ids.map(NodeID.init))
        } else {
            files = Array(repeating: nil, count: NodeSet.capacity)
            storages = (0..<NodeSet.capacity).map { _ in DurableState() }
        }
        loops = Array(repeating: nil, count: NodeSet.capacity)
        nodes = Array(repeating: nil, count: NodeSet.capacity)
        for id in known {
            let executor = QueueExecutor(label: "multipaxos.node\(id.value)", runsTasks: true)
            start(id, executor: executor, roles: bootstrapRoles(id, executor: executor))
        }
        await waitUntilFormed()
    }

    /// Node `id`'s file in `directory`, and the name it is given once the node is removed through the log.
    static func path(_ directory: String, _ id: NodeID) -> String { "\(directory)/node-\(id.value).log" }
    static func removedPath(_ directory: String, _ id: NodeID) -> String { path(directory, id) + ".removed" }

    /// What node `id`'s file records it belongs to: one of the `initial` members of a local cluster, or a node
    /// added to such a cluster later (whose identity names the initial voters, so it is never mistaken for a
    /// member of a cluster that began larger).
    static func identity(of id: NodeID, initial: Int, mode: Mode) -> ClusterIdentity {
        let members = max(initial, id.value + 1)
        return ClusterIdentity(clusterID: "local", members: (0..<members).map { "n\($0)" }, node: id, mode: mode,
                               initialVoters: NodeSet((0..<initial).map(NodeID.init)))
    }

    /// The roles a node starts with (see `Initializer.bootstrapRoles`); a node added later asks `joining`'s
    /// members to let it in.
    func bootstrapRoles(_ id: NodeID, executor: QueueExecutor, joining: ClusterConfiguration? = nil) -> [any Role] {
        Initializer.bootstrapRoles(node: id, config: joining ?? configuration, executor: executor, makeMachine: makeMachine,
                                   storage: storages[id.value], nonce: UInt64.random(in: 1...UInt64.max))
    }

    /// Waits (up to a few leader timeouts) until every node is a member and one leads.
    private func waitUntilFormed() async {
        let clock = ContinuousClock()
        let deadline = clock.now + .microseconds(10 * configuration.timing.leaderTimeout)
        while clock.now < deadline {
            var joined = true
            for node in nodes.compactMap({ $0 }) where await node.replica == nil { joined = false }
            if joined, await leader() != nil { return }
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    /// What a node is in the cluster: a voting member, a learner (it lost its storage and has not finished
    /// rejoining, so it does not vote), or new (not yet joined).
    public func membership(of node: NodeID) async throws(ClusterError) -> Membership {
        guard known.contains(node) else { throw .unknownNode(node) }
        guard let running = nodes[node.value] else { return storages[node.value].membership }  // stopped: at rest
        let kinds = await running.installedKinds
        return kinds.contains(.acceptor) ? .member : kinds.contains(.replica) ? .learner : .new
    }

    /// The nodes that are running.
    public var runningNodes: [NodeID] { router.liveNodes }

    /// A new client; each client sends one request at a time (concurrent calls on one client wait their turn).
    /// Its identity is random, so it never collides with a client of an earlier run whose requests the
    /// replicas' reply caches (restored from disk) still remember. A call gives up after `giveUpAfter` (30 s by
    /// default: on a loaded machine, elections on the real clock can take several seconds).
    public func makeClient(requestTimeout: Duration = .milliseconds(500), giveUpAfter: Duration = .seconds(30)) -> ClusterClient {
        var id: UInt64
        repeat { id = UInt64.random(in: 1...UInt64.max) } while !issuedClients.insert(id).inserted
        return ClusterClient(id: ClientID(id), router: router, hub: hub, members: configuration.members,
                             requestTimeout: requestTimeout, giveUpAfter: giveUpAfter)
    }

    /// The entries committed from the moment of this call on (not earlier ones), in slot order: one per slot, or
    /// one per command for a slot that holds a batch, in the order they ran. The stream ends at `shutdown()`.
    public nonisolated func committedLog() -> AsyncStream<CommittedEntry> { router.subscribe() }

    /// Real-time shells snapshot every this many slots (see `ClusterConfiguration.snapshotIntervalSlots`).
    static let snapshotIntervalSlots: Int64 = 512
    /// ... or every this many bytes of operations, and at least the size of the last snapshot.
    static let snapshotIntervalBytes = 8 << 20
    /// ... once the operations since the last snapshot reach twice its size (see `ClusterConfiguration.snapshotGrowth`).
    static let snapshotGrowth = 2

    /// Bytes the nodes' storage files have had written so far by this process (0 without a storage directory):
    /// what a workload costs the disks.
    public func storageBytesWritten() -> Int { files.reduce(0) { $0 + ($1?.bytesWritten ?? 0) } }

    /// The node that leads now, if any is known.
    public func leader() async -> NodeID? {
        var best: Ballot?
        for node in nodes.compactMap({ $0 }) {
            if let leader = await node.leader, await leader.isActive {
                let b = await leader.ballot
                if best.map({ b > $0 }) ?? true { best = b }
            }
        }
        return best?.leader
    }

    /// Stops a node as a crash would: its loop and timers end, volatile state is gone, durable state stays.
    public func stop(_ node: NodeID) async throws(ClusterError) {
        guard known.contains(node) else { throw .unknownNode(node) }
        router.connect(node, nil)
        if let loop = loops[node.value] {
            loop.cancel()
            await loop.value
            hub.publish(ClusterEvent(node: node, kind: .stopped))
        }
        loops[node.value] = nil
        nodes[node.value] = nil
    }

    /// Restarts a stopped node from its durable state, and returns once it is back: a voting member, or a
    /// learner that is rejoining (its durable state was lost), so that `membership(of:)` and requests see it.
    /// A node that needs its peers to come back (a learner asking to rejoin) and finds no majority up keeps
    /// trying in the background; then this returns what it is after ten leader timeouts (`.new`). A member,
    /// which needs no peer, is waited for up to 30 s (on a loaded machine its loop may start late). Restarting a
    /// running node changes nothing and returns its membership.
    @discardableResult
    public func restart(_ node: NodeID) async throws(ClusterError) -> Membership {
        guard known.contains(node) else { throw .unknownNode(node) }
        guard !isShutDown else { throw .shutDown }
        if loops[node.value] == nil {
            let executor = QueueExecutor(label: "multipaxos.node\(node.value)", runsTasks: true)
            hub.publish(ClusterEvent(node: node, kind: .restarted))
            start(node, executor: executor, roles: bootstrapRoles(node, executor: executor))
        }
        // A member comes back from its own durable state, needing no peer: wait for it however loaded the
        // machine is (up to 30 s). Anyone else may need a majority to come back: ten leader timeouts.
        let clock = ContinuousClock()
        let patience: Duration = storages[node.value].isMember ? .seconds(30) : .microseconds(10 * configuration.timing.leaderTimeout)
        let deadline = clock.now + patience
        while true {
            let membership = try await membership(of: node)
            if membership != .new || clock.now >= deadline || isShutDown { return membership }
            try? await Task.sleep(for: .milliseconds(1))
        }
    }

    /// Stops every node, ends the committed-log streams, fails waiting clients, and returns once every task
    /// the cluster started has finished.
    public func shutdown() async {
        isShutDown = true
        for id in known { try? await stop(id) }
        router.close()
        hub.close()
    }

    func start(_ id: NodeID, executor: QueueExecutor, roles: [any Role]) {
        let node = Node(id: id, executor: executor, clock: .monotonic)
        nodes[id.value] = node
        let inbox = NodeInbox()
        router.connect(id, inbox)
        let router = self.router
        let file = files[id.value]
        let loopShell = NodeLoopShell(id: id, router: router, hub: hub)
        // The loop prefers the node's executor, so it runs on the node's queue beside the roles: delivering a
        // batch to them needs no thread hand-off.
        loops[id.value] = Task(executorPreference: executor) {
            var shell = loopShell
            await withDiscardingTaskGroup { timers in
                do {
                    for role in roles {
                        let outputs = await node.install(role)
                        try file?.persist()  // durable before anything that depends on it is sent
                        shell.carryOut(outputs, timers: &timers)
                    }
                    while let batch = await inbox.next() {
                        guard !batch.isEmpty else { continue }
                        shell.took(batch)
                        var outputs = await node.deliver(all: batch)
                        // Messages to the node itself are handled within the batch (bounded): one sync and no trip
                        // through the inbox for a leader's Accept to its own acceptor, a replica's Propose, ...
                        var local = outputs.takeMessages(to: id) { _ in true }
                        for _ in 0..<64 where !local.isEmpty {
                            shell.handsItself(local)
                            var more = await node.deliver(all: local.map { .message($0, from: id) })
                            local = more.takeMessages(to: id) { _ in true }
                            outputs += more
                        }
                        for message in local { outputs.append(Output(role: .replica, effect: .send(message, to: id))) }
                        try file?.persist()  // one sync for the batch (group commit), before anything it produced is sent
                        let asked = shell.carryOut(outputs, timers: &timers)
                        await shell.stepped(on: batch, askedToCatchUp: asked, node: node)
                    }
                } catch {
                    // Storage failed: the node stops rather than send what it could not record.
                    router.connect(id, nil)
                }
                timers.cancelAll()
            }
        }
    }
}
