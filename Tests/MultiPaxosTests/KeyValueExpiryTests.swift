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
}
