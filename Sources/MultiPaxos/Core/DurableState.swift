/// What a member must remember across a crash for Paxos to stay safe: its acceptor's promises and accepted
/// values, and the highest ballot round its leader has used (so a restarted leader never reuses a ballot).
/// The roles mutate it in place within one protocol step, before they return the messages that depend on it,
/// so every message is sent only after the state it depends on is recorded.
///
/// It is a class so that it outlives the node's actors; only the node's roles touch it, and they all run on the
/// node's one serial executor.
public final class DurableState: @unchecked Sendable {
    /// The acceptor's state.
    public internal(set) var acceptor = AcceptorRecord()
    /// Whether this node has become a member; a restarted member resumes from this state without rejoining.
    public internal(set) var isMember = false
    /// The highest ballot round this node's leader has competed with.
    public internal(set) var ballotRound: UInt64 = 0
    /// The replica's last persisted snapshot. Replicas report only this far as applied, so the cluster trims a
    /// slot only once a majority holds it durably.
    public internal(set) var replicaSnapshot: Snapshot?

    /// Empty state: a node that has never voted.
    public init() {}
}

/// An acceptor's durable state.
public struct AcceptorRecord: Sendable {
    /// The ballot promised for every slot.
    public internal(set) var promised = Ballot.initial
    /// Per-slot promises (per-slot mode), only where above `promised`.
    public internal(set) var slotPromised: [Slot: Ballot] = [:]
    /// The value accepted at the highest ballot, per slot.
    public internal(set) var accepted: [Slot: PValue] = [:]
    /// Slots below this are decided and applied by a majority.
    public internal(set) var trimmedBelow = Slot.zero
    /// One past the highest slot with an accepted value.
    public internal(set) var slotsEnd = Slot.zero
    /// The highest ballot promised for any slot: a leader below it is stale.
    public internal(set) var highestPromised = Ballot.initial

    /// The ballot promised for `slot`.
    public func promised(for slot: Slot) -> Ballot {
        guard let own = slotPromised[slot] else { return promised }
        return max(own, promised)
    }
}
