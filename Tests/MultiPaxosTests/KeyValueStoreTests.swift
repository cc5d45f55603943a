import Testing
@testable import MultiPaxos

@Suite struct KeyValueStoreTests {
    @Test func implementsEveryOperation() {
        var kv = KeyValueStore()
        #expect(kv.apply(.get("a")) == .value(nil))
        #expect(kv.apply(.append("a", "x")) == .ok)
        #expect(kv.apply(.append("a", "y")) == .ok)
        #expect(kv.apply(.get("a")) == .value("xy"))
        #expect(kv.apply(.compareAndSet("a", expected: "nope", new: "z")) == .mismatch(current: "xy"))
        #expect(kv.apply(.compareAndSet("a", expected: "xy", new: "z")) == .ok)
        #expect(kv.apply(.compareAndSet("b", expected: nil, new: "1")) == .ok)
        #expect(kv.apply(.delete("a")) == .ok)
        #expect(kv.entries == ["b": "1"])
    }

    @Test func operationsResultsAndSnapshotsRoundTrip() throws {
        let ops: [KeyValueOperation] = [.get("k"), .put("k", "v"), .delete("k"), .append("k", "é"),
                                        .compareAndSet("k", expected: nil, new: "n"), .compareAndSet("k", expected: "", new: "")]
        for op in ops { #expect(try KeyValueOperation(decoding: op.encoded) == op) }
        for r in [KeyValueResult.ok, .value(nil), .value("x"), .mismatch(current: "y")] {
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
