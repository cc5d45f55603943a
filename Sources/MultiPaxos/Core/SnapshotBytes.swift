import Synchronization

/// A state machine's encoding of its state, made at the latest when first read.
///
/// A machine whose copies are cheap and independent (a struct of copy-on-write collections, as the key-value store
/// is) hands the replica a copy of itself, and the encoding happens where the bytes are first needed: on the
/// storage's snapshot writer, off the node loop, so that a node holding a large state goes on answering heartbeats
/// while its snapshot is taken (about 5 ms per MB on the loop). Once encoded, the copy is released.
public final class SnapshotBytes: Sendable, Hashable {
    private enum State {
        case encoded([UInt8])
        case pending(@Sendable () -> [UInt8])
    }
    private let state: Mutex<State>

    /// Bytes already encoded.
    public init(_ bytes: [UInt8]) { state = Mutex(.encoded(bytes)) }

    /// Bytes `encode` makes when first read (it must capture the state as of now, not a reference to live state).
    public init(encoding encode: @escaping @Sendable () -> [UInt8]) { state = Mutex(.pending(encode)) }

    /// The encoding, made now if it was not yet. The lock is not held while encoding, so that `encodedCount`
    /// never waits for it (the node loop asks that while the writer encodes); two threads that ask at once may
    /// both encode, and both get the same bytes.
    public var bytes: [UInt8] {
        let encode: @Sendable () -> [UInt8]
        switch state.withLock({ $0 }) {
        case .encoded(let bytes): return bytes
        case .pending(let pending): encode = pending
        }
        let bytes = encode()
        state.withLock { s in
            if case .pending = s { s = .encoded(bytes) }
        }
        return bytes
    }

    /// The encoding's length if it was made, without making it.
    public var encodedCount: Int? {
        state.withLock { s in
            if case .encoded(let bytes) = s { return bytes.count }
            return nil
        }
    }

    public static func == (a: SnapshotBytes, b: SnapshotBytes) -> Bool { a === b || a.bytes == b.bytes }
    public func hash(into hasher: inout Hasher) { hasher.combine(bytes) }
}
