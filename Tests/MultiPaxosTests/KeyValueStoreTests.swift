import Testing
@testable import MultiPaxos

@Suite struct KeyValueStoreTests {
    @Test func implementsEveryOperation() {
        var kv = KeyValueStore()
        #expect(kv.apply(.get("a")) == .value(nil))
        #expect(kv.apply(.append("a", "x")) == .integer(1), "an append answers the new length")
        #expect(kv.apply(.append("a", "y")) == .integer(2))
        #expect(kv.apply(.get("a")) == .value("xy"))
        #expect(kv.apply(.compareAndSet("a", expected: "nope", new: "z")) == .mismatch(current: "xy"))
        #expect(kv.apply(.compareAndSet("a", expected: "xy", new: "z")) == .ok)
        #expect(kv.apply(.compareAndSet("b", expected: nil, new: "1")) == .ok)
        #expect(kv.apply(.delete("a")) == .integer(1), "a delete answers how many keys it removed")
        #expect(kv.apply(.delete("a")) == .integer(0))
        #expect(kv.entries == ["b": "1"])
        #expect(kv.apply(.append("b", "é")) == .integer(3), "lengths count UTF-8 bytes, as Redis's APPEND does")
    }

    @Test func incrementsAsRedisDoes() {
        var kv = KeyValueStore()
        #expect(kv.apply(.increment("n", by: 1)) == .integer(1), "an absent key counts as 0")
        #expect(kv.apply(.increment("n", by: -11)) == .integer(-10))
        #expect(kv.entries["n"] == "-10", "stored as its decimal text, as Redis stores it")
        _ = kv.apply(.put("n", "9223372036854775807"))
        #expect(kv.apply(.increment("n", by: 1)) == .error("ERR increment or decrement would overflow"))
        #expect(kv.entries["n"] == "9223372036854775807", "a refused increment changes nothing")
        for bad in ["", "abc", " 1", "1 ", "+1", "01", "-0", "1.5", "99999999999999999999", "-"] {
            _ = kv.apply(.put("b", ByteString(bad)))
            #expect(kv.apply(.increment("b", by: 1)) == .error("ERR value is not an integer or out of range"), "\(bad)")
        }
        _ = kv.apply(.put("z", ByteString([0x30])))
        #expect(kv.apply(.increment("z", by: -9223372036854775807)) == .integer(-9223372036854775807))
        #expect(kv.apply(.increment("z", by: -1)) == .integer(.min))
    }

    @Test func getAndSetGetAndDeleteCountAndKeys() {
        var kv = KeyValueStore()
        #expect(kv.apply(.getAndSet("a", "1")) == .value(nil))
        #expect(kv.apply(.getAndSet("a", "2")) == .value("1") && kv.entries["a"] == "2")
        #expect(kv.apply(.getAndDelete("a")) == .value("2") && kv.entries["a"] == nil)
        #expect(kv.apply(.getAndDelete("a")) == .value(nil))
        for key in ["user:1", "user:2", "user:10", "u", "admin", "h[x]llo"] { _ = kv.apply(.put(ByteString(key), "v")) }
        _ = kv.apply(.put(ByteString([0xFF, 0x3A]), "v"))
        #expect(kv.apply(.count) == .integer(7))
        #expect(kv.apply(.keys(matching: "user:?")) == .list(["user:1", "user:2"]))
        #expect(kv.apply(.keys(matching: "user:*")) == .list(["user:1", "user:10", "user:2"]), "in byte order")
        #expect(kv.apply(.keys(matching: "u*")) == .list(["u", "user:1", "user:10", "user:2"]))
        #expect(kv.apply(.keys(matching: "[^u]*")) == .list(["admin", "h[x]llo", ByteString([0xFF, 0x3A])]))
        #expect(kv.apply(.keys(matching: "h\\[x]llo")) == .list(["h[x]llo"]))
        #expect(kv.apply(.keys(matching: "user:[0-1]*")) == .list(["user:1", "user:10"]))
        #expect(kv.apply(.keys(matching: ByteString([0xFF, 0x2A]))) == .list([ByteString([0xFF, 0x3A])]), "patterns are bytes")
        #expect(kv.apply(.keys(matching: "nothing*")) == .list([]))
        // The reads are reads: a replica answers them without the log.
        #expect(kv.query(KeyValueOperation.count.encoded) == KeyValueResult.integer(7).encoded)
        #expect(kv.query(KeyValueOperation.keys(matching: "a*").encoded) == KeyValueResult.list(["admin"]).encoded)
        #expect(kv.query(KeyValueOperation.getAndDelete("u").encoded) == nil)
    }

    @Test func globsMatchAsRedisMatches() {
        func m(_ p: String, _ s: String) -> Bool { Glob.matches(Array(p.utf8)[...], Array(s.utf8)[...]) }
        #expect(m("*", "") && m("*", "anything") && m("**a**", "xa") && !m("?", "") && m("?", "x"))
        #expect(m("a*b*c", "aXXbYYc") && !m("a*b*c", "aXXbYY") && m("*abc", "ababc"))
        #expect(m("[abc]", "b") && !m("[abc]", "d") && m("[^abc]", "d") && !m("[^abc]", "a"))
        #expect(m("[z-a]", "m"), "a reversed range is the same range, as in Redis")
        #expect(m("\\*", "*") && !m("\\*", "x") && m("[\\]]", "]"))
        #expect(m("[ab", "a"), "an open [ runs to the end of the pattern")
    }

    @Test func resultsOfEarlierVersionsStillDecode() throws {
        // Bytes as results were encoded before `.integer` existed: tags 0, 1 and 2 are unchanged.
        #expect(try KeyValueResult(decoding: [1]) == .ok)
        #expect(try KeyValueResult(decoding: [0, 1, 1, 0, 0, 0, 0x78]) == .value("x"))
        #expect(try KeyValueResult(decoding: [2, 0]) == .mismatch(current: nil))
        #expect(KeyValueResult.integer(-2).encoded == [3, 0xFE] + Array(repeating: 0xFF, count: 7))
        #expect(throws: ByteDecodingError.self) { try KeyValueResult(decoding: [3, 1, 2]) }
    }

    @Test func operationsResultsAndSnapshotsRoundTrip() throws {
        let ops: [KeyValueOperation] = [.get("k"), .put("k", "v"), .delete("k"), .append("k", "é"),
                                        .compareAndSet("k", expected: nil, new: "n"), .compareAndSet("k", expected: "", new: ""),
                                        .increment("k", by: .min), .getAndSet("k", ByteString([0xFF])), .getAndDelete("k"),
                                        .count, .keys(matching: "*")]
        for op in ops { #expect(try KeyValueOperation(decoding: op.encoded) == op) }
        for r in [KeyValueResult.ok, .value(nil), .value("x"), .mismatch(current: "y"), .integer(0), .integer(.max), .integer(.min),
                  .error("ERR x"), .list([]), .list(["a", ByteString([0xFF])])] {
            #expect(try KeyValueResult(decoding: r.encoded) == r)
        }
        var kv = KeyValueStore()
        _ = kv.apply(.put("b", "2"))
        _ = kv.apply(.put("a", "1"))
        var copy = KeyValueStore()
        try copy.restore(from: kv.snapshot())
        #expect(copy == kv)
    }

    @Test func malformedBytesGiveATypedErrorAndChangeNothing() {
        #expect(throws: ByteDecodingError.self) { try KeyValueOperation(decoding: [200]) }
        #expect(throws: ByteDecodingError.self) { try KeyValueOperation(decoding: [6, 0, 0, 0, 0]) }
        #expect(throws: ByteDecodingError.self) { try KeyValueOperation(decoding: [1, 200, 0, 0, 0]) }
        var kv = KeyValueStore()
        _ = kv.apply(.put("a", "1"))
        #expect(throws: ByteDecodingError.self) { try kv.restore(from: [1, 0, 0, 0]) }
        #expect(kv.entries == ["a": "1"])
        // A malformed operation in the log is answered the same way by every replica, not a crash.
        #expect(kv.apply([0xEE]) == [0xFF])
    }
}
