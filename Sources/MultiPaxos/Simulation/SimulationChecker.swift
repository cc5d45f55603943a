/// The checks a simulated run makes as it goes: agreement, validity, applied equals decided, at most once, the
/// acceptor invariants, durability before sending, amnesia and the clients' answers. The bus tells it what it
/// sees (events, an acceptor's state around a step, crashes, wipes and restarts); it records each violation as a
/// one-line failure.
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

    init(config: ClusterConfiguration, fullChecks: Bool) {
        self.config = config
        self.fullChecks = fullChecks
        let nodes = config.members.count
        executedAt = Array(repeating: [:], count: nodes)
        highestPromise = Array(repeating: .initial, count: nodes)
        promisedBeforeWipe = Array(repeating: .initial, count: nodes)
    }

    /// Records a failed check.
    mutating func violation(_ text: String) {
        if failures.count < 20 { failures.append(text) }
    }

    // MARK: Decisions and replicas

    /// A leader decided `value` in `slot`; returns whether the slot was decided for the first time.
    mutating func decided(_ slot: Slot, _ value: Value, by node: NodeID) -> Bool {
        if fullChecks, case .command(let c) = value, c.key.client != .membership, submitted[c.key] != c.operation {
            violation("validity: \(slot) decided \(c) which no client sent")
        }
        if let earlier = decided[slot] {
            if earlier != value { violation("agreement: \(slot) decided as \(earlier) and as \(value) (by \(node))") }
            return false
        }
        decided[slot] = value
        decidedEnd = max(decidedEnd, slot.next)
        return true
    }

    /// A replica applied `value` in `slot`.
    mutating func applied(_ slot: Slot, _ value: Value, duplicate: Bool, at node: NodeID) {
        if slot >= prunedBelow && decided[slot] != value {
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

    /// A node that lost its disk restarts: remember what was decided before it could read anyone.
    mutating func restartingWiped(_ node: NodeID) {
        decidedBeforeRestart[node.value] = decided
    }

    /// A node that lost its disk sent a message; it must not vote before it rejoined.
    mutating func sentWhileWiped(_ node: NodeID, _ kind: MessageKind) {
        if kind == .promise || kind == .accepted {
            violation("amnesia: \(node) sent \(kind) after its disk was wiped")
        }
    }

    /// A node that lost its disk rejoined after a quorum promised `fence`; `record` is its new acceptor state.
    mutating func rejoined(_ node: NodeID, fence: Ballot, record: AcceptorRecord) {
        let i = node.value
        if record.promised <= promisedBeforeWipe[i] || fence <= promisedBeforeWipe[i] {
            violation("amnesia: \(node) rejoined promising \(record.promised), not above \(promisedBeforeWipe[i]) that it promised before its disk was wiped")
        }
        // Every value chosen before it came back (so before it read anyone) that its former self had voted for
        // must be among its accepted values, or a quorum containing it could miss that choice.
        for (slot, pv) in (formerAccepted[i] ?? [:]).sorted(by: { $0.key < $1.key })
        where slot >= record.trimmedBelow && decidedBeforeRestart[i]?[slot] == pv.value && record.accepted[slot]?.value != pv.value {
            violation("amnesia: \(node) rejoined without \(pv.value) in \(slot), which its former self accepted and which was chosen")
            break
        }
        highestPromise[i] = max(highestPromise[i], record.promised)
    }
}
