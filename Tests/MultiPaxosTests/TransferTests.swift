import Testing
@testable import MultiPaxos

/// Leadership transfer, one step at a time (Roles/Transfer.swift): the leader stops assigning, brings the target
/// up to date, tells it to compete (TimeoutNow) only then, abandons after a leader timeout; the target competes
/// at once with a higher ballot.
@Suite struct TransferTests {
    let b1 = Ballot(round: 1, leader: n(0))

    /// Node 0 leading ballot 1 of a 3-node cluster (stable-leader mode, no batching).
    func elected() async -> Leader {
        let leader = Leader(node: n(0), config: config(3), executor: testExecutor, eager: true)
        _ = await leader.start()
        let adopted = Adopted(ballot: b1, scope: .from(.zero), accepted: [], trimmedBelow: .zero, slotsEnd: .zero)
        _ = await leader.handle(.message(.adopted(adopted), from: n(0)))
        return leader
    }

    func propose(_ leader: Leader, _ c: Command) async -> [Effect] {
        await leader.handle(.message(.propose(Propose(command: c, forwarded: false)), from: n(0)))
    }

    func accepted(_ leader: Leader, _ slot: Int64, from node: Int) async -> [Effect] {
        await leader.handle(.message(.accepted(Accepted(ballot: b1, promised: b1, slot: Slot(slot))), from: n(node)))
    }

    func reply(_ leader: Leader, from node: Int) async -> [Effect] {
        await leader.handle(.message(.heartbeatReply(HeartbeatReply(ballot: b1, applied: .zero, acceptedEnd: .zero)), from: n(node)))
    }

    func transfer(_ leader: Leader, to target: Int) async -> [Effect] {
        await leader.handle(.message(.transferLeadership(TransferLeadership(target: n(target))), from: n(0)))
    }

    func timeoutNows(_ effects: [Effect]) -> [(TimeoutNow, NodeID)] {
        sent(effects).compactMap { if case .timeoutNow(let t) = $0.0 { (t, $0.1) } else { nil } }
    }

    @Test func theLeaderStopsAssigningSlotsDuringATransfer() async {
        let leader = await elected()
        #expect(sent(await propose(leader, command(1, 1))).compactMap { $0.0.accept?.slot } == [.zero, .zero, .zero])
        let started = await transfer(leader, to: 1)
        #expect(events(started).contains { if case .transferStarted(b1, to: n(1)) = $0 { true } else { false } })
        #expect(await leader.transferTarget == n(1))
        // A new command waits: no slot, no Accept.
        #expect(sent(await propose(leader, command(2, 1))).isEmpty)
        #expect(await leader.slotsInFlight == 1)
        // Even once slot 0 is decided, room in the window assigns nothing while the transfer lasts.
        _ = await accepted(leader, 0, from: 0)
        let decided = sent(await accepted(leader, 0, from: 2))
        #expect(decided.contains { $0.0.decision?.slot == .zero } && !decided.contains { $0.0.accept != nil })
        #expect(await leader.isActive)
    }

    @Test func timeoutNowGoesOnlyOnceTheTargetAcceptedEverySlotInFlight() async {
        let leader = await elected()
        _ = await propose(leader, command(1, 1))
        _ = await propose(leader, command(2, 1))
        // Slot 0 is decided without node 1; slot 1 has only the leader's own vote.
        _ = await accepted(leader, 0, from: 0)
        _ = await accepted(leader, 0, from: 2)
        _ = await accepted(leader, 1, from: 0)
        let started = await transfer(leader, to: 1)
        #expect(timeoutNows(started).isEmpty, "node 1 has not been heard")
        // A heartbeat goes to the target at once, so that its answer need not wait a heartbeat period.
        #expect(sent(started).contains { if case .heartbeat(let h) = $0.0 { $0.1 == n(1) && h.ballot == b1 } else { false } })
        #expect(timeoutNows(await reply(leader, from: 1)).isEmpty, "node 1 has not accepted slot 1")
        // Every heartbeat sends slot 1 again to whoever has not accepted it, the target included.
        _ = await leader.handle(.timer(.heartbeat))
        let helped = await leader.handle(.timer(.heartbeat))
        #expect(sent(helped).contains { $0.0.accept?.slot == Slot(1) && $0.1 == n(1) })
        #expect(timeoutNows(helped).isEmpty)
        // Node 1 accepts slot 1: it holds everything the leader may still get chosen. Compete now, above ballot 1.
        let told = timeoutNows(await accepted(leader, 1, from: 1))
        #expect(told.count == 1 && told.first?.1 == n(1))
        #expect(told.first?.0 == TimeoutNow(ballot: b1, nextSlot: Slot(2)))
        // Not again within the same heartbeat; again at the next one while it still leads (a TimeoutNow may be lost).
        #expect(timeoutNows(await reply(leader, from: 1)).isEmpty)
        #expect(timeoutNows(await leader.handle(.timer(.heartbeat))).count == 1)
    }

    @Test func aTransferThatDoesNotEndWithinALeaderTimeoutIsAbandonedAndTheLeaderAssignsAgain() async {
        let leader = await elected()
        _ = await transfer(leader, to: 2)  // node 2 never answers
        #expect(sent(await propose(leader, command(1, 1))).isEmpty)
        let ticks = Int(Timing().leaderTimeout / Timing().heartbeatInterval)
        var last: [Effect] = []
        for tick in 1...ticks {
            _ = await reply(leader, from: 1)  // node 1 keeps the leader's quorum
            last = await leader.handle(.timer(.heartbeat))
            if tick < ticks { #expect(events(last).isEmpty, "tick \(tick)") }
        }
        #expect(events(last).contains { if case .transferAbandoned(b1, to: n(2)) = $0 { true } else { false } })
        #expect(await leader.transferTarget == nil)
        #expect(await leader.transfersAbandoned == 1)
        #expect(await leader.isActive)
        // The queued command gets its slot now.
        #expect(sent(last).contains { $0.0.accept?.value == .command(command(1, 1)) && $0.0.accept?.slot == .zero })
    }

    @Test func aTransferThatSucceedsHandsTheQueuedCommandsToTheNewLeader() async {
        let leader = await elected()
        _ = await transfer(leader, to: 1)
        _ = await propose(leader, command(3, 1))
        let b2 = Ballot(round: 2, leader: n(1))
        let after = await leader.handle(.message(.heartbeat(Heartbeat(ballot: b2, nextSlot: .zero, trimBelow: .zero)), from: n(1)))
        #expect(await leader.isActive == false)
        #expect(await leader.transferTarget == nil)
        #expect(sent(after).contains { $0.0.propose?.command == command(3, 1) && $0.1 == n(1) })
    }

    @Test(arguments: Mode.allCases)
    func theTargetCompetesAtOnceWithAHigherBallotAndNoPreVote(mode: Mode) async {
        let target = Leader(node: n(1), config: config(3, mode: mode), executor: testExecutor, eager: false)
        _ = await target.start()
        _ = await target.handle(.message(.heartbeat(Heartbeat(ballot: b1, nextSlot: Slot(5), trimBelow: .zero)), from: n(0)))
        // Only the leader of the ballot it follows may tell it; a stale or forged TimeoutNow is ignored.
        #expect(await target.handle(.message(.timeoutNow(TimeoutNow(ballot: b1, nextSlot: Slot(7))), from: n(2))).isEmpty)
        let stale = Ballot(round: 0, leader: n(0))
        #expect(await target.handle(.message(.timeoutNow(TimeoutNow(ballot: stale, nextSlot: Slot(7))), from: n(0))).isEmpty)
        let effects = await target.handle(.message(.timeoutNow(TimeoutNow(ballot: b1, nextSlot: Slot(7))), from: n(0)))
        let b2 = Ballot(round: 2, leader: n(1))
        #expect(events(effects).contains { if case .toldToCompete(by: b1) = $0 { true } else { false } })
        #expect(!sent(effects).contains { if case .preVote = $0.0 { true } else { false } })
        #expect(await target.ballot == b2 && b2 > b1)
        switch mode {
        case .stableLeader:
            #expect(sent(effects).first?.0.startPhase1 == StartPhase1(ballot: b2, scope: .from(.zero)))
            #expect(await target.isCompeting)
        case .perSlot:
            // Leadership is claimed at once; every slot still runs its own Phase 1, from the slot named on.
            #expect(await target.isActive)
            #expect(sent(effects).contains { if case .heartbeat(let h) = $0.0 { h.ballot == b2 && h.nextSlot == Slot(7) } else { false } })
        }
        // Competing already, a repeated TimeoutNow changes nothing.
        #expect(await target.handle(.message(.timeoutNow(TimeoutNow(ballot: b1, nextSlot: Slot(7))), from: n(0))).isEmpty)
    }

    @Test func aFollowerPassesATransferRequestOnToItsLeaderOnce() async {
        let follower = Leader(node: n(2), config: config(3), executor: testExecutor, eager: false)
        _ = await follower.start()
        let ask = Message.transferLeadership(TransferLeadership(target: n(1)))
        #expect(sent(await follower.handle(.message(ask, from: n(2)))).isEmpty, "no leader known yet")
        _ = await follower.handle(.message(.heartbeat(Heartbeat(ballot: b1, nextSlot: .zero, trimBelow: .zero)), from: n(0)))
        let passed = sent(await follower.handle(.message(ask, from: n(2))))
        #expect(passed.count == 1 && passed[0].1 == n(0)
                && passed[0].0 == .transferLeadership(TransferLeadership(target: n(1), forwarded: true)))
        #expect(sent(await follower.handle(.message(passed[0].0, from: n(1)))).isEmpty, "a forwarded request stops here")
        // The leader takes a forwarded request; one naming itself or a non-member does nothing.
        let leader = await elected()
        #expect(events(await leader.handle(.message(passed[0].0, from: n(2)))).count == 1)
        let other = await elected()
        #expect(await transfer(other, to: 0).isEmpty)
        #expect(await transfer(other, to: 7).isEmpty, "n7 is not a member")
        #expect(await other.transferTarget == nil)
    }
}
