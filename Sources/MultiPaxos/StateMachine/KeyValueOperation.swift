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
    /// An operation on the hash at a key.
    case hash(HashOperation)
    /// An operation on the list at a key.
    case list(ListOperation)
    /// An operation on the set at a key.
    case set(SetOperation)
    /// An operation on the sorted set at a key.
    case sortedSet(SortedSetOperation)
    /// The type of a key's value: `string`, `hash`, `list`, `set`, `zset`, or `none` (TYPE).
    case type(ByteString)
    /// 1 if the key holds a value of any type, else 0 (EXISTS).
    case exists(ByteString)

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
        case .hash(let op): w.byte(11); op.encode(into: &w)
        case .list(let op): w.byte(12); op.encode(into: &w)
        case .set(let op): w.byte(13); op.encode(into: &w)
        case .sortedSet(let op): w.byte(14); op.encode(into: &w)
        case .type(let k): w.byte(15); w.byteString(k)
        case .exists(let k): w.byte(16); w.byteString(k)
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
        case 11: self = .hash(try HashOperation(from: &r))
        case 12: self = .list(try ListOperation(from: &r))
        case 13: self = .set(try SetOperation(from: &r))
        case 14: self = .sortedSet(try SortedSetOperation(from: &r))
        case 15: self = .type(try r.byteString())
        case 16: self = .exists(try r.byteString())
        case let tag: throw ByteDecodingError("unknown key-value operation tag \(tag)")
        }
        guard r.isAtEnd else { throw ByteDecodingError("\(bytes.count - r.offset) stray bytes after operation") }
    }

    /// The key the operation touches; nil for one on the whole store (DBSIZE, KEYS).
    public var key: ByteString? {
        switch self {
        case .get(let k), .put(let k, _), .delete(let k), .append(let k, _), .compareAndSet(let k, _, _),
             .increment(let k, _), .getAndSet(let k, _), .getAndDelete(let k), .type(let k), .exists(let k): k
        case .hash(let op): op.key
        case .list(let op): op.key
        case .set(let op): op.key
        case .sortedSet(let op): op.key
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
        case .hash(let op): "hash \(op)"
        case .list(let op): "list \(op)"
        case .set(let op): "set \(op)"
        case .sortedSet(let op): "zset \(op)"
        case .type(let k): "type \(k)"
        case .exists(let k): "exists \(k)"
        }
    }

    /// Whether the operation works on a string only (on a key that holds a collection it is refused).
    var isStringOnly: Bool {
        switch self {
        case .get, .append, .compareAndSet, .increment, .getAndSet, .getAndDelete: true
        case .put, .delete, .count, .keys, .hash, .list, .set, .sortedSet, .type, .exists: false
        }
    }

    /// Whether the operation only reads (it may be answered without a log slot).
    public var isRead: Bool {
        switch self {
        case .get, .count, .keys, .type, .exists: true
        case .hash(let op): op.isRead
        case .list(let op): op.isRead
        case .set(let op): op.isRead
        case .sortedSet(let op): op.isRead
        case .put, .delete, .append, .compareAndSet, .increment, .getAndSet, .getAndDelete: false
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
    /// Byte strings: keys in byte order (KEYS), a collection's elements, members or fields.
    case list([ByteString])
    /// Several results in order (HMGET's values, SMISMEMBER's flags, a pop's member and score).
    case array([KeyValueResult])

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
        case .array(let items):
            w.byte(7)
            w.uint32(UInt32(items.count))
            for item in items { w.blob(item.encoded) }
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
        case 7:
            let count = try r.count(of: "result", minimumBytes: 5)
            var items: [KeyValueResult] = []
            items.reserveCapacity(count)
            for _ in 0..<count { items.append(try KeyValueResult(decoding: try r.blob())) }
            self = .array(items)
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
        case .array(let items): "[\(items.map(\.description).joined(separator: ", "))]"
        }
    }
}
