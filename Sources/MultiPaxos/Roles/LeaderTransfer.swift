/// The Leader's side of a leadership transfer (the bookkeeping is in Transfer.swift): pause assigning, bring
/// the target up to date, tell it to compete, or give up after a leader timeout.
extension Leader {
    // MARK: Leadership transfer (Roles/Transfer.swift)

    /// The target of the transfer this leader is making, if any.
    var transferTarget: NodeID? { transfer?.target }

    /// The voter (not this node) a leader that is about to stop should hand over to: of those that answered its
    /// heartbeats in the last two ticks (so are likely up), the one that applied furthest (ties: the lower id);
    /// nil when none did (no one could take over: stop at once) or this node does not lead.
    var successor: NodeID? {
        guard isActive else { return nil }
        let live = voters.filter { $0 != node && (answeredAtTick[$0] ?? 0) + 2 >= tick && answeredAtTick[$0] != nil }
        return live.max { (applied[$0] ?? .zero, $1) < (applied[$1] ?? .zero, $0) }
    }

    /// Starts handing leadership to `t.target`; a node that does not lead passes the request on to the leader
    /// it knows, once.
    func transferLeadership(_ t: TransferLeadership) -> [Effect] {
        guard isActive else {
            guard !t.forwarded, leaderBallot != .initial, leaderBallot.leader != node else { return [] }
            return [.send(.transferLeadership(TransferLeadership(target: t.target, forwarded: true)), to: leaderBallot.leader)]
        }
        guard t.target != node, voters.contains(t.target), transfer?.target != t.target else { return [] }
        transfer = Transfer(target: t.target, config: config)
        dropLease()  // lease reads stop for good at this ballot: the target may win once the grants lapse
        // A heartbeat now, so that the target's answer need not wait for the next period.
        let probe = Effect.send(.heartbeat(Heartbeat(ballot: ballot, nextSlot: nextSlot, trimBelow: trimToSend)), to: t.target)
        return [.event(.transferStarted(ballot, to: t.target)), probe] + transferProgress(heard: nil)
    }

    /// Sends `TimeoutNow` once the target has accepted every slot still in Phase 2 (the test-only flaw hands
    /// over at once).
    func transferProgress(heard member: NodeID?) -> [Effect] {
        guard isActive, var t = transfer else { return [] }
        if let member { t.heard(from: member) }
        let caughtUp = config.flaws.contains(.transferWithoutPhase1)
            || (phase1Pending.isEmpty && inFlight.values.allSatisfy { $0.acceptedBy.contains(t.target) })
        let effects = t.handOver(tick: tick, caughtUp: caughtUp, ballot: ballot, nextSlot: nextSlot)
        transfer = t
        return effects
    }

    /// A heartbeat tick during a transfer: past a leader timeout it is abandoned, and the leader assigns again.
    func transferTick() -> [Effect] {
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
    func timeoutNow(_ t: TimeoutNow, from: NodeID) -> [Effect] {
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
