/// How a read (an operation the state machine can answer without changing its state, such as a key-value
/// `get`) is made linearizable. Operations that change state always go through the log.
public enum ReadConsistency: String, Sendable, CaseIterable, CustomStringConvertible {
    /// The read is a command in the log: a slot, Phase 2 and a sync, like any write.
    case log
    /// Read index: the replica asks the leader for the end of the log it has assigned; the leader confirms with
    /// a majority of acceptors that no higher ballot exists, and the replica answers from its own state once it
    /// has applied that far. No slot, no Phase 2, no sync.
    case readIndex = "read-index"
    /// Leader lease: the leader answers the read index at once, with no round, while a lease a majority granted
    /// holds (safe under the cluster's clock-drift bound, `ClusterConfiguration.leases`); otherwise, and in a
    /// cluster without leases, as read index.
    case lease

    public var description: String { rawValue }

    /// The spellings `--reads` accepts, for usage texts and errors.
    public static let spellings = allCases.map(\.rawValue).joined(separator: "|")
}

/// A leader's round of read confirmations: reads that arrived before the round started are answered once a
/// majority of acceptors have answered it. Rounds only grow, across ballots too.
public struct ReadRound: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The round's number; 0 is never used.
    public let value: UInt64
    /// Makes round `value`.
    public init(_ value: UInt64) { self.value = value }
    /// The round after this one.
    public var next: ReadRound { ReadRound(value &+ 1) }
    public static func < (a: ReadRound, b: ReadRound) -> Bool { a.value < b.value }
    public var description: String { "r\(value)" }
}

/// A replica asks the leader for a read index on behalf of a client's read (identified by the client's request
/// key, so that a late answer can only ever be for a read invoked before it was computed). Replica → Leader.
public struct ReadIndexRequest: Sendable, Equatable {
    /// The read's request key.
    public let key: RequestKey
    /// Whether the leader may answer from its lease, without a round (`ReadConsistency.lease`).
    public var lease = false
}

/// The leader's answer: every slot below `index` may be decided, and none at or above it was decided before the
/// request arrived; nil when the node does not lead (or stopped leading before a majority confirmed), with the
/// ballot of the leader it believes in. Leader → Replica.
public struct ReadIndexReply: Sendable, Equatable {
    /// The read's request key.
    public let key: RequestKey
    /// The read index, or nil: not the leader.
    public let index: Slot?
    /// The ballot of the leader the sender believes in (its own when it answers).
    public let leader: Ballot
}

/// A leader asks every acceptor whether it still leads: has any acceptor promised a higher ballot? Leader →
/// Acceptor.
public struct ReadConfirm: Sendable, Equatable {
    /// The leader's ballot.
    public let ballot: Ballot
    /// The round of reads it confirms.
    public let round: ReadRound
}

/// An acceptor's answer to a ReadConfirm: its highest promise (at most `ballot` confirms) and one past the highest
/// slot it accepted anything in. Acceptor → Leader.
public struct ReadConfirmReply: Sendable, Equatable {
    /// The ballot of the ReadConfirm.
    public let ballot: Ballot
    /// The round of the ReadConfirm.
    public let round: ReadRound
    /// The acceptor's highest promise when it answered.
    public let promised: Ballot
    /// One past the highest slot the acceptor has accepted a value in.
    public let acceptedEnd: Slot
}
