/// Brings a node into an existing cluster: asks one peer after another to let it join until a Welcome comes,
/// then installs the member roles (Acceptor, Scout, Leader, Replica) starting from the Welcome's snapshot, and
/// removes itself. A node whose storage was lost (`Membership.learner`) installs only a Replica: it may have
/// promised something it no longer remembers, so it must never vote (nor lead, since it could reuse a ballot).
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
        precondition(storage.membership != .learner, "node \(node) lost its storage and may not become a voting member")
        let roles: [any Role] = [
            Acceptor(node: node, config: config, executor: executor, storage: storage),
            Scout(node: node, config: config, executor: executor),
            Leader(node: node, config: config, executor: executor, eager: eager, knownLeader: leader, storage: storage),
            try Replica(node: node, config: config, executor: executor, machine: machine, snapshot: snapshot,
                        leader: leader, storage: storage),
        ]
        storage.membership = .member
        return roles
    }

    /// The roles of a learner: a Replica only, which catches up from peers and serves its node's clients.
    public static func learnerRoles(node: NodeID, config: ClusterConfiguration, executor: QueueExecutor,
                                    machine: any StateMachine, snapshot: Snapshot, leader: Ballot,
                                    storage: DurableState) throws -> [any Role] {
        precondition(storage.membership == .learner, "node \(node) is a \(storage.membership), not a learner")
        return [try Replica(node: node, config: config, executor: executor, machine: machine, snapshot: snapshot,
                            leader: leader, storage: storage)]
    }

    /// The roles of a member restarting after a crash: rebuilt only from its durable state (its acceptor's
    /// promises and accepted values, its ballot round, its last persisted snapshot), then caught up by peers.
    /// (A learner restarts through an Initializer, which fetches a snapshot and installs its Replica.)
    public static func restartedMemberRoles(node: NodeID, config: ClusterConfiguration, executor: QueueExecutor,
                                            makeMachine: @Sendable () -> any StateMachine,
                                            storage: DurableState) throws -> [any Role] {
        precondition(storage.isMember, "node \(node) restarts as a member but its durable state says it is a \(storage.membership)")
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
            let roles = storage.membership == .learner
                ? try? Self.learnerRoles(node: node, config: config, executor: executor, machine: makeMachine(),
                                         snapshot: w.snapshot, leader: w.leader, storage: storage)
                : try? Self.memberRoles(node: node, config: config, executor: executor, machine: makeMachine(),
                                        snapshot: w.snapshot, leader: w.leader, eager: false, storage: storage)
            guard let roles else { return [] }  // a snapshot this machine cannot read: wait for another peer's Welcome
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
