/// The Leader's read index (as in Raft's ReadIndex, §6.4 of Ongaro's thesis): linearizable reads without a log
/// slot. A read arrives (`ReadIndexRequest`); the leader notes the end of the log it has assigned (`nextSlot`),
/// then confirms with a round of `ReadConfirm`s, *started after the read arrived*, that a majority of acceptors
/// have promised no ballot above its own; it answers with the noted index (in per-slot mode, raised to the
/// highest slot any confirming acceptor accepted in). Reads that arrive while a round is out wait for the next
/// one, so one round serves every read that arrived before it started.
///
/// Why that is enough: a write that completed before the read was invoked was decided in some slot `s` at some
/// ballot `b'`. If `b'` is at most the leader's ballot `b`, then `s` is below `nextSlot` (a stable leader's
/// Phase 1 covered every slot decided below `b`; slots decided at `b` it assigned itself). If `b'` is above `b`,
/// a majority had promised `b'` before the read arrived; that majority meets the confirming one, and promises
/// never go back, so some confirming acceptor would have answered with a promise above `b`. A per-slot leader
/// runs no Phase 1, so it also takes the highest slot a confirming acceptor accepted in: a majority accepted in
/// `s`, so one of them confirms with an accepted end above `s`.
///
/// It is a value kept by the Leader, as `Election` is; it makes the messages and the Leader sends them.
struct ReadIndex {
    /// A read waiting for its round: who asked, and the log's end when it arrived.
    struct Read {
        let key: RequestKey
        let from: NodeID
        let index: Slot
    }

    /// What the Leader knows when a read arrives.
    struct LeaderView {
        let active: Bool
        let ballot: Ballot
        /// The ballot of the leader this node believes in (its own when it leads).
        let believed: Ballot
        let nextSlot: Slot
        let tick: UInt64
    }

    /// At most this many reads wait for a round; replicas retry the rest.
    static let limit = 4096

    let node: NodeID
    /// The latest voters: a majority of them confirms a round.
    var members: NodeSet
    var quorum: Int { members.count / 2 + 1 }
    let perSlot: Bool
    /// The test-only flaw: answer at once, confirming nothing.
    let skipsConfirmation: Bool
    /// The test-only flaw: count confirmations from voters a change has removed since the round began.
    let mixesVoters: Bool

    /// The latest round started, and the latest one a majority confirmed.
    private(set) var lastRound = ReadRound(0)
    private(set) var confirmedRound = ReadRound(0)
    /// With leases on: how long a round's confirmation lets the leader answer reads by itself (`Leases`).
    let leaseDuration: Microseconds?
    /// The round in flight: its reads, the acceptors that confirmed it, the highest accepted end they reported,
    /// and the heartbeat tick at which it was last sent.
    private var round: (number: ReadRound, reads: [Read], heard: NodeSet, acceptedEnd: Slot, sentAt: UInt64)?
    /// Reads that arrived while a round was in flight: they need a round that starts after them.
    private var next: [Read] = []

    init(node: NodeID, config: ClusterConfiguration) {
        self.node = node
        members = config.memberSet
        perSlot = config.mode == .perSlot
        skipsConfirmation = config.flaws.contains(.readIndexSkipsConfirmation)
        mixesVoters = config.flaws.contains(.readIndexMixesVoters)
        leaseDuration = config.leasesInForce.map { $0.leaseDuration(config.timing) }
    }

    /// Reads waiting for a round to confirm them.
    var waiting: Int { (round?.reads.count ?? 0) + next.count }

    /// A replica asks for a read index: a node that does not lead refuses, naming the leader it believes in; a
    /// leader starts a round now, or queues the read for the round after the one in flight.
    mutating func arrived(_ request: ReadIndexRequest, from: NodeID, leader: LeaderView) -> [Effect] {
        guard leader.active else {
            return [.send(.readIndexReply(ReadIndexReply(key: request.key, index: nil, leader: leader.believed)), to: from)]
        }
        let read = Read(key: request.key, from: from, index: leader.nextSlot)
        if skipsConfirmation { return [answer(read, at: leader.ballot)] }
        guard round != nil else { return start([read], ballot: leader.ballot, tick: leader.tick) }
        if waiting < Self.limit { next.append(read) }
        return []
    }

    /// An acceptor confirmed `ballot` (the leader checked that its promise is not above it) for `reply.round`:
    /// once a majority has, answers the round's reads and starts the next round for the reads that wait.
    mutating func confirmed(_ reply: ReadConfirmReply, from: NodeID, ballot: Ballot, tick: UInt64) -> [Effect] {
        guard var current = round, current.number == reply.round, members.contains(from) else { return [] }
        current.heard.insert(from)
        current.acceptedEnd = max(current.acceptedEnd, reply.acceptedEnd)
        // Only the current voters count: the voters may have changed since the round began, and confirmations
        // from before and after could make a majority of neither configuration.
        let counted = mixesVoters ? current.heard.count : NodeSet.intersect(current.heard, members).count
        guard counted >= quorum else {
            round = current
            return []
        }
        round = nil
        confirmedRound = current.number
        let end = perSlot ? current.acceptedEnd : .zero
        var effects = current.reads.map { answer(Read(key: $0.key, from: $0.from, index: max($0.index, end)), at: ballot) }
        if !next.isEmpty {
            let reads = next
            next = []
            effects += start(reads, ballot: ballot, tick: tick)
        }
        return effects
    }

    /// A heartbeat tick: a round sent before the last tick and still short of a majority is sent again to the
    /// acceptors that have not confirmed it (the same round: their answers still come after its reads arrived).
    mutating func tick(_ tick: UInt64, ballot: Ballot) -> [Effect] {
        guard var current = round, current.sentAt + 1 < tick else { return [] }
        current.sentAt = tick
        round = current
        return [.broadcast(.readConfirm(ReadConfirm(ballot: ballot, round: current.number)), to: members.subtracting(current.heard))]
    }

    /// The leader stopped leading: the reads waiting are dropped (their replicas ask again, or use the log).
    mutating func reset() {
        round = nil
        next = []
    }

    /// With leases on, a heartbeat tick with no round out starts one with no reads, to renew the lease.
    mutating func renewLease(ballot: Ballot, tick: UInt64) -> [Effect] {
        guard leaseDuration != nil, round == nil else { return [] }
        return start([], ballot: ballot, tick: tick)
    }

    /// Sends a new round. With leases on, the lease its confirmation gives is counted from now: its timer is
    /// set in the same step as the round is sent.
    private mutating func start(_ reads: [Read], ballot: Ballot, tick: UInt64) -> [Effect] {
        lastRound = lastRound.next
        round = (lastRound, reads, NodeSet(), .zero, tick)
        let send = Effect.broadcast(.readConfirm(ReadConfirm(ballot: ballot, round: lastRound)), to: members)
        guard let leaseDuration else { return [send] }
        return [send, .setTimer(.leaseExpiry(lastRound), after: leaseDuration, jitter: 0)]
    }

    private func answer(_ read: Read, at ballot: Ballot) -> Effect {
        .send(.readIndexReply(ReadIndexReply(key: read.key, index: read.index, leader: ballot)), to: read.from)
    }
}
