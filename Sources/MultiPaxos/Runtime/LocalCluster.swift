/// One entry of the committed log: a slot, the value chosen for it, and what applying it returned.
public struct CommittedEntry: Sendable, Equatable {
    /// The slot.
    public let slot: Slot
    /// The chosen value: a client command or a no-op.
    public let value: Value
    /// The command's result (nil for a no-op).
    public let result: [UInt8]?
}

/// Why the cluster could not do what was asked.
public enum ClusterError: Error, Equatable, CustomStringConvertible {
    /// No node answered within the client's deadline.
    case timeout(after: Duration)
    /// Every node is stopped.
    case clusterUnavailable
    /// The cluster has been shut down.
    case shutDown
    /// A node id that is not a member.
    case unknownNode(NodeID)

    public var description: String {
        switch self {
        case .timeout(let d): "no answer within \(d)"
        case .clusterUnavailable: "every node is stopped"
        case .shutDown: "the cluster has been shut down"
        case .unknownNode(let n): "node \(n) is not a member"
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
    private let makeMachine: @Sendable () -> any StateMachine
    private var storages: [DurableState]
    private var loops: [Task<Void, Never>?]
    private var nodes: [Node?]
    private var nextClient: UInt64 = 1
    private var isShutDown = false

    /// Starts `nodes` members in `mode`, replicating `makeStateMachine()` (the key-value store by default), and
    /// returns once they have formed a cluster.
    public init(nodes count: Int = 3, mode: Mode = .stableLeader, timing: Timing = Timing(),
                makeStateMachine: @escaping @Sendable () -> any StateMachine = { KeyValueStore() }) async throws(OptionsError) {
        guard (1...NodeSet.capacity).contains(count) else { throw OptionsError("nodes \(count) is not in 1...64") }
        configuration = ClusterConfiguration(members: (0..<count).map(NodeID.init), mode: mode, timing: timing)
        router = Router(nodes: count)
        makeMachine = makeStateMachine
        storages = (0..<count).map { _ in DurableState() }
        loops = Array(repeating: nil, count: count)
        nodes = Array(repeating: nil, count: count)
        for id in configuration.members {
            let executor = QueueExecutor(label: "multipaxos.node\(id.value)")
            let bootstrap: any Role = id == configuration.members[0]
                ? Seed(node: id, config: configuration, executor: executor, makeMachine: makeMachine, storage: storages[id.value])
                : Initializer(node: id, config: configuration, executor: executor, makeMachine: makeMachine,
                              storage: storages[id.value])
            start(id, executor: executor, roles: [bootstrap])
        }
        await waitUntilFormed()
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

    /// The nodes that are running.
    public var runningNodes: [NodeID] { router.liveNodes }

    /// A new client; each client sends one request at a time (concurrent calls on one client wait their turn).
    public func makeClient(requestTimeout: Duration = .milliseconds(500), giveUpAfter: Duration = .seconds(10)) -> ClusterClient {
        defer { nextClient += 1 }
        return ClusterClient(id: ClientID(nextClient), router: router, members: configuration.members,
                             requestTimeout: requestTimeout, giveUpAfter: giveUpAfter)
    }

    /// The entries committed from now on, in slot order, one per slot.
    public nonisolated func committedLog() -> AsyncStream<CommittedEntry> { router.subscribe() }

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
        guard configuration.memberSet.contains(node) else { throw .unknownNode(node) }
        router.connect(node, nil)
        if let loop = loops[node.value] {
            loop.cancel()
            await loop.value
        }
        loops[node.value] = nil
        nodes[node.value] = nil
    }

    /// Restarts a stopped node from its durable state; it catches up from its peers.
    public func restart(_ node: NodeID) throws(ClusterError) {
        guard configuration.memberSet.contains(node) else { throw .unknownNode(node) }
        guard !isShutDown else { throw .shutDown }
        guard loops[node.value] == nil else { return }
        let executor = QueueExecutor(label: "multipaxos.node\(node.value)")
        let storage = storages[node.value]
        let roles: [any Role]
        if storage.isMember, let member = try? Initializer.restartedMemberRoles(
            node: node, config: configuration, executor: executor, makeMachine: makeMachine, storage: storage) {
            roles = member
        } else {
            roles = [Initializer(node: node, config: configuration, executor: executor, makeMachine: makeMachine, storage: storage)]
        }
        start(node, executor: executor, roles: roles)
    }

    /// Stops every node, ends the committed-log streams, fails waiting clients, and returns once every task
    /// the cluster started has finished.
    public func shutdown() async {
        isShutDown = true
        for id in configuration.members { try? await stop(id) }
        router.close()
    }

    private func start(_ id: NodeID, executor: QueueExecutor, roles: [any Role]) {
        let node = Node(id: id, executor: executor)
        nodes[id.value] = node
        let (inbox, continuation) = AsyncStream<Input>.makeStream(bufferingPolicy: .unbounded)
        router.connect(id, continuation)
        let router = self.router
        loops[id.value] = Task {
            await withDiscardingTaskGroup { timers in
                for role in roles {
                    Self.carryOut(await node.install(role), at: id, router: router, timers: &timers)
                }
                for await input in inbox {
                    if Task.isCancelled { break }
                    Self.carryOut(await node.deliver(input), at: id, router: router, timers: &timers)
                }
                timers.cancelAll()
            }
        }
    }

    /// Does what a node's roles asked: messages to inboxes, replies to waiting clients, timers as child tasks.
    private static func carryOut(_ outputs: [Output], at node: NodeID, router: Router, timers: inout DiscardingTaskGroup) {
        for output in outputs {
            switch output.effect {
            case .send(let message, let to):
                if case .reply(let reply) = message, router.complete(reply) { continue }
                router.deliver(.message(message, from: node), to: to)
            case .broadcast(let message, let to):
                for destination in to { router.deliver(.message(message, from: node), to: destination) }
            case .setTimer(let timer, let after, let jitter):
                let delay = after + (jitter > 0 ? Microseconds.random(in: 0...jitter) : 0)
                timers.addTask {
                    do { try await Task.sleep(for: .microseconds(delay)) } catch { return }
                    router.deliver(.timer(timer), to: node)
                }
            case .event(.applied(let slot, let value, _, let result)):
                router.applied(slot, value, result: result)
            case .event(.installedSnapshot(let slot)):
                router.skipped(to: slot)
            case .event, .install, .uninstall:
                break
            }
        }
    }
}
