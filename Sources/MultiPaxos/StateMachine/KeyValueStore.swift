/// The built-in replicated key-value store: Redis's strings, hashes, lists, sets and sorted sets under
/// byte-string keys, with byte-string values.
public struct KeyValueStore: StateMachine, Equatable {
    /// The keys that hold strings, with their values.
    public internal(set) var entries: [ByteString: ByteString] = [:]
    /// The keys that hold a hash, list, set or sorted set (a key is here or in `entries`, never in both).
    var collections: [ByteString: KeyCollection] = [:]
    /// The log's time: the highest stamp applied (milliseconds since 1970; 0 before any). See `ExpiryTime`.
    var clock: Int64 = 0
    /// The keys that have a deadline, with it (milliseconds since 1970); each is a key that holds something.
    var deadlines: [ByteString: Int64] = [:]
    /// `deadlines`, soonest first (with stale entries, skipped when reached).
    var expiryQueue = ExpiryQueue()

    /// An empty store.
    public init() {}

    /// Equal contents, deadlines and log time (however the deadline queue happens to be ordered).
    public static func == (lhs: KeyValueStore, rhs: KeyValueStore) -> Bool {
        lhs.entries == rhs.entries && lhs.collections == rhs.collections && lhs.clock == rhs.clock && lhs.deadlines == rhs.deadlines
    }

    /// Applies `operation` and returns its result; the typed form of `apply(_:)`.
    public mutating func apply(_ operation: KeyValueOperation) -> KeyValueResult {
        let result = applyUntimed(operation)
        if !deadlines.isEmpty { settleDeadlines(after: operation, result) }
        return result
    }

    /// Removes the deadlines an operation ended: those of keys it removed, and of values it replaced (SET,
    /// GETSET, MSETNX, a STORE), as Redis does. The operations that set or move deadlines do so themselves.
    private mutating func settleDeadlines(after operation: KeyValueOperation, _ result: KeyValueResult) {
        if case .error = result { return }  // refused: nothing changed
        switch operation {
        case .put(let k, _), .getAndSet(let k, _): deadlines[k] = nil
        case .compareAndSet(let k, _, _): if result == .ok { deadlines[k] = nil }
        case .putAllIfAbsent(let pairs):
            if result == .integer(1) { for i in stride(from: 0, to: pairs.count, by: 2) { deadlines[pairs[i]] = nil } }
        case .combineSets(_, _, let store?): deadlines[store] = nil
        default:
            if let k = operation.key, deadlines[k] != nil, !holdsKey(k) { deadlines[k] = nil }
        }
    }

    private mutating func applyUntimed(_ operation: KeyValueOperation) -> KeyValueResult {
        // A string operation on a key that holds a collection is refused (SET, DEL and the like replace or
        // remove whatever is there). The test costs nothing while no collection exists.
        if !collections.isEmpty, operation.isStringOnly, let k = operation.key, collections[k] != nil {
            if case .compareAndSet(_, nil, _) = operation { return .mismatch(current: nil) }  // SETNX: the key exists
            return wrongTypeError
        }
        switch operation {
        case .get(let k):
            return .value(entries[k])
        case .put(let k, let v):
            entries[k] = v
            if !collections.isEmpty { collections[k] = nil }
            return .ok
        case .delete(let k):
            if entries.removeValue(forKey: k) != nil { return .integer(1) }
            return .integer(collections.isEmpty || collections.removeValue(forKey: k) == nil ? 0 : 1)
        case .append(let k, let v):
            entries[k, default: ByteString()].bytes.append(contentsOf: v.bytes)
            return .integer(Int64(entries[k]?.count ?? 0))
        case .compareAndSet(let k, let expected, let new):
            guard entries[k] == expected else { return .mismatch(current: entries[k]) }
            entries[k] = new
            return .ok
        case .increment(let k, let by):
            let current: Int64
            if let held = entries[k] {
                guard let parsed = Self.integer(held.bytes) else { return .error("ERR value is not an integer or out of range") }
                current = parsed
            } else {
                current = 0
            }
            let (sum, overflow) = current.addingReportingOverflow(by)
            guard !overflow else { return .error("ERR increment or decrement would overflow") }
            entries[k] = ByteString(Array(String(sum).utf8))
            return .integer(sum)
        case .getAndSet(let k, let v):
            defer { entries[k] = v }
            return .value(entries[k])
        case .getAndDelete(let k):
            return .value(entries.removeValue(forKey: k))
        case .rename, .copy, .flush, .putAllIfAbsent, .incrementFloat, .overwrite, .deleteIf, .moveElement, .moveMember, .combineSets:
            return applyKeyOperation(operation)
        case .setWith, .expire, .persist, .getAndExpire:
            return applyExpiryOperation(operation)
        case .hash(let op): return apply(op)
        case .list(let op): return apply(op)
        case .set(let op): return apply(op)
        case .sortedSet(let op): return apply(op)
        case .count, .keys, .type, .exists, .scan, .firstKey, .substring, .digests, .timeToLive:
            guard let result = read(operation) else { preconditionFailure("read(_:) answers no \(operation)") }
            return result
        }
    }

    /// What a read-only operation answers (nil for one that changes the store).
    func read(_ operation: KeyValueOperation) -> KeyValueResult? {
        switch operation {
        case .get(let k):
            if !collections.isEmpty, collections[k] != nil { return wrongTypeError }
            return .value(entries[k])
        case .count: return .integer(Int64(entries.count + collections.count))
        case .keys(let pattern):
            let matching = { (key: ByteString) in Glob.matches(pattern.bytes[...], key.bytes[...]) }
            return .list((entries.keys.filter(matching) + collections.keys.filter(matching)).sorted())
        case .type(let k):
            return .value(ByteString(typeName(of: k)))
        case .exists(let k):
            return .integer(holdsKey(k) ? 1 : 0)
        case .scan, .firstKey, .substring: return readKeys(operation)
        case .digests(let keys): return .array(keys.map { .value(digest(of: $0)) })
        case .timeToLive(let k, let query): return timeToLive(k, query, now: clock)
        case .combineSets(_, _, let store): return store == nil ? readKeys(operation) : nil
        case .hash(let op): return op.isRead ? read(op) : nil
        case .list(let op): return op.isRead ? read(op) : nil
        case .set(let op): return op.isRead ? read(op) : nil
        case .sortedSet(let op): return op.isRead ? read(op) : nil
        case .put, .delete, .append, .compareAndSet, .increment, .getAndSet, .getAndDelete, .rename, .copy, .flush,
             .putAllIfAbsent, .incrementFloat, .overwrite, .deleteIf, .moveElement, .moveMember, .setWith, .expire, .persist,
             .getAndExpire: return nil
        }
    }

    /// The value of `bytes` as Redis reads an integer: an optional minus sign and decimal digits, no leading
    /// zeros or spaces, within 64 bits.
    static func integer(_ bytes: [UInt8]) -> Int64? {
        guard !bytes.isEmpty, bytes.count <= 20 else { return nil }
        let negative = bytes[0] == UInt8(ascii: "-")
        let digits = bytes.dropFirst(negative ? 1 : 0)
        guard let first = digits.first, digits.allSatisfy({ (0x30...0x39).contains($0) }),
              first != 0x30 || digits.count == 1, !(negative && digits == [0x30]) else { return nil }
        var value: Int64 = 0
        for digit in digits {
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = negative ? times.subtractingReportingOverflow(Int64(digit - 0x30))
                                      : times.addingReportingOverflow(Int64(digit - 0x30))
            guard !o1, !o2 else { return nil }
            value = next
        }
        return value
    }

    public mutating func apply(_ operation: [UInt8]) -> [UInt8] {
        if let (time, entry) = Self.unstamped(operation) {
            advanceClock(to: time)  // the entry's time: keys due by then are gone before it runs
            return entry.first == Self.stampTag ? [0xFF] : apply(entry)
        }
        if let result = applyGuarded(operation) { return result }
        if let operations = Self.pipelined(operation) { return applyPipeline(operations) }
        return applySingle(operation)
    }

    /// A pipeline's operations in order, each as if alone; a pipeline or guarded transaction inside one is refused
    /// (no recursion on input).
    mutating func applyPipeline(_ operations: [[UInt8]]) -> [UInt8] {
        Self.pipeline(operations.map { $0.first == Self.pipelineTag || $0.first == Self.guardedTag ? [0xFF] : applySingle($0) })
    }

    /// One operation's result bytes. A malformed operation is a value like any other: every replica rejects it
    /// identically.
    private mutating func applySingle(_ operation: [UInt8]) -> [UInt8] {
        guard let op = try? KeyValueOperation(decoding: operation) else { return [0xFF] }
        return apply(op).encoded
    }

    /// A read's result (`get`, `count`, `keys`), read without changing anything, or a pipeline's of reads only;
    /// nil for every other operation (and for bytes that are no operation, which the log must reject like any
    /// replica would).
    public func query(_ operation: [UInt8]) -> [UInt8]? {
        if let (time, entry) = Self.unstamped(operation) {
            // Answered here only if no key is due by the reader's time; else through the log, which removes it.
            guard entry.first != Self.stampTag, !hasKeyDue(by: time) else { return nil }
            var now = self
            now.clock = max(clock, time)  // TTL counts from the reader's time (no key changes: none is due)
            return now.query(entry)
        }
        // Only a read or a pipeline can be one: anything else is answered without decoding it.
        guard let tag = operation.first, tag < 64 && Self.readTags & (1 << tag) != 0 || tag == Self.pipelineTag else { return nil }
        if let operations = Self.pipelined(operation) {
            var results: [[UInt8]] = []
            for op in operations {
                // Parts are single operations, as `applyPipeline` takes them: nothing nested is answered (and
                // nothing recurses on input).
                guard let tag = op.first, tag != Self.pipelineTag, tag != Self.stampTag, tag != Self.guardedTag,
                      let result = query(op) else { return nil }
                results.append(result)
            }
            return Self.pipeline(results)
        }
        guard let op = try? KeyValueOperation(decoding: operation) else { return nil }
        return read(op)?.encoded
    }

    /// The tags of operations that may be reads, as bits (of the collections' operations, some are): 0, 9...16,
    /// 20, 21, 24, 29, 30, 36.
    private static let readTags: UInt64 = [0, 9, 10, 11, 12, 13, 14, 15, 16, 20, 21, 24, 29, 30, 36].reduce(0) { $0 | 1 << $1 }

    /// The tag of a pipeline: several operations (or, as a result, their results) in one log entry, applied in
    /// order. A served node packs the commands a client pipelined on one connection into one, so that they share
    /// a slot and a round trip (the operations' own tags are below it).
    static let pipelineTag: UInt8 = 5

    /// A pipeline of `parts` (operations or results).
    static func pipeline(_ parts: [[UInt8]]) -> [UInt8] {
        var w = ByteWriter()
        w.byte(pipelineTag)
        w.uint32(UInt32(parts.count))
        for part in parts { w.blob(part) }
        return w.bytes
    }

    /// The parts of a pipeline, or nil when the bytes are not one (or not a well-formed one).
    static func pipelined(_ bytes: [UInt8]) -> [[UInt8]]? {
        guard bytes.first == pipelineTag else { return nil }
        var r = ByteReader(bytes)
        _ = try? r.byte()
        guard let count = try? r.count(of: "pipeline part", minimumBytes: 4) else { return nil }
        var parts: [[UInt8]] = []
        parts.reserveCapacity(count)
        for _ in 0..<count {
            guard let part = try? r.blob() else { return nil }
            parts.append(part)
        }
        return r.isAtEnd ? parts : nil
    }

    /// Encodes a copy of the store when called: the copy shares the dictionary until the store next changes, when
    /// the store copies its table (not the keys' and values' bytes), so the loop never pays for the encoding.
    public func snapshotEncoder() -> @Sendable () -> [UInt8] {
        let copy = self
        return { copy.snapshot() }
    }

    /// Version 1 (strings only): the number of keys, then each key and value in key order. A store that holds
    /// collections writes version 2: `KeyValueSnapshot.versionMarker`, the version byte, the strings as in
    /// version 1, then the collections (see `KeyValueSnapshot`). A store that has a log time (its entries were
    /// stamped) or deadlines writes version 3: version 2, then the log time and each deadline (key, milliseconds)
    /// in key order. A store of strings alone and no time still writes version 1, which every earlier build reads.
    public func snapshot() -> [UInt8] {
        var w = ByteWriter()
        let version: UInt8 = clock != 0 || !deadlines.isEmpty ? 3 : collections.isEmpty ? 1 : 2
        if version > 1 {
            w.uint32(KeyValueSnapshot.versionMarker)
            w.byte(version)
        }
        w.uint32(UInt32(entries.count))
        for key in entries.keys.sorted() {
            w.byteString(key)
            w.byteString(entries[key]!)
        }
        if version > 1 { KeyValueSnapshot.write(collections, into: &w) }
        if version > 2 {
            w.int64(clock)
            w.uint32(UInt32(deadlines.count))
            for key in deadlines.keys.sorted() { w.byteString(key); w.int64(deadlines[key]!) }
        }
        return w.bytes
    }

    public mutating func restore(from snapshot: [UInt8]) throws {
        var r = ByteReader(snapshot)
        var count = try r.uint32()
        var version: UInt8 = 1
        if count == KeyValueSnapshot.versionMarker {
            version = try r.byte()
            guard version == 2 || version == 3 else {
                throw ByteDecodingError("key-value snapshot version \(version) is not one this build reads (1, 2 or 3)")
            }
            count = try r.uint32()
        }
        var restored: [ByteString: ByteString] = [:]
        for _ in 0..<count {
            let k = try r.byteString()
            restored[k] = try r.byteString()
        }
        let restoredCollections = version >= 2 ? try KeyValueSnapshot.readCollections(from: &r) : [:]
        var restoredClock: Int64 = 0
        var restoredDeadlines: [ByteString: Int64] = [:]
        if version == 3 {
            restoredClock = try r.int64()
            guard restoredClock >= 0 else { throw ByteDecodingError("key-value snapshot's log time \(restoredClock) is negative") }
            let count = try r.count(of: "deadline", minimumBytes: 12)
            for _ in 0..<count {
                let key = try r.byteString()
                guard restored[key] != nil || restoredCollections[key] != nil else {
                    throw ByteDecodingError("key-value snapshot gives absent key \(key) a deadline")
                }
                let deadline = try r.int64()
                guard deadline > restoredClock else {
                    throw ByteDecodingError("key-value snapshot gives key \(key) deadline \(deadline), not after its log time \(restoredClock)")
                }
                guard restoredDeadlines.updateValue(deadline, forKey: key) == nil else {
                    throw ByteDecodingError("key-value snapshot gives key \(key) two deadlines")
                }
            }
        }
        if let both = restoredCollections.keys.first(where: { restored[$0] != nil }) {
            throw ByteDecodingError("key-value snapshot holds key \(both) both as a string and as a collection")
        }
        guard r.isAtEnd else { throw ByteDecodingError("\(snapshot.count - r.offset) stray bytes after key-value snapshot") }
        entries = restored
        collections = restoredCollections
        clock = restoredClock
        deadlines = restoredDeadlines
        expiryQueue = ExpiryQueue()
        for key in restoredDeadlines.keys.sorted() { expiryQueue.insert(restoredDeadlines[key]!, key) }
    }
}
