/// Why bytes from a peer were refused. Every case ends the connection: after one, the stream's framing can no
/// longer be trusted, so a ``FrameDecoder`` keeps throwing it.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The connection did not begin with the magic bytes `MPAXNET\0`: not a MultiPaxos node (the bytes seen, at
    /// most eight).
    case foreignPeer(firstBytes: [UInt8])
    /// The peer speaks a protocol version this node does not.
    case unsupportedVersion(UInt16)
    /// A frame announced a payload longer than the decoder's limit.
    case oversized(length: Int, limit: Int)
    /// A frame's payload does not match the CRC-32 its header carries (`expected`, from the header; `actual`,
    /// computed).
    case badChecksum(expected: UInt32, actual: UInt32)
    /// A frame's payload is not a valid message: the reason names the field or offset and the bad value.
    case malformed(String)
    /// The handshake's payload is invalid (cluster id, node id, trailing bytes).
    case badHandshake(String)

    public var description: String {
        switch self {
        case .foreignPeer(let bytes):
            "foreign peer: the connection began with \(Self.show(bytes)), not the magic \(Self.show(Handshake.magic))"
        case .unsupportedVersion(let v):
            "unsupported protocol version \(v) (this node speaks \(Handshake.protocolVersion))"
        case .oversized(let length, let limit): "frame of \(length) bytes is over the limit of \(limit) bytes"
        case .badChecksum(let expected, let actual):
            "frame checksum \(Self.hex(expected)) does not match its payload's \(Self.hex(actual))"
        case .malformed(let reason): "malformed message: \(reason)"
        case .badHandshake(let reason): "bad handshake: \(reason)"
        }
    }

    static func hex(_ v: UInt32) -> String {
        let digits = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }

    /// Bytes in hex, then as printable ASCII (a dot for anything else), so that a log shows what connected:
    /// `47 45 54 20 "GET "`.
    static func show(_ bytes: [UInt8]) -> String {
        let hexBytes = bytes.map { b in (b < 16 ? "0" : "") + String(b, radix: 16) }.joined(separator: " ")
        let text = String(bytes.map { (0x20..<0x7F).contains($0) && $0 != 0x22 ? Character(UnicodeScalar($0)) : "." })
        return bytes.isEmpty ? "nothing" : "\(hexBytes) \"\(text)\""
    }
}
