/// An operation on the built-in key-value store (the linearizable register that the per-slot total-order
/// broadcast builds, with more verbs).
public enum KeyValueOperation: Hashable, Sendable, CustomStringConvertible {
    /// Read a key.
    case get(ByteString)
    /// Set a key.
    case put(ByteString, ByteString)
    /// Remove a key.
    case delete(ByteString)
    /// Concatenate onto a key's value (an absent key counts as empty).
    case append(ByteString, ByteString)
    /// Set `key` to `new` if it holds `expected` (nil: absent); otherwise change nothing.
    case compareAndSet(ByteString, expected: ByteString?, new: ByteString)
    /// Add `by` to the signed 64-bit decimal integer the key holds (absent: 0), as Redis's INCRBY: refused,
    /// changing nothing, if the value is not one or the sum would overflow.
    case increment(ByteString, by: Int64)
    /// Set a key and answer the value it held before (GETSET, SET ... GET).
    case getAndSet(ByteString, ByteString)
    /// Remove a key and answer the value it held (GETDEL).
    case getAndDelete(ByteString)
    /// How many keys the store holds (DBSIZE).
    case count
    /// The keys that match a Redis glob pattern (`*`, `?`, `[a-z]`, `[^a]`, `\x`), in byte order (KEYS).
    case keys(matching: ByteString)

    /// The operation's bytes, as the replicated log carries them.
    public var encoded: [UInt8] {
        var w = ByteWriter()
        switch self {
        case .get(let k): w.byte(0); w.byteString(k)
        case .put(let k, let v): w.byte(1); w.byteString(k); w.byteString(v)
        case .delete(let k): w.byte(2); w.byteString(k)
        case .append(let k, let v): w.byte(3); w.byteString(k); w.byteString(v)
        case .compareAndSet(let k, let e, let n): w.byte(4); w.byteString(k); w.optionalByteString(e); w.byteString(n)
        // Tag 5 is a pipeline's (KeyValueStore.pipelineTag).
        case .increment(let k, let by): w.byte(6); w.byteString(k); w.uint64(UInt64(bitPattern: by))
        case .getAndSet(let k, let v): w.byte(7); w.byteString(k); w.byteString(v)
        case .getAndDelete(let k): w.byte(8); w.byteString(k)
        case .count: w.byte(9)
        case .keys(let pattern): w.byte(10); w.byteString(pattern)
        }
        return w.bytes
    }

    /// Decodes an operation, or throws naming what is wrong.
    public init(decoding bytes: [UInt8]) throws {
        var r = ByteReader(bytes)
        switch try r.byte() {
        case 0: self = .get(try r.byteString())
        case 1: self = .put(try r.byteString(), try r.byteString())
        case 2: self = .delete(try r.byteString())
        case 3: self = .append(try r.byteString(), try r.byteString())
        case 4: self = .compareAndSet(try r.byteString(), expected: try r.optionalByteString(), new: try r.byteString())
        case 6: self = .increment(try r.byteString(), by: Int64(bitPattern: try r.uint64()))
        case 7: self = .getAndSet(try r.byteString(), try r.byteString())
        case 8: self = .getAndDelete(try r.byteString())
        case 9: self = .count
        case 10: self = .keys(matching: try r.byteString())
        case let tag: throw ByteDecodingError("unknown key-value operation tag \(tag)")
        }
        guard r.isAtEnd else { throw ByteDecodingError("\(bytes.count - r.offset) stray bytes after operation") }
    }

    /// The key the operation touches; nil for one on the whole store (DBSIZE, KEYS).
    public var key: ByteString? {
        switch self {
        case .get(let k), .put(let k, _), .delete(let k), .append(let k, _), .compareAndSet(let k, _, _),
             .increment(let k, _), .getAndSet(let k, _), .getAndDelete(let k): k
        case .count, .keys: nil
        }
    }

    public var description: String {
        switch self {
        case .get(let k): "get \(k)"
        case .put(let k, let v): "put \(k)=\(v)"
        case .delete(let k): "delete \(k)"
        case .append(let k, let v): "append \(k)+=\(v)"
        case .compareAndSet(let k, let e, let n): "cas \(k) \(e ?? "∅")→\(n)"
        case .increment(let k, let by): "incr \(k) by \(by)"
        case .getAndSet(let k, let v): "getset \(k)=\(v)"
        case .getAndDelete(let k): "getdel \(k)"
        case .count: "dbsize"
        case .keys(let p): "keys \(p)"
        }
    }
}

/// The result of a key-value operation.
public enum KeyValueResult: Hashable, Sendable, CustomStringConvertible {
    /// A get's value; nil when the key is absent.
    case value(ByteString?)
    /// A put or successful compare-and-set took effect (in results recorded by earlier versions, a delete or
    /// append too).
    case ok
    /// A compare-and-set found another value (nil: absent) and changed nothing.
    case mismatch(current: ByteString?)
    /// A count: a delete's number of keys removed (1 or 0), an append's new value length in bytes, an
    /// increment's new value, the number of keys.
    case integer(Int64)
    /// The operation was refused and changed nothing; the text is Redis's error reply for it.
    case error(String)
    /// Keys, in byte order (KEYS).
    case list([ByteString])

    /// The result's bytes, as replies carry them.
    public var encoded: [UInt8] {
        var w = ByteWriter()
        switch self {
        case .value(let v): w.byte(0); w.optionalByteString(v)
        case .ok: w.byte(1)
        case .mismatch(let c): w.byte(2); w.optionalByteString(c)
        case .integer(let n): w.byte(3); w.uint64(UInt64(bitPattern: n))
        case .error(let text): w.byte(4); w.blob(Array(text.utf8))
        // Tag 5 is a pipeline's results' (KeyValueStore.pipelineTag).
        case .list(let keys):
            w.byte(6)
            w.uint32(UInt32(keys.count))
            for key in keys { w.byteString(key) }
        }
        return w.bytes
    }

    /// Decodes a result, or throws naming what is wrong.
    public init(decoding bytes: [UInt8]) throws {
        var r = ByteReader(bytes)
        switch try r.byte() {
        case 0: self = .value(try r.optionalByteString())
        case 1: self = .ok
        case 2: self = .mismatch(current: try r.optionalByteString())
        case 3: self = .integer(Int64(bitPattern: try r.uint64()))
        case 4: self = .error(String(decoding: try r.blob(), as: UTF8.self))
        case 6:
            let count = try r.count(of: "key", minimumBytes: 4)
            var keys: [ByteString] = []
            keys.reserveCapacity(count)
            for _ in 0..<count { keys.append(try r.byteString()) }
            self = .list(keys)
        case let tag: throw ByteDecodingError("unknown key-value result tag \(tag)")
        }
    }

    public var description: String {
        switch self {
        case .value(let v): v.map { "\"\($0)\"" } ?? "absent"
        case .ok: "ok"
        case .mismatch(let c): "mismatch (holds \(c.map { "\"\($0)\"" } ?? "absent"))"
        case .integer(let n): "\(n)"
        case .error(let text): "error \(text)"
        case .list(let keys): "[\(keys.map(\.description).joined(separator: ", "))]"
        }
    }
}

/// The built-in replicated key-value store: get, put, delete, append and compare-and-set on byte-string keys and values.
public struct KeyValueStore: StateMachine, Equatable {
    /// The current contents.
    public private(set) var entries: [ByteString: ByteString] = [:]

    /// An empty store.
    public init() {}

    /// Applies `operation` and returns its result; the typed form of `apply(_:)`.
    public mutating func apply(_ operation: KeyValueOperation) -> KeyValueResult {
        switch operation {
        case .get(let k):
            return .value(entries[k])
        case .put(let k, let v):
            entries[k] = v
            return .ok
        case .delete(let k):
            return .integer(entries.removeValue(forKey: k) == nil ? 0 : 1)
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
        case .count, .keys:
            guard let result = read(operation) else { preconditionFailure("read(_:) answers no \(operation)") }
            return result
        }
    }

    /// What a read-only operation answers (nil for one that changes the store).
    func read(_ operation: KeyValueOperation) -> KeyValueResult? {
        switch operation {
        case .get(let k): .value(entries[k])
        case .count: .integer(Int64(entries.count))
        case .keys(let pattern): .list(entries.keys.filter { Glob.matches(pattern.bytes[...], $0.bytes[...]) }.sorted())
        case .put, .delete, .append, .compareAndSet, .increment, .getAndSet, .getAndDelete: nil
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
        if let operations = Self.pipelined(operation) {
            // In order, each as if alone; a pipeline inside a pipeline is refused (no recursion on input).
            return Self.pipeline(operations.map { Self.pipelined($0) == nil ? apply($0) : [0xFF] })
        }
        // A malformed operation is a value like any other: every replica rejects it identically.
        guard let op = try? KeyValueOperation(decoding: operation) else { return [0xFF] }
        return apply(op).encoded
    }

    /// A read's result (`get`, `count`, `keys`), read without changing anything, or a pipeline's of reads only;
    /// nil for every other operation (and for bytes that are no operation, which the log must reject like any
    /// replica would).
    public func query(_ operation: [UInt8]) -> [UInt8]? {
        // Only a read (tags 0, 9, 10) or a pipeline can be one: anything else is answered without decoding it.
        guard let tag = operation.first, [0, 9, 10, Self.pipelineTag].contains(tag) else { return nil }
        if let operations = Self.pipelined(operation) {
            var results: [[UInt8]] = []
            for op in operations {
                guard let result = query(op), Self.pipelined(op) == nil else { return nil }
                results.append(result)
            }
            return Self.pipeline(results)
        }
        guard let op = try? KeyValueOperation(decoding: operation) else { return nil }
        return read(op)?.encoded
    }

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

    public func snapshot() -> [UInt8] {
        var w = ByteWriter()
        w.uint32(UInt32(entries.count))
        for key in entries.keys.sorted() {
            w.byteString(key)
            w.byteString(entries[key]!)
        }
        return w.bytes
    }

    public mutating func restore(from snapshot: [UInt8]) throws {
        var r = ByteReader(snapshot)
        let count = try r.uint32()
        var restored: [ByteString: ByteString] = [:]
        for _ in 0..<count {
            let k = try r.byteString()
            restored[k] = try r.byteString()
        }
        guard r.isAtEnd else { throw ByteDecodingError("\(snapshot.count - r.offset) stray bytes after key-value snapshot") }
        entries = restored
    }
}
