/// Phase 2 of one slot for one ballot (the Commander of Paxos Made Moderately Complex), kept by the Leader as a
/// value rather than an actor of its own: it counts Accepted replies until a majority has accepted.
struct Commander {
    let ballot: Ballot
    let slot: Slot
    let value: Value
    /// The leader tick at which the Accept was last sent; resent only once a whole tick has passed.
    var sentAtTick: UInt64
    /// The acceptors that accepted, counted only among members.
    private(set) var acceptedBy = NodeSet()
    /// Accepted messages counted (the test-only flaw `commanderCountsDuplicates` counts repeats too).
    private var count = 0

    init(ballot: Ballot, slot: Slot, value: Value, tick: UInt64) {
        self.ballot = ballot
        self.slot = slot
        self.value = value
        self.sentAtTick = tick
    }

    /// The Phase 2a message.
    var accept: Message { .accept(Accept(ballot: ballot, slot: slot, value: value)) }

    /// Records that `acceptor` accepted; returns true exactly once, when the count first reaches `quorum`.
    /// `countsDuplicates` is a test-only flaw: every Accepted counts, repeats of one acceptor's included.
    mutating func record(_ acceptor: NodeID, quorum: Int, countsDuplicates: Bool = false) -> Bool {
        guard acceptedBy.insert(acceptor) || countsDuplicates else { return false }
        count += 1
        return count == quorum
    }
}
