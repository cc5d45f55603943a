/// A cut of the search for histories of appends: a get that read `v` must be placed before it completed, and
/// between now and then the value only grows by appends, except where an operation that replaces it (put,
/// delete, a cas that may apply) and could come before then starts it again. So the current value, or the
/// value one of those operations writes, must be a prefix of `v`, or no linearization goes on from here.
/// Prefixes are compared by polynomial hash (a different hash means a different string, so a cut is never
/// wrong; an equal hash only means no cut).
struct ReadDeadlines {
    /// Per operation: where the hashes of its read value's prefixes start in `prefixHashes` (-1: not a get
    /// that read a value, absent included), and that value's length (-1: absent).
    private let prefixStart: [Int]
    private let readLength: [Int]
    private let prefixHashes: [UInt64]
    /// The operations that may replace the value, in call order, as a doubly linked list over operation
    /// indices with a head sentinel at `head`; -1 ends it.
    private var next: [Int32], prev: [Int32]
    private let head: Int
    private let callEntry: [Int32]
    private let replaces: [Bool]
    /// The value each replacing operation writes.
    private let written: [Value]

    /// A value as this cut needs it: absent, or a length and a hash.
    struct Value {
        /// Whether the key is absent.
        var absent: Bool
        /// Length in bytes.
        var length: Int
        /// Polynomial hash (as `KeyStates.hash`).
        var hash: UInt64
    }

    /// Prepares the cut for `operations`, whose calls are at `callEntry`; `written[i]` is the value operation `i`
    /// may set the key to, if it may set it to something other than an extension of the value before.
    init(operations: [KeyOperation], callEntry: [Int32], written: [Value?]) {
        let replaces = written.map { $0 != nil }
        var start: [Int] = [], length: [Int] = [], hashes: [UInt64] = []
        for op in operations {
            guard op.function == .get && op.outcome == .ok else {
                start.append(-1)
                length.append(-1)
                continue
            }
            start.append(hashes.count)
            guard let value = op.output else {
                length.append(-1)
                continue
            }
            length.append(value.count)
            var h: UInt64 = 0
            hashes.append(h)
            for byte in value.bytes {
                h = h &* KeyStates.base &+ UInt64(byte)
                hashes.append(h)
            }
        }
        prefixStart = start
        readLength = length
        prefixHashes = hashes
        self.callEntry = callEntry
        self.replaces = replaces
        self.written = written.map { $0 ?? Value(absent: true, length: 0, hash: 0) }
        let n = operations.count
        head = n
        next = [Int32](repeating: -1, count: n + 1)
        prev = [Int32](repeating: -1, count: n + 1)
        var last = n
        for i in operations.indices.sorted(by: { callEntry[$0] < callEntry[$1] }) where replaces[i] {
            next[last] = Int32(i)
            prev[i] = Int32(last)
            last = i
        }
    }

    /// Bytes held.
    var bytes: Int { prefixHashes.count * 8 + next.count * 8 + prefixStart.count * 16 + written.count * 24 }

    /// Operation `op` was placed: it no longer comes later.
    mutating func remove(_ op: Int) {
        guard replaces[op] else { return }
        next[Int(prev[op])] = next[op]
        if next[op] >= 0 { prev[Int(next[op])] = prev[op] }
    }

    /// Undoes the latest `remove` of `op`.
    mutating func restore(_ op: Int) {
        guard replaces[op] else { return }
        next[Int(prev[op])] = Int32(op)
        if next[op] >= 0 { prev[Int(next[op])] = Int32(op) }
    }

    /// Whether get `op`, completed at entry `due`, can no longer fit after `current`.
    func isHopeless(_ op: Int, due: Int32, current: Value) -> Bool {
        let start = prefixStart[op]
        guard start >= 0, !leadsTo(op, start, from: current) else { return false }
        var x = next[head]
        while x >= 0 && callEntry[Int(x)] < due {
            if leadsTo(op, start, from: written[Int(x)]) { return false }
            x = next[Int(x)]
        }
        return true
    }

    /// Whether appends after `value` may give what get `op` read.
    private func leadsTo(_ op: Int, _ start: Int, from value: Value) -> Bool {
        let read = readLength[op]
        if read < 0 { return value.absent }
        if value.absent { return true }
        return value.length <= read && prefixHashes[start + value.length] == value.hash
    }
}
