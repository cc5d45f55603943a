import Testing
@testable import MultiPaxos

@Suite struct AcceptorTests {
    let b1 = Ballot(round: 1, leader: NodeID(0))
    let b2 = Ballot(round: 2, leader: NodeID(1))

    @Test func promisesAHigherBallotAndRefusesALowerOne() async {
        let acceptor = Acceptor(node: n(0), config: config(), executor: testExecutor)
        let granted = sent(await acceptor.handle(.message(.prepare(Prepare(ballot: b2, scope: .from(.zero))), from: n(1))))
        #expect(granted.count == 1 && granted[0].1 == n(1))
        #expect(granted[0].0.promise?.promised == b2)
        let refused = sent(await acceptor.handle(.message(.prepare(Prepare(ballot: b1, scope: .from(.zero))), from: n(0))))
        #expect(refused[0].0.promise?.promised == b2, "a lower ballot learns the promised one")
        #expect(await acceptor.promised == b2)
    }

    /// What a Promise carries is bounded (`promiseBytes`): past it, the Promise names the first slot it left out,
    /// and a Prepare of the same ballot from there reports the rest. No Promise grows with the log.
    @Test func aPromiseCarriesAtMostItsByteBoundAndTheRestOnRequest() async throws {
        var c = config()
        c.promiseBytes = 300
        let acceptor = Acceptor(node: n(0), config: c, executor: testExecutor)
        _ = await acceptor.handle(.message(.prepare(Prepare(ballot: b1, scope: .from(.zero))), from: n(0)))
        let big = Value.command(Command(key: RequestKey(client: ClientID(1), request: RequestNumber(1)), operation: Array(repeating: 7, count: 100)))
        for slot in 0..<10 { _ = await acceptor.handle(.message(.accept(Accept(ballot: b1, slot: Slot(Int64(slot)), value: big)), from: n(0))) }
        var reported: [Slot] = []
        var from: Slot? = nil
        for _ in 0..<10 {
            let promise = try #require(sent(await acceptor.handle(.message(.prepare(Prepare(ballot: b2, scope: .from(Slot(1)), reportFrom: from)), from: n(1))))[0].0.promise)
            #expect(promise.promised == b2 && promise.reportFrom == from)
            #expect(promise.accepted.reduce(0) { $0 + $1.value.encodedSizeEstimate } <= 300)
            reported += promise.accepted.map(\.slot)
            guard let more = promise.more else { break }
            #expect(more == promise.accepted.last.map { $0.slot.next })
            from = more
        }
        #expect(reported == (1..<10).map { Slot(Int64($0)) }, "every value in scope, each once, in order")
    }

    @Test func acceptsAtThePromisedBallotAndReportsItInLaterPromises() async {
        let acceptor = Acceptor(node: n(0), config: config(), executor: testExecutor)
        _ = await acceptor.handle(.message(.prepare(Prepare(ballot: b1, scope: .from(.zero))), from: n(0)))
        let value = Value.command(command(1, 1))
        let reply = sent(await acceptor.handle(.message(.accept(Accept(ballot: b1, slot: Slot(3), value: value)), from: n(0))))
        #expect(reply[0].0.accepted?.promised == b1)
        let promise = sent(await acceptor.handle(.message(.prepare(Prepare(ballot: b2, scope: .from(Slot(2)))), from: n(1))))[0].0.promise
        #expect(promise?.accepted == [PValue(ballot: b1, slot: Slot(3), value: value)])
        #expect(promise?.slotsEnd == Slot(4))
        // Slots below the Prepare's scope are not reported.
        let narrow = sent(await acceptor.handle(.message(.prepare(Prepare(ballot: b2, scope: .from(Slot(4)))), from: n(1))))[0].0.promise
        #expect(narrow?.accepted.isEmpty == true)
    }

    @Test func refusesAnAcceptBelowItsPromise() async {
        let acceptor = Acceptor(node: n(0), config: config(), executor: testExecutor)
        _ = await acceptor.handle(.message(.prepare(Prepare(ballot: b2, scope: .from(.zero))), from: n(1)))
        let reply = sent(await acceptor.handle(.message(.accept(Accept(ballot: b1, slot: .zero, value: .noop)), from: n(0))))
        #expect(reply[0].0.accepted?.promised == b2)
        #expect(await acceptor.acceptedValue(at: .zero) == nil)
    }

    @Test func perSlotPromisesAreIndependent() async {
        let acceptor = Acceptor(node: n(0), config: config(mode: .perSlot), executor: testExecutor)
        _ = await acceptor.handle(.message(.prepare(Prepare(ballot: b2, scope: .only(Slot(1)))), from: n(1)))
        // Slot 2 is still open to ballot 1, slot 1 is not.
        let slot2 = sent(await acceptor.handle(.message(.prepare(Prepare(ballot: b1, scope: .only(Slot(2)))), from: n(0))))
        #expect(slot2[0].0.promise?.promised == b1)
        let slot1 = sent(await acceptor.handle(.message(.accept(Accept(ballot: b1, slot: Slot(1), value: .noop)), from: n(0))))
        #expect(slot1[0].0.accepted?.promised == b2)
    }

    @Test func answersANodeItDoesNotKnowToVote() async {
        // A lagging acceptor whose view predates the change that made n9 a voter (and its leader) must answer
        // it: otherwise that leader's Phase 1 waits for this acceptor, which learns the new voters from no one.
        let acceptor = Acceptor(node: n(0), config: config(), executor: testExecutor)
        let effects = sent(await acceptor.handle(.message(.prepare(Prepare(ballot: b1, scope: .from(.zero))), from: n(9))))
        #expect(effects.count == 1 && effects[0].1 == n(9) && effects[0].0.promise?.promised == b1)
        #expect(await acceptor.promised == b1)
    }

    @Test func dropsAcceptedValuesBelowTheTrimWatermark() async {
        let storage = DurableState()
        storage.snapshotWrittenThrough = Slot(3)  // its own replica's snapshot on disk reaches the watermark
        let acceptor = Acceptor(node: n(0), config: config(), executor: testExecutor, storage: storage)
        for i in 0..<4 {
            _ = await acceptor.handle(.message(.accept(Accept(ballot: b1, slot: Slot(Int64(i)), value: .noop)), from: n(0)))
        }
        _ = await acceptor.handle(.message(.heartbeat(Heartbeat(ballot: b1, nextSlot: Slot(4), trimBelow: Slot(3))), from: n(0)))
        #expect(await acceptor.acceptedValue(at: Slot(2)) == nil)
        #expect(await acceptor.acceptedValue(at: Slot(3)) != nil)
        let promise = sent(await acceptor.handle(.message(.prepare(Prepare(ballot: b2, scope: .from(.zero))), from: n(1))))[0].0.promise
        #expect(promise?.trimmedBelow == Slot(3))
        #expect(promise?.accepted.map(\.slot) == [Slot(3)])
    }

    /// However far the leader's watermark goes (it counts other nodes' snapshots), an acceptor keeps every value
    /// its own node holds in no snapshot on disk: a wipe of a node the watermark counted must not leave a decided
    /// value on fewer disks than voted for it.
    @Test func neverTrimsPastItsOwnNodesSnapshotOnDisk() async {
        func accepted(after watermark: Slot, _ prepare: (DurableState) -> Void, flaws: Flaws = []) async -> [Slot] {
            let storage = DurableState()
            prepare(storage)
            var c = config()
            c.flaws = flaws
            let acceptor = Acceptor(node: n(0), config: c, executor: testExecutor, storage: storage)
            for i in 0..<6 {
                _ = await acceptor.handle(.message(.accept(Accept(ballot: b1, slot: Slot(Int64(i)), value: .noop)), from: n(0)))
            }
            _ = await acceptor.handle(.message(.heartbeat(Heartbeat(ballot: b1, nextSlot: Slot(6), trimBelow: watermark)), from: n(0)))
            var kept: [Slot] = []
            for i in 0..<6 where await acceptor.acceptedValue(at: Slot(Int64(i))) != nil { kept.append(Slot(Int64(i))) }
            return kept
        }
        let slots = (0..<6).map { Slot(Int64($0)) }
        #expect(await accepted(after: Slot(5), { _ in }) == slots, "no snapshot on disk: nothing is trimmed")
        #expect(await accepted(after: Slot(5), { $0.snapshotWrittenThrough = Slot(2) }) == Array(slots[2...]))
        // Where writes are durable only after the step (the simulation), what is synced counts, not the snapshot in memory.
        #expect(await accepted(after: Slot(5), {
            $0.replicaSnapshot = Snapshot(nextSlot: Slot(4), machine: KeyValueStore().snapshot(), replies: [])
            $0.syncedSnapshotSlot = Slot(1)
        }) == Array(slots[1...]))
        #expect(await accepted(after: Slot(5), { _ in }, flaws: .acceptorTrimsPastOwnSnapshot) == Array(slots[5...]))
    }
}
