/// When a key stops existing (EX, PX, EXAT, PXAT, EXPIRE ...), as every replica decides it alike.
///
/// A served node stamps each log entry it sends with its clock (`KeyValueStore.stamped(_:at:)`). The store keeps
/// the log's time: the highest stamp applied so far (`clock`), so it never goes back, and it is the same on every
/// replica at the same point of the log. A relative time to live is made absolute at apply, from that time. When
/// an entry moves the time on, every key whose deadline it reached is removed (from memory, and so from the
/// snapshots) before the entry's operations run. A read answered without the log (read index, lease) carries its
/// node's stamp too: if some key is due by then, the read goes through the log instead, so no replica ever
/// answers with a key past its deadline by the reader's clock.
public enum ExpiryTime: Hashable, Sendable {
    /// Milliseconds from the log's time when the operation applies (EX, PX, EXPIRE, PEXPIRE).
    case after(milliseconds: Int64)
    /// Milliseconds since 1970 (EXAT, PXAT, EXPIREAT, PEXPIREAT).
    case at(milliseconds: Int64)
}

/// EXPIRE's conditions (Redis 7): only without a deadline (NX), only with one (XX), only later (GT) or earlier
/// (LT) than the current one, no deadline counting as infinitely late.
public enum ExpiryCondition: UInt8, Hashable, Sendable {
    case always = 0, onlyWithout = 1, onlyWith = 2, onlyLater = 3, onlySooner = 4
}

/// What a TTL-family command reads: the time left or the deadline, in seconds or milliseconds.
public enum ExpiryQuery: UInt8, Hashable, Sendable {
    case secondsLeft = 0, millisecondsLeft = 1, deadlineSeconds = 2, deadlineMilliseconds = 3
}

/// The keys with deadlines, soonest first: a binary heap of (deadline, key). An entry whose key has since been
/// given another deadline or none stays until it reaches the top and is then skipped (`KeyValueStore.deadlines`
/// is the truth), so that changing a deadline costs no search.
struct ExpiryQueue: Sendable {
    private(set) var heap: [(deadline: Int64, key: ByteString)] = []

    var top: (deadline: Int64, key: ByteString)? { heap.first }
    var isEmpty: Bool { heap.isEmpty }

    private static func below(_ a: (deadline: Int64, key: ByteString), _ b: (deadline: Int64, key: ByteString)) -> Bool {
        a.deadline != b.deadline ? a.deadline < b.deadline : a.key < b.key
    }

    mutating func insert(_ deadline: Int64, _ key: ByteString) {
        heap.append((deadline, key))
        var i = heap.count - 1
        while i > 0, Self.below(heap[i], heap[(i - 1) / 2]) {
            heap.swapAt(i, (i - 1) / 2)
            i = (i - 1) / 2
        }
    }

    mutating func popTop() {
        guard !heap.isEmpty else { return }
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var smallest = i
            if l < heap.count, Self.below(heap[l], heap[smallest]) { smallest = l }
            if r < heap.count, Self.below(heap[r], heap[smallest]) { smallest = r }
            if smallest == i { return }
            heap.swapAt(i, smallest)
            i = smallest
        }
    }
}

extension KeyValueStore {
    /// The tag of a stamped entry: the sending node's clock (milliseconds since 1970), then the entry.
    static let stampTag: UInt8 = 32

    /// `operation` (one, a pipeline or a guarded transaction) stamped with `milliseconds`.
    public static func stamped(_ operation: [UInt8], at milliseconds: Int64) -> [UInt8] {
        var w = ByteWriter()
        w.byte(stampTag)
        w.int64(milliseconds)
        w.bytes += operation
        return w.bytes
    }

    /// A stamped entry's time and entry; nil when the bytes are not one.
    static func unstamped(_ bytes: [UInt8]) -> (milliseconds: Int64, operation: [UInt8])? {
        guard bytes.count >= 9, bytes[0] == stampTag else { return nil }
        let time = (1..<9).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << UInt64(8 * ($1 - 1)) }  // as ByteWriter.int64 wrote it
        return (Int64(bitPattern: time), Array(bytes[9...]))
    }

    /// Moves the log's time on to `milliseconds` (never back) and removes every key due by then.
    mutating func advanceClock(to milliseconds: Int64) {
        clock = max(clock, milliseconds)
        while let top = expiryQueue.top, top.deadline <= clock {
            expiryQueue.popTop()
            guard deadlines[top.key] == top.deadline else { continue }  // a deadline changed or removed since
            remove(top.key)
        }
    }

    /// Whether some key is due by `milliseconds` (then a read at that time must go through the log).
    func hasKeyDue(by milliseconds: Int64) -> Bool {
        guard let top = expiryQueue.top else { return false }
        return top.deadline <= max(clock, milliseconds)
    }

    /// Removes `key` of whatever type, with its deadline.
    mutating func remove(_ key: ByteString) {
        entries[key] = nil
        collections[key] = nil
        deadlines[key] = nil
    }

    /// Gives `key` the deadline `milliseconds` (nil: none); a deadline already reached removes the key.
    mutating func setDeadline(_ key: ByteString, _ milliseconds: Int64?) {
        guard let milliseconds else { deadlines[key] = nil; return }
        if milliseconds <= clock { return remove(key) }
        deadlines[key] = milliseconds
        expiryQueue.insert(milliseconds, key)
        if expiryQueue.heap.count > 2 * deadlines.count + 1024 {
            // Mostly stale entries (deadlines changed again and again): rebuilt from the truth.
            expiryQueue = ExpiryQueue()
            for key in deadlines.keys.sorted() { expiryQueue.insert(deadlines[key]!, key) }
        }
    }

    /// An expiry time as milliseconds since 1970, relative ones counted from the log's time.
    func absolute(_ time: ExpiryTime) -> Int64 {
        switch time {
        case .after(let ms): clock.addingReportingOverflow(ms).overflow ? .max : clock + ms
        case .at(let ms): ms
        }
    }

    /// Whether `key` holds anything.
    func holdsKey(_ key: ByteString) -> Bool { entries[key] != nil || collections[key] != nil }

    /// EXPIRE and the like: answers 1 when the deadline was set (or the key removed by one already passed).
    mutating func expire(_ key: ByteString, _ time: ExpiryTime, _ condition: ExpiryCondition) -> KeyValueResult {
        guard holdsKey(key) else { return .integer(0) }
        let new = absolute(time), current = deadlines[key]
        switch condition {
        case .always: break
        case .onlyWithout: guard current == nil else { return .integer(0) }
        case .onlyWith: guard current != nil else { return .integer(0) }
        case .onlyLater: guard let current, new > current else { return .integer(0) }
        case .onlySooner: guard current.map({ new < $0 }) ?? true else { return .integer(0) }
        }
        setDeadline(key, new)
        return .integer(1)
    }

    /// TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 for no key, -1 for a key without a deadline.
    func timeToLive(_ key: ByteString, _ query: ExpiryQuery, now: Int64) -> KeyValueResult {
        guard holdsKey(key) else { return .integer(-2) }
        guard let deadline = deadlines[key] else { return .integer(-1) }
        let (difference, overflow) = deadline.subtractingReportingOverflow(now)
        let left = overflow ? Int64.max : max(0, difference)
        /// Milliseconds to seconds, half up, as Redis rounds (without overflowing near Int64.max).
        func seconds(_ ms: Int64) -> Int64 { ms / 1000 + (ms % 1000 >= 500 ? 1 : 0) }
        switch query {
        case .secondsLeft: return .integer(seconds(left))
        case .millisecondsLeft: return .integer(left)
        case .deadlineSeconds: return .integer(seconds(deadline))
        case .deadlineMilliseconds: return .integer(deadline)
        }
    }
}

extension KeyValueStore {
    /// SET with options, EXPIRE, PERSIST, GETEX.
    mutating func applyExpiryOperation(_ operation: KeyValueOperation) -> KeyValueResult {
        switch operation {
        case .setWith(let k, let v, let condition, let expiry, let returnOld):
            if collections[k] != nil, returnOld { return wrongTypeError }
            let old = entries[k]
            let holds = holdsKey(k)
            let met: Bool
            switch condition {
            case .always: met = true
            case .ifAbsent: met = !holds
            case .ifPresent: met = holds
            case .ifEqual(let expected):
                if collections[k] != nil { return wrongTypeError }
                met = old == expected
            }
            if met {
                let kept = deadlines[k]
                remove(k)
                entries[k] = v
                switch expiry {
                case .clear: break
                case .keep: if let kept { deadlines[k] = kept }  // its queue entry is still there
                case .set(let time): setDeadline(k, absolute(time))
                }
            }
            if returnOld { return .value(old) }
            return met ? .ok : .mismatch(current: old)
        case .expire(let k, let time, let condition):
            return expire(k, time, condition)
        case .persist(let k):
            return .integer(deadlines.removeValue(forKey: k) == nil ? 0 : 1)
        case .getAndExpire(let k, let expiry):
            guard let value = entries[k] else { return .value(nil) }
            switch expiry {
            case .keep: break
            case .clear: deadlines[k] = nil
            case .set(let time): setDeadline(k, absolute(time))
            }
            return .value(value)
        default:
            preconditionFailure("\(operation) is not an expiry operation")
        }
    }
}
