/// Brings a node into an existing cluster: asks one peer after another to let it join until a Welcome comes,
/// then installs the member roles (Acceptor, Scout, Leader, Replica) starting from the Welcome's snapshot, and
/// removes itself.
public actor Initializer: Role {
    public nonisolated let kind = RoleKind.initializer
    nonisolated let executor: QueueExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    let node: NodeID
    let config: ClusterConfiguration
    let makeMachine: @Sendable () -> any StateMachine
    /// What the node kept from before a crash (empty for a new node).
    let storage: DurableState
    private var cursor = 0

    /// Makes the initializer of `node`; a restarted node passes the durable state it kept.
    public init(node: NodeID, config: ClusterConfiguration, executor: QueueExecutor,
                makeMachine: @escaping @Sendable () -> any StateMachine, storage: DurableState = DurableState()) {
        self.node = node
        self.config = config
        self.executor = executor
        self.makeMachine = makeMachine
        self.storage = storage
    }

    /// The roles every member runs, built on `executor`.
    public static func memberRoles(node: NodeID, config: ClusterConfiguration, executor: QueueExecutor,
                                   machine: any StateMachine, snapshot: Snapshot, leader: Ballot,
                                   eager: Bool, storage: DurableState = DurableState()) throws -> [any Role] {
        let roles: [any Role] = [
            Acceptor(node: node, config: config, executor: executor, storage: storage),
            Scout(node: node, config: config, executor: executor),
            Leader(node: node, config: config, executor: executor, eager: eager, knownLeader: leader, storage: storage),
            try Replica(node: node, config: config, executor: executor, machine: machine, snapshot: snapshot,
                        leader: leader, storage: storage),
        ]
        storage.isMember = true
        return roles
    }

    /// The roles of a member restarting after a crash: rebuilt only from its durable state (its acceptor's
    /// promises and accepted values, its ballot round, its last persisted snapshot), then caught up by peers.
    public static func restartedMemberRoles(node: NodeID, config: ClusterConfiguration, executor: QueueExecutor,
                                            makeMachine: @Sendable () -> any StateMachine,
                                            storage: DurableState) throws -> [any Role] {
        precondition(storage.isMember, "node \(node) restarts as a member but its durable state says it never joined")
        let initial = Snapshot(nextSlot: .zero, machine: makeMachine().snapshot(), replies: [])
        return try memberRoles(node: node, config: config, executor: executor, machine: makeMachine(),
                               snapshot: initial, leader: .initial, eager: false, storage: storage)
    }

    public func start() -> [Effect] { askNext() }

    public func handle(_ input: Input) -> [Effect] {
        switch input {
        case .timer(.joinRetry):
            cursor += 1
            return askNext()
        case .message(.welcome(let w), let from) where config.memberSet.contains(from):
            guard let roles = try? Self.memberRoles(node: node, config: config, executor: executor,
                                                    machine: makeMachine(), snapshot: w.snapshot, leader: w.leader,
                                                    eager: false, storage: storage)
            else { return [] }  // a snapshot this machine cannot read: wait for another peer's Welcome
            return [.install(roles), .event(.joined(w.snapshot.nextSlot)), .uninstall(.initializer)]
        case .message, .timer:
            return []
        }
    }

    private func askNext() -> [Effect] {
        let peers = config.members.filter { $0 != node }
        guard !peers.isEmpty else { return [] }
        return [
            .send(.join(Join()), to: peers[cursor % peers.count]),
            .setTimer(.joinRetry, after: config.timing.joinRetryInterval, jitter: config.timing.joinRetryInterval / 4),
        ]
    }
}
