/// An effect together with the role that asked for it, as a node hands it to the bus.
public struct Output: Sendable {
    /// The role that produced the effect.
    public let role: RoleKind
    /// What to do.
    public let effect: Effect
}

/// A cluster node: holds the roles installed into it and routes each message or timer to the roles it concerns.
/// Which roles a node runs is decided by injection (`install`), not by subclassing. The node carries out role
/// installation itself and hands every other effect back to its bus.
public actor Node {
    /// The node's identifier.
    public nonisolated let id: NodeID
    nonisolated let executor: QueueExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private var roles: [(any Role)?] = Array(repeating: nil, count: RoleKind.allCases.count)
    private var requesters: [ClientID: Requester] = [:]

    /// The clock the node's leader reads for its lease, if the shell gives one.
    private let clock: NodeClock?

    /// Makes an empty node whose roles will run on `executor`; `clock` is the time its shell tells the roles.
    public init(id: NodeID, executor: QueueExecutor, clock: NodeClock? = nil) {
        self.id = id
        self.executor = executor
        self.clock = clock
    }

    /// The installed role of a kind, if any (for requesters, see `requester(for:)`).
    public func role(_ kind: RoleKind) -> (any Role)? { roles[kind.rawValue] }
    /// The replica, if this node is a member yet.
    public var replica: Replica? { roles[RoleKind.replica.rawValue] as? Replica }
    /// The leader role, if this node is a member yet.
    public var leader: Leader? { roles[RoleKind.leader.rawValue] as? Leader }
    /// The acceptor, if this node is a member yet.
    public var acceptor: Acceptor? { roles[RoleKind.acceptor.rawValue] as? Acceptor }
    /// The requester of a client on this node.
    public func requester(for client: ClientID) -> Requester? { requesters[client] }
    /// The kinds of role installed, in canonical order.
    public var installedKinds: [RoleKind] { RoleKind.allCases.filter { roles[$0.rawValue] != nil } }

    /// Removes the node's clients (their requesters): a simulated operator stops the clients of a node that a
    /// change removed and that keeps running.
    public func stopClients() { requesters = [:] }

    /// Installs a role and returns what it starts with.
    public func install(_ role: any Role) async -> [Output] {
        if let requester = role as? Requester {
            requesters[requester.client] = requester
        } else {
            roles[role.kind.rawValue] = role
        }
        if let leader = role as? Leader, let clock { await leader.use(clock) }
        return await carryOut(await role.start(), from: role.kind)
    }

    /// Hands one input to the roles it concerns and returns the effects for the bus.
    public func deliver(_ input: Input) async -> [Output] {
        var outputs: [Output] = []
        await deliver(input, into: &outputs)
        return outputs
    }

    /// Hands one input to the roles it concerns and appends their effects to `outputs` (no array per input).
    private func deliver(_ input: Input, into outputs: inout [Output]) async {
        for target in targets(of: input) {
            await carryOut(await target.handle(input), from: target.kind, into: &outputs)
        }
    }

    /// Hands each input in order to the roles it concerns, in one hop onto the node's executor, and returns all
    /// their effects: a shell that drains a queue of inputs pays the hand-off once per batch, not once per input.
    /// The leader holds the batch's commands until its end, then packs them into as few slots as it can.
    public func deliver(all inputs: [Input]) async -> [Output] {
        var outputs: [Output] = []
        outputs.reserveCapacity(inputs.count * 2)
        guard inputs.count > 1 else {
            for input in inputs { await deliver(input, into: &outputs) }
            return outputs
        }
        await beginBatch()
        for input in inputs { await deliver(input, into: &outputs) }
        await endBatch(into: &outputs)
        return outputs
    }

    /// The leader holding a batch's commands (`beginBatch`), until `endBatch`.
    private var batchLeader: Leader?

    /// Starts a batch whose inputs the caller hands over one at a time with `deliver(_:)`, looking at each one's
    /// effects (the simulation's checks do), as `deliver(all:)` does in one call: the leader holds the commands
    /// until `endBatch`.
    public func beginBatch() async {
        batchLeader = leader
        await batchLeader?.holdProposals()
    }

    /// Ends the batch `beginBatch` started and returns what the leader then proposes.
    public func endBatch() async -> [Output] {
        var outputs: [Output] = []
        await endBatch(into: &outputs)
        return outputs
    }

    /// Ends the batch: the leader then in office proposes what waits; one that a step of the batch replaced
    /// proposes nothing.
    private func endBatch(into outputs: inout [Output]) async {
        guard let leader = batchLeader else { return }
        batchLeader = nil
        let current = self.leader
        if current !== leader { _ = await leader.releaseProposals() }
        if let current { await carryOut(await current.releaseProposals(), from: .leader, into: &outputs) }
    }

    private func carryOut(_ effects: [Effect], from kind: RoleKind) async -> [Output] {
        var outputs: [Output] = []
        outputs.reserveCapacity(effects.count)
        await carryOut(effects, from: kind, into: &outputs)
        return outputs
    }

    private func carryOut(_ effects: [Effect], from kind: RoleKind, into outputs: inout [Output]) async {
        for effect in effects {
            switch effect {
            case .install(let newRoles):
                for role in newRoles { outputs += await install(role) }
            case .uninstall(let k):
                roles[k.rawValue] = nil
            case .send, .broadcast, .setTimer, .event:
                outputs.append(Output(role: kind, effect: effect))
            }
        }
    }

    private func targets(of input: Input) -> [any Role] {
        func the(_ kind: RoleKind) -> [any Role] { roles[kind.rawValue].map { [$0] } ?? [] }
        switch input {
        case .timer(.requestRetry(let key)):
            return requesters[key.client].map { [$0] } ?? []
        case .timer(.joinRetry):
            return the(.initializer) + the(.seed)  // a Seed asks again too (whether a cluster exists)
        case .timer(let timer):
            return the(timer.role)
        case .message(let message, _):
            switch message {
            case .request, .decision, .catchUpRequest, .catchUpReply, .readIndexReply: return the(.replica)
            case .reply(let r) where r.key.client == .membership: return the(.initializer)
            case .reply(let r): return requesters[r.key.client].map { [$0] } ?? []
            case .propose, .fillHole, .adopted, .preempted, .accepted, .heartbeatReply, .preVote, .preVoteGrant,
                 .transferLeadership, .timeoutNow,
                 .readIndexRequest, .readConfirmReply:
                return the(.leader)
            case .startPhase1: return the(.scout)
            case .promise: return the(.scout) + the(.initializer)  // an Initializer reads during a rejoin's fence
            case .prepare, .accept, .readConfirm: return the(.acceptor)
            case .heartbeat: return the(.leader) + the(.replica) + the(.acceptor) + the(.initializer)
            case .join: return roles[RoleKind.seed.rawValue] != nil ? the(.seed) : the(.replica) + the(.initializer)
            case .welcome: return the(.initializer) + the(.seed)
            }
        }
    }
}
