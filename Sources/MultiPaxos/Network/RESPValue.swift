/// A Redis protocol value: what a server replies, and what `RESPReplyParser` reads back. RESP3 types are
/// written in RESP2 the way Redis writes them to a RESP2 connection (a map as a flat array, a double as a bulk
/// string, a boolean as 1 or 0), so one value serves both protocols.
public indirect enum RESPValue: Equatable, Sendable, CustomStringConvertible {
    /// `+text`: a short status such as `OK` (CR and LF are written as spaces).
    case simpleString(String)
    /// `-CODE message`: an error reply, its code first (`ERR`, `NOPROTO`, ...; CR and LF written as spaces).
    case error(String)
    /// `:n`: an integer.
    case integer(Int64)
    /// `$len`: a binary-safe string.
    case bulkString([UInt8])
    /// The null reply: `$-1` in RESP2, `_` in RESP3.
    case null
    /// `*N`: an array.
    case array([RESPValue])
    /// `%N` (RESP3): ordered key–value pairs; a flat array of 2N elements in RESP2.
    case map([(key: RESPValue, value: RESPValue)])
    /// `~N` (RESP3): a set; an array in RESP2.
    case set([RESPValue])
    /// `>N` (RESP3): an out-of-band push; an array in RESP2.
    case push([RESPValue])
    /// `,x` (RESP3): a double; a bulk string of its text in RESP2.
    case double(Double)
    /// `#t` / `#f` (RESP3): a boolean; the integer 1 or 0 in RESP2.
    case boolean(Bool)
    /// `(digits` (RESP3): an integer of any size, as its decimal text; a bulk string in RESP2.
    case bigNumber(String)
    /// `=len` (RESP3): text with a three-letter format (`txt`, `mkd`); a bulk string of the text in RESP2.
    case verbatim(format: String, text: [UInt8])

    /// `+OK`.
    public static let ok = RESPValue.simpleString("OK")

    /// A bulk string of `text`'s UTF-8 bytes.
    public static func bulk(_ text: String) -> RESPValue { .bulkString(Array(text.utf8)) }

    public static func == (a: RESPValue, b: RESPValue) -> Bool {
        switch (a, b) {
        case (.simpleString(let x), .simpleString(let y)), (.error(let x), .error(let y)), (.bigNumber(let x), .bigNumber(let y)):
            x == y
        case (.integer(let x), .integer(let y)): x == y
        case (.bulkString(let x), .bulkString(let y)): x == y
        case (.null, .null): true
        case (.array(let x), .array(let y)), (.set(let x), .set(let y)), (.push(let x), .push(let y)): x == y
        case (.map(let x), .map(let y)): x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case (.double(let x), .double(let y)): x == y || (x.isNaN && y.isNaN)
        case (.boolean(let x), .boolean(let y)): x == y
        case (.verbatim(let f, let x), .verbatim(let g, let y)): f == g && x == y
        default: false
        }
    }

    /// The value's bytes in RESP `protocolVersion` (3: RESP3; anything else: RESP2).
    public func encoded(protocolVersion: Int) -> [UInt8] {
        var out: [UInt8] = []
        encode(into: &out, protocolVersion: protocolVersion)
        return out
    }

    /// Appends the value's bytes in RESP `protocolVersion` (3: RESP3; anything else: RESP2) to `out`, so that
    /// a server can gather a batch of replies in one buffer.
    public func encode(into out: inout [UInt8], protocolVersion: Int) {
        let resp3 = protocolVersion == 3
        switch self {
        case .simpleString(let s): Self.line(UInt8(ascii: "+"), s, into: &out)
        case .error(let s): Self.line(UInt8(ascii: "-"), s, into: &out)
        case .integer(let n): Self.header(UInt8(ascii: ":"), n, into: &out)
        case .bulkString(let bytes): Self.blob(UInt8(ascii: "$"), bytes, into: &out)
        case .null:
            if resp3 { out.append(contentsOf: [UInt8(ascii: "_"), 0x0D, 0x0A]) } else { Self.header(UInt8(ascii: "$"), -1, into: &out) }
        case .array(let items): Self.aggregate(UInt8(ascii: "*"), items, into: &out, protocolVersion)
        case .set(let items): Self.aggregate(resp3 ? UInt8(ascii: "~") : UInt8(ascii: "*"), items, into: &out, protocolVersion)
        case .push(let items): Self.aggregate(resp3 ? UInt8(ascii: ">") : UInt8(ascii: "*"), items, into: &out, protocolVersion)
        case .map(let pairs):
            if resp3 { Self.header(UInt8(ascii: "%"), Int64(pairs.count), into: &out) } else { Self.header(UInt8(ascii: "*"), Int64(pairs.count) * 2, into: &out) }
            for pair in pairs {
                pair.key.encode(into: &out, protocolVersion: protocolVersion)
                pair.value.encode(into: &out, protocolVersion: protocolVersion)
            }
        case .double(let d):
            let text = d.isNaN ? "nan" : d.isInfinite ? (d < 0 ? "-inf" : "inf") : d.description
            if resp3 { Self.line(UInt8(ascii: ","), text, into: &out) } else { Self.blob(UInt8(ascii: "$"), Array(text.utf8), into: &out) }
        case .boolean(let b):
            if resp3 { out.append(contentsOf: [UInt8(ascii: "#"), b ? UInt8(ascii: "t") : UInt8(ascii: "f"), 0x0D, 0x0A]) } else { Self.header(UInt8(ascii: ":"), b ? 1 : 0, into: &out) }
        case .bigNumber(let digits):
            if resp3 { Self.line(UInt8(ascii: "("), digits, into: &out) } else { Self.blob(UInt8(ascii: "$"), Array(digits.utf8), into: &out) }
        case .verbatim(let format, let text):
            if resp3 {
                var payload = Array(format.utf8.prefix(3))
                while payload.count < 3 { payload.append(UInt8(ascii: " ")) }
                Self.blob(UInt8(ascii: "="), payload + [UInt8(ascii: ":")] + text, into: &out)
            } else {
                Self.blob(UInt8(ascii: "$"), text, into: &out)
            }
        }
    }

    private static func line(_ type: UInt8, _ text: String, into out: inout [UInt8]) {
        out.append(type)
        for b in text.utf8 { out.append(b == 0x0D || b == 0x0A ? 0x20 : b) }
        out.append(contentsOf: [0x0D, 0x0A])
    }

    private static func header(_ type: UInt8, _ n: Int64, into out: inout [UInt8]) {
        out.append(type)
        appendDecimal(n, into: &out)
        out.append(contentsOf: [0x0D, 0x0A])
    }

    private static func blob(_ type: UInt8, _ bytes: [UInt8], into out: inout [UInt8]) {
        header(type, Int64(bytes.count), into: &out)
        out.append(contentsOf: bytes)
        out.append(contentsOf: [0x0D, 0x0A])
    }

    private static func aggregate(_ type: UInt8, _ items: [RESPValue], into out: inout [UInt8], _ version: Int) {
        header(type, Int64(items.count), into: &out)
        for item in items { item.encode(into: &out, protocolVersion: version) }
    }

    /// Appends `n` in decimal without making a String.
    static func appendDecimal(_ n: Int64, into out: inout [UInt8]) {
        if n < 0 { out.append(UInt8(ascii: "-")) }
        let magnitude = n.magnitude
        var divisor: UInt64 = 1
        while magnitude / divisor >= 10 { divisor *= 10 }
        repeat {
            out.append(UInt8(ascii: "0") + UInt8(magnitude / divisor % 10))
            divisor /= 10
        } while divisor > 0
    }

    public var description: String {
        switch self {
        case .simpleString(let s): s
        case .error(let s): "(error) \(s)"
        case .integer(let n): "(integer) \(n)"
        case .bulkString(let b): "\"\(String(decoding: b, as: UTF8.self))\""
        case .null: "(nil)"
        case .array(let items), .set(let items), .push(let items): "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .map(let pairs): "{" + pairs.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
        case .double(let d): "(double) \(d)"
        case .boolean(let b): "(boolean) \(b)"
        case .bigNumber(let s): "(big number) \(s)"
        case .verbatim(let f, let t): "\(f):\(String(decoding: t, as: UTF8.self))"
        }
    }
}
