/// The `MPX.TRANSFER` requests a served node waits on: each is answered `+OK` once its target leads (as this node
/// sees it), or with an error once the leader gave it up or its time ran out.
struct TransferWaits {
    struct Wait {
        let connection: UInt64
        let key: RequestKey
        let target: NodeID
        let deadline: ContinuousClock.Instant
        /// How many transfers this node's leader had abandoned when the request came.
        let abandonedBefore: UInt64
    }
    private(set) var waits: [Wait] = []

    /// Whether no request waits.
    var isEmpty: Bool { waits.isEmpty }

    mutating func add(_ wait: Wait) { waits.append(wait) }

    /// The requests of `connection` are dropped: it closed.
    mutating func forget(connection: UInt64) { waits.removeAll { $0.connection == connection } }

    /// Removes and returns the waits for which `answer` has an answer.
    mutating func settle(_ answer: (Wait) async -> CallOutcome?) async -> [(Wait, CallOutcome)] {
        var settled: [(Wait, CallOutcome)] = []
        var kept: [Wait] = []
        for wait in waits {
            if let outcome = await answer(wait) { settled.append((wait, outcome)) } else { kept.append(wait) }
        }
        waits = kept
        return settled
    }
}

extension ServedNode {
    /// How long an `MPX.TRANSFER` waits for its target to lead: ten leader timeouts (the leader itself gives a
    /// transfer up after one).
    var transferTimeout: Duration { .microseconds(10 * cluster.timing.leaderTimeout) }

    /// Starts an `MPX.TRANSFER` of connection `connection`: answers at once when it cannot be done (or is done
    /// already), or records the wait and returns the input that asks the leader.
    func startTransfer(_ connection: UInt64, key: RequestKey, target: NodeID, node: Node,
                       waits: inout TransferWaits) async -> Input? {
        func refuse(_ why: String) -> Input? {
            transport.answer(connection, key: key, .unavailable("ERR mpx.transfer: \(why)"))
            return nil
        }
        guard target.value < configuration.peers.count else {
            return refuse("\(target) is not a member of this cluster (n0...n\(configuration.peers.count - 1))")
        }
        guard let leader = await node.leader else {
            return refuse("this node does not vote yet (it is joining or rejoining): ask a voting member")
        }
        if await leads(target, node: node) {
            transport.answer(connection, key: key, .result([]))
            return nil
        }
        let active = await leader.isActive
        let known = await leader.believedLeader != .initial
        guard active || known else {
            return refuse("no leader is known yet: try again once one is elected")
        }
        waits.add(.init(connection: connection, key: key, target: target, deadline: .now + transferTimeout,
                        abandonedBefore: await leader.transfersAbandoned))
        return .message(.transferLeadership(TransferLeadership(target: target)), from: configuration.id)
    }

    /// Answers the waiting transfers whose target leads, whose leader (this node) gave them up, or whose time ran out.
    func checkTransfers(_ waits: inout TransferWaits, node: Node) async {
        let now = ContinuousClock.now
        let settled = await waits.settle { wait async -> CallOutcome? in
            if await leads(wait.target, node: node) { return .result([]) }
            if let leader = await node.leader, await leader.transfersAbandoned > wait.abandonedBefore {
                return .unavailable("ERR mpx.transfer: the leader gave the transfer to \(wait.target) up after a leader "
                                    + "timeout (\(wait.target) did not catch up or did not win: is it down or cut off?)")
            }
            guard now >= wait.deadline else { return nil }
            return .unavailable("ERR mpx.transfer: \(wait.target) did not take over within \(transferTimeout) "
                                + "(it may be down, cut off, or not a voting member)")
        }
        for (wait, outcome) in settled { transport.answer(wait.connection, key: wait.key, outcome) }
        if !settled.isEmpty { transport.wake() }
    }

    /// Whether `target` leads, as this node sees it: its own Leader is active, or its replica follows `target`.
    private func leads(_ target: NodeID, node: Node) async -> Bool {
        if target == configuration.id { return await node.leader?.isActive ?? false }
        guard let hint = await node.replica?.leaderHint, hint != .initial else { return false }
        return hint.leader == target
    }
}
