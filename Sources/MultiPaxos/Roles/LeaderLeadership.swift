/// The Leader's leadership: competing (ballots, Phase 1, pre-vote), leading (heartbeats, the trim watermark,
/// CheckQuorum) and stepping down. The state it keeps is declared in Leader.swift.
extension Leader {
    // MARK: Leadership

    /// The ballot this node would compete with now.
    func nextBallot(above known: Ballot = .initial) -> Ballot {
        max(known, ballot, leaderBallot, Ballot(round: storage.ballotRound, leader: node)).successor(for: node)
    }

    func startElection(above known: Ballot = .initial) -> [Effect] {
        election.cancelPreVote()
        // A node that is not a voter (yet, or any more) never leads.
        guard voters.contains(node) else { return [armLeaderCheck(jitter: config.timing.backoffMax)] }
        ballot = nextBallot(above: known)
        storage.ballotRound = ballot.round  // recorded before any message carries the ballot
        leaderBallot = ballot
        switch config.mode {
        case .stableLeader:
            scouting = true
            phase1Configuration = view.latest(initial: config.memberSet).number
            // Below the configuration before the latest, slots are decided and their voters may not overlap a
            // majority of the latest: Phase 1 never covers them. Nor does it cover what this node's replica has
            // applied: those slots are decided (replicas that lack them catch up from peers), so what a new
            // leader gathers and drives again is the slots in flight, never the log since the last trim.
            return [
                .send(.startPhase1(StartPhase1(ballot: ballot, scope: .from(max(floor, view.phase1Floor, view.applied)))), to: node),
                armLeaderCheck(jitter: config.timing.backoffMax),
            ]
        case .perSlot:
            nextSlot = max(nextSlot, floor, storage.acceptor.slotsEnd)
            proposedSlots = []
            return becomeActive() + drainQueue()
        }
    }

    func becomeActive() -> [Effect] {
        isActive = true
        applied = [:]
        election.startLeading()
        var effects: [Effect] = [.event(.elected(ballot)), heartbeatMessage]
        if !ticking {
            ticking = true
            effects.append(.setTimer(.heartbeat, after: config.timing.heartbeatInterval, jitter: 0))
        }
        return effects
    }

    func drainQueue() -> [Effect] { fillWindow() }

    func stepDown(by higher: Ballot) -> [Effect] {
        let wasCompeting = isActive || scouting
        leaderBallot = max(leaderBallot, higher)
        resign()
        var effects: [Effect] = wasCompeting ? [.event(.preempted(ballot, by: higher))] : []
        effects.append(armLeaderCheck(jitter: config.timing.backoffMax))
        effects += forwardQueue()
        return effects
    }

    /// Stops leading or competing; the slots in flight are left to whoever leads next.
    func resign() {
        isActive = false
        scouting = false
        inFlight = [:]
        redrive = [:]
        redriveEnd = .zero
        phase1Pending = [:]
        proposedKeys = []
        heardFromLeader = false
        transfer = nil
        reads.reset()
        dropLease()
    }

    func forwardQueue() -> [Effect] {
        guard !contender, leaderBallot.leader != node, leaderBallot != .initial else { return [] }
        return queued.takeAll().map { .send(.propose(Propose(command: $0, forwarded: true)), to: leaderBallot.leader) }
    }

    func heartbeat(_ h: Heartbeat) -> [Effect] {
        raiseFloor(to: h.trimBelow)
        guard h.ballot >= leaderBallot else { return [] }
        leaderBallot = h.ballot
        heardFromLeader = true
        election.cancelPreVote()
        if !isActive { nextSlot = max(nextSlot, h.nextSlot) }
        if h.ballot > ballot, isActive || scouting { return stepDown(by: h.ballot) }
        return forwardQueue()
    }

    func heartbeatReply(_ r: HeartbeatReply, from: NodeID) {
        guard isActive, r.ballot == ballot else { return }
        election.heard(from: from)
        answeredAtTick[from] = tick
        applied[from] = max(applied[from] ?? .zero, r.applied)
        // Slots a replica applied are decided: never assign them again, and tell lagging replicas they exist.
        // (A per-slot leader claims leadership without Phase 1 and may not have heard of them yet.) Not while
        // Phase 1's values are driven again, though: the voters' replicas learn those slots from them, and the
        // replica that reported may be the only other holder (a removed node about to stop, a spare no one asks:
        // `--reconfigure` seed 9830 left every voter at s74 for good). `continueRedrive` skips ahead after.
        if nextSlot >= redriveEnd || config.flaws.contains(.leaderJumpsPastRedrive) { nextSlot = max(nextSlot, r.applied) }
        // A per-slot leader took over without Phase 1: slots accepted anywhere may be decided, so make them
        // known; replicas that cannot learn them ask for them to be settled (FillHole), adopting what was chosen.
        // (A stable leader's Phase 1 already covered them; slots beyond it were never chosen.)
        if config.mode == .perSlot { nextSlot = max(nextSlot, r.acceptedEnd) }
        guard let durable = quorumApplied else { return }
        // Never past what this node applied: below it, the voters it counted are the ones that decided.
        let watermark = min(durable, max(view.applied, trimBelow))
        trimBelow = max(trimBelow, watermark)
        raiseFloor(to: trimBelow)
    }

    /// Slots below `watermark` are decided and applied by a majority: stop driving them.
    func raiseFloor(to watermark: Slot) {
        guard watermark > floor else { return }
        floor = watermark
        if !proposedSlots.isEmpty { proposedSlots = proposedSlots.filter { $0 >= floor } }
        if !inFlight.isEmpty {
            for slot in inFlight.keys.sorted() where slot < floor {
                for c in inFlight.removeValue(forKey: slot)!.value.commands { proposedKeys.remove(c.key) }
            }
        }
    }

    var heartbeatMessage: Effect {
        .broadcast(.heartbeat(Heartbeat(ballot: ballot, nextSlot: max(nextSlot, redriveEnd), trimBelow: trimToSend)), to: everyone)
    }

    /// What heartbeats let acceptors and replicas trim below: the watermark, but no further than a majority of
    /// the latest voters has reported a durable snapshot. A watermark the voters before a change justified must
    /// not make voters just added drop values they hold durably nowhere yet (`--nodes 3 --reconfigure` seed
    /// 1575: n3, sole voter, trimmed below s86 while its snapshot was durable only to s79).
    var trimToSend: Slot { quorumApplied.map { min(trimBelow, $0) } ?? .zero }

    /// The quorum-th highest slot the latest voters reported durable: a majority of them holds everything below
    /// it; nil until a majority has reported. (The test-only flaw takes the highest report.)
    var quorumApplied: Slot? {
        let latest = view.latest(initial: config.memberSet)
        let reports = latest.voters.compactMap { applied[$0] }.sorted(by: >)
        let highest = config.flaws.contains(.trimsAtHighestApplied)
        guard reports.count >= (highest ? 1 : latest.quorum) else { return nil }
        return reports[highest ? 0 : latest.quorum - 1]
    }

    func onTick() -> [Effect] {
        guard isActive else {
            ticking = false
            return []
        }
        tick += 1
        if let heard = election.tick(), !contender, !config.flaws.contains(.leaderSkipsQuorumCheck) {
            return stepDownForLostQuorum(heard: heard)
        }
        var effects = [heartbeatMessage] + transferTick()
        if !voters.contains(node), transfer == nil {
            // A change removed this node: hand leadership to a voter rather than leave the cluster a leader
            // timeout without one; the voters that answered this ballot first, furthest applied first, and
            // another each time a transfer is abandoned (the first may be down).
            let candidates = Array(voters)
            let heard = candidates.filter { applied[$0] != nil }.sorted { (applied[$0]!, $1) > (applied[$1]!, $0) }
            let pool = heard.isEmpty ? candidates : heard
            effects += transferLeadership(TransferLeadership(target: pool[Int(transfersAbandoned % UInt64(pool.count))]))
        }
        for slot in inFlight.keys.sorted() {
            guard var commander = inFlight[slot], commander.sentAtTick < tick - 1 else { continue }
            commander.sentAtTick = tick
            inFlight[slot] = commander
            effects.append(.broadcast(commander.accept, to: everyone.subtracting(commander.acceptedBy)))
        }
        effects += continueRedrive() + bringVotersIntoForce()
        effects += readTick()
        effects.append(.setTimer(.heartbeat, after: config.timing.heartbeatInterval, jitter: 0))
        return effects + fillWindow()  // room the trim watermark made
    }

    func armLeaderCheck(jitter: Microseconds) -> Effect {
        checkGeneration += 1
        return .setTimer(.leaderCheck(generation: checkGeneration), after: config.timing.leaderTimeout, jitter: jitter)
    }

    func onLeaderCheck(_ generation: UInt64) -> [Effect] {
        guard generation == checkGeneration, !isActive else { return [] }
        if scouting || (heardFromLeader && !contender) || !voters.contains(node) {
            heardFromLeader = false
            return [armLeaderCheck(jitter: config.timing.backoffMax)]
        }
        // Contenders compete at will (benchmarks of contention); anyone else asks a majority first.
        if contender { return [.event(.leaderSuspected(leaderBallot))] + startElection() }
        // Not while a snapshot arrives, as etcd's Raft does not campaign with one pending: elected, this node
        // could serve nothing until it holds the state, and its heartbeats would keep an up-to-date node from
        // competing (a 10-minute torture run elected the node needing 163 MB, and stalled for 20 s).
        if let transfer = storage.incomingSnapshot, transfer.isProgressing, voters.count > 1 {
            return [.event(.awaitsSnapshot(transfer.header.nextSlot)), armLeaderCheck(jitter: config.timing.backoffMax)]
        }
        guard let asking = election.startPreVote(nextBallot(), applied: view.applied, config: config) else {
            return [.event(.leaderSuspected(leaderBallot))] + startElection()
        }
        return [.event(.leaderSuspected(leaderBallot)), armLeaderCheck(jitter: config.timing.backoffMax)] + asking
    }

    /// Supports a pre-vote only if this node has not heard from a leader since its last check and does not
    /// lead itself: while a majority follows a live leader, no one else may raise a ballot. Nor does it support
    /// a candidate that would need a snapshot from it (it applied less than this node's log still holds): the
    /// node that applied furthest among any live majority is refused by none of them, so elections still end.
    func preVote(_ p: PreVote, from: NodeID) -> [Effect] {
        // A node that no longer votes (removed while it was cut off, its view lagging) gets no grant: it could
        // not serve the voters it no longer knows, and it would depose a leader that can.
        guard !isActive, !heardFromLeader else { return [] }
        guard view.latest(initial: config.memberSet).voters.contains(from) else {
            // Or this node's view is the stale one (it was down while the voters changed, and hears no leader
            // because none can be elected without it): ask the candidate for the log, which shows the voters.
            // (`--nodes 3 --reconfigure` seed 1165: n2, at s4, refused n3 for 30 s and asked no one.)
            return [.send(.catchUpRequest(CatchUpRequest(from: view.applied)), to: from)]
        }
        if p.applied < view.logStart {
            guard p.ballot != refusedBallot else { return [] }
            refusedBallot = p.ballot
            return [.event(.preVoteRefused(from, applied: p.applied, logStart: view.logStart))]
        }
        return [.send(.preVoteGrant(PreVoteGrant(ballot: p.ballot, highest: max(ballot, leaderBallot))), to: from)]
    }

    func preVoteGranted(_ g: PreVoteGrant, from: NodeID) -> [Effect] {
        guard !isActive, !scouting, let highest = election.granted(by: from, ballot: g.ballot, highest: g.highest) else {
            return []
        }
        return startElection(above: highest)
    }

    /// An acceptor answered a read confirmation: a higher promise deposes this leader; one for its ballot counts
    /// toward the round (and, as any answer, toward CheckQuorum).
    func readConfirmed(_ r: ReadConfirmReply, from: NodeID) -> [Effect] {
        if r.promised > ballot { return stepDown(by: r.promised) }
        guard isActive, r.ballot == ballot else { return [] }
        election.heard(from: from)
        // A per-slot leader learns of slots accepted anywhere, as from heartbeat replies (see heartbeatReply).
        if config.mode == .perSlot { nextSlot = max(nextSlot, r.acceptedEnd) }
        return reads.confirmed(r, from: from, ballot: ballot, tick: tick)
    }

    /// CheckQuorum: a whole leader timeout without hearing from a majority. Stop leading (in-flight slots are
    /// left to the next leader), and compete again only through a pre-vote.
    func stepDownForLostQuorum(heard: Int) -> [Effect] {
        resign()
        ticking = false
        return [.event(.steppedDown(ballot, heard: heard)), armLeaderCheck(jitter: config.timing.backoffMax)]
    }
}
