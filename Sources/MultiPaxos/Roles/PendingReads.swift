/// A replica's reads served by read index or lease (`ReadConsistency.readIndex`, `.lease`): each waits for
/// the leader's read index, then until the replica has applied every slot below it, and is then answered from the replica's own state
/// (a query that changes nothing). A read the leader cannot confirm after a few tries goes through the log.
///
/// A read is known by its client's request key, so any read index that comes back for it was computed after
/// the read was invoked, whichever attempt asked for it: the replica may take the lowest it hears of. It is a
/// value kept by the Replica; it counts only, and the Replica sends.
struct PendingReads {
    /// One read: the client's command, the node to answer, whether it may be answered from the leader's lease,
    /// the read index once known, and how often the replica has asked for it.
    struct Read {
        let command: Command
        let origin: NodeID
        let lease: Bool
        var index: Slot?
        var attempts: Int
    }

    /// A read asked for its index this many times without an answer goes through the log instead.
    static let attemptsBeforeLog = 3
    /// At most this many reads wait at once; more go through the log.
    static let limit = 4096

    private var reads: [RequestKey: Read] = [:]

    /// Reads waiting for their index or for the replica to apply that far.
    var count: Int { reads.count }

    /// A client's read arrived, or arrived again (a retry): whether to ask the leader for its index (true), or
    /// to send it through the log (false: asked too often, or too many reads wait).
    mutating func asked(_ command: Command, from origin: NodeID, lease: Bool) -> Bool {
        guard var read = reads[command.key] else {
            guard reads.count < Self.limit else { return false }
            reads[command.key] = Read(command: command, origin: origin, lease: lease, index: nil, attempts: 1)
            return true
        }
        read.attempts += 1
        guard read.attempts <= Self.attemptsBeforeLog else {
            reads[command.key] = nil
            return false
        }
        reads[command.key] = read
        return true
    }

    /// The read waiting under `key`, if any.
    func read(_ key: RequestKey) -> Read? { reads[key] }

    /// Takes a read out of read index, to send it through the log.
    mutating func remove(_ key: RequestKey) -> Read? {
        reads.removeValue(forKey: key)
    }

    /// A read index arrived for `key`: the read keeps the lowest one heard (each is safe). Returns false when no
    /// such read waits.
    mutating func indexed(_ key: RequestKey, at index: Slot) -> Bool {
        guard var read = reads[key] else { return false }
        read.index = min(read.index ?? index, index)
        reads[key] = read
        return true
    }

    /// Takes the reads whose index is at most `applied` (the replica's next slot), in request-key order so that
    /// no hash order reaches a trace.
    mutating func ready(upTo applied: Slot) -> [Read] {
        let keys = reads.compactMap { key, read in read.index.map { $0 <= applied ? key : nil } ?? nil }
        return keys.sorted { ($0.client, $0.request) < ($1.client, $1.request) }.compactMap { reads.removeValue(forKey: $0) }
    }
}
