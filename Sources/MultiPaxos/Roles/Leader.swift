/// Drives slots. A follower watches the leader's heartbeats and competes when they stop; a leader assigns each
/// client command a slot and runs Phase 2 for it (through a Commander), broadcasting the decision.
///
/// Stable-leader mode: Phase 1 runs once per ballot (through the Scout) for every slot from the trim watermark
/// on; the new leader re-drives every value Phase 1 reported, fills the other slots with no-ops, and from then on
/// each slot costs Phase 2 only. Per-slot mode: leadership is only who proposes; every slot runs its own
/// Phase 1, adopting a value accepted there if any, and a command that lost its slot is proposed again later.
public actor Leader: Role {
    public nonisolated let kind = RoleKind.leader
    nonisolated let executor: QueueExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    let node: NodeID
    let config: ClusterConfiguration
    /// Whether this leader competes as soon as it starts (the seed's node) instead of waiting a leader timeout.
    let eager: Bool
    /// Holds the highest round used, so that a restarted leader never competes with a ballot it used before.
    let storage: DurableState

    /// This node's latest ballot.
    public private(set) var ballot = Ballot.initial
    /// Whether this node leads: Phase 1 done (stable-leader mode) or leadership claimed (per-slot mode).
    public private(set) var isActive = false
    private var scouting = false
    /// The highest ballot this node has heard of; its leader is whom proposals go to.
    private var leaderBallot: Ballot
    private var heardFromLeader = false
    private var checkGeneration: UInt64 = 0
    private var tick: UInt64 = 0
    private var ticking = false
    /// CheckQuorum while leading, pre-vote while following.
    private var election: Election
    /// A leadership transfer this leader is making (Roles/Transfer.swift): no new slots are assigned meanwhile.
    private var transfer: Transfer?
    /// How many transfers this node abandoned (they did not end within a leader timeout).
    private(set) var transfersAbandoned: UInt64 = 0
    /// Reads waiting for a majority to confirm this leader (Roles/ReadIndex.swift).
    private var reads: ReadIndex

    /// The next slot to assign.
    private var nextSlot = Slot.zero
    /// Slots below this are decided and applied by a majority.
    private var floor = Slot.zero
    /// Per-slot mode: the slots this ballot has proposed in; none of them may get a second value.
    private var proposedSlots: Set<Slot> = []
    /// Phase 2 in progress, per slot.
    private var inFlight: [Slot: Commander] = [:]
    /// Per-slot mode: the value each slot will propose once its Phase 1 is adopted.
    private var phase1Pending: [Slot: Value] = [:]
    /// Commands in a slot of this ballot and not yet decided, so that a retry is not given a second slot.
    private var proposedKeys: Set<RequestKey> = []
    /// Commands that arrived while no leader was known, Phase 1 was running, or the window was full; in order.
    private var queued = ProposalQueue(limit: Leader.queueLimit)
    /// How far each replica has applied, for the trim watermark.
    private var applied: [NodeID: Slot] = [:]
    private var trimBelow = Slot.zero

    /// At most this many commands wait for a leader or for room in the window; clients retry the rest.
    static let queueLimit = 4096

    /// Makes the leader role of `node`; `knownLeader` is the ballot a Welcome named, if any.
    public init(node: NodeID, config: ClusterConfiguration, executor: QueueExecutor, eager: Bool,
                knownLeader: Ballot = .initial, storage: DurableState = DurableState()) {
        self.node = node
        self.storage = storage
        self.config = config
        self.executor = executor
        self.eager = eager
        // A restarted node never follows a leader below what its own acceptor has promised.
        self.leaderBallot = max(knownLeader, storage.acceptor.highestPromised)
        self.election = Election(node: node, config: config)
        self.reads = ReadIndex(node: node, config: config)
    }

    /// The ballot of the leader this node believes in.
    public var believedLeader: Ballot { leaderBallot }
    /// How many slots are in Phase 2 now.
    public var slotsInFlight: Int { inFlight.count }
    /// Whether this node competes for leadership now: its Scout runs Phase 1 for `ballot`.
    public var isCompeting: Bool { scouting }

    /// Whether this leader never defers to another (see `ClusterConfiguration.contenders`).
    private var contender: Bool { config.contenders.contains(node) }

    public func start() -> [Effect] {
        eager || contender ? startElection() : [armLeaderCheck(jitter: config.timing.backoffMax)]
    }

    public func handle(_ input: Input) -> [Effect] {
        switch input {
        case .timer(.heartbeat): return onTick()
        case .timer(.leaderCheck(let generation)): return onLeaderCheck(generation)
        case .timer(.preVoteRetry): return isActive || scouting ? election.stopRetrying() : election.retryPreVote(config: config)
        case .timer: return []
        case .message(let message, let from):
            guard config.memberSet.contains(from) else { return [] }
            switch message {
            case .propose(let p): return propose(p)
            case .fillHole(let f): return fillHole(f.slot)
            case .adopted(let a) where from == node: return adopted(a)
            case .preempted(let p): return p.ballot == ballot && p.by > ballot ? stepDown(by: p.by) : []
            case .accepted(let a): return accepted(a, from: from) + transferProgress(heard: a.ballot == ballot ? from : nil)
            case .heartbeat(let h) where from != node: return heartbeat(h)
            case .heartbeatReply(let r): heartbeatReply(r, from: from); return transferProgress(heard: r.ballot == ballot ? from : nil)
            case .preVote(let p) where from != node: return preVote(p, from: from)
            case .preVoteGrant(let g): return preVoteGranted(g, from: from)
            case .transferLeadership(let t): return transferLeadership(t)
            case .timeoutNow(let t) where from != node: return timeoutNow(t, from: from)
            case .readIndexRequest(let r):
                return reads.arrived(r, from: from, leader: ReadIndex.LeaderView(
                    active: isActive, ballot: ballot, believed: leaderBallot, nextSlot: nextSlot, tick: tick))
            case .readConfirmReply(let r): return readConfirmed(r, from: from)
            case .adopted, .heartbeat, .preVote, .request, .reply, .decision, .catchUpRequest, .catchUpReply,
                 .startPhase1, .prepare, .promise, .accept, .join, .welcome, .timeoutNow, .readIndexReply, .readConfirm:
                return []
            }
        }
    }

    // MARK: Proposals

    private func propose(_ p: Propose) -> [Effect] {
        if isActive { return assign(p.command) }
        if !contender, !scouting, leaderBallot != .initial, leaderBallot.leader != node, !p.forwarded {
            return [.send(.propose(Propose(command: p.command, forwarded: true)), to: leaderBallot.leader)]
        }
        queued.append(p.command)
        return []
    }

    /// Gives a command the next slot of this ballot, unless it already holds an undecided one; while the window
    /// is full it waits, to share a later slot with the others that wait.
    private func assign(_ command: Command) -> [Effect] {
        guard !proposedKeys.contains(command.key) else { return [] }
        if windowIsFull {
            queued.append(command)
            return []
        }
        proposedKeys.insert(command.key)
        let slot = nextSlot
        nextSlot = slot.next
        return propose(.command(command), in: slot)
    }

    /// Whether as many slots are in flight as the window allows (or none may be assigned: a transfer is on).
    private var windowIsFull: Bool {
        if transfer != nil, !config.flaws.contains(.transferWithoutPhase1) { return true }
        guard let window = config.batching.window else { return false }
        return inFlight.count + phase1Pending.count >= window
    }

    /// Proposes the waiting commands, packed up to the batch limits, in as many slots as the window has room for.
    private func fillWindow() -> [Effect] {
        guard isActive else { return [] }
        var effects: [Effect] = []
        while !queued.isEmpty, !windowIsFull {
            let batch = queued.takeBatch(config.batching, skip: { proposedKeys.contains($0) })
            guard !batch.isEmpty else { continue }
            for c in batch { proposedKeys.insert(c.key) }
            let slot = nextSlot
            nextSlot = slot.next
            effects += propose(.holding(batch), in: slot)
        }
        return effects
    }

    private func propose(_ value: Value, in slot: Slot) -> [Effect] {
        switch config.mode {
        case .stableLeader:
            return startCommander(slot, value)
        case .perSlot:
            proposedSlots.insert(slot)
            if config.flaws.contains(.perSlotSkipsPhase1) { return startCommander(slot, value) }
            phase1Pending[slot] = value
            return [.send(.startPhase1(StartPhase1(ballot: ballot, scope: .only(slot))), to: node)]
        }
    }

    private func startCommander(_ slot: Slot, _ value: Value) -> [Effect] {
        let commander = Commander(ballot: ballot, slot: slot, value: value, tick: tick)
        inFlight[slot] = commander
        for c in value.commands { proposedKeys.insert(c.key) }
        return [.broadcast(commander.accept, to: config.memberSet)]
    }

    /// A replica cannot learn `slot` from anyone: settle it, adopting whatever may have been chosen there.
    private func fillHole(_ slot: Slot) -> [Effect] {
        guard isActive, slot >= floor else { return [] }
        if let commander = inFlight[slot] { return [.broadcast(commander.accept, to: config.memberSet)] }
        // In stable-leader mode Phase 1 covered every slot, so a slot not in flight is decided.
        // A slot this ballot already proposed in must never get a second value at the same ballot.
        guard config.mode == .perSlot, !proposedSlots.contains(slot) else { return [] }
        nextSlot = max(nextSlot, slot.next)
        return propose(.noop, in: slot)
    }

    // MARK: Phase 1 and 2 results

    private func adopted(_ a: Adopted) -> [Effect] {
        guard a.ballot == ballot else { return [] }
        raiseFloor(to: a.trimmedBelow)
        switch a.scope {
        case .from(let first):
            guard scouting else { return [] }
            scouting = false
            let start = max(first, floor)
            let end = max(nextSlot, a.slotsEnd, start)
            var effects = becomeActive()
            var reported: [Slot: Value] = [:]
            for pv in a.accepted { reported[pv.slot] = pv.value }
            var slot = start
            while slot < end {
                // The test-only flaw leaves the slots whose values Phase 1 reported alone.
                if reported[slot] == nil || !config.flaws.contains(.leaderSkipsRedrive) {
                    effects += startCommander(slot, reported[slot] ?? .noop)
                }
                slot = slot.next
            }
            nextSlot = end
            return effects + drainQueue()
        case .only(let slot):
            guard isActive, let mine = phase1Pending.removeValue(forKey: slot) else { return [] }
            nextSlot = max(nextSlot, a.slotsEnd)
            let chosen = a.accepted.first?.value ?? mine
            let skipped = chosen != mine && config.flaws.contains(.leaderSkipsRedrive)
            var effects = slot >= floor && !skipped ? startCommander(slot, chosen) : []
            if chosen != mine || slot < floor, !mine.commands.isEmpty {
                // The slot was taken by another value: propose these commands again in a later slot, first.
                queued.putBack(mine.commands.filter { proposedKeys.remove($0.key) != nil })
                effects += fillWindow()
            }
            return effects
        }
    }

    private func accepted(_ a: Accepted, from: NodeID) -> [Effect] {
        if a.promised > ballot { return stepDown(by: a.promised) }
        if isActive, a.ballot == ballot { election.heard(from: from) }
        guard a.promised == a.ballot, var commander = inFlight[a.slot], commander.ballot == a.ballot else { return [] }
        let quorum = config.flaws.contains(.smallPhase2Quorum) ? config.quorum - 1 : config.quorum
        guard commander.record(from, quorum: quorum, countsDuplicates: config.flaws.contains(.commanderCountsDuplicates)) else {
            inFlight[a.slot] = commander
            return []
        }
        inFlight[a.slot] = nil
        for c in commander.value.commands { proposedKeys.remove(c.key) }
        return [
            .event(.decided(a.slot, commander.value)),
            .broadcast(.decision(Decision(ballot: ballot, slot: a.slot, value: commander.value)), to: config.memberSet),
        ] + fillWindow()
    }

    // MARK: Leadership

    /// The ballot this node would compete with now.
    private func nextBallot(above known: Ballot = .initial) -> Ballot {
        max(known, ballot, leaderBallot, Ballot(round: storage.ballotRound, leader: node)).successor(for: node)
    }

    private func startElection(above known: Ballot = .initial) -> [Effect] {
        election.cancelPreVote()
        ballot = nextBallot(above: known)
        storage.ballotRound = ballot.round  // recorded before any message carries the ballot
        leaderBallot = ballot
        switch config.mode {
        case .stableLeader:
            scouting = true
            return [
                .send(.startPhase1(StartPhase1(ballot: ballot, scope: .from(floor))), to: node),
                armLeaderCheck(jitter: config.timing.backoffMax),
            ]
        case .perSlot:
            nextSlot = max(nextSlot, floor, storage.acceptor.slotsEnd)
            proposedSlots = []
            return becomeActive() + drainQueue()
        }
    }

    private func becomeActive() -> [Effect] {
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

    private func drainQueue() -> [Effect] { fillWindow() }

    private func stepDown(by higher: Ballot) -> [Effect] {
        let wasCompeting = isActive || scouting
        leaderBallot = max(leaderBallot, higher)
        resign()
        var effects: [Effect] = wasCompeting ? [.event(.preempted(ballot, by: higher))] : []
        effects.append(armLeaderCheck(jitter: config.timing.backoffMax))
        effects += forwardQueue()
        return effects
    }

    /// Stops leading or competing; the slots in flight are left to whoever leads next.
    private func resign() {
        isActive = false
        scouting = false
        inFlight = [:]
        phase1Pending = [:]
        proposedKeys = []
        heardFromLeader = false
        transfer = nil
        reads.reset()
    }

    private func forwardQueue() -> [Effect] {
        guard !contender, leaderBallot.leader != node, leaderBallot != .initial else { return [] }
        return queued.takeAll().map { .send(.propose(Propose(command: $0, forwarded: true)), to: leaderBallot.leader) }
    }

    private func heartbeat(_ h: Heartbeat) -> [Effect] {
        raiseFloor(to: h.trimBelow)
        guard h.ballot >= leaderBallot else { return [] }
        leaderBallot = h.ballot
        heardFromLeader = true
        election.cancelPreVote()
        if !isActive { nextSlot = max(nextSlot, h.nextSlot) }
        if h.ballot > ballot, isActive || scouting { return stepDown(by: h.ballot) }
        return forwardQueue()
    }

    private func heartbeatReply(_ r: HeartbeatReply, from: NodeID) {
        guard isActive, r.ballot == ballot else { return }
        election.heard(from: from)
        applied[from] = max(applied[from] ?? .zero, r.applied)
        // Slots a replica applied are decided: never assign them again, and tell lagging replicas they exist.
        // (A per-slot leader claims leadership without Phase 1 and may not have heard of them yet.)
        nextSlot = max(nextSlot, r.applied)
        // A per-slot leader took over without Phase 1: slots accepted anywhere may be decided, so make them
        // known; replicas that cannot learn them ask for them to be settled (FillHole), adopting what was chosen.
        // (A stable leader's Phase 1 already covered them; slots beyond it were never chosen.)
        if config.mode == .perSlot { nextSlot = max(nextSlot, r.acceptedEnd) }
        // The quorum-th highest applied slot: a majority has applied everything below it. (The test-only flaw
        // takes the highest.)
        let highest = config.flaws.contains(.trimsAtHighestApplied)
        guard applied.count >= (highest ? 1 : config.quorum) else { return }
        let watermark = applied.values.sorted(by: >)[highest ? 0 : config.quorum - 1]
        trimBelow = max(trimBelow, watermark)
        raiseFloor(to: trimBelow)
    }

    /// Slots below `watermark` are decided and applied by a majority: stop driving them.
    private func raiseFloor(to watermark: Slot) {
        guard watermark > floor else { return }
        floor = watermark
        if !proposedSlots.isEmpty { proposedSlots = proposedSlots.filter { $0 >= floor } }
        if !inFlight.isEmpty {
            for slot in inFlight.keys.sorted() where slot < floor {
                for c in inFlight.removeValue(forKey: slot)!.value.commands { proposedKeys.remove(c.key) }
            }
        }
    }

    private var heartbeatMessage: Effect {
        .broadcast(.heartbeat(Heartbeat(ballot: ballot, nextSlot: nextSlot, trimBelow: trimBelow)), to: config.memberSet)
    }

    private func onTick() -> [Effect] {
        guard isActive else {
            ticking = false
            return []
        }
        tick += 1
        if let heard = election.tick(), !contender, !config.flaws.contains(.leaderSkipsQuorumCheck) {
            return stepDownForLostQuorum(heard: heard)
        }
        var effects = [heartbeatMessage] + transferTick()
        for slot in inFlight.keys.sorted() {
            guard var commander = inFlight[slot], commander.sentAtTick < tick - 1 else { continue }
            commander.sentAtTick = tick
            inFlight[slot] = commander
            effects.append(.broadcast(commander.accept, to: config.memberSet.subtracting(commander.acceptedBy)))
        }
        effects += reads.tick(tick, ballot: ballot)
        effects.append(.setTimer(.heartbeat, after: config.timing.heartbeatInterval, jitter: 0))
        return effects + fillWindow()  // room the trim watermark made
    }

    private func armLeaderCheck(jitter: Microseconds) -> Effect {
        checkGeneration += 1
        return .setTimer(.leaderCheck(generation: checkGeneration), after: config.timing.leaderTimeout, jitter: jitter)
    }

    private func onLeaderCheck(_ generation: UInt64) -> [Effect] {
        guard generation == checkGeneration, !isActive else { return [] }
        if scouting || (heardFromLeader && !contender) {
            heardFromLeader = false
            return [armLeaderCheck(jitter: config.timing.backoffMax)]
        }
        // Contenders compete at will (benchmarks of contention); anyone else asks a majority first.
        if contender { return [.event(.leaderSuspected(leaderBallot))] + startElection() }
        guard let asking = election.startPreVote(nextBallot(), config: config) else {
            return [.event(.leaderSuspected(leaderBallot))] + startElection()
        }
        return [.event(.leaderSuspected(leaderBallot)), armLeaderCheck(jitter: config.timing.backoffMax)] + asking
    }

    /// Supports a pre-vote only if this node has not heard from a leader since its last check and does not
    /// lead itself: while a majority follows a live leader, no one else may raise a ballot.
    private func preVote(_ p: PreVote, from: NodeID) -> [Effect] {
        guard !isActive, !heardFromLeader else { return [] }
        return [.send(.preVoteGrant(PreVoteGrant(ballot: p.ballot, highest: max(ballot, leaderBallot))), to: from)]
    }

    private func preVoteGranted(_ g: PreVoteGrant, from: NodeID) -> [Effect] {
        guard !isActive, !scouting, let highest = election.granted(by: from, ballot: g.ballot, highest: g.highest) else {
            return []
        }
        return startElection(above: highest)
    }

    /// An acceptor answered a read confirmation: a higher promise deposes this leader; one for its ballot counts
    /// toward the round (and, as any answer, toward CheckQuorum).
    private func readConfirmed(_ r: ReadConfirmReply, from: NodeID) -> [Effect] {
        if r.promised > ballot { return stepDown(by: r.promised) }
        guard isActive, r.ballot == ballot else { return [] }
        election.heard(from: from)
        // A per-slot leader learns of slots accepted anywhere, as from heartbeat replies (see heartbeatReply).
        if config.mode == .perSlot { nextSlot = max(nextSlot, r.acceptedEnd) }
        return reads.confirmed(r, from: from, ballot: ballot, tick: tick)
    }

    /// CheckQuorum: a whole leader timeout without hearing from a majority. Stop leading (in-flight slots are
    /// left to the next leader), and compete again only through a pre-vote.
    private func stepDownForLostQuorum(heard: Int) -> [Effect] {
        resign()
        ticking = false
        return [.event(.steppedDown(ballot, heard: heard)), armLeaderCheck(jitter: config.timing.backoffMax)]
    }

    // MARK: Leadership transfer (Roles/Transfer.swift)

    /// The target of the transfer this leader is making, if any.
    var transferTarget: NodeID? { transfer?.target }

    /// Starts handing leadership to `t.target`; a node that does not lead passes the request on to the leader
    /// it knows, once.
    private func transferLeadership(_ t: TransferLeadership) -> [Effect] {
        guard isActive else {
            guard !t.forwarded, leaderBallot != .initial, leaderBallot.leader != node else { return [] }
            return [.send(.transferLeadership(TransferLeadership(target: t.target, forwarded: true)), to: leaderBallot.leader)]
        }
        guard t.target != node, config.memberSet.contains(t.target), transfer?.target != t.target else { return [] }
        transfer = Transfer(target: t.target, config: config)
        // A heartbeat now, so that the target's answer need not wait for the next period.
        let probe = Effect.send(.heartbeat(Heartbeat(ballot: ballot, nextSlot: nextSlot, trimBelow: trimBelow)), to: t.target)
        return [.event(.transferStarted(ballot, to: t.target)), probe] + transferProgress(heard: nil)
    }

    /// Sends `TimeoutNow` once the target has accepted every slot still in Phase 2 (the test-only flaw hands
    /// over at once).
    private func transferProgress(heard member: NodeID?) -> [Effect] {
        guard isActive, var t = transfer else { return [] }
        if let member { t.heard(from: member) }
        let caughtUp = config.flaws.contains(.transferWithoutPhase1)
            || (phase1Pending.isEmpty && inFlight.values.allSatisfy { $0.acceptedBy.contains(t.target) })
        let effects = t.handOver(tick: tick, caughtUp: caughtUp, ballot: ballot, nextSlot: nextSlot)
        transfer = t
        return effects
    }

    /// A heartbeat tick during a transfer: past a leader timeout it is abandoned, and the leader assigns again.
    private func transferTick() -> [Effect] {
        guard var t = transfer else { return [] }
        guard t.tick() else {
            transfer = t
            return transferProgress(heard: nil)
        }
        transfer = nil
        transfersAbandoned += 1
        return [.event(.transferAbandoned(ballot, to: t.target))]
    }

    /// The leader this node follows hands over: compete at once with a higher ballot, without a pre-vote.
    private func timeoutNow(_ t: TimeoutNow, from: NodeID) -> [Effect] {
        guard !isActive, !scouting, from == t.ballot.leader, t.ballot >= leaderBallot else { return [] }
        nextSlot = max(nextSlot, t.nextSlot)
        let told: [Effect] = [.event(.toldToCompete(by: t.ballot))]
        guard config.flaws.contains(.transferWithoutPhase1), config.mode == .stableLeader else {
            return told + startElection(above: t.ballot)
        }
        // The test-only flaw: take over as a per-slot leader does, without Phase 1, from the slot named.
        election.cancelPreVote()
        ballot = nextBallot(above: t.ballot)
        storage.ballotRound = ballot.round
        leaderBallot = ballot
        return told + becomeActive() + drainQueue()
    }
}
