/// Which way a frame travels on a peer connection. Its byte is in every frame's MAC, so a frame cannot be sent
/// back to the end that sealed it (reflection).
public enum FrameDirection: UInt8, Sendable {
    /// From the node that dialed to the node that accepted.
    case fromDialer = 1
    /// From the node that accepted to the node that dialed.
    case fromAcceptor = 2
}

/// Authenticates the frames of one direction of a peer connection after its handshake: each frame carries
/// `HMAC(sessionKey, direction || sequence (8 bytes, little-endian) || payload)`, truncated to 16 bytes. The MAC
/// stops forgery and alteration (no key, no tag); the sequence number, counted from 0 and never sent, stops
/// replay, reordering and dropping (a frame only opens at its own position); the direction, reflection. There is
/// no encryption: payloads travel in the clear.
///
/// A frame that fails ``open(_:)`` leaves the sequence where it was; the connection must then be closed, since
/// the stream can no longer be trusted.
public struct FrameAuthenticator: Sendable {
    /// Bytes of MAC appended to every frame: 128 bits, as TLS and IPsec truncate theirs.
    public static let tagBytes = 16

    /// The direction this authenticator seals or opens.
    public let direction: FrameDirection
    /// The sequence number of the next frame to seal or open.
    public private(set) var sequence: UInt64 = 0
    /// HMAC-SHA256 already keyed with the session key; each frame authenticates a copy.
    private let keyed: HMACSHA256.Hasher

    /// Starts at sequence 0 for frames travelling in `direction` under `sessionKey`.
    public init(sessionKey: [UInt8], direction: FrameDirection) {
        self.direction = direction
        keyed = HMACSHA256.Hasher(key: sessionKey)
    }

    /// Returns `payload` followed by its 16-byte tag at the current sequence number, and advances the sequence.
    public mutating func seal(_ payload: [UInt8]) -> [UInt8] {
        // 2^64 frames would take centuries at any rate a socket allows; wrapping would allow replay, so trap.
        precondition(sequence < .max, "frame sequence number exhausted")
        var sealed = [UInt8]()
        sealed.reserveCapacity(payload.count + Self.tagBytes)
        sealed += payload
        sealed += tag(payload[...])
        sequence += 1
        return sealed
    }

    /// Checks a sealed frame's tag (in constant time) at the current sequence number and returns its payload,
    /// advancing the sequence; throws ``PeerAuthError`` for a frame shorter than a tag, or one that was forged,
    /// altered, replayed, reordered, reflected or sealed under another session.
    public mutating func open(_ sealed: [UInt8]) throws(PeerAuthError) -> [UInt8] {
        guard sealed.count >= Self.tagBytes else { throw .frameTooShort(bytes: sealed.count) }
        guard sequence < .max else { throw .sequenceExhausted }
        let payload = sealed[..<(sealed.count - Self.tagBytes)]
        let received = Array(sealed[(sealed.count - Self.tagBytes)...])
        guard constantTimeEquals(tag(payload), received) else { throw .frameTagMismatch(sequence: sequence) }
        sequence += 1
        return Array(payload)
    }

    /// The truncated MAC of `payload` at the current sequence number.
    private func tag(_ payload: ArraySlice<UInt8>) -> [UInt8] {
        var mac = keyed
        mac.update(byte: direction.rawValue)
        withUnsafeBytes(of: sequence.littleEndian) { mac.update($0) }
        mac.update(payload)
        return Array(mac.finalize().prefix(Self.tagBytes))
    }
}
