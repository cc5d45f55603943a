/// Promises and accepts (Paxos phases 1b and 2b). It keeps one promised ballot for every slot (what a stable
/// leader's Phase 1 asks for) and, in per-slot mode, a promise per slot. Slots below the trim watermark are
/// decided and applied by a majority, so their accepted values are dropped: memory stays bounded. But never
/// past what this node's own replica holds in a snapshot on disk: every value a node accepted stays on its disk
/// in one form or the other, so a trim never leaves a decided value on fewer disks than voted for it (with the
/// watermark alone, which counts other nodes' snapshots, a wipe of one of them could leave a single copy).
public actor Acceptor: Role {
    public nonisolated let kind = RoleKind.acceptor
    nonisolated let executor: QueueExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    let node: NodeID
    let config: ClusterConfiguration
    /// Where promises and accepted values live; it survives a crash of the node.
    let storage: DurableState
    /// The lease this acceptor granted, when the cluster uses leases (Roles/LeaseGrant.swift).
    private var grant: LeaseGrant?

    /// Makes the acceptor of `node`, running on `executor`, keeping its state in `storage`.
    public init(node: NodeID, config: ClusterConfiguration, executor: QueueExecutor, storage: DurableState = DurableState()) {
        self.node = node
        self.config = config
        self.executor = executor
        self.storage = storage
        grant = config.leasesInForce.map { LeaseGrant(leases: $0, timing: config.timing) }
    }

    /// The ballot promised for every slot.
    public var promised: Ballot { storage.acceptor.promised }
    /// Slots below this are decided and applied by a majority.
    public var trimmedBelow: Slot { storage.acceptor.trimmedBelow }
    /// The accepted value of `slot`, if any; for tests and checkers.
    public func acceptedValue(at slot: Slot) -> PValue? { storage.acceptor.accepted[slot] }
    /// The ballot this acceptor has promised for `slot`.
    public func promised(for slot: Slot) -> Ballot { storage.acceptor.promised(for: slot) }

    public func start() -> [Effect] {
        (grant?.start()).map { [$0] } ?? []
    }

    public func handle(_ input: Input) -> [Effect] {
        if case .timer(.leaseGrant(let generation)) = input {
            grant?.expired(generation: generation)
            return []
        }
        // Any node of the cluster may ask, even one this node does not know to vote: a leader counts only the
        // voters of each slot, so answering one that does not lead changes nothing, and a lagging acceptor that
        // a later configuration made a voter must answer that configuration's leader, or neither can progress
        // (its leader's Phase 1 waits for it, and it learns the new voters from no one). The network shell
        // lets in only peers that proved the cluster's key.
        guard case .message(let message, let from) = input else { return [] }
        switch message {
        // While a lease grant holds, messages of other ballots wait (their senders send them again).
        case .prepare(let p): return grant?.admits(p.ballot) == false ? [] : prepare(p, from: from)
        case .accept(let a): return grant?.admits(a.ballot) == false ? [] : accept(a, from: from)
        case .heartbeat(let h):
            let own = config.flaws.contains(.acceptorTrimsPastOwnSnapshot) ? h.trimBelow : storage.ownSnapshotOnDisk
            trim(below: min(h.trimBelow, own))
            // A leader below a ballot this acceptor promised is stale: tell it, so that it steps down even when
            // it has nothing to propose (a Raft follower rejects a lower term the same way).
            guard h.ballot < storage.acceptor.highestPromised else { return [] }
            return [.send(.preempted(Preempted(ballot: h.ballot, by: storage.acceptor.highestPromised)), to: from)]
        case .readConfirm(let c):
            guard grant?.admits(c.ballot) != false else { return [] }
            // The highest promise says whether a higher ballot exists; the accepted end, which slots may be decided.
            let promised = storage.acceptor.highestPromised
            let reply = ReadConfirmReply(ballot: c.ballot, round: c.round, promised: promised,
                                         acceptedEnd: storage.acceptor.slotsEnd)
            // Confirming the ballot grants it a lease (a fence never leads, so it is never granted one).
            let granted = promised <= c.ballot && !LeaseGrant.isFence(c.ballot) ? grant?.grant(to: c.ballot) : nil
            return [.send(.readConfirmReply(reply), to: from)] + (granted.map { [$0] } ?? [])
        case .request, .reply, .propose, .fillHole, .decision, .catchUpRequest, .catchUpReply, .startPhase1,
             .promise, .adopted, .preempted, .accepted, .heartbeatReply, .join, .welcome, .preVote, .preVoteGrant,
             .transferLeadership, .timeoutNow,
             .readIndexRequest, .readIndexReply, .readConfirmReply:
            return []
        }
    }

    private func prepare(_ p: Prepare, from: NodeID) -> [Effect] {
        let current: Ballot
        var reported: [PValue] = []
        var more: Slot?
        switch p.scope {
        case .from(let first):
            if p.ballot >= storage.acceptor.promised { storage.updateAcceptor { $0.promised = p.ballot } }
            current = storage.acceptor.promised
            if current == p.ballot {
                (reported, more) = report(from: max(first, p.reportFrom ?? first))
            }
        case .only(let slot) where slot < storage.acceptor.trimmedBelow:
            // Decided and trimmed: the promise says so (its watermark is above the slot) and carries nothing.
            current = p.ballot
        case .only(let slot):
            if p.ballot >= promised(for: slot) { storage.updateAcceptor(slot: slot) { $0.slotPromised[slot] = p.ballot } }
            current = promised(for: slot)
            if current == p.ballot, let pv = storage.acceptor.accepted[slot] { reported = [pv] }
        }
        storage.updateAcceptor { $0.highestPromised = max($0.highestPromised, current) }
        let promise = Promise(ballot: p.ballot, promised: current, scope: p.scope, accepted: reported,
                              trimmedBelow: storage.acceptor.trimmedBelow, slotsEnd: storage.acceptor.slotsEnd,
                              reportFrom: p.reportFrom, more: more)
        return [.send(.promise(promise), to: from)]
    }

    /// The values accepted from `first` on, in slot order, up to about `promiseBytes` (at least one); and the
    /// first slot left out, if any. What a Promise carries never grows with the log: a new leader asks for the
    /// rest in further Prepares rather than receive one message beyond what a peer frame may hold.
    private func report(from first: Slot) -> ([PValue], more: Slot?) {
        let all = storage.acceptor.accepted.values.filter { $0.slot >= first }.sorted { $0.slot < $1.slot }
        var bytes = 0
        for (i, pv) in all.enumerated() {
            let size = pv.encodedSizeEstimate
            if i > 0, bytes + size > config.promiseBytes, !config.flaws.contains(.promiseIgnoresSizeBound) {
                return (Array(all[..<i]), pv.slot)
            }
            bytes += size
        }
        return (all, nil)
    }

    private func accept(_ a: Accept, from: NodeID) -> [Effect] {
        // A slot below the watermark is decided and its record gone: acknowledging a (possibly stale) Accept
        // there could let an old leader count a majority for a second value.
        guard a.slot >= storage.acceptor.trimmedBelow || config.flaws.contains(.acceptorAcksBelowTrim) else { return [] }
        let current = promised(for: a.slot)
        if a.ballot >= current || config.flaws.contains(.acceptorIgnoresPromises) {
            let mode = config.mode
            storage.updateAcceptor(slot: a.slot) { record in
                switch mode {
                case .stableLeader: record.promised = max(a.ballot, record.promised)
                case .perSlot: record.slotPromised[a.slot] = max(a.ballot, current)
                }
                record.accepted[a.slot] = PValue(ballot: a.ballot, slot: a.slot, value: a.value)
                if a.slot >= record.slotsEnd { record.slotsEnd = a.slot.next }
            }
        }
        let now = promised(for: a.slot)
        storage.updateAcceptor { $0.highestPromised = max($0.highestPromised, now) }
        if let pv = storage.acceptor.accepted[a.slot] {
            precondition(pv.ballot <= now || config.flaws.contains(.acceptorIgnoresPromises), "acceptor \(node): accepted \(pv.ballot) above promised \(now) at \(a.slot)")
        }
        // With the flaw, a lower ballot is reported as accepted: the leader counts it.
        let reported = config.flaws.contains(.acceptorIgnoresPromises) ? a.ballot : now
        return [.send(.accepted(Accepted(ballot: a.ballot, promised: reported, slot: a.slot)), to: from)]
    }

    private func trim(below watermark: Slot) {
        guard watermark > storage.acceptor.trimmedBelow else { return }
        // Dropping the slots below the watermark needs no journal entries: a log's replay drops them too.
        storage.updateAcceptor { record in
            record.trimmedBelow = watermark
            record.accepted = record.accepted.filter { $0.key >= watermark }
            if !record.slotPromised.isEmpty { record.slotPromised = record.slotPromised.filter { $0.key >= watermark } }
        }
    }
}
