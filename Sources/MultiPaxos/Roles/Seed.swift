/// Starts a new cluster on one node: once enough peers have asked to join that they and this node form a
/// majority, it welcomes every configured peer with the initial state, installs the member roles on its own
/// node (whose Leader competes at once) and removes itself. Later Joins are answered by replicas.
public actor Seed: Role {
    public nonisolated let kind = RoleKind.seed
    nonisolated let executor: QueueExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    let node: NodeID
    let config: ClusterConfiguration
    let makeMachine: @Sendable () -> any StateMachine
    let storage: DurableState
    private var asked = NodeSet()

    /// Makes the seed of `node`; `makeMachine` gives the initial, empty state machine.
    public init(node: NodeID, config: ClusterConfiguration, executor: QueueExecutor,
                makeMachine: @escaping @Sendable () -> any StateMachine, storage: DurableState = DurableState()) {
        self.node = node
        self.storage = storage
        self.config = config
        self.executor = executor
        self.makeMachine = makeMachine
    }

    public func start() -> [Effect] {
        config.quorum <= 1 ? welcome() : []
    }

    public func handle(_ input: Input) -> [Effect] {
        guard case .message(.join, let from) = input, from != node, config.memberSet.contains(from) else { return [] }
        asked.insert(from)
        return asked.count + 1 >= config.quorum ? welcome() : []
    }

    private func welcome() -> [Effect] {
        let initial = Snapshot(nextSlot: .zero, machine: makeMachine().snapshot(), replies: [])
        let peers = config.memberSet.subtracting(NodeSet([node]))
        do {
            let roles = try Initializer.memberRoles(node: node, config: config, executor: executor,
                                                    machine: makeMachine(), snapshot: initial, leader: .initial,
                                                    eager: true, storage: storage)
            return [
                .event(.welcomed(asked)),
                .broadcast(.welcome(Welcome(snapshot: initial, leader: .initial)), to: peers),
                .install(roles),
                .event(.joined(.zero)),
                .uninstall(.seed),
            ]
        } catch {
            preconditionFailure("the state machine cannot restore its own initial snapshot: \(error)")
        }
    }
}
