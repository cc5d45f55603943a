/// An incremental parser of server replies in RESP2 or RESP3, for the project's own clients (the RESP test
/// client, the load generator, `RemoteClient`). Feed it bytes with `append`, take replies with `next`.
///
/// It reads every RESP3 type: `$-1` and `*-1` give `.null`, `!` a `.error`, and an attribute (`|`) is read
/// and dropped, giving the value it annotates. A reply whose headers declare more than `maxReplyBytes` is
/// refused before its body is buffered, and nesting is limited to `maxDepth`, so untrusted bytes can neither
/// exhaust memory nor the stack. An incomplete reply is parsed again from its start when more bytes arrive.
public struct RESPReplyParser: Sendable {
    /// The largest reply accepted, headers included.
    public let maxReplyBytes: Int
    /// The deepest nesting of aggregates accepted.
    public static let maxDepth = 64

    private var buffer: [UInt8] = []
    private var readIndex = 0
    /// `buffer.count` when the last attempt found the reply incomplete: no new bytes, no new attempt.
    private var stalledAtCount = -1
    private var failure: RESPError?

    /// Makes a parser that accepts replies of up to `maxReplyBytes` (16 MiB by default).
    public init(maxReplyBytes: Int = 16 * 1024 * 1024) {
        self.maxReplyBytes = max(maxReplyBytes, 16)
    }

    /// Bytes received and not yet returned as replies.
    public var bufferedBytes: Int { buffer.count - readIndex }

    /// Adds bytes read from the connection.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        compact()
        buffer.append(contentsOf: bytes)
        stalledAtCount = -1
    }

    /// Adds bytes read from the connection.
    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// The next complete reply, or nil when more bytes are needed. After a throw the parser stays failed and
    /// throws the same error again.
    public mutating func next() throws(RESPError) -> RESPValue? {
        if let failure { throw failure }
        guard readIndex < buffer.count, buffer.count != stalledAtCount else { return nil }
        var i = readIndex
        do {
            guard let value = try value(at: &i, start: readIndex, depth: 0) else {
                stalledAtCount = buffer.count
                return nil
            }
            readIndex = i
            return value
        } catch {
            failure = error
            throw error
        }
    }

    private mutating func compact() {
        guard readIndex > 0 else { return }
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        } else if readIndex >= buffer.count / 2 {
            buffer.removeSubrange(0..<readIndex)
            readIndex = 0
        }
    }

    /// Parses the value whose type byte is at `i`, moving `i` past it; nil when it has not fully arrived.
    private func value(at i: inout Int, start: Int, depth: Int) throws(RESPError) -> RESPValue? {
        guard i < buffer.count else { return nil }
        let type = buffer[i]
        i += 1
        switch type {
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "_"), UInt8(ascii: "#"),
             UInt8(ascii: ","), UInt8(ascii: "("):
            guard let r = try line(at: &i, start: start) else { return nil }
            return try simple(type, buffer[r])
        case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
            guard let r = try line(at: &i, start: start) else { return nil }
            guard let n = RESPBytes.integer(buffer[r]), n >= -1 else {
                throw .protocolError("Protocol error: invalid bulk length '\(Self.text(buffer[r]))'")
            }
            if n == -1 { return .null }
            let length = Int(n)
            try limit(declared: i - start, plus: length, plus: 2)
            guard buffer.count - i >= length + 2 else { return nil }
            let end = i + length
            guard buffer[end] == 0x0D, buffer[end + 1] == 0x0A else {
                throw .protocolError("Protocol error: expected CRLF after a bulk reply of \(length) bytes, got \(RESPBytes.show(buffer[end]))")
            }
            let bytes = Array(buffer[i..<end])
            i = end + 2
            switch type {
            case UInt8(ascii: "$"): return .bulkString(bytes)
            case UInt8(ascii: "!"): return .error(String(decoding: bytes, as: UTF8.self))
            default:
                guard bytes.count >= 4, bytes[3] == UInt8(ascii: ":") else {
                    throw .protocolError("Protocol error: verbatim string '\(Self.text(bytes[...].prefix(8)))' lacks its 'fmt:' prefix")
                }
                return .verbatim(format: String(decoding: bytes[0..<3], as: UTF8.self), text: Array(bytes[4...]))
            }
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "|"):
            guard let r = try line(at: &i, start: start) else { return nil }
            guard let n = RESPBytes.integer(buffer[r]), n >= -1 else {
                throw .protocolError("Protocol error: invalid multibulk length '\(Self.text(buffer[r]))'")
            }
            if n == -1 { return .null }
            guard depth < Self.maxDepth else {
                throw .protocolError("Protocol error: reply nested deeper than \(Self.maxDepth) levels")
            }
            let paired = type == UInt8(ascii: "%") || type == UInt8(ascii: "|")
            // Every element takes at least 3 bytes (`_\r\n`): the count alone can declare too much.
            guard n <= Int64(maxReplyBytes) else { throw .tooLarge(declaredBytes: .max, limitBytes: maxReplyBytes) }
            let count = Int(n) * (paired ? 2 : 1)
            try limit(declared: i - start, plus: count * 3, plus: 0)
            var items: [RESPValue] = []
            for _ in 0..<count {
                guard let item = try value(at: &i, start: start, depth: depth + 1) else { return nil }
                items.append(item)
            }
            switch type {
            case UInt8(ascii: "*"): return .array(items)
            case UInt8(ascii: "~"): return .set(items)
            case UInt8(ascii: ">"): return .push(items)
            case UInt8(ascii: "%"): return .map(stride(from: 0, to: count, by: 2).map { (items[$0], items[$0 + 1]) })
            default: return try value(at: &i, start: start, depth: depth + 1)  // an attribute: the annotated value
            }
        default:
            throw .protocolError("Protocol error: unknown reply type '\(RESPBytes.character(type))'")
        }
    }

    /// A one-line value of `type` whose text is `body`.
    private func simple(_ type: UInt8, _ body: ArraySlice<UInt8>) throws(RESPError) -> RESPValue {
        switch type {
        case UInt8(ascii: "+"): return .simpleString(String(decoding: body, as: UTF8.self))
        case UInt8(ascii: "-"): return .error(String(decoding: body, as: UTF8.self))
        case UInt8(ascii: ":"):
            guard let n = RESPBytes.integer(body) else { throw .protocolError("Protocol error: invalid integer reply '\(Self.text(body))'") }
            return .integer(n)
        case UInt8(ascii: "_"):
            guard body.isEmpty else { throw .protocolError("Protocol error: null reply with text '\(Self.text(body))'") }
            return .null
        case UInt8(ascii: "#"):
            switch body.first {
            case UInt8(ascii: "t") where body.count == 1: return .boolean(true)
            case UInt8(ascii: "f") where body.count == 1: return .boolean(false)
            default: throw .protocolError("Protocol error: invalid boolean reply '\(Self.text(body))'")
            }
        case UInt8(ascii: ","):
            guard let d = Double(String(decoding: body, as: UTF8.self)) else {
                throw .protocolError("Protocol error: invalid double reply '\(Self.text(body))'")
            }
            return .double(d)
        default:
            let digits = body.first == UInt8(ascii: "-") ? body.dropFirst() : body
            guard !digits.isEmpty, digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
                throw .protocolError("Protocol error: invalid big number reply '\(Self.text(body))'")
            }
            return .bigNumber(String(decoding: body, as: UTF8.self))
        }
    }

    /// The text of a line starting at `i`, moving `i` past its CRLF; nil when the line has not fully arrived.
    private func line(at i: inout Int, start: Int) throws(RESPError) -> Range<Int>? {
        let limit = min(buffer.count, start + maxReplyBytes)
        var j = i
        while j < limit, buffer[j] != 0x0D { j += 1 }
        guard j < limit else {
            if buffer.count - start >= maxReplyBytes {
                throw .tooLarge(declaredBytes: buffer.count - start, limitBytes: maxReplyBytes)
            }
            return nil
        }
        guard j + 1 < buffer.count else { return nil }
        guard buffer[j + 1] == 0x0A else {
            throw .protocolError("Protocol error: expected LF after CR in a reply line, got \(RESPBytes.show(buffer[j + 1]))")
        }
        defer { i = j + 2 }
        return i..<j
    }

    /// Throws `tooLarge` when `sofar + more + extra` bytes pass the limit.
    private func limit(declared sofar: Int, plus more: Int, plus extra: Int) throws(RESPError) {
        let (total, overflow) = sofar.addingReportingOverflow(more)
        if overflow || total > maxReplyBytes - extra {
            throw .tooLarge(declaredBytes: overflow ? .max : total + extra, limitBytes: maxReplyBytes)
        }
    }

    /// Up to 32 bytes of `bytes` as text, for an error message.
    private static func text(_ bytes: ArraySlice<UInt8>) -> String {
        bytes.prefix(32).map(RESPBytes.character).joined()
    }
}
