/// The frame every payload travels in on a peer connection: a 4-byte little-endian payload length, the payload's
/// 4-byte little-endian CRC-32 (the one `FileLog` uses), then the payload. The length lets a reader split the
/// byte stream; the checksum catches a peer that writes garbage.
public enum Frame {
    /// The largest payload a ``FrameDecoder`` accepts unless it is given another limit: 16 MiB.
    public static let maxFrameBytes = 16 << 20
    /// Bytes before each payload: the length and the checksum.
    public static let headerBytes = 8

    /// `payload` in a frame. A payload over 4 GiB cannot be framed (the length is 4 bytes): a programming error.
    public static func frame(_ payload: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(headerBytes + payload.count)
        append(payload, to: &bytes)
        return bytes
    }

    /// Appends `payload`, framed, to `buffer` (an outbound queue, say), without an intermediate array.
    public static func append(_ payload: [UInt8], to buffer: inout [UInt8]) {
        precondition(payload.count <= Int(UInt32.max), "payload of \(payload.count) bytes cannot be framed")
        appendLE32(UInt32(payload.count), to: &buffer)
        appendLE32(FileLog.crc32(payload), to: &buffer)
        buffer.append(contentsOf: payload)
    }

    static func appendLE32(_ v: UInt32, to buffer: inout [UInt8]) {
        for shift in stride(from: 0, to: 32, by: 8) { buffer.append(UInt8(truncatingIfNeeded: v >> UInt32(shift))) }
    }
}

/// Splits a peer's byte stream into frame payloads, checking each frame's length against a limit and its
/// checksum. Feed it what the socket read with `append`, then call `next()` until it returns nil; the buffer
/// then holds at most one partial frame (the header and at most `maxFrameBytes`), plus the next read's bytes.
///
/// After any error the stream's framing is lost: the decoder drops its buffer and everything appended later,
/// and throws the same error again, so a connection cannot be resumed by mistake.
public struct FrameDecoder: Sendable {
    /// The largest payload accepted; a longer announced length throws ``WireError/oversized(length:limit:)``
    /// as soon as the 4 length bytes are in, before any of the payload is buffered.
    public let maxFrameBytes: Int
    /// The error that ended the stream, if one did.
    public private(set) var failure: WireError?
    /// Received bytes; those before `start` are consumed. Consumed bytes are dropped when the buffer is empty,
    /// or when they are at least half of it (so each byte is moved at most once on average).
    private var buffer: [UInt8] = []
    private var start = 0
    /// Whether the handshake's magic and version were read, and which version: ``nextHandshake()`` resumes
    /// from here when the handshake's frame arrives in pieces.
    var preambleVersion: UInt16?

    /// Capacity kept when the buffer empties; more is released, so one large frame does not pin its memory.
    private static let retainedCapacity = 1 << 20

    /// Makes a decoder that accepts payloads of at most `maxFrameBytes` (clamped to 0...UInt32.max).
    public init(maxFrameBytes: Int = Frame.maxFrameBytes) {
        self.maxFrameBytes = min(max(maxFrameBytes, 0), Int(UInt32.max))
    }

    /// Bytes received and not yet consumed.
    public var bufferedBytes: Int { buffer.count - start }

    /// Adds bytes read from the socket.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard failure == nil else { return }
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Adds bytes read from the socket.
    public mutating func append(_ bytes: [UInt8]) {
        guard failure == nil else { return }
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// The next frame's payload, or nil until all of it is in. Throws ``WireError/oversized(length:limit:)``
    /// or ``WireError/badChecksum(expected:actual:)``, and the stream's earlier error after one.
    public mutating func next() throws(WireError) -> [UInt8]? {
        try next(limit: maxFrameBytes)
    }

    /// The next frame's payload under a limit of the caller's (a handshake's is small: a peer not yet
    /// identified may not make this node buffer 16 MiB).
    mutating func next(limit: Int) throws(WireError) -> [UInt8]? {
        if let failure { throw failure }
        guard bufferedBytes >= 4 else { return nil }
        let length = Int(readLE32(at: start))
        guard length <= limit else { throw fail(.oversized(length: length, limit: limit)) }
        guard bufferedBytes >= Frame.headerBytes + length else { return nil }
        let expected = readLE32(at: start + 4)
        let payloadStart = start + Frame.headerBytes
        let payload = Array(buffer[payloadStart..<(payloadStart + length)])
        let actual = FileLog.crc32(payload)
        guard actual == expected else { throw fail(.badChecksum(expected: expected, actual: actual)) }
        consume(Frame.headerBytes + length)
        return payload
    }

    // MARK: For the handshake reader

    /// The bytes received and not yet consumed (indices are the buffer's, not from zero).
    var unread: ArraySlice<UInt8> { buffer[start...] }

    /// Marks `count` unread bytes consumed.
    mutating func consume(_ count: Int) {
        start += count
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= Self.retainedCapacity)
            start = 0
        }
    }

    /// Ends the stream with `error`: drops what is buffered, and returns the error to throw.
    mutating func fail(_ error: WireError) -> WireError {
        failure = error
        buffer = []
        start = 0
        return error
    }

    // MARK: Private

    private mutating func compact() {
        guard start > 0, start * 2 >= buffer.count else { return }
        buffer.removeSubrange(0..<start)
        start = 0
    }

    private func readLE32(at offset: Int) -> UInt32 {
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(buffer[offset + i]) << UInt32(8 * i) }
        return v
    }
}
