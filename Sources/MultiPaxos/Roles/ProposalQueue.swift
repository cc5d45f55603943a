/// The commands a Leader holds back, in arrival order: while no leader is known, while Phase 1 runs, or while
/// its window of slots is full. Each request key waits at most once, and at most `limit` wait (clients retry
/// the rest), so memory stays bounded.
struct ProposalQueue {
    private var commands: [Command] = []
    private var keys: Set<RequestKey> = []
    /// At most this many commands wait.
    let limit: Int

    init(limit: Int) { self.limit = limit }

    var isEmpty: Bool { commands.isEmpty }
    /// How many commands wait.
    var count: Int { commands.count }

    /// Whether `key` waits here.
    func contains(_ key: RequestKey) -> Bool { keys.contains(key) }

    /// Adds `command` at the back, unless its key already waits or the queue is full.
    mutating func append(_ command: Command) {
        guard commands.count < limit, keys.insert(command.key).inserted else { return }
        commands.append(command)
    }

    /// Puts `again` at the front, in order (commands that lost their slot go before newer ones).
    mutating func putBack(_ again: [Command]) {
        let fresh = again.filter { keys.insert($0.key).inserted }
        commands.insert(contentsOf: fresh, at: 0)
    }

    /// Takes everything, in order.
    mutating func takeAll() -> [Command] {
        defer { commands = []; keys = [] }
        return commands
    }

    /// Takes the next slot's worth from the front: up to `batching.maxCommands` commands and `maxBytes` operation
    /// bytes (one larger command alone), leaving out (and dropping) those `skip` says already hold a slot.
    mutating func takeBatch(_ batching: Batching, skip: (RequestKey) -> Bool) -> [Command] {
        var batch: [Command] = []
        var bytes = 0
        var taken = 0
        while taken < commands.count, batch.count < batching.maxCommands {
            let command = commands[taken]
            if !batch.isEmpty, bytes + command.operation.count > batching.maxBytes { break }
            taken += 1
            keys.remove(command.key)
            if skip(command.key) { continue }
            batch.append(command)
            bytes += command.operation.count
        }
        commands.removeFirst(taken)
        return batch
    }
}
