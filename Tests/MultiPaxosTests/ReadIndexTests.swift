import Testing
@testable import MultiPaxos

/// Reads by read index: the leader answers a read index only once a majority of acceptors confirmed, after the
/// read arrived, that no higher ballot exists; the replica answers only once it has applied that far; anything
/// that is not a read, or a read the leader cannot confirm, goes through the log.
@Suite struct ReadIndexTests {
    let ballot = Ballot(round: 1, leader: n(0))
    let read = command(5, 1, .get("k"))

    /// A leader of node 0 that has won ballot 1 with slots below `end` assigned, in a cluster of `size`.
    func leader(mode: Mode = .stableLeader, size: Int = 3, end: Int64 = 4, flaws: Flaws = []) async -> Leader {
        var configuration = config(size, mode: mode)
        configuration.flaws = flaws
        let leader = Leader(node: n(0), config: configuration, executor: testExecutor, eager: true)
        _ = await leader.start()
        if mode == .stableLeader {
            let adopted = Adopted(ballot: ballot, scope: .from(.zero), accepted: [], trimmedBelow: .zero, slotsEnd: Slot(end))
            _ = await leader.handle(.message(.adopted(adopted), from: n(0)))
        }
        return leader
    }

    func ask(_ leader: Leader, _ key: RequestKey, from: NodeID) async -> [(Message, NodeID)] {
        sent(await leader.handle(.message(.readIndexRequest(ReadIndexRequest(key: key)), from: from)))
    }

    func confirm(_ leader: Leader, round: ReadRound, from: NodeID, promised: Ballot? = nil,
                 acceptedEnd: Slot = .zero) async -> [(Message, NodeID)] {
        let reply = ReadConfirmReply(ballot: ballot, round: round, promised: promised ?? ballot, acceptedEnd: acceptedEnd)
        return sent(await leader.handle(.message(.readConfirmReply(reply), from: from)))
    }

    func indexReplies(_ messages: [(Message, NodeID)]) -> [ReadIndexReply] {
        messages.compactMap { if case .readIndexReply(let r) = $0.0 { r } else { nil } }
    }

    func confirms(_ messages: [(Message, NodeID)]) -> [ReadConfirm] {
        messages.compactMap { if case .readConfirm(let c) = $0.0 { c } else { nil } }
    }

    @Test func theLeaderAnswersOnlyOnceAMajorityConfirmedARoundStartedAfterTheRead() async {
        let leader = await leader()
        let first = await ask(leader, read.key, from: n(1))
        #expect(first.map(\.1) == [n(0), n(1), n(2)] && indexReplies(first).isEmpty)
        let round = confirms(first)[0].round
        #expect(confirms(first).allSatisfy { $0 == ReadConfirm(ballot: ballot, round: round) })
        // A second read arrives while the round is out: it waits for the next round.
        let later = RequestKey(client: ClientID(6), request: RequestNumber(1))
        #expect(await ask(leader, later, from: n(2)).isEmpty)
        #expect(await confirm(leader, round: round, from: n(0)).isEmpty, "one of three is no majority")
        #expect(await confirm(leader, round: round, from: n(0)).isEmpty, "the same acceptor twice is still one")
        let answered = await confirm(leader, round: round, from: n(2))
        #expect(indexReplies(answered) == [ReadIndexReply(key: read.key, index: Slot(4), leader: ballot)])
        #expect(answered.contains { $0.1 == n(1) && $0.0.kind == .readIndexReply })
        // The majority also started the next round, for the read that waited; the first round's late answers
        // confirm nothing more.
        let next = confirms(answered)
        #expect(next.count == 3 && next[0].round == round.next)
        #expect(await confirm(leader, round: round, from: n(1)).isEmpty)
        _ = await confirm(leader, round: round.next, from: n(1))
        let second = await confirm(leader, round: round.next, from: n(0))
        #expect(indexReplies(second) == [ReadIndexReply(key: later, index: Slot(4), leader: ballot)])
    }

    @Test func aHigherPromiseDeposesTheLeaderAndItsReadsAreNeverAnswered() async {
        let leader = await leader()
        let round = confirms(await ask(leader, read.key, from: n(1)))[0].round
        let higher = Ballot(round: 7, leader: n(2))
        _ = await confirm(leader, round: round, from: n(0))
        let refused = await confirm(leader, round: round, from: n(1), promised: higher)
        #expect(indexReplies(refused).isEmpty)
        #expect(await leader.isActive == false)
        #expect(await leader.believedLeader == higher)
        // A node that does not lead refuses, naming the leader it believes in.
        #expect(indexReplies(await confirm(leader, round: round, from: n(2))).isEmpty)
        #expect(indexReplies(await ask(leader, read.key, from: n(1))) == [ReadIndexReply(key: read.key, index: nil, leader: higher)])
    }

    @Test func anUnconfirmedRoundIsSentAgainToTheAcceptorsThatHaveNotAnswered() async {
        let leader = await leader(size: 5)
        let round = confirms(await ask(leader, read.key, from: n(1)))[0].round
        _ = await confirm(leader, round: round, from: n(0))
        _ = await confirm(leader, round: round, from: n(3))
        _ = await leader.handle(.timer(.heartbeat))
        let again = confirms(sent(await leader.handle(.timer(.heartbeat)))).count
        #expect(again == 3, "to n1, n2 and n4, the same round")
        #expect(indexReplies(await confirm(leader, round: round, from: n(4))).count == 1)
    }

    @Test func aPerSlotLeaderRaisesTheIndexToWhatAConfirmingAcceptorAccepted() async {
        let leader = await leader(mode: .perSlot)
        let round = confirms(await ask(leader, read.key, from: n(1)))[0].round
        _ = await confirm(leader, round: round, from: n(0), acceptedEnd: Slot(2))
        let answered = await confirm(leader, round: round, from: n(2), acceptedEnd: Slot(9))
        #expect(indexReplies(answered).map(\.index) == [Slot(9)])
    }

    @Test func theFlawAnswersWithoutConfirming() async {
        let leader = await leader(flaws: .readIndexSkipsConfirmation)
        let out = await ask(leader, read.key, from: n(1))
        #expect(confirms(out).isEmpty)
        #expect(indexReplies(out) == [ReadIndexReply(key: read.key, index: Slot(4), leader: ballot)])
    }

    @Test func anAcceptorConfirmsWithItsHighestPromiseAndAcceptedEnd() async {
        let storage = DurableState()
        let acceptor = Acceptor(node: n(1), config: config(3), executor: testExecutor, storage: storage)
        _ = await acceptor.handle(.message(.accept(Accept(ballot: ballot, slot: Slot(6), value: .noop)), from: n(0)))
        let higher = Ballot(round: 3, leader: n(2))
        _ = await acceptor.handle(.message(.prepare(Prepare(ballot: higher, scope: .from(.zero))), from: n(2)))
        let out = sent(await acceptor.handle(.message(.readConfirm(ReadConfirm(ballot: ballot, round: ReadRound(4))), from: n(0))))
        #expect(out.count == 1 && out[0].1 == n(0))
        #expect(out[0].0 == .readConfirmReply(ReadConfirmReply(ballot: ballot, round: ReadRound(4), promised: higher, acceptedEnd: Slot(7))))
    }

    // MARK: The replica

    /// A replica of node 1 that follows node 0's ballot 1, with `flaws`.
    func replica(flaws: Flaws = [], reads: ReadConsistency = .readIndex) async throws -> Replica {
        var configuration = config(3)
        configuration.flaws = flaws
        configuration.reads = reads
        let storage = DurableState()
        storage.membership = .member
        let replica = try Replica(node: n(1), config: configuration, executor: testExecutor, machine: KeyValueStore(),
                                  snapshot: emptySnapshot, leader: ballot, storage: storage)
        return replica
    }

    func decide(_ replica: Replica, _ slot: Int64, _ value: Value) async -> [(Message, NodeID)] {
        sent(await replica.handle(.message(.decision(Decision(ballot: ballot, slot: Slot(slot), value: value)), from: n(0))))
    }

    func indexed(_ replica: Replica, _ key: RequestKey, _ index: Slot?, leader: Ballot? = nil, from: NodeID = n(0)) async -> [(Message, NodeID)] {
        sent(await replica.handle(.message(.readIndexReply(ReadIndexReply(key: key, index: index, leader: leader ?? ballot)), from: from)))
    }

    @Test func aReplicaAnswersAReadOnlyOnceItHasAppliedUpToTheIndex() async throws {
        let replica = try await replica()
        _ = await decide(replica, 0, .command(command(9, 1, .put("k", "old"))))
        let asked = sent(await replica.handle(.message(.request(Request(command: read)), from: n(1))))
        #expect(asked.count == 1 && asked[0].1 == n(0))
        #expect(asked[0].0 == .readIndexRequest(ReadIndexRequest(key: read.key)))
        #expect(await indexed(replica, read.key, Slot(2)).isEmpty, "slot 1 is not applied yet")
        // Slot 1 applied: the read is answered, to the node that asked, from the state that includes it.
        let applied = await decide(replica, 1, .command(command(9, 2, .put("k", "new"))))
        let answers = applied.filter { $0.0.reply?.key == read.key }
        #expect(answers.count == 1 && answers.first?.1 == n(1))
        #expect(answers.first.map { try? KeyValueResult(decoding: $0.0.reply!.result) } == .value("new"))
        // Answered once; the read took no slot.
        #expect(await indexed(replica, read.key, Slot(2)).isEmpty)
        #expect(await replica.snapshot().nextSlot == Slot(2))
    }

    @Test func aLowerIndexForTheSameReadIsTakenAndAnsweredAtOnce() async throws {
        let replica = try await replica()
        _ = await decide(replica, 0, .noop)
        _ = await replica.handle(.message(.request(Request(command: read)), from: n(1)))
        #expect(await indexed(replica, read.key, Slot(5)).isEmpty)
        // A retry asked again and a leader answered 1: every index computed after the read was invoked is safe.
        let out = await indexed(replica, read.key, Slot(1))
        #expect(out.compactMap(\.0.reply).map(\.key) == [read.key])
    }

    @Test func writesAndReadsAskedForTheLogGoThroughTheLog() async throws {
        let replica = try await replica()
        let write = sent(await replica.handle(.message(.request(Request(command: command(5, 1, .put("k", "v")))), from: n(1))))
        #expect(write.count == 1 && write[0].0.propose != nil)
        let logged = Request(command: command(6, 1, .get("k")), consistency: .log)
        #expect(sent(await replica.handle(.message(.request(logged), from: n(1)))).first?.0.propose != nil)
        // A cluster whose reads go through the log: a request that asks for read index still gets it (a read
        // already waiting in the log stays there).
        let logCluster = try await self.replica(reads: .log)
        #expect(sent(await logCluster.handle(.message(.request(Request(command: read)), from: n(1)))).first?.0.propose != nil)
        let asked = Request(command: command(7, 1, .get("k")), consistency: .readIndex)
        #expect(sent(await logCluster.handle(.message(.request(asked), from: n(1)))).first?.0.kind == .readIndexRequest)
        let again = Request(command: read, consistency: .readIndex)
        #expect(sent(await logCluster.handle(.message(.request(again), from: n(1)))).first?.0.propose != nil)
    }

    @Test func aRefusedReadAsksTheNamedLeaderThenFallsBackToTheLog() async throws {
        let replica = try await replica()
        _ = await replica.handle(.message(.request(Request(command: read)), from: n(1)))
        // Node 0 does not lead; it names node 2's ballot: ask node 2.
        let newer = Ballot(round: 2, leader: n(2))
        let redirected = await indexed(replica, read.key, nil, leader: newer)
        #expect(redirected.map(\.1) == [n(2)] && redirected[0].0.kind == .readIndexRequest)
        // Node 2 refuses too, naming itself: the read goes through the log, to node 2.
        let logged = await indexed(replica, read.key, nil, leader: newer, from: n(2))
        #expect(logged.count == 1 && logged[0].1 == n(2) && logged[0].0.propose?.command == read)
        // A late index for it changes nothing: the log answers it.
        #expect(await indexed(replica, read.key, .zero).isEmpty)
    }

    @Test func aReadRetriedTooOftenGoesThroughTheLog() async throws {
        let replica = try await replica()
        var kinds: [MessageKind] = []
        for _ in 0...PendingReads.attemptsBeforeLog {
            kinds += sent(await replica.handle(.message(.request(Request(command: read)), from: n(1)))).map(\.0.kind)
        }
        #expect(kinds == Array(repeating: .readIndexRequest, count: PendingReads.attemptsBeforeLog) + [.propose])
    }

    @Test func theFlawAnswersBeforeApplying() async throws {
        let replica = try await replica(flaws: .replicaAnswersBeforeApplied)
        _ = await replica.handle(.message(.request(Request(command: read)), from: n(1)))
        let out = await indexed(replica, read.key, Slot(3))
        #expect(out.compactMap(\.0.reply).map { try? KeyValueResult(decoding: $0.result) } == [.value(nil)])
    }

    @Test func theStoreAnswersOnlyGetsAsQueries() {
        var store = KeyValueStore()
        _ = store.apply(.put("k", "v"))
        #expect(store.query(KeyValueOperation.get("k").encoded) == KeyValueResult.value("v").encoded)
        #expect(store.query(KeyValueOperation.get("absent").encoded) == KeyValueResult.value(nil).encoded)
        for op: KeyValueOperation in [.put("k", "w"), .delete("k"), .append("k", "x"), .compareAndSet("k", expected: "v", new: "w")] {
            #expect(store.query(op.encoded) == nil, "\(op)")
        }
        #expect(store.query([0xFF, 1]) == nil)
        #expect(store.entries == ["k": "v"])
    }
}

/// Simulated sweeps with every fault family: clients' gets by read index stay linearizable in both modes, and
/// the planted bug of a replica that answers before applying is caught.
@Suite struct ReadIndexSimulationTests {
    @Test(arguments: Mode.allCases) func sweepsWithReadIndexPassEveryCheck(mode: Mode) async {
        let outcomes = await Sweep.run(seeds: 1...60) { seed in
            var options = SimulationOptions.sweep(seed: seed, mode: mode, nodes: 5, clients: 6, requestsPerClient: 16)
            options.reads = .readIndex
            return options
        }
        #expect(outcomes.count == 60)
        for outcome in outcomes {
            #expect(outcome.failures.isEmpty, "seed \(outcome.options.seed) \(mode): \(outcome.failures)")
        }
    }

    @Test func readsTakeTheReadIndexPathAndNoSlot() async throws {
        let (report, lines) = try await simulate { options in
            options.seed = 3
            options.reads = .readIndex
            options.clients = 3
            options.requestsPerClient = 12
        }
        #expect(report.passed, "\(report.failures)")
        #expect(report.networkMessages[MessageKind.readIndexRequest.rawValue] > 0)
        #expect(report.networkMessages[MessageKind.readConfirm.rawValue] > 0)
        #expect(lines.contains { $0.contains("ReadIndexReply(") })
        // The gets took no slot: fewer commands were committed than requests answered.
        #expect(report.commandsCommitted < report.requestsCompleted, "\(report.commandsCommitted) of \(report.requestsCompleted)")
    }

    @Test(arguments: Mode.allCases) func aReadHeavyWorkloadCostsFewerMessagesByReadIndex(mode: Mode) async throws {
        var results: [ReadConsistency: Benchmark.Result] = [:]
        for scenario in Benchmark.readScenarios where scenario.nodes == 3 {
            results[scenario.reads] = await Benchmark.run(scenario, mode: mode, commands: 480, seed: 1)
        }
        let log = try #require(results[.log]), index = try #require(results[.readIndex])
        #expect(log.passed && index.passed && log.commands == 480 && index.commands == 480)
        #expect(log.networkMessagesPerCommandByKind[MessageKind.readConfirm.rawValue] == 0)
        #expect(index.networkMessagesPerCommandByKind[MessageKind.readConfirm.rawValue] > 0)
        // Nine reads in ten take no slot: well under half the messages.
        #expect(index.networkMessagesPerCommand < log.networkMessagesPerCommand / 2,
                "\(index.networkMessagesPerCommand) vs \(log.networkMessagesPerCommand)")
    }

    @Test func aReplicaThatAnswersBeforeApplyingIsCaught() async throws {
        let mutant = try #require(Mutant.catalogue.first { $0.name == "replica-answers-before-applied" })
        #expect(mutant.reads == .readIndex)
        let result = await Mutants.run(mutant, mode: .stableLeader, seeds: 1...mutant.ciSeeds, stopAtFirstCatch: true)
        #expect(result.caught && result.check == "linearizability", "\(Mutants.table([result]))")
    }
}
