/// The checks a simulated run makes as it goes: agreement, validity, applied equals decided, at most once, the
/// acceptor invariants, durability before sending, amnesia, the clients' answers and, with full checks, what
/// the votes say (see `VoteLedger`: a value a majority accepted is the only one decided, a decision has a
/// majority behind it, a slot is trimmed only once a majority holds it durably). The bus tells it what it
/// sees (events, messages sent, an acceptor's state around a step, crashes, wipes and restarts); it records
/// each violation as a one-line failure.
struct SimulationChecker {
    let config: ClusterConfiguration
    /// Whether every decision, operation and execution is kept for the end (see `SimulationOptions.fullChecks`).
    let fullChecks: Bool
    /// Every check that failed, one line each, the first 20.
    private(set) var failures: [String] = []

    /// The value decided in each slot from `prunedBelow` on.
    private(set) var decided: [Slot: Value] = [:]
    /// Light checks forget decisions every live replica has applied.
    private(set) var prunedBelow = Slot.zero
    /// One past the highest slot decided.
    private(set) var decidedEnd = Slot.zero
    /// What each request asked (full checks only), for validity.
    private var submitted: [RequestKey: [UInt8]] = [:]
    /// Per node, the slot each request was executed in (full checks only), for at most once.
    private var executedAt: [[RequestKey: Slot]]
    /// Per node, the highest ballot its acceptor promised: promises never go back, across restarts too.
    private var highestPromise: [Ballot]
    /// Per node, the highest ballot it promised before its disk was last wiped.
    private var promisedBeforeWipe: [Ballot]
    /// Per wiped node, what its acceptor held before the wipe, and the decisions made before it restarted.
    private var formerAccepted: [Int: [Slot: PValue]] = [:]
    private var decidedBeforeRestart: [Int: [Slot: Value]] = [:]
    /// Every proposal and acknowledged vote (full checks only).
    private var votes = VoteLedger()
    /// Per node waiting to rejoin, the granted promises it received since it restarted: the reads of its fence.
    private var fenceReads: [Int: [(reader: NodeID, ballot: Ballot)]] = [:]

    /// The changes of voters decided, by slot, and the configurations they make, replayed here with the
    /// protocol's rules (Core/Voters.swift) from the decisions themselves rather than read from any node.
    private var decidedChanges: [Slot: [(base: UInt64, voters: NodeSet)]] = [:]
    private var voterHistory = VoterView()

    init(config: ClusterConfiguration, nodes: Int, fullChecks: Bool) {
        self.config = config
        self.fullChecks = fullChecks
        executedAt = Array(repeating: [:], count: nodes)
        highestPromise = Array(repeating: .initial, count: nodes)
        promisedBeforeWipe = Array(repeating: .initial, count: nodes)
    }

    /// Records a failed check.
    mutating func violation(_ text: String) {
        if failures.count < 20 { failures.append(text) }
    }

    // MARK: Decisions and replicas

    /// A leader decided `value` in `slot` at `ballot`; returns whether the slot was decided for the first time.
    mutating func decided(_ slot: Slot, _ value: Value, by node: NodeID, at ballot: Ballot?) -> Bool {
        if fullChecks, let ballot {
            if let problem = votes.decided(slot, value, at: ballot, voters: voters(at: slot)) {
                violation("\(problem) (decided by \(node))")
            }
        }
        if fullChecks {
            for c in value.commands where c.key.client != .membership && submitted[c.key] != c.operation {
                violation("validity: \(slot) decided \(c) which no client sent")
            }
        }
        if let earlier = decided[slot] {
            if earlier != value { violation("agreement: \(slot) decided as \(earlier) and as \(value) (by \(node))") }
            return false
        }
        decided[slot] = value
        decidedEnd = max(decidedEnd, slot.next)
        // A batch may hold several (retries among them): each is applied in its order.
        let changes = value.commands.compactMap(Reconfiguration.change(of:))
        if !changes.isEmpty {
            decidedChanges[slot] = changes
            replayChanges()
        }
        return true
    }

    /// A replica applied `value` in `slot`.
    mutating func applied(_ slot: Slot, _ value: Value, duplicate: Bool, at node: NodeID) {
        // A batch's commands are applied one by one: each must be one the slot's decided value carries.
        let matches: Bool
        if case .command(let c) = value, case .batch? = decided[slot] { matches = decided[slot]!.carries(c) } else {
            matches = decided[slot] == value
        }
        if slot >= prunedBelow && !matches {
            violation("replica \(node) applied \(slot) = \(value) but it was decided as \(decided[slot]?.description ?? "nothing")")
        }
        guard fullChecks, !duplicate, case .command(let c) = value else { return }
        if let first = executedAt[node.value][c.key], first != slot {
            violation("at-most-once: \(node) executed \(c.key) in \(first) and again in \(slot)")
        } else {
            executedAt[node.value][c.key] = slot
        }
    }

    /// A client sent a request (kept only with full checks).
    mutating func invoked(_ key: RequestKey, operation: [UInt8]) {
        if fullChecks { submitted[key] = operation }
    }

    /// Whether light checks hold so many decisions that those every live replica applied should be forgotten.
    var wantsPruning: Bool { !fullChecks && decided.count > 50_000 }

    /// Light checks keep memory bounded: forget the decisions below `applied`, which every live replica applied.
    mutating func prune(below applied: Slot) {
        guard applied > prunedBelow else { return }
        prunedBelow = applied
        decided = decided.filter { $0.key >= applied }
    }

    /// A node that lost its disk and has not rejoined received a message: a granted Promise is a read of its
    /// fence.
    mutating func deliveredWhileWiped(_ message: Message, from: NodeID, to node: NodeID) {
        guard case .promise(let p) = message, p.promised == p.ballot, from != node else { return }
        fenceReads[node.value, default: []].append((from, p.ballot))
    }

    /// A node sent a message: an acceptor's Promise grants a ballot, a leader's Accept proposes a value at its
    /// ballot, an acceptor's Accepted votes for it (full checks only).
    mutating func transmitted(_ message: Message, from node: NodeID) {
        guard fullChecks else { return }
        switch message {
        case .promise(let p) where p.promised == p.ballot:
            votes.promised(by: node, p.ballot, p.scope)
        case .accept(let a):
            if let problem = votes.proposed(a.value, in: a.slot, at: a.ballot, phase1: phase1Voters(at: a.slot), by: node) {
                violation(problem)
            }
        case .accepted(let a) where a.promised == a.ballot:
            if let problem = votes.voted(by: node, in: a.slot, at: a.ballot, voters: voters(at: a.slot), decided: decided[a.slot]) {
                violation(problem)
            }
        default:
            break
        }
    }

    /// An acceptor trimmed its accepted values below `watermark`; `durable` is, per node, the highest slot its
    /// disk has ever held a synced snapshot up to, and `own` what the trimming node's disk holds now. A majority
    /// must hold every trimmed slot durably, or a crash of those that do could lose a decided value no acceptor
    /// remembers; and the node must hold it itself, or the trim leaves it on fewer disks than voted for it.
    mutating func trimmed(_ node: NodeID, below watermark: Slot, durable: [Slot], own: Slot) {
        if own < watermark {
            violation("trim: acceptor \(node) trimmed below \(watermark), past its own node's snapshot on disk (to \(own))")
        }
        let holders = NodeSet(durable.indices.filter { durable[$0] >= watermark }.map { NodeID($0) })
        // A majority of the voters of the slot below the watermark, or of the latest ones or those just before
        // (the leader counts the latest voters it applied, which may be one change behind the decisions; one
        // node apart, every majority of theirs overlaps every majority of the latest).
        let latest = voterHistory.latest(initial: config.memberSet)
        let counted = [voters(at: Slot(max(0, watermark.index - 1)))]
            + (voterHistory.history.isEmpty ? [latest] : voterHistory.history.filter { $0.number + 1 >= latest.number })
        guard !counted.contains(where: { NodeSet.intersect(holders, $0.voters).count >= $0.quorum }) else { return }
        violation("trim: acceptor \(node) trimmed below \(watermark) while only {\(NodeSet(holders))} held a snapshot that far durably")
    }

    // MARK: Acceptors

    /// An acceptor's promise never goes backwards, even across a restart, and it never accepts below it.
    /// `before` and `acceptedBefore` are its promise for `slot` and its value there before the step.
    mutating func acceptorStep(_ node: NodeID, record: AcceptorRecord, slot: Slot, before: Ballot,
                               acceptedBefore: PValue?, message: Message) {
        let i = node.value
        if before < highestPromise[i] {
            violation("acceptor \(node): promise went back from \(highestPromise[i]) to \(before)")
        }
        highestPromise[i] = max(highestPromise[i], record.promised)
        if case .accept(let a) = message, let pv = record.accepted[a.slot], pv != acceptedBefore, a.ballot < before {
            violation("acceptor \(node): accepted ballot \(a.ballot) in \(a.slot) below its promise \(before)")
        }
        if let pv = record.accepted[slot], pv.ballot > record.promised(for: slot) {
            violation("acceptor \(node): accepted \(pv.ballot) above its promise \(record.promised(for: slot)) in \(slot)")
        }
    }

    /// Durable before sending: what survives a crash holds every promise and accepted value the node had
    /// already acted on (and so may have told others about). From then on the promise may not go below what
    /// survived: a promise the crash took with an unsynced write was never sent.
    mutating func crashed(_ node: NodeID, actedOn: DurableState, survives: DurableState) {
        let had = actedOn.acceptor, has = survives.acceptor
        if has.highestPromised < had.highestPromised {
            violation("durability: acceptor \(node) restarts having promised \(has.highestPromised), below the \(had.highestPromised) it had promised")
        }
        for slot in had.accepted.keys.sorted() where slot >= has.trimmedBelow {
            let pv = had.accepted[slot]!
            if (has.accepted[slot]?.ballot ?? .initial) < pv.ballot {
                violation("durability: acceptor \(node) lost the value it accepted in \(slot) at ballot \(pv.ballot)")
                break
            }
        }
        highestPromise[node.value] = has.promised
    }

    // MARK: Lost disks

    /// `node` lost its disk: its acceptor had accepted `accepted` when it crashed, and `survived` is what the
    /// crash left before the disk went too.
    mutating func wiped(_ node: NodeID, accepted: [Slot: PValue], survived: DurableState) {
        let i = node.value
        formerAccepted[i] = accepted
        promisedBeforeWipe[i] = max(promisedBeforeWipe[i], highestPromise[i], survived.acceptor.highestPromised)
    }

    /// What a node's disk holds after a sync: its acceptor may claim slots trimmed (decided, never to be voted on
    /// again) only up to its own snapshot there, or a claim would stand for values this node cannot serve.
    mutating func synced(_ node: NodeID, _ state: DurableState) {
        let snapshot = state.replicaSnapshot?.nextSlot ?? .zero
        if state.acceptor.trimmedBelow > snapshot {
            violation("trim: acceptor \(node)'s disk says it trimmed below \(state.acceptor.trimmedBelow), past the snapshot on that disk (to \(snapshot))")
        }
    }

    /// A node that lost its disk restarts: remember what was decided before it could read anyone.
    mutating func restartingWiped(_ node: NodeID) {
        decidedBeforeRestart[node.value] = decided
        fenceReads[node.value] = []
    }

    /// A node that lost its disk sent a message; it must not vote before it rejoined.
    mutating func sentWhileWiped(_ node: NodeID, _ kind: MessageKind) {
        if kind == .promise || kind == .accepted {
            violation("amnesia: \(node) sent \(kind) after its disk was wiped")
        }
    }

    /// The voters that decide `slot`, as the decided changes make them.
    func voters(at slot: Slot) -> VoterConfiguration {
        voterHistory.configuration(at: slot, initial: config.memberSet)
    }

    /// The configurations whose majority a leader's Phase 1 may have used before proposing in `slot`: the
    /// slot's own, and those next to it (one node apart, so their majorities overlap the slot's).
    func phase1Voters(at slot: Slot) -> [VoterConfiguration] {
        let own = voters(at: slot)
        let all = voterHistory.history.isEmpty ? [own] : voterHistory.history
        return all.filter { $0.number + 1 >= own.number && $0.number <= own.number + 1 }
    }

    /// Rebuilds the configurations from the decided changes, in slot order, by the protocol's rules.
    private mutating func replayChanges() {
        let view = VoterView()
        for slot in decidedChanges.keys.sorted() {
            for change in decidedChanges[slot]! {
                if case .changed(let next) = view.outcome(base: change.base, voters: change.voters, at: slot,
                                                          initial: config.memberSet),
                   next.number > view.latest(initial: config.memberSet).number {
                    view.append(next, initial: config.memberSet)
                }
            }
        }
        voterHistory = view
    }

    /// A node that lost its disk rejoined after a quorum promised `fence`; `record` is its new acceptor state.
    mutating func rejoined(_ node: NodeID, fence: Ballot, record: AcceptorRecord, applied: Slot) {
        let i = node.value
        // Every quorum its former self could have been part of must include a node it read at the fence.
        let read = NodeSet((fenceReads[i] ?? []).filter { $0.ballot >= fence }.map(\.reader))
        // The configurations that govern a slot the rejoined acceptor may vote in: none below its record's trim
        // watermark (it refuses those), and a slot its former self voted in was proposed before its rejoin was
        // decided, so below the applied slot plus α, and a change decided at or past the applied slot governs
        // only from there plus α. (The decided history here is complete, whatever the node kept.)
        let known = voterHistory.history.filter { $0.from.index < applied.index + Reconfiguration.delaySlots }
        let configurations = known.isEmpty ? [voterHistory.latest(initial: config.memberSet)]
            : known.indices.filter { i in i + 1 == known.count || known[i + 1].from > record.trimmedBelow }.map { known[$0] }
        let votes = configurations.contains { $0.voters.contains(node) }
        for c in configurations where c.voters.contains(node) {
            let needed = c.voters.count - c.quorum + 1
            let among = NodeSet.intersect(read, c.voters)
            if fullChecks, among.count < needed {
                violation("amnesia: \(node) rejoined having read {\(among)} of voters {\(c.voters)} at its fence \(fence), fewer than the \(needed) it needs")
                break
            }
        }
        fenceReads[i] = nil
        // Its former promises count only in quorums of configurations that hold it; in none, it may promise nothing.
        if votes, record.promised <= promisedBeforeWipe[i] || fence <= promisedBeforeWipe[i] {
            violation("amnesia: \(node) rejoined promising \(record.promised), not above \(promisedBeforeWipe[i]) that it promised before its disk was wiped")
        }
        // Every value chosen before it came back (so before it read anyone) that its former self had voted for
        // must be among its accepted values, or a quorum containing it could miss that choice.
        for (slot, pv) in (formerAccepted[i] ?? [:]).sorted(by: { $0.key < $1.key })
        where slot >= record.trimmedBelow && decidedBeforeRestart[i]?[slot] == pv.value && record.accepted[slot]?.value != pv.value {
            violation("amnesia: \(node) rejoined without \(pv.value) in \(slot), which its former self accepted and which was chosen")
            break
        }
        // Voting in no configuration it knows, it starts afresh: its former promises bind no quorum it joins.
        highestPromise[i] = votes ? max(highestPromise[i], record.promised) : record.promised
    }
}

/// What the acceptors voted: who promised each ballot, every value a leader proposed at a ballot, and who
/// acknowledged accepting it. A leader proposes at a ballot only once a majority promised it for the slot; a
/// value is chosen once a majority accepted it at one ballot, and Paxos promises that it is then the only value
/// ever chosen or decided in its slot, and that every decision has such a majority behind it.
struct VoteLedger {
    /// Per ballot, the Phase-1 scopes asked for and the acceptors that granted each.
    private var promisers: [Ballot: [PrepareScope: NodeSet]] = [:]
    /// The value proposed in each slot at each ballot (one leader per ballot, one value per slot).
    private var proposals: [Slot: [Ballot: Value]] = [:]
    /// The acceptors that acknowledged accepting it.
    private var voters: [Slot: [Ballot: NodeSet]] = [:]
    /// The value chosen in each slot, and the first ballot at which a majority accepted it.
    private var chosen: [Slot: (value: Value, ballot: Ballot)] = [:]

    /// An acceptor granted `ballot` for the slots in `scope`.
    mutating func promised(by node: NodeID, _ ballot: Ballot, _ scope: PrepareScope) {
        promisers[ballot, default: [:]][scope, default: NodeSet()].insert(node)
    }

    /// `leader` proposed `value`; returns a failure if a majority had not promised its ballot for the slot, or
    /// if its ballot proposed another value there.
    mutating func proposed(_ value: Value, in slot: Slot, at ballot: Ballot, phase1: [VoterConfiguration], by leader: NodeID) -> String? {
        if let earlier = proposals[slot]?[ballot] {
            return earlier == value ? nil : "ballot: \(ballot) proposed \(earlier) and \(value) in \(slot)"
        }
        proposals[slot, default: [:]][ballot] = value
        if let earlier = chosen[slot], earlier.ballot < ballot, earlier.value != value {
            return "chosen: \(slot) had \(earlier.value) accepted by a majority at \(earlier.ballot), then \(leader) proposed \(value) at \(ballot)"
        }
        // Any Phase-1 round of the ballot that covers the slot will do; none may be mixed with another. (Which
        // is reported is chosen by size, then by members, never by the dictionary's hash order.)
        let rounds = (promisers[ballot] ?? [:]).filter { $0.key.covers(slot) }.values
        let promised = { (granted: NodeSet) in phase1.contains { NodeSet.intersect(granted, $0.voters).count >= $0.quorum } }
        guard rounds.contains(where: promised) else {
            let largest = rounds.max { ($0.count, $0.bits) < ($1.count, $1.bits) } ?? NodeSet()
            return "phase 1: \(leader) proposed \(value) in \(slot) at \(ballot), which only {\(largest)} had promised"
        }
        return nil
    }

    /// `node` acknowledged accepting the proposal of `ballot` in `slot`; returns a failure if that makes a
    /// majority for a value other than the one already chosen or decided there.
    mutating func voted(by node: NodeID, in slot: Slot, at ballot: Ballot, voters deciding: VoterConfiguration,
                        decided: Value?) -> String? {
        guard let value = proposals[slot]?[ballot] else { return nil }
        var set = voters[slot]?[ballot] ?? NodeSet()
        guard set.insert(node) else { return nil }
        voters[slot, default: [:]][ballot] = set
        guard deciding.voters.contains(node), NodeSet.intersect(set, deciding.voters).count == deciding.quorum else { return nil }
        if let earlier = chosen[slot] {
            guard earlier.value != value else { return nil }
            return "chosen: \(slot) had \(earlier.value) accepted by a majority at \(earlier.ballot), then \(value) at \(ballot)"
        }
        chosen[slot] = (value, ballot)
        if let decided, decided != value {
            return "chosen: \(slot) was decided as \(decided), then \(value) was accepted by a majority at \(ballot)"
        }
        return nil
    }

    /// A leader decided `value` in `slot` at `ballot`: a majority must have accepted it there, and no other
    /// value may have been chosen in the slot.
    func decided(_ slot: Slot, _ value: Value, at ballot: Ballot, voters deciding: VoterConfiguration) -> String? {
        let set = NodeSet.intersect(voters[slot]?[ballot] ?? NodeSet(), deciding.voters)
        if proposals[slot]?[ballot] != value || set.count < deciding.quorum {
            return "quorum: \(slot) decided as \(value) at \(ballot) with only {\(set)} having accepted it"
        }
        if let earlier = chosen[slot], earlier.value != value {
            return "chosen: \(slot) had \(earlier.value) accepted by a majority at \(earlier.ballot), but \(value) was decided"
        }
        return nil
    }
}
