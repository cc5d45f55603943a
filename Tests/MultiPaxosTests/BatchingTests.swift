import Testing
@testable import MultiPaxos

/// The leader's window and batches, the replica's application of a batch, their encodings, and whole simulated
/// clusters with batching on.
@Suite struct BatchingTests {
    let ballot = Ballot(round: 1, leader: n(0))

    func batchingConfig(_ mode: Mode = .stableLeader, maxCommands: Int = 3, window: Int? = 1) -> ClusterConfiguration {
        var c = config(3, mode: mode)
        c.batching = Batching(maxCommands: maxCommands, window: window)
        return c
    }

    func propose(_ leader: Leader, _ c: Command) async -> [Effect] {
        await leader.handle(.message(.propose(Propose(command: c, forwarded: false)), from: n(1)))
    }

    func acceptAll(_ leader: Leader, _ slot: Int64) async -> [Effect] {
        let ack = Message.accepted(Accepted(ballot: ballot, promised: ballot, slot: Slot(slot)))
        return await leader.handle(.message(ack, from: n(1))) + leader.handle(.message(ack, from: n(2)))
    }

    /// A stable leader of ballot 1.0 with nothing reported.
    func elected(_ c: ClusterConfiguration) async -> Leader {
        let leader = Leader(node: n(0), config: c, executor: testExecutor, eager: true)
        _ = await leader.start()
        let adopted = Adopted(ballot: ballot, scope: .from(.zero), accepted: [], trimmedBelow: .zero, slotsEnd: .zero)
        _ = await leader.handle(.message(.adopted(adopted), from: n(0)))
        return leader
    }

    @Test func commandsWaitWhileTheWindowIsFullAndShareTheNextSlot() async {
        let leader = await elected(batchingConfig())
        let first = sent(await propose(leader, command(1, 1)))
        #expect(first.compactMap { $0.0.accept }.map(\.value) == Array(repeating: .command(command(1, 1)), count: 3),
                "a command that finds room gets a slot of its own at once")
        // The window (1 slot) is full: these wait, a retry of a waiting one counts once.
        for c in [command(2, 1), command(3, 1), command(2, 1), command(4, 1), command(5, 1)] {
            #expect(sent(await propose(leader, c)).isEmpty)
        }
        #expect(await leader.slotsInFlight == 1)
        // Slot 0 decided: slot 1 carries the first three that waited, in arrival order.
        let decided = sent(await acceptAll(leader, 0))
        #expect(decided.compactMap { $0.0.decision }.first?.value == .command(command(1, 1)))
        let next = decided.compactMap { $0.0.accept }
        #expect(next.first?.slot == Slot(1))
        #expect(next.first?.value == .batch([command(2, 1), command(3, 1), command(4, 1)]))
        // A retry of a command already in slot 1 gets no second slot; slot 1 decided, slot 2 carries the rest.
        #expect(sent(await propose(leader, command(3, 1))).isEmpty)
        let last = sent(await acceptAll(leader, 1)).compactMap { $0.0.accept }
        #expect(last.first?.slot == Slot(2))
        #expect(last.first?.value == .command(command(5, 1)))
    }

    @Test func aNodeGivenABatchOfProposalsPacksThemIntoOneSlotOneAtATimeTakesASlotEach() async {
        func accepts(_ outputs: [Output]) -> [Accept] {
            outputs.compactMap { if case .broadcast(.accept(let a), _) = $0.effect { a } else { nil } }
        }
        let proposals = (1...4 as ClosedRange<UInt64>).map { Input.message(.propose(Propose(command: command($0, 1), forwarded: false)), from: n(1)) }
        // As a real-time shell hands them: one batch, so the leader holds them until its end.
        let batched = Node(id: n(0), executor: testExecutor)
        _ = await batched.install(await elected(batchingConfig(maxCommands: 8, window: 8)))
        let packed = accepts(await batched.deliver(all: proposals))
        #expect(packed.map(\.slot) == [Slot(0)])
        #expect(packed.first?.value == .batch((1...4 as ClosedRange<UInt64>).map { command($0, 1) }))
        // As the simulation hands them: one at a time, each finds room in the window and takes a slot.
        let single = Node(id: n(0), executor: testExecutor)
        _ = await single.install(await elected(batchingConfig(maxCommands: 8, window: 8)))
        var slots: [Slot] = []
        for input in proposals { slots += accepts(await single.deliver(input)).map(\.slot) }
        #expect(slots == [Slot(0), Slot(1), Slot(2), Slot(3)])
        // A full batch does not wait for the end of the shell's batch.
        let full = Node(id: n(0), executor: testExecutor)
        _ = await full.install(await elected(batchingConfig(maxCommands: 2, window: 8)))
        let five = (1...5 as ClosedRange<UInt64>).map { Input.message(.propose(Propose(command: command($0, 1), forwarded: false)), from: n(1)) }
        #expect(accepts(await full.deliver(all: five)).map(\.value) == [
            .batch([command(1, 1), command(2, 1)]), .batch([command(3, 1), command(4, 1)]), .command(command(5, 1)),
        ])
    }

    @Test func aBatchStopsAtItsByteLimitButALargeCommandStillGetsASlot() async {
        var c = batchingConfig(maxCommands: 10)
        c.batching.maxBytes = 100
        let leader = await elected(c)
        _ = await propose(leader, command(1, 1))
        let big = command(2, 1, .put("k", ByteString(String(repeating: "x", count: 300))))
        _ = await propose(leader, big)
        _ = await propose(leader, command(3, 1))
        let next = sent(await acceptAll(leader, 0)).compactMap { $0.0.accept }
        #expect(next.first?.value == .command(big), "over the byte limit alone")
        let after = sent(await acceptAll(leader, 1)).compactMap { $0.0.accept }
        #expect(after.first?.value == .command(command(3, 1)))
    }

    @Test func withoutAWindowEveryCommandGetsItsOwnSlotAtOnce() async {
        let leader = await elected(batchingConfig(maxCommands: 64, window: nil))
        var slots: [Slot] = []
        for i in 1...5 { slots += sent(await propose(leader, command(UInt64(i), 1))).compactMap { $0.0.accept?.slot } }
        #expect(Set(slots) == Set((0..<5).map { Slot(Int64($0)) }))
        #expect(await leader.slotsInFlight == 5)
    }

    @Test func aPerSlotLeaderProposesABatchThatLostItsSlotAgainFirst() async {
        let c = batchingConfig(.perSlot, maxCommands: 4, window: 1)
        let leader = Leader(node: n(0), config: c, executor: testExecutor, eager: true)
        _ = await leader.start()
        let mine = await leader.believedLeader
        _ = await propose(leader, command(1, 1))  // slot 0 awaits its Phase 1
        _ = await propose(leader, command(2, 1))
        _ = await propose(leader, command(3, 1))
        // Phase 1 of slot 0 reports another value accepted there: it is re-driven, command 1 goes back in line.
        let other = PValue(ballot: Ballot(round: 0, leader: n(2)), slot: .zero, value: .command(command(9, 9)))
        let adopted = Adopted(ballot: mine, scope: .only(.zero), accepted: [other], trimmedBelow: .zero, slotsEnd: Slot(1))
        let effects = sent(await leader.handle(.message(.adopted(adopted), from: n(0))))
        #expect(effects.compactMap { $0.0.accept }.first?.value == .command(command(9, 9)))
        // Slot 0 decided at ballot `mine`: the next slot's Phase 1 starts for the batch [1, 2, 3], 1 first.
        let ack = Message.accepted(Accepted(ballot: mine, promised: mine, slot: .zero))
        _ = await leader.handle(.message(ack, from: n(1)))
        let next = sent(await leader.handle(.message(ack, from: n(2))))
        #expect(next.compactMap { $0.0.startPhase1?.scope }.first == .only(Slot(1)))
        let adopted1 = Adopted(ballot: mine, scope: .only(Slot(1)), accepted: [], trimmedBelow: .zero, slotsEnd: Slot(1))
        let proposed = sent(await leader.handle(.message(.adopted(adopted1), from: n(0)))).compactMap { $0.0.accept }
        #expect(proposed.first?.value == .batch([command(1, 1), command(2, 1), command(3, 1)]))
    }

    @Test func aReplicaAppliesABatchInOrderEachCommandAtMostOnce() async throws {
        let r = try Replica(node: n(1), config: config(), executor: testExecutor, machine: KeyValueStore(),
                            snapshot: emptySnapshot, leader: ballot)
        let a = command(1, 1, .append("k", "a")), b = command(2, 1, .append("k", "b"))
        _ = await r.handle(.message(.request(Request(command: b)), from: n(1)))  // a client on this node waits for b
        _ = await r.handle(.message(.decision(Decision(ballot: ballot, slot: .zero, value: .command(a))), from: n(0)))
        // Slot 1 holds a batch that repeats a (a retry that got a second slot) and then b.
        let effects = await r.handle(.message(.decision(Decision(ballot: ballot, slot: Slot(1), value: .batch([a, b]))),
                                              from: n(0)))
        let applied = events(effects).compactMap { e -> (Value, Bool)? in
            if case .applied(Slot(1), let v, let dup, _) = e { (v, dup) } else { nil }
        }
        #expect(applied.map(\.0) == [.command(a), .command(b)])
        #expect(applied.map(\.1) == [true, false])
        #expect(sent(effects).compactMap { $0.0.reply?.key } == [b.key])
        var store = KeyValueStore()
        try store.restore(from: await r.snapshot().machine)
        #expect(store.entries == ["k": "ab"])
    }

    @Test func aBatchRoundTripsAndMalformedBatchesAreRefused() throws {
        let batch = Value.batch([command(1, 1), command(2, 7, .append("x", "y"))])
        let message = Message.decision(Decision(ballot: ballot, slot: Slot(3), value: batch))
        #expect(try WireCodec.decode(WireCodec.encode(message)) == message)
        // A batch of one command (tag 2, count 1) is not a batch a leader makes.
        var w = ByteWriter()
        w.byte(2)
        w.uint32(1)
        w.command(command(1, 1))
        var r = ByteReader(w.bytes)
        #expect(throws: ByteDecodingError.self) { try r.value() }
        // A count larger than the bytes could hold is refused before anything is allocated.
        var huge = ByteWriter()
        huge.byte(2)
        huge.uint32(UInt32.max)
        var h = ByteReader(huge.bytes)
        #expect(throws: ByteDecodingError.self) { try h.value() }
    }

    @Test(arguments: Mode.allCases)
    func sweepsWithBatchingAndAWindowPassEveryCheck(mode: Mode) async throws {
        var failures: [String] = []
        var batches = 0
        for seed in UInt64(1)...40 {
            var options = SimulationOptions.sweep(seed: seed, mode: mode, nodes: 5, clients: 8, requestsPerClient: 10)
            options.batching = Batching(maxCommands: 8, window: 2)
            let lines = TraceCollector()
            let report = try await Simulation(options: options, trace: { lines.append($0) }).run()
            if !report.passed { failures.append("seed \(seed): \(report.failures.first ?? "")") }
            batches += lines.lines.filter { $0.contains("Leader") && $0.contains("decided") && $0.contains("[") }.count
        }
        #expect(failures.isEmpty, "\(failures)")
        #expect(batches > 0, "some slots held batches")
    }
}
