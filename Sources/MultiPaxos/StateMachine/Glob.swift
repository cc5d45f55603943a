/// Redis's glob patterns (KEYS, and later SCAN's MATCH), on bytes: `*` any run of bytes, `?` any one byte,
/// `[abc]`, `[a-z]` and `[^a]` one byte in (or not in) a set, `\x` the byte `x` itself. A `[` left open runs to the
/// end of the pattern, as in Redis.
enum Glob {
    /// One element of a pattern: every one but `star` matches exactly one byte.
    private enum Token {
        case star
        case any
        case byte(UInt8)
        case set(negated: Bool, ranges: [ClosedRange<UInt8>])

        func matches(_ b: UInt8) -> Bool {
            switch self {
            case .star, .any: true
            case .byte(let x): b == x
            case .set(let negated, let ranges): ranges.contains { $0.contains(b) } != negated
            }
        }
    }

    /// Whether `subject` matches `pattern`.
    static func matches(_ pattern: ArraySlice<UInt8>, _ subject: ArraySlice<UInt8>) -> Bool {
        let tokens = tokenize(pattern), bytes = Array(subject)
        // Greedy, going back to the last star on a mismatch: linear in practice, quadratic at worst.
        var t = 0, i = 0
        var lastStar: (token: Int, byte: Int)?
        while i < bytes.count {
            if t < tokens.count, case .star = tokens[t] {
                lastStar = (t, i)
                t += 1
            } else if t < tokens.count, tokens[t].matches(bytes[i]) {
                t += 1
                i += 1
            } else if let star = lastStar {
                lastStar = (star.token, star.byte + 1)
                t = star.token + 1
                i = star.byte + 1
            } else {
                return false
            }
        }
        while t < tokens.count, case .star = tokens[t] { t += 1 }
        return t == tokens.count
    }

    private static func tokenize(_ pattern: ArraySlice<UInt8>) -> [Token] {
        var tokens: [Token] = []
        var p = pattern.startIndex
        while p < pattern.endIndex {
            let c = pattern[p]
            p += 1
            switch c {
            case UInt8(ascii: "*"):
                if case .star? = tokens.last { continue }
                tokens.append(.star)
            case UInt8(ascii: "?"):
                tokens.append(.any)
            case UInt8(ascii: "\\") where p < pattern.endIndex:
                tokens.append(.byte(pattern[p]))
                p += 1
            case UInt8(ascii: "["):
                var negated = false, ranges: [ClosedRange<UInt8>] = []
                if p < pattern.endIndex, pattern[p] == UInt8(ascii: "^") {
                    negated = true
                    p += 1
                }
                while p < pattern.endIndex, pattern[p] != UInt8(ascii: "]") {
                    var low = pattern[p]
                    if low == UInt8(ascii: "\\"), p + 1 < pattern.endIndex {
                        p += 1
                        low = pattern[p]
                    }
                    if p + 2 < pattern.endIndex, pattern[p + 1] == UInt8(ascii: "-"), pattern[p + 2] != UInt8(ascii: "]") {
                        let high = pattern[p + 2]
                        ranges.append(min(low, high)...max(low, high))
                        p += 3
                    } else {
                        ranges.append(low...low)
                        p += 1
                    }
                }
                if p < pattern.endIndex { p += 1 }  // the closing ]
                tokens.append(.set(negated: negated, ranges: ranges))
            default:
                tokens.append(.byte(c))
            }
        }
        return tokens
    }
}
