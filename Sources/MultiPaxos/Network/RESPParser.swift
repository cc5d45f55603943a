/// Why RESP bytes were rejected. A server answers a request error with `reply` and closes the connection;
/// the parser that threw stays failed.
public enum RESPError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Malformed bytes; the text is Redis's own where Redis has one (`Protocol error: invalid bulk length`).
    case protocolError(String)
    /// A request or reply whose declared size passes the limit, refused before its body is buffered.
    case tooLarge(declaredBytes: Int, limitBytes: Int)

    public var description: String {
        switch self {
        case .protocolError(let message): message
        case .tooLarge(let declared, let limit):
            "Protocol error: declared size of \(declared) bytes exceeds the limit of \(limit) bytes"
        }
    }

    /// The error reply a server sends before closing the connection, worded as Redis words it.
    public var reply: RESPValue { .error("ERR " + description) }
}

/// An incremental parser of client requests: multibulk arrays (`*N\r\n$len\r\n...\r\n`), as every client
/// library sends, and inline commands (a line of words, with Redis's quoting), as telnet users and
/// `redis-benchmark`'s inline PING send. Feed it bytes as they arrive with `append`, take requests with `next`.
///
/// Memory stays bounded by what the peer sent and by the limits: a request is refused as soon as its headers
/// declare more than `maxRequestBytes`, before its body is read. Consumed bytes are dropped by compaction when
/// they are at least half of the buffer, so each byte is copied a bounded number of times.
public struct RESPRequestParser: Sendable {
    /// The largest request accepted, headers included (etcd's default for `--max-request-bytes`: 1.5 MiB).
    public private(set) var maxRequestBytes: Int
    /// The most arguments one multibulk request may declare (Redis's historical limit).
    public private(set) var maxArguments: Int
    /// The longest inline command or header line: Redis's 64 KiB, or `maxRequestBytes` if that is smaller.
    public private(set) var maxInlineBytes: Int

    private var buffer: [UInt8] = []
    private var readIndex = 0
    /// The multibulk request under way: its arguments so far, how many are still to come (0: none under way),
    /// the announced length of the next one (-1: its header is not read yet), and its bytes so far.
    private var arguments: [[UInt8]] = []
    private var remainingArguments = 0
    private var bulkLength = -1
    private var requestBytes = 0
    private var failure: RESPError?
    /// Where the search for the end of an incomplete line goes on (its bytes before were searched already): a
    /// line that arrives a byte at a time is searched once, not once per byte (quadratic in its length).
    private var scanned = 0

    /// Makes a parser with the given limits.
    public init(maxRequestBytes: Int = 1_572_864, maxArguments: Int = 1_048_576) {
        self.maxRequestBytes = max(maxRequestBytes, 16)
        self.maxArguments = max(maxArguments, 1)
        maxInlineBytes = min(64 * 1024, self.maxRequestBytes)
    }

    /// Changes the limits for the requests from here on (a connection's limits grow once it authenticates).
    public mutating func setLimits(maxRequestBytes: Int, maxArguments: Int) {
        self.maxRequestBytes = max(maxRequestBytes, 16)
        self.maxArguments = max(maxArguments, 1)
        maxInlineBytes = min(64 * 1024, self.maxRequestBytes)
    }

    /// Bytes received and not yet returned as requests, the arguments of a request under way included (the
    /// server's measure for back-pressure).
    public var bufferedBytes: Int { buffer.count - readIndex + requestBytes }

    /// Adds bytes read from the connection.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Adds bytes read from the connection.
    public mutating func append(_ bytes: [UInt8]) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// The next complete request's arguments (never empty), or nil when more bytes are needed. After a throw
    /// the parser stays failed and throws the same error again.
    public mutating func next() throws(RESPError) -> [[UInt8]]? {
        if let failure { throw failure }
        do {
            return try parse()
        } catch {
            failure = error
            throw error
        }
    }

    private mutating func compact() {
        guard readIndex > 0 else { return }
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 16 << 10)  // idle connections hold little
            readIndex = 0
            scanned = 0
        } else if readIndex >= buffer.count / 2 {
            buffer.removeSubrange(0..<readIndex)
            scanned = max(0, scanned - readIndex)
            readIndex = 0
        }
    }

    private mutating func parse() throws(RESPError) -> [[UInt8]]? {
        while true {
            if remainingArguments == 0 {
                guard readIndex < buffer.count else { return nil }
                guard buffer[readIndex] == UInt8(ascii: "*") else {
                    guard let words = try inlineCommand() else { return nil }
                    if words.isEmpty { continue }  // an empty line, as Redis skips it
                    return words
                }
                guard try startMultibulk() else { return nil }
                continue
            }
            if bulkLength < 0 {
                guard try readBulkHeader() else { return nil }
            }
            guard buffer.count - readIndex >= bulkLength + 2 else { return nil }
            let end = readIndex + bulkLength
            guard buffer[end] == UInt8(ascii: "\r"), buffer[end + 1] == UInt8(ascii: "\n") else {
                throw .protocolError("Protocol error: expected CRLF after a bulk argument of \(bulkLength) bytes, got \(RESPBytes.show(buffer[end]))")
            }
            arguments.append(Array(buffer[readIndex..<end]))
            readIndex = end + 2
            requestBytes += bulkLength + 2
            bulkLength = -1
            remainingArguments -= 1
            if remainingArguments == 0 {
                defer { arguments = []; requestBytes = 0 }
                return arguments
            }
        }
    }

    /// Reads `*N\r\n`; false when the line is not complete yet.
    private mutating func startMultibulk() throws(RESPError) -> Bool {
        guard let line = try headerLine(tooLong: "Protocol error: too big mbulk count string",
                                        invalid: "Protocol error: invalid multibulk length") else { return false }
        guard let count = RESPBytes.integer(buffer[line.digits]), count <= Int64(maxArguments) else {
            throw .protocolError("Protocol error: invalid multibulk length")
        }
        let headerBytes = line.next - readIndex
        readIndex = line.next
        guard count > 0 else { return true }  // `*0` and `*-1` are no request, as in Redis
        // Each argument takes at least 6 bytes (`$0\r\n\r\n`): the count alone can declare too much.
        let least = headerBytes + Int(count) * 6
        if least > maxRequestBytes { throw .tooLarge(declaredBytes: least, limitBytes: maxRequestBytes) }
        remainingArguments = Int(count)
        requestBytes = headerBytes
        arguments = []
        arguments.reserveCapacity(min(Int(count), 64))
        return true
    }

    /// Reads `$len\r\n`; false when the line is not complete yet.
    private mutating func readBulkHeader() throws(RESPError) -> Bool {
        guard readIndex < buffer.count else { return false }
        guard buffer[readIndex] == UInt8(ascii: "$") else {
            throw .protocolError("Protocol error: expected '$', got '\(RESPBytes.character(buffer[readIndex]))'")
        }
        guard let line = try headerLine(tooLong: "Protocol error: too big bulk count string",
                                        invalid: "Protocol error: invalid bulk length") else { return false }
        guard let length = RESPBytes.integer(buffer[line.digits]), length >= 0 else {
            throw .protocolError("Protocol error: invalid bulk length")
        }
        let headerBytes = line.next - readIndex
        let (declared, overflow) = (requestBytes + headerBytes + 2).addingReportingOverflow(Int(length))
        if overflow || declared > maxRequestBytes {
            throw .tooLarge(declaredBytes: overflow ? .max : declared, limitBytes: maxRequestBytes)
        }
        requestBytes += headerBytes
        readIndex = line.next
        bulkLength = Int(length)
        return true
    }

    /// The digits of a header line starting at `readIndex` (after its type byte) and where the next line
    /// starts; nil when the line has not fully arrived.
    private mutating func headerLine(tooLong: String, invalid: String) throws(RESPError) -> (digits: Range<Int>, next: Int)? {
        let limit = min(buffer.count, readIndex + maxInlineBytes)
        var i = max(readIndex + 1, scanned)
        while i < limit, buffer[i] != UInt8(ascii: "\r") { i += 1 }
        guard i < limit else {
            if buffer.count - readIndex > maxInlineBytes { throw .protocolError(tooLong) }
            scanned = i
            return nil
        }
        guard i + 1 < buffer.count else { return nil }
        guard buffer[i + 1] == UInt8(ascii: "\n") else { throw .protocolError(invalid) }
        return (readIndex + 1..<i, i + 2)
    }

    /// Reads one inline line; nil when it has not fully arrived.
    private mutating func inlineCommand() throws(RESPError) -> [[UInt8]]? {
        let limit = min(buffer.count, readIndex + maxInlineBytes + 1)
        var newline = max(readIndex, scanned)
        while newline < limit, buffer[newline] != UInt8(ascii: "\n") { newline += 1 }
        guard newline < limit else {
            if buffer.count - readIndex > maxInlineBytes { throw .protocolError("Protocol error: too big inline request") }
            scanned = newline
            return nil
        }
        var end = newline
        if end > readIndex, buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        let line = buffer[readIndex..<end]
        readIndex = newline + 1
        guard let words = Self.splitInline(line) else {
            throw .protocolError("Protocol error: unbalanced quotes in request")
        }
        return words
    }

    /// Splits an inline command into words as Redis's `sdssplitargs` does: blanks separate words; in "..."
    /// the escapes `\n \r \t \b \a \xHH` and `\<any>` apply; in '...' only `\'`; a closing quote must be
    /// followed by a blank or the end; a NUL byte ends the line. Nil when quotes are unbalanced.
    static func splitInline(_ line: ArraySlice<UInt8>) -> [[UInt8]]? {
        let end = line.endIndex
        func at(_ j: Int) -> UInt8 { j < end ? line[j] : 0 }
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || (0x09...0x0D).contains(c) }
        var words: [[UInt8]] = []
        var i = line.startIndex
        while true {
            while at(i) != 0, isSpace(at(i)) { i += 1 }
            if at(i) == 0 { return words }
            var word: [UInt8] = []
            var inDouble = false, inSingle = false, done = false
            while !done {
                let c = at(i)
                if inDouble {
                    if c == UInt8(ascii: "\\"), at(i + 1) == UInt8(ascii: "x"),
                       let high = RESPBytes.hexValue(at(i + 2)), let low = RESPBytes.hexValue(at(i + 3)) {
                        word.append(high << 4 | low)
                        i += 3
                    } else if c == UInt8(ascii: "\\"), at(i + 1) != 0 {
                        i += 1
                        switch at(i) {
                        case UInt8(ascii: "n"): word.append(0x0A)
                        case UInt8(ascii: "r"): word.append(0x0D)
                        case UInt8(ascii: "t"): word.append(0x09)
                        case UInt8(ascii: "b"): word.append(0x08)
                        case UInt8(ascii: "a"): word.append(0x07)
                        case let other: word.append(other)
                        }
                    } else if c == UInt8(ascii: "\"") {
                        if at(i + 1) != 0, !isSpace(at(i + 1)) { return nil }
                        done = true
                    } else if c == 0 {
                        return nil
                    } else {
                        word.append(c)
                    }
                } else if inSingle {
                    if c == UInt8(ascii: "\\"), at(i + 1) == UInt8(ascii: "'") {
                        i += 1
                        word.append(UInt8(ascii: "'"))
                    } else if c == UInt8(ascii: "'") {
                        if at(i + 1) != 0, !isSpace(at(i + 1)) { return nil }
                        done = true
                    } else if c == 0 {
                        return nil
                    } else {
                        word.append(c)
                    }
                } else {
                    switch c {
                    case 0x20, 0x0A, 0x0D, 0x09, 0: done = true
                    case UInt8(ascii: "\""): inDouble = true
                    case UInt8(ascii: "'"): inSingle = true
                    default: word.append(c)
                    }
                }
                if at(i) != 0 { i += 1 }
            }
            words.append(word)
        }
    }
}

/// Byte helpers shared by the RESP parsers.
enum RESPBytes {
    /// Parses a decimal integer as Redis's `string2ll` does: an optional `-`, digits, no leading zeros, no
    /// `+`, no spaces, no overflow. Nil otherwise.
    static func integer(_ bytes: ArraySlice<UInt8>) -> Int64? {
        var i = bytes.startIndex
        guard i < bytes.endIndex else { return nil }
        let negative = bytes[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        guard i < bytes.endIndex, bytes.count <= 20 else { return nil }
        if bytes[i] == UInt8(ascii: "0") { return !negative && bytes.count == 1 ? 0 : nil }
        var magnitude: UInt64 = 0
        while i < bytes.endIndex {
            let d = bytes[i] &- UInt8(ascii: "0")
            guard d < 10 else { return nil }
            let (times, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(UInt64(d))
            guard !o1, !o2 else { return nil }
            magnitude = sum
            i += 1
        }
        if negative { return magnitude <= UInt64(Int64.max) + 1 ? Int64(truncatingIfNeeded: 0 &- magnitude) : nil }
        return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
    }

    /// The value of a hexadecimal digit, either case.
    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// A byte as Redis's `%c` would print it, escaped when not printable ASCII.
    static func character(_ c: UInt8) -> String {
        (0x20...0x7E).contains(c) ? String(UnicodeScalar(c)) : "\\x" + (c < 16 ? "0" : "") + String(c, radix: 16)
    }

    /// A byte quoted for an error message.
    static func show(_ c: UInt8) -> String { "'\(character(c))'" }
}
