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
    public internal(set) var ballot = Ballot.initial
    /// Whether this node leads: Phase 1 done (stable-leader mode) or leadership claimed (per-slot mode).
    public internal(set) var isActive = false
    var scouting = false
    /// The highest ballot this node has heard of; its leader is whom proposals go to.
    var leaderBallot: Ballot
    var heardFromLeader = false
    /// The last ballot whose pre-vote this node refused as too far behind (the refusal is said once per ballot).
    var refusedBallot = Ballot.initial
    var checkGeneration: UInt64 = 0
    var tick: UInt64 = 0
    var ticking = false
    /// CheckQuorum while leading, pre-vote while following.
    var election: Election
    /// A leadership transfer this leader is making (Roles/Transfer.swift): no new slots are assigned meanwhile.
    var transfer: Transfer?
    /// How many transfers this node abandoned (they did not end within a leader timeout).
    var transfersAbandoned: UInt64 = 0
    /// Reads waiting for a majority to confirm this leader (Roles/ReadIndex.swift).
    var reads: ReadIndex
    /// With leases on: which confirmed rounds still give a lease (Roles/Lease.swift).
    var lease = Lease()
    /// The time the node's shell tells this role (`NodeClock`), read for the lease only; nil: timers alone.
    var clock: NodeClock?

    /// The next slot to assign.
    var nextSlot = Slot.zero
    /// Slots below this are decided and applied by a majority.
    var floor = Slot.zero
    /// Per-slot mode: the slots this ballot has proposed in; none of them may get a second value.
    var proposedSlots: Set<Slot> = []
    /// Phase 2 in progress, per slot.
    var inFlight: [Slot: Commander] = [:]
    /// Per-slot mode: the value each slot will propose once its Phase 1 is adopted.
    var phase1Pending: [Slot: Value] = [:]
    /// Commands in a slot of this ballot and not yet decided, so that a retry is not given a second slot.
    var proposedKeys: Set<RequestKey> = []
    /// Commands that arrived while no leader was known, Phase 1 was running, or the window was full; in order.
    var queued = ProposalQueue(limit: Leader.queueLimit)
    /// How far each replica has applied, for the trim watermark.
    var applied: [NodeID: Slot] = [:]
    /// The heartbeat tick at which each member last answered this node's current ballot (for `successor`).
    var answeredAtTick: [NodeID: UInt64] = [:]
    var trimBelow = Slot.zero
    /// Stable-leader mode: the values Phase 1 reported that wait to be driven again, up to `redriveEnd`; slots
    /// past the horizon wait until this node's replica has applied far enough to know their voters.
    var redrive: [Slot: Value] = [:]
    var redriveEnd = Slot.zero
    /// Stable-leader mode: the latest configuration when this ballot's Phase 1 began. Its majority guards the
    /// slots of that configuration and of the ones next to it only, so a later change means a new Phase 1.
    var phase1Configuration: UInt64 = 0

    /// At most this many commands wait for a leader or for room in the window; clients retry the rest.
    static let queueLimit = 4096
    /// Per-slot mode: how many slots from a replica's hole on one FillHole settles.
    static let holesSettledAtOnce: Int64 = 32

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
    var contender: Bool { config.contenders.contains(node) }

    public func start() -> [Effect] {
        eager || contender ? startElection() : [armLeaderCheck(jitter: config.timing.backoffMax)]
    }

    public func handle(_ input: Input) -> [Effect] {
        let start = config.leasesInForce == nil ? nil : clock?.now()
        syncVoters()
        let renewal = renewPhase1()
        let effects = renewal.isEmpty ? handleInput(input) : renewal + handleInput(input)
        if let start { noteLeaseRounds(in: effects, startedAt: start) }
        return effects
    }

    private func handleInput(_ input: Input) -> [Effect] {
        switch input {
        case .timer(.heartbeat): return onTick()
        case .timer(.leaderCheck(let generation)): return onLeaderCheck(generation)
        case .timer(.preVoteRetry): return isActive || scouting ? election.stopRetrying() : election.retryPreVote(applied: view.applied, config: config)
        case .timer(.leaseExpiry(let round)):
            lease.expired(round)
            return []
        case .timer: return []
        case .message(let message, let from):
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
                if let answered = leaseRead(r, from: from) { return answered }
                return reads.arrived(r, from: from, leader: ReadIndex.LeaderView(
                    active: isActive, ballot: ballot, believed: leaderBallot, nextSlot: max(nextSlot, redriveEnd), tick: tick))
            case .readConfirmReply(let r): return readConfirmed(r, from: from)
            case .adopted, .heartbeat, .preVote, .request, .reply, .decision, .catchUpRequest, .catchUpReply,
                 .startPhase1, .prepare, .promise, .accept, .join, .welcome, .timeoutNow, .readIndexReply, .readConfirm:
                return []
            }
        }
    }

    // MARK: Proposals

    func propose(_ p: Propose) -> [Effect] {
        if isActive { return assign(p.command) }
        if !contender, !scouting, leaderBallot != .initial, leaderBallot.leader != node, !p.forwarded {
            return [.send(.propose(Propose(command: p.command, forwarded: true)), to: leaderBallot.leader)]
        }
        queued.append(p.command)
        return []
    }

    /// Gives a command the next slot of this ballot, unless it already holds an undecided one; while the window
    /// is full it waits, to share a later slot with the others that wait.
    func assign(_ command: Command) -> [Effect] {
        guard !proposedKeys.contains(command.key) else { return [] }
        skipBelowPhase1Floor()
        if windowIsFull || holdingProposals {
            queued.append(command)
            // A full batch does not wait for the end of the shell's batch (nor does a hold ever fill the queue).
            if holdingProposals, !windowIsFull, queued.count >= config.batching.maxCommands { return packWaiting() }
            return []
        }
        proposedKeys.insert(command.key)
        let slot = nextSlot
        nextSlot = slot.next
        return propose(.command(command), in: slot)
    }

    /// Whether as many slots are in flight as the window allows (or none may be assigned: a transfer is on, the
    /// next slot is past the horizon, or Phase 1's values are still being driven again).
    var windowIsFull: Bool {
        if transfer != nil, !config.flaws.contains(.transferWithoutPhase1) { return true }
        if nextSlot >= horizon || nextSlot < redriveEnd { return true }
        guard let window = config.batching.window else { return false }
        return inFlight.count + phase1Pending.count >= window
    }

    /// While a real-time shell hands the node a batch of inputs, commands wait (`holdProposals()`), so that the
    /// batch's commands share slots instead of taking one each while the window has room; the simulation hands
    /// inputs one at a time and never holds.
    private var holdingProposals = false

    /// Holds the commands that come in until `releaseProposals()`.
    func holdProposals() { holdingProposals = true }

    /// Ends the hold and proposes what waits, packed, in as many slots as the window has room for.
    func releaseProposals() -> [Effect] {
        holdingProposals = false
        // The batch's last inputs may have been the replica's: voters it applied since this role last ran must
        // be heeded before any slot is assigned, as `handle` does.
        syncVoters()
        let renewal = renewPhase1()
        return renewal.isEmpty ? fillWindow() : renewal
    }

    /// Proposes the waiting commands, packed up to the batch limits, in as many slots as the window has room for.
    func fillWindow() -> [Effect] {
        guard !holdingProposals else { return [] }
        return packWaiting()
    }

    /// Proposes the waiting commands, packed, in as many slots as the window has room for, hold or not.
    private func packWaiting() -> [Effect] {
        guard isActive else { return [] }
        skipBelowPhase1Floor()
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

    func propose(_ value: Value, in slot: Slot) -> [Effect] {
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

    func startCommander(_ slot: Slot, _ value: Value) -> [Effect] {
        precondition(slot < horizon, "leader \(node): slot \(slot) is past the horizon \(horizon): its voters are unknown")
        if config.mode == .stableLeader, view.retains(slot), config.flaws.isDisjoint(with: [.removedLeaderKeepsBallot, .phase1KeepsOldVoters]) {
            // A majority of the Phase-1 voters overlaps every majority of the configurations one change away only.
            let governing = view.configuration(at: slot, initial: config.memberSet).number
            precondition(governing + 1 >= phase1Configuration && governing <= phase1Configuration + 1,
                         "leader \(node): slot \(slot) is governed by #\(governing), but Phase 1 of \(ballot) asked #\(phase1Configuration)")
        }
        let commander = Commander(ballot: ballot, slot: slot, value: value, tick: tick)
        inFlight[slot] = commander
        for c in value.commands { proposedKeys.insert(c.key) }
        return [.broadcast(commander.accept, to: everyone)]
    }

    /// A replica cannot learn `slot` from anyone: settle it, adopting whatever may have been chosen there.
    func fillHole(_ slot: Slot) -> [Effect] {
        // Below the Phase-1 floor the slot is decided (this node applied it) by voters a majority of the latest
        // need not overlap: the asking replica catches up from its peers instead.
        guard isActive, slot >= floor, slot >= view.phase1Floor, slot < horizon else { return [] }
        if let commander = inFlight[slot] { return [.broadcast(commander.accept, to: everyone)] }
        // In stable-leader mode Phase 1 covered every slot, so a slot not in flight is decided.
        // A slot this ballot already proposed in must never get a second value at the same ballot.
        guard config.mode == .perSlot, !proposedSlots.contains(slot) else { return [] }
        nextSlot = max(nextSlot, slot.next)
        // The holes after it, up to the slots this ballot assigned, are settled at once too: a replica that
        // asks about one hole at a time would wait a few catch-up checks for each.
        var effects = propose(.noop, in: slot)
        var hole = slot.next
        while hole < nextSlot, hole < horizon, hole.index - slot.index < Self.holesSettledAtOnce {
            if !proposedSlots.contains(hole) { effects += propose(.noop, in: hole) }
            hole = hole.next
        }
        return effects
    }

    // MARK: Phase 1 and 2 results

    func adopted(_ a: Adopted) -> [Effect] {
        guard a.ballot == ballot else { return [] }
        raiseFloor(to: a.trimmedBelow)
        switch a.scope {
        case .from(let first):
            guard scouting else { return [] }
            scouting = false
            let start = max(first, floor)
            let end = max(nextSlot, a.slotsEnd, start)
            var effects = becomeActive()
            redrive = [:]
            for pv in a.accepted where pv.slot >= start { redrive[pv.slot] = pv.value }
            redriveEnd = end
            nextSlot = start
            effects += continueRedrive()
            return effects + drainQueue()
        case .only(let slot):
            guard isActive, let mine = phase1Pending.removeValue(forKey: slot) else { return [] }
            nextSlot = max(nextSlot, a.slotsEnd)
            let chosen = a.accepted.first?.value ?? mine
            let skipped = chosen != mine && config.flaws.contains(.leaderSkipsRedrive)
            // The Scout asked the voters that were latest when it began, which may be two changes past the slot's
            // if this node's replica applied a change since the slot was proposed: below the Phase-1 floor now,
            // the slot is decided (this node applied it) and those voters need not overlap the ones that decided.
            let settled = slot < floor || (slot < view.phase1Floor && !config.flaws.contains(.perSlotAdoptsBelowPhase1Floor))
            var effects = !settled && !skipped ? startCommander(slot, chosen) : []
            if chosen != mine || settled, !mine.commands.isEmpty {
                // The slot was taken by another value: propose these commands again in a later slot, first.
                queued.putBack(mine.commands.filter { proposedKeys.remove($0.key) != nil })
                effects += fillWindow()
            }
            return effects
        }
    }

    func accepted(_ a: Accepted, from: NodeID) -> [Effect] {
        if a.promised > ballot { return stepDown(by: a.promised) }
        if isActive, a.ballot == ballot { election.heard(from: from) }
        guard a.promised == a.ballot, var commander = inFlight[a.slot], commander.ballot == a.ballot else { return [] }
        // Only the voters of the slot count, a majority of them. (A slot before the configurations this node
        // keeps is one its replica applied: decided already.)
        guard view.retains(a.slot) else { return [] }
        let deciding = view.configuration(at: a.slot, initial: config.memberSet)
        guard deciding.voters.contains(from) else { return [] }
        let quorum = config.flaws.contains(.smallPhase2Quorum) ? deciding.quorum - 1 : deciding.quorum
        guard commander.record(from, quorum: quorum, countsDuplicates: config.flaws.contains(.commanderCountsDuplicates)) else {
            inFlight[a.slot] = commander
            return []
        }
        inFlight[a.slot] = nil
        for c in commander.value.commands { proposedKeys.remove(c.key) }
        return [
            .event(.decided(a.slot, commander.value)),
            .broadcast(.decision(Decision(ballot: ballot, slot: a.slot, value: commander.value)), to: everyone),
        ] + continueRedrive() + fillWindow()
    }

    // MARK: Voters (Core/Voters.swift)

    /// The voters as this node's replica applied them.
    var view: VoterView { storage.voters }
    /// The latest voters: who may lead, whose majority Phase 1 needs.
    var voters: NodeSet { view.latest(initial: config.memberSet).voters }
    /// Everyone that votes in a retained configuration: who hears Accepts, decisions and heartbeats.
    var everyone: NodeSet { view.everyone(initial: config.memberSet) }
    /// The first slot this leader may not assign yet: past it, a change of voters decided in a slot its replica
    /// has not applied could govern (Reconfiguration.delaySlots).
    var horizon: Slot { Slot(view.applied.index + Reconfiguration.delaySlots) }

    /// A per-slot leader never assigns below the Phase-1 floor: those slots are decided (its replica applied
    /// them), and a majority of the latest voters need not overlap the voters that decided them. (A stable
    /// leader's Phase 1 starts at the floor, and it runs Phase 1 again when the voters change.)
    func skipBelowPhase1Floor() {
        if config.mode == .perSlot, nextSlot < view.phase1Floor { nextSlot = view.phase1Floor }
    }

    /// Keeps CheckQuorum, the pre-vote and read confirmations counting the latest voters.
    func syncVoters() {
        let latest = voters
        guard latest != election.voters else { return }
        election.voters = latest
        reads.members = latest
        dropLease()  // its majority may not be one of the latest voters
    }

    /// Stable-leader mode: the voters changed since this ballot's Phase 1 began, so its promises may not cover
    /// a majority of the voters to come: compete again with a new ballot, whose Phase 1 asks the latest voters.
    /// The commands in flight go back to the queue (Phase 1 brings back any value they were accepted with, and
    /// a command decided twice runs once).
    func renewPhase1() -> [Effect] {
        let latest = view.latest(initial: config.memberSet).number
        guard config.mode == .stableLeader, isActive || scouting, !config.flaws.contains(.phase1KeepsOldVoters),
              latest > phase1Configuration else { return [] }
        // A node the change removed keeps its ballot only to hand leadership over: its promises still cover the
        // voters one change away (see onTick). Two changes away they need not: a slot the second one governs may
        // hold a value chosen by voters none of whom promised, so it stops (and, no voter, never competes again).
        let voter = voters.contains(node)
        guard voter || (latest > phase1Configuration + 1 && !config.flaws.contains(.removedLeaderKeepsBallot)) else { return [] }
        let pending = inFlight.keys.sorted().flatMap { inFlight[$0]!.value.commands }
        resign()
        queued.putBack(pending)
        return voter ? startElection() : [armLeaderCheck(jitter: config.timing.backoffMax)]
    }

    /// Drives again, in slot order and up to the horizon, the values Phase 1 reported (no-ops where none was).
    func continueRedrive() -> [Effect] {
        guard isActive, nextSlot < redriveEnd else { return [] }
        var effects: [Effect] = []
        while nextSlot < redriveEnd, nextSlot < horizon {
            let slot = nextSlot
            nextSlot = slot.next
            let reported = redrive.removeValue(forKey: slot)
            // The test-only flaw leaves the slots whose values Phase 1 reported alone.
            if reported == nil || !config.flaws.contains(.leaderSkipsRedrive) {
                effects += startCommander(slot, reported ?? .noop)
            }
        }
        if nextSlot >= redriveEnd {
            redrive = [:]
            nextSlot = max(nextSlot, applied.values.max() ?? .zero)  // slots replicas applied are decided
        }
        return effects
    }

    /// A change of voters is decided but governs only from a later slot: fill the slots up to it with no-ops,
    /// so that an idle cluster's change takes effect within a heartbeat or two.
    func bringVotersIntoForce() -> [Effect] {
        let latest = view.latest(initial: config.memberSet)
        guard isActive, queued.isEmpty, nextSlot < latest.from, nextSlot >= redriveEnd else { return [] }
        skipBelowPhase1Floor()
        var effects: [Effect] = []
        while nextSlot < latest.from, !windowIsFull {
            let slot = nextSlot
            nextSlot = slot.next
            effects += propose(.noop, in: slot)
        }
        return effects
    }
}
