/// The `MPX.ADDVOTER` and `MPX.REMOVEVOTER` requests a served node waits on: each is answered `+OK` once the
/// voters it asked for are in force as this node applied them, or with an error once its time ran out.
struct VoterChangeWaits {
    struct Wait {
        let connection: UInt64
        let key: RequestKey
        let request: AdminRequest
        /// The voters asked for.
        let goal: NodeSet
        let deadline: ContinuousClock.Instant
        /// When the change was last proposed: it is proposed again every half second until it is in force.
        var askedAt: ContinuousClock.Instant
    }
    private(set) var waits: [Wait] = []

    /// Whether no request waits.
    var isEmpty: Bool { waits.isEmpty }

    mutating func add(_ wait: Wait) { waits.append(wait) }

    /// The requests of `connection` are dropped: it closed.
    mutating func forget(connection: UInt64) { waits.removeAll { $0.connection == connection } }

    /// Keeps the waits `keep` returns, with the changes it made to them.
    mutating func update(_ keep: (inout Wait) async -> Bool) async {
        var kept: [Wait] = []
        for var wait in waits where await keep(&wait) { kept.append(wait) }
        waits = kept
    }
}

extension ServedNode {
    /// How long an `MPX.ADDVOTER` or `MPX.REMOVEVOTER` waits for its change to be in force: twenty leader timeouts.
    var voterChangeTimeout: Duration { .microseconds(20 * cluster.timing.leaderTimeout) }

    /// Starts an admin request about voters: `MPX.VOTERS` is answered at once; a change is answered at once when
    /// it cannot be made (or is made already), or recorded as a wait, and the input that proposes it returned.
    func startVoterChange(_ connection: UInt64, key: RequestKey, request: AdminRequest, node: Node,
                          waits: inout VoterChangeWaits) async -> Input? {
        func refuse(_ why: String) -> Input? {
            transport.answer(connection, key: key, .unavailable("ERR \(request.name): \(why)"))
            return nil
        }
        let (latest, applied) = await node.voterView(initial: cluster.memberSet)
        let target: NodeID
        switch request {
        case .transfer:
            return nil  // handled by startTransfer
        case .voters:
            let text = "configuration #\(latest.number): voters \(latest.voters) from \(latest.from), "
                + (applied >= latest.from ? "in force" : "pending") + "; applied to \(applied)"
            transport.answer(connection, key: key, .result(Array(text.utf8)))
            return nil
        case .addVoter(let node), .removeVoter(let node):
            target = node
        }
        guard target.value < configuration.peers.count else {
            return refuse("\(target) is not a member of this cluster (n0...n\(configuration.peers.count - 1))")
        }
        guard latest.voters.contains(configuration.id) else {
            return refuse("this node does not vote (it is a spare, joining, or removed): ask a voter")
        }
        var goal = latest.voters
        if case .addVoter = request { goal.insert(target) } else { goal.remove(target) }
        if goal == latest.voters {
            if applied >= latest.from { transport.answer(connection, key: key, .result([])) ; return nil }
            return refuse("\(target) " + (goal.contains(target) ? "is a voter already" : "is not a voter") + " (a change is pending)")
        }
        guard !goal.isEmpty else { return refuse("\(target) is the last voter") }
        let now = ContinuousClock.now
        waits.add(.init(connection: connection, key: key, request: request, goal: goal,
                        deadline: now + voterChangeTimeout, askedAt: now))
        return .message(Self.proposal(base: latest.number, voters: goal), from: configuration.id)
    }

    /// Answers the waits whose change is in force, or whose time ran out; returns the proposals to send again.
    func checkVoterChanges(_ waits: inout VoterChangeWaits, node: Node) async -> [Message] {
        let (latest, applied) = await node.voterView(initial: cluster.memberSet)
        let now = ContinuousClock.now
        var again: [Message] = []
        var answered = false
        await waits.update { wait in
            if latest.voters == wait.goal, applied >= latest.from {
                transport.answer(wait.connection, key: wait.key, .result([]))
                answered = true
                return false
            }
            if now >= wait.deadline {
                transport.answer(wait.connection, key: wait.key, .unavailable(
                    "ERR \(wait.request.name): voters {\(wait.goal)} not in force within \(voterChangeTimeout) "
                    + "(the latest are {\(latest.voters)}; is a majority up, or was another change made?)"))
                answered = true
                return false
            }
            if latest.voters != wait.goal, now - wait.askedAt >= .milliseconds(500) {
                wait.askedAt = now
                again.append(Self.proposal(base: latest.number, voters: wait.goal))
            }
            return true
        }
        if answered { transport.wake() }
        return again
    }

    /// The request that asks the log to change configuration `base` into `voters` (an operator's request, so
    /// from the node itself; each attempt has its own nonce).
    private static func proposal(base: UInt64, voters: NodeSet) -> Message {
        .request(Request(command: Reconfiguration.command(base: base, voters: voters, nonce: UInt64.random(in: 1...UInt64.max))))
    }
}
