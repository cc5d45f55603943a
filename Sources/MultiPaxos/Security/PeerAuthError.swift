/// Why a peer's handshake or frame was refused; each description is one line, for the log line that names the
/// peer's address before it is disconnected.
public enum PeerAuthError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A nonce on the wire was not 32 bytes.
    case badNonceLength(Int)
    /// A proof on the wire was not 32 bytes.
    case badProofLength(Int)
    /// The peer sent back this node's own nonce.
    case nonceReflected
    /// The peer's proof matches none of this node's keys: it holds another key, or none.
    case proofMismatch
    /// A sealed frame was shorter than its tag.
    case frameTooShort(bytes: Int)
    /// A frame's tag is wrong at `sequence`: forged, altered, replayed, reordered or reflected.
    case frameTagMismatch(sequence: UInt64)
    /// The connection has used every sequence number; it must be reopened.
    case sequenceExhausted

    public var description: String {
        switch self {
        case .badNonceLength(let n): "handshake nonce is \(n) bytes, not \(PeerNonce.byteCount)"
        case .badProofLength(let n): "handshake proof is \(n) bytes, not \(PeerHandshake.proofBytes)"
        case .nonceReflected: "the peer sent back this node's own nonce (a reflected handshake)"
        case .proofMismatch: "the peer's proof matches no cluster key (it holds another key, or none)"
        case .frameTooShort(let n): "frame of \(n) bytes is shorter than its \(FrameAuthenticator.tagBytes)-byte MAC"
        case .frameTagMismatch(let sequence):
            "frame \(sequence) fails its MAC check (forged, altered, replayed or reordered)"
        case .sequenceExhausted: "the connection's frame sequence numbers are exhausted"
        }
    }
}
