/// Promises and accepts (Paxos phases 1b and 2b). It keeps one promised ballot for every slot (what a stable
/// leader's Phase 1 asks for) and, in per-slot mode, a promise per slot. Slots below the trim watermark are
/// decided and applied by a majority, so their accepted values are dropped: memory stays bounded.
public actor Acceptor: Role {
    public nonisolated let kind = RoleKind.acceptor
    nonisolated let executor: QueueExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    let node: NodeID
    let config: ClusterConfiguration
    /// The ballot promised for every slot.
    public private(set) var promised = Ballot.initial
    /// Per-slot promises (per-slot mode), only where above `promised`.
    private var slotPromised: [Slot: Ballot] = [:]
    /// The value accepted at the highest ballot, per slot.
    private var accepted: [Slot: PValue] = [:]
    /// Slots below this are decided and applied by a majority.
    public private(set) var trimmedBelow = Slot.zero
    /// One past the highest slot with an accepted value.
    private var slotsEnd = Slot.zero

    /// Makes the acceptor of `node`, running on `executor`.
    public init(node: NodeID, config: ClusterConfiguration, executor: QueueExecutor) {
        self.node = node
        self.config = config
        self.executor = executor
    }

    /// The accepted value of `slot`, if any; for tests and checkers.
    public func acceptedValue(at slot: Slot) -> PValue? { accepted[slot] }

    /// The ballot this acceptor has promised for `slot`.
    public func promised(for slot: Slot) -> Ballot {
        guard let own = slotPromised[slot] else { return promised }
        return max(own, promised)
    }

    public func start() -> [Effect] { [] }

    public func handle(_ input: Input) -> [Effect] {
        guard case .message(let message, let from) = input, config.memberSet.contains(from) else { return [] }
        switch message {
        case .prepare(let p): return prepare(p, from: from)
        case .accept(let a): return accept(a, from: from)
        case .heartbeat(let h): trim(below: h.trimBelow); return []
        case .request, .reply, .propose, .fillHole, .decision, .catchUpRequest, .catchUpReply, .startPhase1,
             .promise, .adopted, .preempted, .accepted, .heartbeatReply, .join, .welcome:
            return []
        }
    }

    private func prepare(_ p: Prepare, from: NodeID) -> [Effect] {
        let current: Ballot
        var reported: [PValue] = []
        switch p.scope {
        case .from(let first):
            if p.ballot >= promised { promised = p.ballot }
            current = promised
            if current == p.ballot {
                reported = accepted.values.filter { $0.slot >= first }.sorted { $0.slot < $1.slot }
            }
        case .only(let slot):
            if p.ballot >= promised(for: slot) { slotPromised[slot] = p.ballot }
            current = promised(for: slot)
            if current == p.ballot, let pv = accepted[slot] { reported = [pv] }
        }
        let promise = Promise(ballot: p.ballot, promised: current, scope: p.scope, accepted: reported,
                              trimmedBelow: trimmedBelow, slotsEnd: slotsEnd)
        return [.send(.promise(promise), to: from)]
    }

    private func accept(_ a: Accept, from: NodeID) -> [Effect] {
        let current = promised(for: a.slot)
        if a.ballot >= current {
            switch config.mode {
            case .stableLeader: promised = a.ballot
            case .perSlot: slotPromised[a.slot] = a.ballot
            }
            // A slot below the watermark is decided; any leader's Accept for it carries the chosen value.
            if a.slot >= trimmedBelow {
                accepted[a.slot] = PValue(ballot: a.ballot, slot: a.slot, value: a.value)
                if a.slot >= slotsEnd { slotsEnd = a.slot.next }
            }
        }
        let now = promised(for: a.slot)
        if let pv = accepted[a.slot] {
            precondition(pv.ballot <= now, "acceptor \(node): accepted \(pv.ballot) above promised \(now) at \(a.slot)")
        }
        return [.send(.accepted(Accepted(ballot: a.ballot, promised: now, slot: a.slot)), to: from)]
    }

    private func trim(below watermark: Slot) {
        guard watermark > trimmedBelow else { return }
        trimmedBelow = watermark
        accepted = accepted.filter { $0.key >= watermark }
        if !slotPromised.isEmpty { slotPromised = slotPromised.filter { $0.key >= watermark } }
    }
}
