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

    init(ballot: Ballot, slot: Slot, value: Value, tick: UInt64) {
        self.ballot = ballot
        self.slot = slot
        self.value = value
        self.sentAtTick = tick
    }

    /// The Phase 2a message.
    var accept: Message { .accept(Accept(ballot: ballot, slot: slot, value: value)) }

    /// Records that `acceptor` accepted; returns true exactly once, when the count first reaches `quorum`.
    mutating func record(_ acceptor: NodeID, quorum: Int) -> Bool {
        acceptedBy.insert(acceptor) && acceptedBy.count == quorum
    }
}
