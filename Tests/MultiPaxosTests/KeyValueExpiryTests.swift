import Testing
@testable import MultiPaxos

/// Deadlines by the log's time: stamped entries move it on, keys due by it are removed (from memory and
/// snapshots), reads without the log never answer past a deadline by the reader's clock.
@Suite struct KeyValueExpiryTests {
    /// Applies `op` in an entry stamped `at` milliseconds.
    func run(_ kv: inout KeyValueStore, _ op: KeyValueOperation, at ms: Int64) -> KeyValueResult {
        let bytes = kv.apply(KeyValueStore.stamped(op.encoded, at: ms))
        return (try? KeyValueResult(decoding: bytes)) ?? .error("undecodable \(bytes)")
    }

    @Test func aKeyIsRemovedOnceTheLogsTimeReachesItsDeadline() {
        var kv = KeyValueStore()
        let t: Int64 = 1_800_000_000_000
        #expect(run(&kv, .setWith("lock", "token-1", condition: .ifAbsent, expiry: .set(.after(milliseconds: 100)), returnOld: false), at: t) == .ok)
        #expect(run(&kv, .setWith("lock", "token-2", condition: .ifAbsent, expiry: .set(.after(milliseconds: 100)), returnOld: false), at: t + 50)
                == .mismatch(current: "token-1"), "held until its deadline")
        #expect(run(&kv, .timeToLive("lock", .millisecondsLeft), at: t + 60) == .integer(40))
        // Another key's entry at t+100 removes it: from memory, not only from view.
        #expect(run(&kv, .put("other", "x"), at: t + 100) == .ok)
        #expect(kv.entries["lock"] == nil && kv.deadlines.isEmpty && kv.apply(.count) == .integer(1))
        #expect(run(&kv, .setWith("lock", "token-2", condition: .ifAbsent, expiry: .set(.after(milliseconds: 100)), returnOld: false), at: t + 101) == .ok)
        // The log's time never goes back: an entry stamped by a node whose clock is behind changes nothing.
        #expect(run(&kv, .get("lock"), at: t) == .value("token-2") && kv.clock == t + 101)
        #expect(run(&kv, .timeToLive("lock", .millisecondsLeft), at: t) == .integer(100))
    }

    @Test func readsWithoutTheLogGoThroughItOnceAKeyIsDueByTheReadersClock() throws {
        var kv = KeyValueStore()
        let t: Int64 = 1_800_000_000_000
        _ = run(&kv, .setWith("k", "v", condition: .always, expiry: .set(.at(milliseconds: t + 1000)), returnOld: false), at: t)
        let read = KeyValueOperation.get("k").encoded
        #expect(kv.query(KeyValueStore.stamped(read, at: t + 999)) == KeyValueResult.value("v").encoded)
        #expect(kv.query(KeyValueStore.stamped(read, at: t + 1000)) == nil, "due by the reader's time: through the log")
        #expect(kv.query(KeyValueStore.stamped(KeyValueOperation.timeToLive("k", .secondsLeft).encoded, at: t + 400))
                == KeyValueResult.integer(1).encoded, "TTL from the reader's time, rounded as Redis rounds")
        #expect(run(&kv, .get("k"), at: t + 1000) == .value(nil))
    }

    @Test func expireConditionsPersistAndWhatEachWriteDoesToADeadline() {
        var kv = KeyValueStore()
        let t: Int64 = 1_800_000_000_000
        _ = run(&kv, .put("k", "v"), at: t)
        #expect(run(&kv, .timeToLive("k", .secondsLeft), at: t) == .integer(-1) && run(&kv, .timeToLive("none", .secondsLeft), at: t) == .integer(-2))
        #expect(run(&kv, .expire("k", .after(milliseconds: 10_000), .onlyWith), at: t) == .integer(0), "XX: no deadline yet")
        #expect(run(&kv, .expire("k", .after(milliseconds: 10_000), .onlyWithout), at: t) == .integer(1))
        #expect(run(&kv, .expire("k", .after(milliseconds: 5_000), .onlyLater), at: t) == .integer(0), "GT: not later")
        #expect(run(&kv, .expire("k", .after(milliseconds: 5_000), .onlySooner), at: t) == .integer(1))
        #expect(run(&kv, .timeToLive("k", .deadlineMilliseconds), at: t) == .integer(t + 5_000))
        #expect(run(&kv, .timeToLive("k", .deadlineSeconds), at: t) == .integer((t + 5_000) / 1000))
        #expect(run(&kv, .append("k", "w"), at: t) == .integer(2) && kv.deadlines["k"] == t + 5_000, "APPEND keeps the deadline")
        #expect(run(&kv, .rename("k", to: "r", onlyIfAbsent: false), at: t) == .ok && kv.deadlines["r"] == t + 5_000, "RENAME carries it")
        #expect(run(&kv, .copy("r", to: "c", replace: false), at: t) == .integer(1) && kv.deadlines["c"] == t + 5_000, "COPY copies it")
        #expect(run(&kv, .put("c", "new"), at: t) == .ok && kv.deadlines["c"] == nil, "SET clears it")
        #expect(run(&kv, .setWith("r", "kept", condition: .always, expiry: .keep, returnOld: false), at: t) == .ok && kv.deadlines["r"] == t + 5_000)
        #expect(run(&kv, .getAndExpire("r", .clear), at: t) == .value("kept") && kv.deadlines["r"] == nil, "GETEX PERSIST")
        #expect(run(&kv, .expire("r", .after(milliseconds: 1), .always), at: t) == .integer(1))
        #expect(run(&kv, .persist("r"), at: t) == .integer(1) && run(&kv, .persist("r"), at: t) == .integer(0))
        #expect(run(&kv, .expire("r", .at(milliseconds: t - 1), .always), at: t) == .integer(1) && kv.entries["r"] == nil,
                "a deadline already passed removes the key")
        _ = run(&kv, .list(.push("l", ["x"], atHead: true, onlyIfExists: false)), at: t)
        _ = run(&kv, .expire("l", .after(milliseconds: 50), .always), at: t)
        #expect(run(&kv, .list(.pop("l", atHead: true, count: nil)), at: t) == .value("x") && kv.deadlines["l"] == nil,
                "an emptied collection takes its deadline with it")
        #expect(run(&kv, .flush, at: t) == .ok && kv.deadlines.isEmpty && kv.expiryQueue.isEmpty)
    }

    @Test func snapshotsKeepTheLogsTimeAndTheDeadlines() throws {
        var kv = KeyValueStore()
        let t: Int64 = 1_800_000_000_000
        _ = run(&kv, .setWith("a", "1", condition: .always, expiry: .set(.after(milliseconds: 100)), returnOld: false), at: t)
        _ = run(&kv, .setWith("b", "2", condition: .always, expiry: .set(.after(milliseconds: 200)), returnOld: false), at: t)
        _ = run(&kv, .put("c", "3"), at: t)
        let snapshot = kv.snapshot()
        #expect(snapshot.prefix(5) == [0xFF, 0xFF, 0xFF, 0xFF, 3])
        var copy = KeyValueStore()
        try copy.restore(from: snapshot)
        #expect(copy == kv && copy.clock == t)
        // Both expire alike from here on: the same entries give the same state.
        for store in [kv, copy] {
            var s = store
            _ = run(&s, .get("a"), at: t + 150)
            #expect(s.entries.keys.sorted() == ["b", "c"])
        }
        var stale = snapshot
        stale.removeLast(20)  // cut inside the deadlines
        #expect(throws: ByteDecodingError.self) { try copy.restore(from: stale) }
        var nested = KeyValueStore()
        #expect(nested.apply(KeyValueStore.stamped(KeyValueStore.stamped(KeyValueOperation.get("a").encoded, at: 1), at: 2)) == [0xFF])
    }

    @Test func refusedWritesKeepDeadlinesAndTheQueueStaysBounded() {
        var kv = KeyValueStore()
        let t: Int64 = 1_800_000_000_000
        _ = run(&kv, .hash(.set("h", fieldsAndValues: ["f", "v"])), at: t)
        _ = run(&kv, .expire("h", .after(milliseconds: 10_000), .always), at: t)
        #expect(run(&kv, .getAndSet("h", "x"), at: t) == wrongTypeError && kv.deadlines["h"] == t + 10_000, "a refused GETSET keeps it")
        _ = run(&kv, .put("s", "v"), at: t)
        #expect(run(&kv, .combineSets(.union, ["s"], store: "h"), at: t) == wrongTypeError && kv.deadlines["h"] == t + 10_000)
        // KEEPTTL adds no queue entry; refreshing one key's deadline many times does not grow the queue for good.
        _ = run(&kv, .setWith("k", "v", condition: .always, expiry: .set(.after(milliseconds: 60_000)), returnOld: false), at: t)
        let queued = kv.expiryQueue.heap.count
        _ = run(&kv, .setWith("k", "w", condition: .always, expiry: .keep, returnOld: false), at: t)
        #expect(kv.expiryQueue.heap.count == queued && kv.deadlines["k"] == t + 60_000)
        for i in 0..<5_000 { _ = run(&kv, .expire("k", .after(milliseconds: 60_000 + Int64(i)), .always), at: t) }
        #expect(kv.expiryQueue.heap.count <= 2 * kv.deadlines.count + 1025, "\(kv.expiryQueue.heap.count) entries")
        // A rotation of a one-element list keeps its deadline; SMOVE onto itself changes nothing.
        _ = run(&kv, .list(.push("l", ["x"], atHead: true, onlyIfExists: false)), at: t)
        _ = run(&kv, .expire("l", .after(milliseconds: 5_000), .always), at: t)
        #expect(run(&kv, .moveElement("l", to: "l", fromHead: true, toHead: false), at: t) == .value("x") && kv.deadlines["l"] == t + 5_000)
        _ = run(&kv, .set(.add("S", ["m"])), at: t)
        #expect(run(&kv, .moveMember("S", to: "S", "m"), at: t) == .integer(1) && run(&kv, .moveMember("S", to: "S", "z"), at: t) == .integer(0))
        #expect(run(&kv, .moveElement("none", to: "s", fromHead: true, toHead: true), at: t) == .value(nil), "an absent source first")
        // A deadline at the end of time: no overflow in TTL, from a log time of 0 or later.
        var unstamped = KeyValueStore()
        _ = unstamped.apply(.put("far", "v"))
        _ = unstamped.apply(.expire("far", .at(milliseconds: .max), .always))
        #expect(unstamped.apply(.timeToLive("far", .secondsLeft)) == .integer(Int64.max / 1000 + 1))
        #expect(unstamped.apply(.timeToLive("far", .deadlineSeconds)) == .integer(Int64.max / 1000 + 1))
    }

    @Test func aSnapshotWithAnImpossibleDeadlineOrAnEmptyCollectionIsRefused() throws {
        var w = ByteWriter()
        w.uint32(KeyValueSnapshot.versionMarker); w.byte(3)
        w.uint32(1); w.byteString("k"); w.byteString("v")  // strings
        w.uint32(0)  // collections
        w.int64(1000); w.uint32(1); w.byteString("k"); w.int64(1000)  // a deadline not after the log time
        var kv = KeyValueStore()
        #expect(throws: ByteDecodingError("key-value snapshot gives key k deadline 1000, not after its log time 1000")) {
            try kv.restore(from: w.bytes)
        }
        var e = ByteWriter()
        e.uint32(KeyValueSnapshot.versionMarker); e.byte(2)
        e.uint32(0); e.uint32(1); e.byteString("l"); e.byte(2); e.uint32(0)  // an empty list
        #expect(throws: ByteDecodingError("key-value snapshot holds an empty collection at l")) { try kv.restore(from: e.bytes) }
        #expect(kv == KeyValueStore(), "nothing restored")
    }
}
