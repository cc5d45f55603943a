/// Large values for torture runs without large histories: on the wire, every token a client writes is followed
/// by a block of filler (0x02, then bytes that are a function of the token alone, then 0x03), so the cluster
/// stores and moves values of `bytes` each; in the history and the checks, values keep only their tokens. A read
/// is stripped of its blocks after each is compared byte for byte with what its token implies, so a value
/// corrupted anywhere in its 100 KB is noticed, not just its token.
struct TorturePadding: Sendable {
    /// How many filler bytes follow a token (the block adds two).
    let bytes: ClosedRange<Int>

    /// The block after `token`: its length and contents depend on the token only, so a value can be padded again
    /// from its stripped form (a compare-and-set's expected value) and checked when read.
    func block(for token: ArraySlice<UInt8>) -> [UInt8] {
        let hash = fnv1a(token)
        let length = bytes.lowerBound + Int(hash % UInt64(bytes.count))
        var block = [UInt8](repeating: 0, count: length + 2)
        block[0] = 0x02
        var x = hash | 1
        for i in 1...length {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17
            block[i] = 0x04 + UInt8(truncatingIfNeeded: x % 250)  // never 0x02 or 0x03; not UTF-8 either
        }
        block[length + 1] = 0x03
        return block
    }

    /// Whether `b` can be part of a token (`c12-345`).
    private static func inToken(_ b: UInt8) -> Bool { b == UInt8(ascii: "c") || b == UInt8(ascii: "-") || (0x30...0x39).contains(b) }

    /// `value` (tokens and separators) with each token's block after it: what goes on the wire.
    func expand(_ value: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var start = 0
        func endToken(at i: Int) {
            if i > start, value[start] == UInt8(ascii: "c") { out += block(for: value[start..<i]) }
        }
        for (i, b) in value.enumerated() {
            if !Self.inToken(b) {
                endToken(at: i)
                start = i + 1
            }
            out.append(b)
        }
        endToken(at: value.count)
        return out
    }

    /// `value` without its blocks, or nil if a block is not exactly what its token implies (corrupted bytes).
    func strip(_ value: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var tokenStart = 0
        var i = 0
        while i < value.count {
            let b = value[i]
            if b == 0x02 {
                guard tokenStart < out.count else { return nil }
                let expected = block(for: out[tokenStart...])
                guard value.count - i >= expected.count, value[i..<(i + expected.count)].elementsEqual(expected) else { return nil }
                i += expected.count
                tokenStart = out.count
                continue
            }
            out.append(b)
            if !Self.inToken(b) { tokenStart = out.count }
            i += 1
        }
        return out
    }
}
