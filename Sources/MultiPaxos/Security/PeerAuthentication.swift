/// Which end of a peer connection a node is: the one that dialed or the one that accepted. The role's byte goes
/// into every proof, so that a proof one end sends can never pass as the other end's (a reflection attack).
public enum PeerRole: UInt8, Sendable {
    /// The node that opened the connection.
    case dialer = 1
    /// The node that accepted it.
    case acceptor = 2

    /// The other end's role.
    public var peer: PeerRole { self == .dialer ? .acceptor : .dialer }
}

/// A fresh random challenge, one from each end of every connection. Because each end proves itself over both
/// nonces, a proof recorded on an earlier connection is worthless on a later one (a replay attack).
public struct PeerNonce: Equatable, Sendable {
    /// Bytes in a nonce: 256 bits, so that two connections never share one.
    public static let byteCount = 32
    /// The nonce's bytes.
    public let bytes: [UInt8]

    /// Takes a nonce read from the wire, or throws ``PeerAuthError/badNonceLength(_:)`` unless it is 32 bytes.
    public init(bytes: [UInt8]) throws(PeerAuthError) {
        guard bytes.count == Self.byteCount else { throw .badNonceLength(bytes.count) }
        self.bytes = bytes
    }

    /// A new nonce from `generator`: the real-time shell passes `SystemRandomNumberGenerator`, tests a seeded one.
    public static func random(using generator: inout some RandomNumberGenerator) -> PeerNonce {
        var bytes = [UInt8]()
        bytes.reserveCapacity(byteCount)
        for _ in 0..<(byteCount / 8) {
            let word: UInt64 = generator.next()
            withUnsafeBytes(of: word.littleEndian) { bytes.append(contentsOf: $0) }
        }
        return PeerNonce(checked: bytes)
    }

    private init(checked bytes: [UInt8]) { self.bytes = bytes }
}

/// What a handshake's proofs are about: the cluster and the two nodes. Binding them in means a proof made for
/// one pair of nodes, or for another cluster sharing the key by mistake, cannot be passed off for another.
public struct PeerBinding: Equatable, Sendable {
    /// The cluster both nodes claim to belong to.
    public let clusterID: String
    /// The node that dialed.
    public let dialer: NodeID
    /// The node that accepted.
    public let acceptor: NodeID

    /// Binds a handshake between `dialer` and `acceptor` in cluster `clusterID`.
    public init(clusterID: String, dialer: NodeID, acceptor: NodeID) {
        self.clusterID = clusterID
        self.dialer = dialer
        self.acceptor = acceptor
    }

    /// The binding's bytes, unambiguous because the cluster id is length-prefixed: its UTF-8 length (4 bytes,
    /// little-endian), its bytes, then both node ids (4 bytes each, little-endian).
    var encoded: [UInt8] {
        var bytes = [UInt8]()
        let id = Array(clusterID.utf8)
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: id.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes += id
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: dialer.value).littleEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: acceptor.value).littleEndian) { bytes.append(contentsOf: $0) }
        return bytes
    }
}

/// One end of the challenge–response that opens a peer connection between two nodes sharing a cluster key. It
/// proves to the peer that this node holds a key without sending the key, checks that the peer does too, and
/// derives the session key that authenticates every later frame. No sockets: the transport carries the bytes.
///
/// The exchange (the order of the two sends is up to the transport, e.g. nonces in both hellos, then proofs):
/// 1. each end sends a fresh ``PeerNonce``;
/// 2. each end sends ``proof(peerNonce:)``: `HMAC(key, "multipaxos-auth-v1" || role || binding || dialerNonce ||
///    acceptorNonce)`, with its own role byte and its first (presented) key;
/// 3. each end checks the peer's proof with ``verify(peerProof:peerNonce:)``, against each of its keys, and on
///    success gets a ``PeerSession``.
///
/// What each part answers: the HMAC, an impostor without the key (it cannot compute a proof, and learns nothing
/// of the key from one); the nonces from both ends, replay of a recorded handshake; the role byte, reflection of
/// a node's own proof back to it; the binding, a proof for one pair of nodes or one cluster used for another.
public struct PeerHandshake: Sendable {
    /// Bytes in a proof: a full HMAC-SHA256.
    public static let proofBytes = HMACSHA256.codeBytes
    /// The label that starts every proof, so that proofs can never be confused with other uses of the key.
    static let proofLabel = Array("multipaxos-auth-v1".utf8)
    /// The label that starts the session key's derivation.
    static let sessionLabel = Array("multipaxos-session-v1".utf8)

    /// This end's role.
    public let role: PeerRole
    /// The cluster and the two node ids.
    public let binding: PeerBinding
    /// This end's nonce, to send to the peer.
    public let ownNonce: PeerNonce
    private let keys: ClusterKeys

    /// Starts one end of a handshake; `ownNonce` must be fresh for every connection.
    public init(role: PeerRole, keys: ClusterKeys, binding: PeerBinding, ownNonce: PeerNonce) {
        self.role = role
        self.keys = keys
        self.binding = binding
        self.ownNonce = ownNonce
    }

    /// This end's proof that it holds the presented (first) key, once the peer's nonce is known.
    public func proof(peerNonce: PeerNonce) -> [UInt8] {
        Self.proof(key: keys.presentedKey, role: role, binding: binding, nonces: nonces(peerNonce: peerNonce))
    }

    /// Checks the peer's proof against each of this node's keys (so a cluster mid-rotation still connects) and
    /// returns the session; throws ``PeerAuthError`` when the proof matches no key, has the wrong length, or the
    /// peer echoed this end's own nonce. A node that fails must be disconnected and never counted in a quorum.
    public func verify(peerProof: [UInt8], peerNonce: PeerNonce) throws(PeerAuthError) -> PeerSession {
        guard peerProof.count == Self.proofBytes else { throw .badProofLength(peerProof.count) }
        // An echoed nonce means the "peer" may be this node's own messages reflected back; refuse it outright.
        guard peerNonce != ownNonce else { throw .nonceReflected }
        let nonces = nonces(peerNonce: peerNonce)
        var matched: Int?
        // Every key is tried, whatever matched, so the time taken does not depend on which key the peer holds.
        for (index, key) in keys.keys.enumerated() {
            let expected = Self.proof(key: key, role: role.peer, binding: binding, nonces: nonces)
            if constantTimeEquals(expected, peerProof) && matched == nil { matched = index }
        }
        guard let matched else { throw .proofMismatch }
        // Both ends must derive the session from the same key: the dialer's presented key. The dialer knows it;
        // the acceptor has just learned which of its keys it is.
        let sessionKeyIndex = role == .dialer ? 0 : matched
        let sessionKey = Self.sessionKey(key: keys.keys[sessionKeyIndex], binding: binding, nonces: nonces)
        return PeerSession(role: role, sessionKey: sessionKey, peerKeyIndex: matched)
    }

    /// The dialer's nonce, then the acceptor's.
    private func nonces(peerNonce: PeerNonce) -> (dialer: PeerNonce, acceptor: PeerNonce) {
        role == .dialer ? (ownNonce, peerNonce) : (peerNonce, ownNonce)
    }

    /// `HMAC(key, "multipaxos-auth-v1" || role || binding || dialerNonce || acceptorNonce)`.
    static func proof(key: [UInt8], role: PeerRole, binding: PeerBinding,
                      nonces: (dialer: PeerNonce, acceptor: PeerNonce)) -> [UInt8] {
        var mac = HMACSHA256.Hasher(key: key)
        mac.update(proofLabel)
        mac.update(byte: role.rawValue)
        mac.update(binding.encoded)
        mac.update(nonces.dialer.bytes)
        mac.update(nonces.acceptor.bytes)
        return mac.finalize()
    }

    /// `HMAC(key, "multipaxos-session-v1" || binding || dialerNonce || acceptorNonce)`: fresh for every
    /// connection because its nonces are, so frames from one connection are worthless on another.
    static func sessionKey(key: [UInt8], binding: PeerBinding,
                           nonces: (dialer: PeerNonce, acceptor: PeerNonce)) -> [UInt8] {
        var mac = HMACSHA256.Hasher(key: key)
        mac.update(sessionLabel)
        mac.update(binding.encoded)
        mac.update(nonces.dialer.bytes)
        mac.update(nonces.acceptor.bytes)
        return mac.finalize()
    }
}

/// An authenticated peer connection: the session key both ends derived, and the frame authenticators for each
/// direction. Its description and mirror leave out the session key.
public struct PeerSession: Sendable, CustomStringConvertible, CustomReflectable {
    /// The key every frame's MAC is computed under (never sent).
    public let sessionKey: [UInt8]
    /// Which of this node's keys the peer proved it holds (0 or 1); a log line can tell an operator which nodes
    /// still present the old key during a rotation.
    public let peerKeyIndex: Int
    /// Seals the frames this end sends.
    public var outgoing: FrameAuthenticator
    /// Opens the frames the peer sends.
    public var incoming: FrameAuthenticator

    public var description: String {
        "peer session (peer key \(peerKeyIndex), sent \(outgoing.sequence), received \(incoming.sequence))"
    }
    public var customMirror: Mirror { Mirror(self, children: ["peerKeyIndex": peerKeyIndex]) }

    /// The session of the end with `role`, under `sessionKey`.
    init(role: PeerRole, sessionKey: [UInt8], peerKeyIndex: Int) {
        self.sessionKey = sessionKey
        self.peerKeyIndex = peerKeyIndex
        let sent: FrameDirection = role == .dialer ? .fromDialer : .fromAcceptor
        let received: FrameDirection = role == .dialer ? .fromAcceptor : .fromDialer
        outgoing = FrameAuthenticator(sessionKey: sessionKey, direction: sent)
        incoming = FrameAuthenticator(sessionKey: sessionKey, direction: received)
    }
}
