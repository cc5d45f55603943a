import Foundation
import Testing
@testable import MultiPaxos

/// Large torture values: tokens padded on the wire, stripped (and checked byte for byte) when read back.
@Suite struct TorturePaddingTests {
    let padding = TorturePadding(bytes: 1_000...5_000)

    @Test func aPaddedValueStripsBackToItsTokensAndIsNotText() throws {
        // A put's value then two appends, as a register holds them.
        let value = Array("c1-5".utf8) + [0xFF, 0xFE, 0x00] + Array("c2-17;c3-4;".utf8)
        let wire = padding.expand(value)
        #expect(wire.count >= value.count + 3 * 1_002 && wire.count <= value.count + 3 * 5_002)
        #expect(String(validating: wire, as: UTF8.self) == nil)
        #expect(padding.strip(wire) == value)
        // The same token always gets the same block: a compare-and-set's expected value pads to what was stored.
        #expect(padding.expand(value) == wire)
        #expect(padding.block(for: ArraySlice("c1-5".utf8)) != padding.block(for: ArraySlice("c1-6".utf8)))
    }

    @Test func aCorruptedByteAnywhereInABlockIsNoticed() {
        let value = Array("c7-1;c8-2;".utf8)
        let wire = padding.expand(value)
        for index in stride(from: 5, to: wire.count, by: 397) where wire[index] != UInt8(ascii: ";") {
            var bad = wire
            bad[index] ^= 0x01
            #expect(padding.strip(bad) != value, "flipped byte \(index) of \(wire.count)")
        }
        #expect(padding.strip(Array(wire.dropLast(3))) == nil)  // a truncated block
        #expect(padding.strip(value) == value)  // no blocks: nothing to check
    }

    @Test func theOptionParsesAndNamesABadRange() throws {
        let parsed = try #require(try TortureOptions.parse(["--value-bytes", "10000-100000", "--pause-ms", "100"]))
        #expect(parsed.configuration.valueBytes == 10_000...100_000)
        #expect(parsed.configuration.clientPause == .milliseconds(100))
        for bad in ["100", "5-1", "0-10", "1-99999999", "a-b"] {
            #expect(throws: OptionsError.self) { try TortureOptions.parse(["--value-bytes", bad]) }
        }
    }
}
