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
                                        .compareAndSet("k", expected: nil, new: "n"), .compareAndSet("k", expected: "", new: "")]
        for op in ops { #expect(try KeyValueOperation(decoding: op.encoded) == op) }
        for r in [KeyValueResult.ok, .value(nil), .value("x"), .mismatch(current: "y"), .integer(0), .integer(.max), .integer(.min)] {
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
        #expect(throws: ByteDecodingError.self) { try KeyValueOperation(decoding: [9]) }
        #expect(throws: ByteDecodingError.self) { try KeyValueOperation(decoding: [1, 200, 0, 0, 0]) }
        var kv = KeyValueStore()
        _ = kv.apply(.put("a", "1"))
        #expect(throws: ByteDecodingError.self) { try kv.restore(from: [1, 0, 0, 0]) }
        #expect(kv.entries == ["a": "1"])
        // A malformed operation in the log is answered the same way by every replica, not a crash.
        #expect(kv.apply([0xEE]) == [0xFF])
    }
}
