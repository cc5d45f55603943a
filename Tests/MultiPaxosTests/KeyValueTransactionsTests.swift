import Testing
@testable import MultiPaxos

/// The store's side of WATCH: digests of what keys hold, and transactions guarded by them.
@Suite struct KeyValueTransactionsTests {
    @Test func aDigestChangesWithTheValueAndTypeAndIsNilForNothing() throws {
        var kv = KeyValueStore()
        #expect(kv.digest(of: "k") == nil)
        _ = kv.apply(.put("k", "1"))
        let one = try #require(kv.digest(of: "k"))
        _ = kv.apply(.put("k", "2"))
        #expect(kv.digest(of: "k") != one && kv.digest(of: "k")?.count == 8)
        _ = kv.apply(.put("k", "1"))
        #expect(kv.digest(of: "k") == one, "the same value, the same digest")
        _ = kv.apply(.delete("k"))
        _ = kv.apply(.list(.push("k", ["1"], atHead: true, onlyIfExists: false)))
        #expect(kv.digest(of: "k") != one, "a list of the same bytes is another value")
        #expect(try KeyValueOperation(decoding: KeyValueOperation.digests(["k", ByteString([0xFF])]).encoded) == .digests(["k", ByteString([0xFF])]))
        #expect(kv.query(KeyValueOperation.digests(["k"]).encoded) == KeyValueResult.array([.value(kv.digest(of: "k"))]).encoded)
    }

    @Test func aGuardedTransactionRunsWholeOrNotAtAllAndNeverNests() {
        var kv = KeyValueStore()
        _ = kv.apply(.put("k", "1"))
        let body = KeyValueStore.pipeline([KeyValueOperation.put("k", "2").encoded, KeyValueOperation.append("k", "!").encoded])
        let stale = KeyValueStore.guarded([("k", kv.digest(of: "nothing-like-k"))], body)
        #expect(kv.apply(stale) == KeyValueStore.abortedTransaction && kv.entries["k"] == "1")
        let fresh = KeyValueStore.guarded([("k", kv.digest(of: "k")), ("absent", nil)], body)
        #expect(kv.apply(fresh) == KeyValueStore.pipeline([KeyValueResult.ok.encoded, KeyValueResult.integer(2).encoded]))
        #expect(kv.entries["k"] == "2!")
        // Malformed, or nested in a pipeline or in itself: refused alike by every replica, and no recursion on input.
        #expect(kv.apply(Array(fresh.dropLast())) == [0xFF])
        #expect(kv.apply(KeyValueStore.pipeline([fresh])) == KeyValueStore.pipeline([[0xFF]]))
        let nested = KeyValueStore.guarded([], KeyValueStore.pipeline([KeyValueStore.guarded([], body)]))
        #expect(kv.apply(nested) == KeyValueStore.pipeline([[0xFF]]) && kv.entries["k"] == "2!")
        #expect(kv.query(fresh) == nil, "a guarded transaction goes through the log")
        // Reads nested in a read pipeline are refused without recursion, as the log refuses them.
        let get = KeyValueOperation.get("k").encoded
        #expect(kv.query(KeyValueStore.pipeline([KeyValueStore.pipeline([get])])) == nil)
        #expect(kv.query(KeyValueStore.pipeline([KeyValueStore.stamped(get, at: 1)])) == nil)
        #expect(kv.query(KeyValueStore.pipeline([get])) == KeyValueStore.pipeline([KeyValueResult.value("2!").encoded]))
    }
}
