import Testing
@testable import MultiPaxos

@Suite struct ScoutTests {
    let b1 = Ballot(round: 1, leader: NodeID(0))

    func promise(_ ballot: Ballot, promised: Ballot? = nil, _ accepted: [PValue] = [], end: Int64 = 0) -> Message {
        .promise(Promise(ballot: ballot, promised: promised ?? ballot, scope: .from(.zero), accepted: accepted,
                         trimmedBelow: .zero, slotsEnd: Slot(end)))
    }

    @Test func adoptsAtAMajorityWithTheHighestBallotValuePerSlot() async {
        let scout = Scout(node: n(0), config: config(5), executor: testExecutor)
        let start = await scout.handle(.message(.startPhase1(StartPhase1(ballot: b1, scope: .from(.zero))), from: n(0)))
        #expect(sent(start).count == 5)
        #expect(timers(start) == [.scoutRetransmit])
        let old = PValue(ballot: Ballot(round: 0, leader: n(1)), slot: Slot(0), value: .noop)
        let newer = PValue(ballot: Ballot(round: 0, leader: n(3)), slot: Slot(0), value: .command(command(1, 1)))
        #expect(sent(await scout.handle(.message(promise(b1, [old], end: 1), from: n(1)))).isEmpty)
        // A promise from a node outside the cluster never counts toward the majority.
        #expect(sent(await scout.handle(.message(promise(b1), from: n(9)))).isEmpty)
        #expect(sent(await scout.handle(.message(promise(b1, [newer], end: 1), from: n(3)))).isEmpty)
        // The same acceptor twice counts once.
        #expect(sent(await scout.handle(.message(promise(b1), from: n(3)))).isEmpty)
        let done = sent(await scout.handle(.message(promise(b1), from: n(4))))
        let adopted = done.first?.0.adopted
        #expect(done.first?.1 == n(0))
        #expect(adopted?.accepted == [newer])
        #expect(adopted?.slotsEnd == Slot(1))
    }

    /// A report in parts counts once it is whole: the Scout asks for the rest from where a part stopped, keeps
    /// every value of every part, and ignores a part that starts past what the earlier ones reached.
    @Test func aReportInPartsCountsOnceWhole() async throws {
        let scout = Scout(node: n(0), config: config(3), executor: testExecutor)
        _ = await scout.handle(.message(.startPhase1(StartPhase1(ballot: b1, scope: .from(.zero))), from: n(0)))
        func part(_ values: [PValue], from: Slot?, more: Slot?) -> Message {
            .promise(Promise(ballot: b1, promised: b1, scope: .from(.zero), accepted: values, trimmedBelow: .zero,
                             slotsEnd: Slot(3), reportFrom: from, more: more))
        }
        let pv = (0..<3).map { PValue(ballot: Ballot(round: 0, leader: n(2)), slot: Slot(Int64($0)), value: .command(command(1, UInt64($0 + 1)))) }
        // n1's whole report: one of two promises needed.
        #expect(sent(await scout.handle(.message(part([], from: nil, more: nil), from: n(1)))).isEmpty)
        // n2's first part: the Scout asks n2 for the rest, and has not adopted.
        let ask = sent(await scout.handle(.message(part([pv[0]], from: nil, more: Slot(1)), from: n(2))))
        #expect(ask.count == 1 && ask[0].1 == n(2) && ask[0].0.prepare?.reportFrom == Slot(1))
        // A part from past where n2's parts reach extends nothing: no adoption.
        #expect(sent(await scout.handle(.message(part([pv[2]], from: Slot(2), more: nil), from: n(2)))).isEmpty)
        // The next part, then the last: adopted with every value of every part.
        let again = sent(await scout.handle(.message(part([pv[1]], from: Slot(1), more: Slot(2)), from: n(2))))
        #expect(again.first?.0.prepare?.reportFrom == Slot(2))
        let done = sent(await scout.handle(.message(part([pv[2]], from: Slot(2), more: nil), from: n(2))))
        #expect(done.first?.0.adopted?.accepted == pv)
    }

    @Test func reportsPreemptionByAHigherBallot() async {
        let scout = Scout(node: n(0), config: config(), executor: testExecutor)
        _ = await scout.handle(.message(.startPhase1(StartPhase1(ballot: b1, scope: .from(.zero))), from: n(0)))
        let higher = Ballot(round: 3, leader: n(2))
        let out = sent(await scout.handle(.message(promise(b1, promised: higher), from: n(2))))
        #expect(out.first?.0.preempted?.by == higher)
        #expect(await scout.roundsInProgress == 0)
    }

    @Test func resendsPreparesOnlyToAcceptorsThatHaveNotPromised() async {
        let scout = Scout(node: n(0), config: config(), executor: testExecutor)
        _ = await scout.handle(.message(.startPhase1(StartPhase1(ballot: b1, scope: .from(.zero))), from: n(0)))
        _ = await scout.handle(.message(promise(b1), from: n(1)))
        // A round younger than a whole period is left alone; after that, only the missing acceptors hear again.
        let early = await scout.handle(.timer(.scoutRetransmit))
        #expect(sent(early).isEmpty)
        #expect(timers(early) == [.scoutRetransmit])
        let again = await scout.handle(.timer(.scoutRetransmit))
        #expect(sent(again).map(\.1) == [n(0), n(2)])
    }

    /// A round that goes a whole retransmit period without a majority says once what it waits for: the acceptors
    /// not heard from, those whose report is partly in (and how far), and who promised.
    @Test func saysOnceWhatAStalledPhase1WaitsFor() async {
        let scout = Scout(node: n(0), config: config(5), executor: testExecutor)
        _ = await scout.handle(.message(.startPhase1(StartPhase1(ballot: b1, scope: .from(.zero))), from: n(0)))
        _ = await scout.handle(.message(promise(b1), from: n(1)))
        let first = PValue(ballot: Ballot(round: 0, leader: n(2)), slot: Slot(0), value: .noop)
        _ = await scout.handle(.message(.promise(Promise(ballot: b1, promised: b1, scope: .from(.zero), accepted: [first],
                                                         trimmedBelow: .zero, slotsEnd: Slot(9), more: Slot(1))), from: n(2)))
        #expect(events(await scout.handle(.timer(.scoutRetransmit))).isEmpty)
        let said = events(await scout.handle(.timer(.scoutRetransmit)))
        guard case .phase1Waiting(let ballot, _, let promised, let waiting, let parts)? = said.first, said.count == 1 else {
            Issue.record("expected one phase1Waiting event, got \(said)")
            return
        }
        #expect(ballot == b1 && promised == NodeSet([n(1)]) && waiting == NodeSet([n(0), n(2), n(3), n(4)]))
        #expect(parts.map(\.0) == [n(2)] && parts.map(\.1) == [Slot(1)])
        #expect(said[0].description.contains("n0, n3, n4, n2's report (in parts, up to s1); promised by n1"), "\(said[0])")
        // Once per round: later retransmits say nothing more.
        _ = await scout.handle(.timer(.scoutRetransmit))
        #expect(events(await scout.handle(.timer(.scoutRetransmit))).isEmpty)
    }
}
