/// Starts a new cluster on the first initial voter, once it is sure none exists: when every other initial voter
/// has asked to join as a new node (its storage never recorded a membership), it welcomes each, naming the Join
/// it answers, installs the member roles on its own node (whose Leader competes at once) and removes itself.
///
/// A node that lost its disk starts as new, and the seed's node may be one. So the Seed asks its peers too: a
/// Welcome from a replica, or a Join from a node that is not new, shows that the cluster exists, and the node
/// rejoins as a learner (through the log and a fence, see Initializer) rather than found a second cluster. With
/// an initial voter down, a new cluster waits for it: one that formed without it could not tell it, later, from
/// a node that voted and lost its disk.
public actor Seed: Role {
    public nonisolated let kind = RoleKind.seed
    nonisolated let executor: QueueExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    let node: NodeID
    let config: ClusterConfiguration
    let makeMachine: @Sendable () -> any StateMachine
    let storage: DurableState
    /// This start's identity (see `Join.nonce`), which its rejoin uses if the cluster turns out to exist.
    let nonce: UInt64
    /// The new initial voters that asked to join, with their Joins' nonces.
    private var asked: [NodeID: UInt64] = [:]
    /// How often it asked, and who was missing when it last said it waits.
    private var retries = 0
    private var reported = NodeSet()

    /// Makes the seed of `node`; `makeMachine` gives the initial, empty state machine.
    public init(node: NodeID, config: ClusterConfiguration, executor: QueueExecutor,
                makeMachine: @escaping @Sendable () -> any StateMachine, storage: DurableState = DurableState(),
                nonce: UInt64 = 0) {
        self.node = node
        self.storage = storage
        self.config = config
        self.executor = executor
        self.makeMachine = makeMachine
        self.nonce = nonce
    }

    private var others: NodeSet { config.memberSet.subtracting(NodeSet([node])) }
    /// The test-only flaw: a majority's Joins found the cluster, whether or not one exists (as the code once did).
    private var foundsBlindly: Bool { config.flaws.contains(.amnesiacVotes) }

    public func start() -> [Effect] {
        others.isEmpty ? welcome() : ask()
    }

    public func handle(_ input: Input) -> [Effect] {
        switch input {
        case .timer(.joinRetry):
            // Said after ten tries (a second by default), again when who is missing changes, and every hundred.
            retries += 1
            let missing = others.subtracting(NodeSet(asked.keys))
            guard retries >= 10, !missing.isEmpty, missing != reported || retries % 100 == 0 else { return ask() }
            reported = missing
            return [.event(.waitingToFound(missing: missing))] + ask()
        case .message(.welcome, let from) where others.contains(from):
            return rejoin(because: "\(from) answered as a member")
        case .message(.join(let j), let from) where others.contains(from):
            if !j.isNew && !foundsBlindly { return rejoin(because: "\(from) asked to join with its storage kept") }
            asked[from] = j.nonce
            let enough = foundsBlindly ? asked.count + 1 >= config.quorum : others.allSatisfy { asked[$0] != nil }
            return enough ? welcome() : []
        case .message, .timer:
            return []
        }
    }

    /// Asks every other initial voter (replicas answer with a Welcome, new nodes with their own Join) and sets
    /// the next try.
    private func ask() -> [Effect] {
        [.broadcast(.join(Join(nonce: nonce, isNew: storage.membership == .new)), to: others),
         .setTimer(.joinRetry, after: config.timing.joinRetryInterval, jitter: config.timing.joinRetryInterval / 4)]
    }

    /// The cluster exists: this node may have voted in it before it lost its disk, so it rejoins as a learner.
    private func rejoin(because reason: String) -> [Effect] {
        // With the test-only flaw it joins as if new, and its Initializer lets it vote at once.
        if !foundsBlindly { storage.membership = .learner }
        let initializer = Initializer(node: node, config: config, executor: executor, makeMachine: makeMachine,
                                      storage: storage, nonce: nonce)
        return [.event(.mustRejoin(reason)), .install([initializer]), .uninstall(.seed)]
    }

    private func welcome() -> [Effect] {
        let initial = Snapshot(nextSlot: .zero, machine: makeMachine().snapshot(), replies: [])
        do {
            let roles = try Initializer.memberRoles(node: node, config: config, executor: executor,
                                                    machine: makeMachine(), snapshot: initial, leader: .initial,
                                                    eager: true, storage: storage, founders: asked)
            return [
                .event(.welcomed(NodeSet(asked.keys))),
                .broadcast(.welcome(Welcome(snapshot: nil, leader: .initial, founders: asked)), to: NodeSet(asked.keys)),
                .install(roles),
                .event(.joined(.zero)),
                .uninstall(.seed),
            ]
        } catch {
            preconditionFailure("the state machine cannot restore its own initial snapshot: \(error)")
        }
    }
}
