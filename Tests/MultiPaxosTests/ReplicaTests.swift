import Testing
@testable import MultiPaxos

@Suite struct ReplicaTests {
    let ballot = Ballot(round: 1, leader: NodeID(0))

    func replica(_ node: Int = 1, retainedSlots: Int64 = 0, snapshotChunkBytes: Int = 1 << 20) throws -> Replica {
        var c = config()
        c.retainedSlots = retainedSlots
        c.snapshotChunkBytes = snapshotChunkBytes
        return try Replica(node: n(node), config: c, executor: testExecutor, machine: KeyValueStore(),
                           snapshot: emptySnapshot, leader: ballot)
    }

    func decide(_ r: Replica, _ slot: Int64, _ value: Value) async -> [Effect] {
        await r.handle(.message(.decision(Decision(ballot: ballot, slot: Slot(slot), value: value)), from: n(0)))
    }

    func applied(_ effects: [Effect]) -> [Slot] {
        events(effects).compactMap { if case .applied(let s, _, _, _) = $0 { s } else { nil } }
    }

    @Test func aLargeStateIsNotSnapshotAgainForAFewSmallCommands() async throws {
        var c = config()
        c.snapshotIntervalSlots = 4
        c.snapshotGrowth = 2
        let r = try Replica(node: n(1), config: c, executor: testExecutor, machine: KeyValueStore(),
                            snapshot: emptySnapshot, leader: ballot)
        var slot: Int64 = 0, request: UInt64 = 0
        func put(_ value: String) async {
            request += 1
            _ = await decide(r, slot, .command(command(1, request, .put("k\(slot)", ByteString(value)))))
            slot += 1
        }
        // What the replica reports as durable is its persisted snapshot's next slot.
        func durable() async -> Slot? {
            let effects = await r.handle(.message(.heartbeat(Heartbeat(ballot: ballot, nextSlot: Slot(slot), trimBelow: .zero)), from: n(0)))
            return sent(effects).compactMap { if case .heartbeatReply(let h) = $0.0 { h.applied } else { nil } }.first
        }
        for _ in 0..<4 { await put(String(repeating: "x", count: 5_000)) }
        #expect(await durable() == Slot(4), "the first interval snapshots the 20 KB state")
        for _ in 0..<8 { await put("v") }
        #expect(await durable() == Slot(4), "eight small commands past the interval do not rewrite 20 KB")
        for _ in 0..<8 { await put(String(repeating: "y", count: 5_000)) }
        #expect(await durable() == Slot(20), "40 KB of operations are twice the last snapshot")
        for _ in 0..<(64 * 4) { await put("v") }
        #expect(await durable() == Slot(276), "64 intervals of slots snapshot whatever they weigh")
    }

    /// With a bound on the log, a large state is snapshot once that many bytes of commands were applied, though
    /// they are far from twice the state: the log between snapshots stays within the bound.
    @Test func theLogBetweenSnapshotsStaysWithinItsByteBound() async throws {
        var c = config()
        c.snapshotIntervalSlots = 4
        c.snapshotGrowth = 2
        c.maxLogBytes = 12_000
        let r = try Replica(node: n(1), config: c, executor: testExecutor, machine: KeyValueStore(),
                            snapshot: emptySnapshot, leader: ballot)
        var slot: Int64 = 0
        func put(_ count: Int) async {
            _ = await decide(r, slot, .command(command(1, UInt64(slot + 1), .put("k\(slot)", ByteString(String(repeating: "x", count: count))))))
            slot += 1
        }
        func durable() async -> Slot? {
            let effects = await r.handle(.message(.heartbeat(Heartbeat(ballot: ballot, nextSlot: Slot(slot), trimBelow: .zero)), from: n(0)))
            return sent(effects).compactMap { if case .heartbeatReply(let h) = $0.0 { h.applied } else { nil } }.first
        }
        for _ in 0..<20 { await put(5_000) }
        #expect(await durable() == Slot(20), "the first interval snapshots the 100 KB state")
        for _ in 0..<2 { await put(5_000) }
        #expect(await durable() == Slot(20), "10 KB of commands are within the bound")
        await put(5_000)
        #expect(await durable() == Slot(23), "15 KB are past it, though far from twice the 100 KB state")
    }

    /// A full catch-up reply that moved the replica on brings the next request at once, to the same peer; a short
    /// reply (the peer's log ended) or a duplicate that moves nothing does not.
    @Test func aFullCatchUpReplyAsksForTheNextAtOnce() async throws {
        var c = config()
        c.catchUpBytes = 2_000
        let r = try Replica(node: n(1), config: c, executor: testExecutor, machine: KeyValueStore(),
                            snapshot: emptySnapshot, leader: ballot)
        _ = await r.handle(.message(.heartbeat(Heartbeat(ballot: ballot, nextSlot: Slot(10), trimBelow: .zero)), from: n(0)))
        func value(_ i: Int) -> Value { .command(command(1, UInt64(i + 1), .put("k\(i)", ByteString(String(repeating: "v", count: 900))))) }
        let full = CatchUpReply(snapshot: nil, first: .zero, values: [value(0), value(1)])
        let next = sent(await r.handle(.message(.catchUpReply(full), from: n(2))))
        #expect(next.count == 1 && next.first?.1 == n(2) && next.first?.0.catchUpRequest?.from == Slot(2), "\(next)")
        #expect(sent(await r.handle(.message(.catchUpReply(full), from: n(2)))).isEmpty, "a duplicate moves nothing")
        let short = CatchUpReply(snapshot: nil, first: Slot(2), values: [.noop])
        #expect(sent(await r.handle(.message(.catchUpReply(short), from: n(2)))).isEmpty, "a short reply ended the peer's log")
        #expect(await r.nextSlot == Slot(3))
    }

    @Test func aDeferredSnapshotHoldsTheStateOfItsSlotAndIsEncodedOnlyWhenRead() async throws {
        for defers in [true, false] {
            let c = config()
            let storage = DurableState()
            if defers { storage.snapshotWrittenThrough = .zero }  // storage that writes snapshots in the background
            let r = try Replica(node: n(1), config: c, executor: testExecutor, machine: KeyValueStore(),
                                snapshot: emptySnapshot, leader: ballot, storage: storage)
            let key = ByteString([0xFF, 0x00])
            _ = await decide(r, 0, .command(command(1, 1, .put(key, ByteString([0x01])))))
            _ = await r.handle(.message(.heartbeat(Heartbeat(ballot: ballot, nextSlot: Slot(1), trimBelow: .zero)), from: n(0)))
            let snap = try #require(storage.replicaSnapshot)
            #expect(snap.nextSlot == Slot(1))
            #expect((snap.machineBytes.encodedCount == nil) == defers, "deferred: not encoded on the node loop")
            // The store changes after the snapshot; the snapshot still holds the state of slot 1.
            _ = await decide(r, 1, .command(command(1, 2, .append(key, ByteString([0x02])))))
            var restored = KeyValueStore()
            try restored.restore(from: snap.machine)
            #expect(restored.entries == [key: ByteString([0x01])], "defers: \(defers)")
            #expect(snap.machineBytes.encodedCount == snap.machine.count)
        }
    }

    @Test func appliesDecisionsInSlotOrderOnly() async throws {
        let r = try replica()
        #expect(applied(await decide(r, 1, .command(command(1, 1, .append("k", "b"))))).isEmpty)
        let both = await decide(r, 0, .command(command(2, 1, .append("k", "a"))))
        #expect(applied(both) == [Slot(0), Slot(1)])
        var store = KeyValueStore()
        try store.restore(from: await r.snapshot().machine)
        #expect(store.entries == ["k": "ab"])
    }

    @Test func runsARequestOnceAndAnswersItsRetryFromTheCache() async throws {
        let r = try replica()
        let c = command(1, 1, .append("k", "x"))
        let forwarded = sent(await r.handle(.message(.request(Request(command: c)), from: n(1))))
        #expect(forwarded.first?.1 == n(0), "forwarded to the leader")
        let first = await decide(r, 0, .command(c))
        #expect(sent(first).first?.0.reply?.key == c.key)
        let second = await decide(r, 1, .command(c))
        #expect(events(second).contains { if case .applied(_, _, duplicate: true, _) = $0 { true } else { false } })
        let retry = sent(await r.handle(.message(.request(Request(command: c)), from: n(1))))
        #expect(retry.first?.0.reply?.result == KeyValueResult.integer(1).encoded)
        var store = KeyValueStore()
        try store.restore(from: await r.snapshot().machine)
        #expect(store.entries == ["k": "x"])
    }

    @Test func servesCatchUpFromItsLogAndASnapshotOnceTrimmed() async throws {
        let r = try replica()
        for i in 0..<5 { _ = await decide(r, Int64(i), .noop) }
        let reply = sent(await r.handle(.message(.catchUpRequest(CatchUpRequest(from: Slot(2))), from: n(2))))[0].0.catchUpReply
        #expect(reply?.first == Slot(2) && reply?.values.count == 3 && reply?.snapshot == nil)
        _ = await r.handle(.message(.heartbeat(Heartbeat(ballot: ballot, nextSlot: Slot(5), trimBelow: Slot(4))), from: n(0)))
        #expect(await r.retainedLogCount == 1)
        let old = sent(await r.handle(.message(.catchUpRequest(CatchUpRequest(from: Slot(1))), from: n(2))))[0].0.catchUpReply
        #expect(old?.snapshot == nil && old?.chunk?.nextSlot == Slot(5) && old?.chunk?.offset == 0 && old?.chunk?.header != nil,
                "a snapshot, as its first chunk")
    }

    @Test func aSnapshotStillBeingEncodedOffTheLoopIsNotEncodedToAnswerACatchUp() async throws {
        var c = config()
        c.retainedSlots = 0
        let storage = DurableState()
        storage.snapshotWrittenThrough = .zero  // storage that writes snapshots in the background
        let r = try Replica(node: n(1), config: c, executor: testExecutor, machine: KeyValueStore(),
                            snapshot: emptySnapshot, leader: ballot, storage: storage)
        for i in 0..<5 { _ = await decide(r, Int64(i), .command(command(1, UInt64(i + 1), .put("k", "v\(i)")))) }
        _ = await r.handle(.message(.heartbeat(Heartbeat(ballot: ballot, nextSlot: Slot(5), trimBelow: Slot(4))), from: n(0)))
        let ask = Input.message(.catchUpRequest(CatchUpRequest(from: Slot(1))), from: n(2))
        #expect(sent(await r.handle(ask)).isEmpty, "no answer while the writer has not encoded it: the peer asks again")
        #expect(storage.replicaSnapshot?.machineBytes.encodedCount == nil)
        _ = storage.replicaSnapshot?.machine  // what the storage's writer does off the loop
        let reply = sent(await r.handle(ask)).first?.0.catchUpReply
        #expect(reply?.chunk?.nextSlot == Slot(5) && reply?.chunk?.offset == 0 && reply?.chunk?.header != nil)
    }

    @Test func aTransferARestartInterruptedIsAskedForWhereItStopped() async throws {
        let storage = DurableState()
        var transfer = IncomingSnapshot(peer: n(2), header: Snapshot(nextSlot: Slot(40), machine: [], replies: []), total: 100)
        transfer.machine = [UInt8](repeating: 7, count: 64)
        storage.incomingSnapshot = transfer
        let r = try Replica(node: n(1), config: config(), executor: testExecutor, machine: KeyValueStore(),
                            snapshot: emptySnapshot, leader: ballot, storage: storage)
        let asked = sent(await r.start())
        #expect(asked.count == 1 && asked[0].1 == n(2))
        #expect(asked.first?.0.catchUpRequest?.resume == SnapshotCursor(nextSlot: Slot(40), offset: 64))
        // One the state has passed is dropped instead.
        let passed = DurableState()
        passed.replicaSnapshot = Snapshot(nextSlot: Slot(50), machine: KeyValueStore().snapshot(), replies: [])
        passed.incomingSnapshot = transfer
        let later = try Replica(node: n(1), config: config(), executor: testExecutor, machine: KeyValueStore(),
                                snapshot: emptySnapshot, leader: ballot, storage: passed)
        #expect(sent(await later.start()).isEmpty && passed.incomingSnapshot == nil)
    }

    @Test func aSnapshotTravelsInChunksAskedForOneAtATimeAndIsInstalledWhole() async throws {
        // The sender: 40 appends of 10 bytes, then everything trimmed; chunks of 64 bytes.
        let sender = try replica(1, snapshotChunkBytes: 64)
        for i in 0..<40 {
            _ = await decide(sender, Int64(i), .command(command(1, UInt64(i + 1), .append(ByteString([0xFF]), "0123456789"))))
        }
        _ = await sender.handle(.message(.heartbeat(Heartbeat(ballot: ballot, nextSlot: Slot(40), trimBelow: Slot(40))), from: n(0)))
        let received = DurableState()
        let receiver = try Replica(node: n(2), config: config(), executor: testExecutor, machine: KeyValueStore(),
                                   snapshot: emptySnapshot, leader: ballot, storage: received)
        // The receiver learns it is behind and asks; every answer is one chunk, and it asks for the next.
        var request: Message? = .catchUpRequest(CatchUpRequest(from: .zero))
        var chunks: [SnapshotChunk] = []
        var installed: [Effect] = []
        while let asked = request, chunks.count < 100 {
            let answer = sent(await sender.handle(.message(asked, from: n(2))))
            guard let reply = answer.first?.0, case .catchUpReply(let r) = reply, let chunk = r.chunk else { break }
            chunks.append(chunk)
            #expect(chunk.bytes.count <= 64)
            #expect(await receiver.nextSlot == .zero || chunk == chunks.last, "nothing installed before the last chunk")
            let effects = await receiver.handle(.message(reply, from: n(1)))
            request = sent(effects).first { if case .catchUpRequest = $0.0 { true } else { false } }?.0
            installed = effects
        }
        let total = try #require(chunks.first?.total)
        #expect(chunks.count == Int((total + 63) / 64) && chunks.count > 5, "\(chunks.count) chunks for \(total) bytes")
        #expect(events(installed).contains { if case .installedSnapshot(Slot(40)) = $0 { true } else { false } })
        #expect(await receiver.nextSlot == Slot(40))
        #expect(received.replicaSnapshot?.nextSlot == Slot(40), "persisted at once: a restart does not fetch it again")
        var store = KeyValueStore()
        try store.restore(from: await receiver.snapshot().machine)
        #expect(store.entries[ByteString([0xFF])] == ByteString(Array(String(repeating: "0123456789", count: 40).utf8)))
        // The reply cache came with the first chunk: a retried request is answered, not run again.
        let retry = sent(await receiver.handle(.message(.request(Request(command: command(1, 40, .append(ByteString([0xFF]), "0123456789")))), from: n(2))))
        #expect(retry.first?.0.reply?.result == KeyValueResult.integer(400).encoded)
    }

    @Test func aChunkOutOfOrderIsIgnoredAndAStalledTransferIsAskedAgainWhereItStopped() async throws {
        let receiver = try replica(2)
        let header = Snapshot(nextSlot: Slot(9), machine: [], replies: [])
        let first = SnapshotChunk(nextSlot: Slot(9), total: 6, offset: 0, bytes: [1, 2], header: header)
        let asked = sent(await receiver.handle(.message(.catchUpReply(CatchUpReply(snapshot: nil, first: Slot(9), values: [], chunk: first)), from: n(0))))
        #expect(asked.first?.0 == .catchUpRequest(CatchUpRequest(from: .zero, resume: SnapshotCursor(nextSlot: Slot(9), offset: 2))))
        // A chunk from elsewhere in the snapshot, or from another peer, changes nothing.
        let skipped = SnapshotChunk(nextSlot: Slot(9), total: 6, offset: 4, bytes: [5, 6], header: nil)
        #expect(sent(await receiver.handle(.message(.catchUpReply(CatchUpReply(snapshot: nil, first: Slot(9), values: [], chunk: skipped)), from: n(0)))).isEmpty)
        #expect(await receiver.nextSlot == .zero)
        // Catch-up checks: the first sees progress; the next two, none, and ask again where it stopped; then it
        // counts as stalled (and asks its peers as usual) but keeps the bytes it holds.
        _ = await receiver.handle(.timer(.catchUp))
        for _ in 0..<2 {
            let again = sent(await receiver.handle(.timer(.catchUp)))
            #expect(again.first?.0 == .catchUpRequest(CatchUpRequest(from: .zero, resume: SnapshotCursor(nextSlot: Slot(9), offset: 2))))
        }
        #expect(await receiver.incoming?.isProgressing == true)
        let stalled = sent(await receiver.handle(.timer(.catchUp)))
        #expect(!stalled.contains { $0.0.catchUpRequest?.resume != nil }, "no resume asked of a peer that went quiet")
        let kept = await receiver.incoming
        #expect(kept?.isProgressing == false && kept?.machine == [1, 2])
    }

    @Test func aStalledTransferGoesOnWhereItStoppedWhenItsSnapshotIsOfferedAgain() async throws {
        let receiver = try replica(2)
        let header = Snapshot(nextSlot: Slot(9), machine: [], replies: [])
        func offer(_ chunk: SnapshotChunk, from peer: Int) async -> [(Message, NodeID)] {
            sent(await receiver.handle(.message(.catchUpReply(CatchUpReply(snapshot: nil, first: Slot(9), values: [], chunk: chunk)), from: n(peer))))
        }
        let first = SnapshotChunk(nextSlot: Slot(9), total: 6, offset: 0, bytes: [1, 2], header: header)
        _ = await offer(first, from: 0)
        // While it progresses, the same snapshot's first chunk from another peer does not replace it.
        let elsewhere = SnapshotChunk(nextSlot: Slot(9), total: 6, offset: 0, bytes: [9, 9], header: header)
        #expect(await offer(elsewhere, from: 3).isEmpty)
        #expect(await receiver.incoming?.peer == n(0))
        for _ in 0..<4 { _ = await receiver.handle(.timer(.catchUp)) }
        #expect(await receiver.incoming?.isProgressing == false)
        // Its sender answers a plain catch-up request with the first chunk again: it goes on from byte 2.
        let resumed = await offer(first, from: 0)
        #expect(resumed.first?.0 == .catchUpRequest(CatchUpRequest(from: .zero, resume: SnapshotCursor(nextSlot: Slot(9), offset: 2))))
        #expect(resumed.first?.1 == n(0))
        #expect(await receiver.incoming?.machine == [1, 2])
        // Stalled again, another peer's transfer (even of the same slot) replaces it: that sender may be gone.
        for _ in 0..<4 { _ = await receiver.handle(.timer(.catchUp)) }
        let replaced = await offer(elsewhere, from: 3)
        let replacing = await receiver.incoming
        #expect(replaced.first?.1 == n(3) && replacing?.peer == n(3) && replacing?.machine == [9, 9])
    }

    @Test func keepsSomeAppliedValuesBelowTheWatermarkForSlightlyLaggingPeers() async throws {
        let r = try replica(retainedSlots: 2)
        for i in 0..<6 { _ = await decide(r, Int64(i), .noop) }
        _ = await r.handle(.message(.heartbeat(Heartbeat(ballot: ballot, nextSlot: Slot(6), trimBelow: Slot(5))), from: n(0)))
        #expect(await r.retainedLogCount == 3, "slots 3, 4 and 5 are kept")
        let reply = sent(await r.handle(.message(.catchUpRequest(CatchUpRequest(from: Slot(3))), from: n(2))))[0].0.catchUpReply
        #expect(reply?.snapshot == nil && reply?.values.count == 3)
    }

    @Test func aLaggingReplicaAsksAPeerAndCatchesUp() async throws {
        let r = try replica()
        // The leader's heartbeat says 3 slots are assigned; this replica has none.
        let hb = await r.handle(.message(.heartbeat(Heartbeat(ballot: ballot, nextSlot: Slot(3), trimBelow: .zero)), from: n(0)))
        #expect(sent(hb).first?.0 != nil)
        let ask = sent(await r.handle(.timer(.catchUp)))
        #expect(ask.first?.0.catchUpRequest?.from == .zero)
        let fill = await r.handle(.message(.catchUpReply(CatchUpReply(snapshot: nil, first: .zero,
                                                                      values: [.noop, .noop, .noop])), from: n(0)))
        #expect(applied(fill) == [Slot(0), Slot(1), Slot(2)])
        #expect(await r.nextSlot == Slot(3))
    }

    @Test func aSpareAsksAPeerForTheLogEveryFourthIdleCheck() async throws {
        // Node 5 votes in no configuration of a three-node cluster: no decision or heartbeat reaches it.
        let spare = try replica(5)
        var asks: [NodeID] = []
        for _ in 0..<8 {
            asks += sent(await spare.handle(.timer(.catchUp))).filter { $0.0.catchUpRequest?.from == .zero }.map(\.1)
        }
        #expect(asks.count == 2 && asks.allSatisfy { [n(0), n(1), n(2)].contains($0) } && asks[0] != asks[1], "\(asks)")
        // A voter hears heartbeats instead, and asks nobody while it is not behind.
        let voter = try replica(1)
        for _ in 0..<8 { #expect(sent(await voter.handle(.timer(.catchUp))).isEmpty) }
    }

    @Test func applyingUpToAConfigurationsFirstSlotPersistsTheSnapshot() async throws {
        let storage = DurableState()
        let r = try Replica(node: n(1), config: config(), executor: testExecutor, machine: KeyValueStore(),
                            snapshot: emptySnapshot, leader: ballot, storage: storage)
        let change = Reconfiguration.command(base: 0, voters: NodeSet([n(0), n(1)]), nonce: 7)
        _ = await decide(r, 0, .command(change))
        let from = await r.view.latest(initial: config().memberSet).from
        #expect(from == Slot(Int64(Reconfiguration.delaySlots)) && storage.replicaSnapshot?.nextSlot == Slot(1))
        for slot in 1..<(from.index - 1) { _ = await decide(r, slot, .noop) }
        #expect(storage.replicaSnapshot?.nextSlot == Slot(1), "no snapshot interval reached yet")
        _ = await decide(r, from.index - 1, .noop)
        #expect(storage.replicaSnapshot?.nextSlot == from, "in force here: the old configuration's slots are durable")
    }

    /// A rejoining node waits for a snapshot on disk up to its fence readers' trim (`snapshotWanted`): its
    /// replica makes one as soon as it has applied that far, whatever its snapshot interval says, and on its
    /// catch-up timer if it had applied that far already.
    @Test func aSnapshotARejoinWaitsForIsMadeOnceAppliedThatFar() async throws {
        let storage = DurableState()
        var c = config()
        c.snapshotIntervalSlots = 1_000
        let r = try Replica(node: n(1), config: c, executor: testExecutor, machine: KeyValueStore(),
                            snapshot: emptySnapshot, leader: ballot, storage: storage)
        storage.snapshotWanted = Slot(3)
        for slot in 0..<2 { _ = await decide(r, Int64(slot), .command(command(1, UInt64(slot + 1), .put("k", "v")))) }
        #expect(storage.replicaSnapshot == nil, "not applied as far as s2 yet")
        _ = await decide(r, 2, .command(command(1, 3, .put("k", "w"))))
        #expect(storage.replicaSnapshot?.nextSlot == Slot(3))
        // Already applied that far when asked: the next catch-up check makes it.
        let other = DurableState()
        let s = try Replica(node: n(2), config: c, executor: testExecutor, machine: KeyValueStore(),
                            snapshot: emptySnapshot, leader: ballot, storage: other)
        for slot in 0..<4 { _ = await decide(s, Int64(slot), .noop) }
        other.snapshotWanted = Slot(2)
        #expect(other.replicaSnapshot == nil)
        _ = await s.handle(.timer(.catchUp))
        #expect(other.replicaSnapshot?.nextSlot == Slot(4))
    }

    @Test func welcomesAJoiningNodeWithoutItsStateAndWithTheFoundersItKnows() async throws {
        let founders: [NodeID: UInt64] = [n(1): 11, n(2): 12]
        let r = try Replica(node: n(0), config: config(3), executor: testExecutor, machine: KeyValueStore(),
                            snapshot: emptySnapshot, leader: .initial, founders: founders)
        _ = await decide(r, 0, .command(command(1, 1, .put("a", "1"))))
        // No state travels in a Welcome, however large: the node catches up as a lagging one does.
        let welcome = sent(await r.handle(.message(.join(Join(nonce: 12)), from: n(2))))[0].0.welcome
        #expect(welcome?.snapshot == nil)
        #expect(welcome?.founders == founders)
        // A node outside the voters (a spare an operator will add) is answered too; it will rejoin before voting.
        #expect(sent(await r.handle(.message(.join(Join(nonce: 5)), from: n(7))))[0].0.welcome?.founders == founders)
        // Its own Join is not answered.
        #expect(await r.handle(.message(.join(Join()), from: n(0))).isEmpty)
    }

    @Test func eachRejoinStartsAnEpochAndARetriedOneDoesNot() async throws {
        let r = try replica(1)
        let mine = Rejoin.command(node: n(1), nonce: 900)
        _ = await r.handle(.message(.request(Request(command: mine)), from: n(1)))
        // Another node's rejoin comes first, with a smaller nonce: it still counts (no reply cache here).
        _ = await decide(r, 0, .command(Rejoin.command(node: n(2), nonce: 5)))
        let answered = sent(await decide(r, 1, .command(mine)))
        #expect(answered.map(\.1) == [n(1)])
        #expect(answered.first?.0.reply.flatMap { Rejoin.epoch(fromResult: $0.result) } == 2)
        // The same attempt decided again changes nothing; the epoch goes into snapshots.
        let again = await decide(r, 2, .command(mine))
        #expect(events(again).contains { if case .applied(_, _, duplicate: true, _) = $0 { true } else { false } })
        #expect(await r.membershipEpoch == 2)
        let snapshot = await r.snapshot()
        #expect(snapshot.membershipEpoch == 2 && snapshot.rejoins.map(\.node) == [n(1), n(2)])
        // The state machine never saw them.
        #expect(snapshot.machine == KeyValueStore().snapshot())
        // A later attempt of the same node is a new epoch; the first one decided once more after it is not.
        _ = await decide(r, 3, .command(Rejoin.command(node: n(1), nonce: 901)))
        let late = await decide(r, 4, .command(mine))
        #expect(events(late).contains { if case .applied(_, _, duplicate: true, _) = $0 { true } else { false } })
        #expect(await r.membershipEpoch == 3)
    }

    @Test func onlyTheNodeItselfMayAskToRejoin() async throws {
        let r = try replica(1)
        let forged = Rejoin.command(node: n(2), nonce: 3)
        #expect(sent(await r.handle(.message(.request(Request(command: forged)), from: n(1)))).isEmpty)
        #expect(sent(await r.handle(.message(.request(Request(command: Rejoin.command(node: n(1), nonce: 3))), from: n(2)))).isEmpty)
    }
}
