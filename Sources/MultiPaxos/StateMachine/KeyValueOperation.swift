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
    /// Move a key's value (of any type) to another key, replacing what it held, or only if it holds nothing
    /// (`onlyIfAbsent`: answers 1 or 0) (RENAME, RENAMENX).
    case rename(ByteString, to: ByteString, onlyIfAbsent: Bool)
    /// Copy a key's value to another key if that holds nothing, or in any case with `replace`; answers 1 or 0 (COPY).
    case copy(ByteString, to: ByteString, replace: Bool)
    /// Remove every key (FLUSHDB, FLUSHALL).
    case flush
    /// A page of keys from `cursor` (0: the start), about `count` of them, filtered by pattern and type after
    /// paging; answers the next cursor (0: done) and the keys (SCAN). See `KeyValueStore.scanPosition(of:)`.
    case scan(cursor: UInt64, matching: ByteString?, count: Int, type: ByteString?)
    /// The key a SCAN returns first, nil in an empty store (RANDOMKEY: deterministic, as every reply must be).
    case firstKey
    /// Set every key (keys and values alternate) if none of them holds anything; answers 1 or 0 (MSETNX).
    case putAllIfAbsent([ByteString])
    /// Add to the floating-point number a key holds (absent: 0); answers the new value (INCRBYFLOAT).
    case incrementFloat(ByteString, by: Double)
    /// The bytes of a key's value from `start` to `end`, both included, negative ones from the end (GETRANGE).
    case substring(ByteString, start: Int64, end: Int64)
    /// Overwrite a key's value from byte `offset` on, padding with zero bytes; answers the new length (SETRANGE).
    case overwrite(ByteString, offset: Int, ByteString)
    /// Remove a key if its value equals (`equal`) or differs from the given one; answers 1 or 0 (DELEX IFEQ, IFNE).
    case deleteIf(ByteString, value: ByteString, equal: Bool)
    /// Pop an element from one list's head (or tail) and push it onto another's head (or tail); answers it, nil
    /// if the first list is empty (LMOVE, RPOPLPUSH).
    case moveElement(ByteString, to: ByteString, fromHead: Bool, toHead: Bool)
    /// Move a member from one set to another; answers 1, or 0 if it was not in the first (SMOVE).
    case moveMember(ByteString, to: ByteString, ByteString)
    /// The intersection, union or difference (the first set less the others) of sets, absent keys empty
    /// (SINTER, SUNION, SDIFF); stored at `store` instead, answering its size, if given (the STORE forms).
    case combineSets(SetCombination, [ByteString], store: ByteString?)
    /// Each key's digest (`KeyValueStore.digest(of:)`; nil for an absent key), as WATCH reads them.
    case digests([ByteString])
    /// SET with its options: set the value if `condition` holds, changing the key's deadline as `expiry` says;
    /// answers the old value if `returnOld` (GET), else `.ok` or `.mismatch` (null) when the condition failed.
    case setWith(ByteString, ByteString, condition: SetCondition, expiry: ExpiryChange, returnOld: Bool)
    /// Give a key a deadline under a condition; answers 1 if given (or the key removed by one passed), else 0
    /// (EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT).
    case expire(ByteString, ExpiryTime, ExpiryCondition)
    /// Remove a key's deadline; answers 1 if it had one (PERSIST).
    case persist(ByteString)
    /// A key's time left or deadline (TTL, PTTL, EXPIRETIME, PEXPIRETIME).
    case timeToLive(ByteString, ExpiryQuery)
    /// A string's value, changing its deadline as `expiry` says (GETEX).
    case getAndExpire(ByteString, ExpiryChange)

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
        case .rename(let k, let to, let nx): w.byte(17); w.byteString(k); w.byteString(to); w.byte(nx ? 1 : 0)
        case .copy(let k, let to, let replace): w.byte(18); w.byteString(k); w.byteString(to); w.byte(replace ? 1 : 0)
        case .flush: w.byte(19)
        case .scan(let cursor, let pattern, let count, let type):
            w.byte(20); w.uint64(cursor); w.optionalByteString(pattern); w.uint64(UInt64(count)); w.optionalByteString(type)
        case .firstKey: w.byte(21)
        case .putAllIfAbsent(let pairs): w.byte(22); w.byteStrings(pairs)
        case .incrementFloat(let k, let by): w.byte(23); w.byteString(k); w.uint64(by.bitPattern)
        case .substring(let k, let a, let b): w.byte(24); w.byteString(k); w.int64(a); w.int64(b)
        case .overwrite(let k, let offset, let v): w.byte(25); w.byteString(k); w.uint64(UInt64(offset)); w.byteString(v)
        case .deleteIf(let k, let v, let equal): w.byte(26); w.byteString(k); w.byteString(v); w.byte(equal ? 1 : 0)
        case .moveElement(let k, let to, let fromHead, let toHead):
            w.byte(27); w.byteString(k); w.byteString(to); w.byte(fromHead ? 1 : 0); w.byte(toHead ? 1 : 0)
        case .moveMember(let k, let to, let m): w.byte(28); w.byteString(k); w.byteString(to); w.byteString(m)
        case .combineSets(let how, let keys, let store): w.byte(29); w.byte(how.rawValue); w.byteStrings(keys); w.optionalByteString(store)
        case .digests(let keys): w.byte(30); w.byteStrings(keys)
        case .setWith(let k, let v, let condition, let expiry, let returnOld):
            w.byte(33); w.byteString(k); w.byteString(v); condition.encode(into: &w); expiry.encode(into: &w); w.byte(returnOld ? 1 : 0)
        case .expire(let k, let time, let condition): w.byte(34); w.byteString(k); time.encode(into: &w); w.byte(condition.rawValue)
        case .persist(let k): w.byte(35); w.byteString(k)
        case .timeToLive(let k, let query): w.byte(36); w.byteString(k); w.byte(query.rawValue)
        case .getAndExpire(let k, let expiry): w.byte(37); w.byteString(k); expiry.encode(into: &w)
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
        case 17: self = .rename(try r.byteString(), to: try r.byteString(), onlyIfAbsent: try r.bool("only if absent"))
        case 18: self = .copy(try r.byteString(), to: try r.byteString(), replace: try r.bool("replace"))
        case 19: self = .flush
        case 20:
            let cursor = try r.uint64(), pattern = try r.optionalByteString(), count = try r.uint64()
            guard (1...(1 << 30)).contains(count) else { throw ByteDecodingError("scan count \(count) is not 1...2^30") }
            self = .scan(cursor: cursor, matching: pattern, count: Int(count), type: try r.optionalByteString())
        case 21: self = .firstKey
        case 22:
            let pairs = try r.byteStrings()
            guard pairs.count % 2 == 0, !pairs.isEmpty else { throw ByteDecodingError("MSETNX of \(pairs.count) keys and values") }
            self = .putAllIfAbsent(pairs)
        case 23: self = .incrementFloat(try r.byteString(), by: try r.double("increment"))
        case 24: self = .substring(try r.byteString(), start: try r.int64(), end: try r.int64())
        case 25:
            let k = try r.byteString(), offset = try r.uint64()
            guard offset <= UInt64(KeyValueStore.maximumValueBytes) else { throw ByteDecodingError("SETRANGE offset \(offset) is out of range") }
            self = .overwrite(k, offset: Int(offset), try r.byteString())
        case 26: self = .deleteIf(try r.byteString(), value: try r.byteString(), equal: try r.bool("equal"))
        case 27:
            self = .moveElement(try r.byteString(), to: try r.byteString(), fromHead: try r.bool("from head"), toHead: try r.bool("to head"))
        case 28: self = .moveMember(try r.byteString(), to: try r.byteString(), try r.byteString())
        case 29:
            let raw = try r.byte()
            guard let how = SetCombination(rawValue: raw) else { throw ByteDecodingError("set combination \(raw) is not 0, 1 or 2") }
            let keys = try r.byteStrings()
            guard !keys.isEmpty else { throw ByteDecodingError("a set combination of no sets") }
            self = .combineSets(how, keys, store: try r.optionalByteString())
        case 30: self = .digests(try r.byteStrings())
        case 33:
            self = .setWith(try r.byteString(), try r.byteString(), condition: try SetCondition(from: &r),
                            expiry: try ExpiryChange(from: &r), returnOld: try r.bool("return old"))
        case 34:
            let k = try r.byteString(), time = try ExpiryTime(from: &r), raw = try r.byte()
            guard let condition = ExpiryCondition(rawValue: raw) else { throw ByteDecodingError("expiry condition \(raw) is not 0...4") }
            self = .expire(k, time, condition)
        case 35: self = .persist(try r.byteString())
        case 36:
            let k = try r.byteString(), raw = try r.byte()
            guard let query = ExpiryQuery(rawValue: raw) else { throw ByteDecodingError("expiry query \(raw) is not 0...3") }
            self = .timeToLive(k, query)
        case 37: self = .getAndExpire(try r.byteString(), try ExpiryChange(from: &r))
        case let tag: throw ByteDecodingError("unknown key-value operation tag \(tag)")
        }
        guard r.isAtEnd else { throw ByteDecodingError("\(bytes.count - r.offset) stray bytes after operation") }
    }

    /// The key the operation touches; nil for one on the whole store (DBSIZE, KEYS).
    public var key: ByteString? {
        switch self {
        case .get(let k), .put(let k, _), .delete(let k), .append(let k, _), .compareAndSet(let k, _, _),
             .increment(let k, _), .getAndSet(let k, _), .getAndDelete(let k), .type(let k), .exists(let k),
             .rename(let k, _, _), .copy(let k, _, _), .incrementFloat(let k, _), .substring(let k, _, _),
             .overwrite(let k, _, _), .deleteIf(let k, _, _), .moveElement(let k, _, _, _), .moveMember(let k, _, _),
             .setWith(let k, _, _, _, _), .expire(let k, _, _), .persist(let k), .timeToLive(let k, _), .getAndExpire(let k, _): k
        case .hash(let op): op.key
        case .list(let op): op.key
        case .set(let op): op.key
        case .sortedSet(let op): op.key
        case .count, .keys, .flush, .scan, .firstKey, .putAllIfAbsent, .combineSets, .digests: nil
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
        case .rename(let k, let to, let nx): "rename\(nx ? "nx" : "") \(k)→\(to)"
        case .copy(let k, let to, let replace): "copy \(k)→\(to)\(replace ? " replace" : "")"
        case .flush: "flush"
        case .scan(let cursor, let pattern, let count, let type):
            "scan \(cursor)\(pattern.map { " match \($0)" } ?? "") count \(count)\(type.map { " type \($0)" } ?? "")"
        case .firstKey: "randomkey"
        case .putAllIfAbsent(let pairs): "msetnx \(pairs.count / 2) keys"
        case .incrementFloat(let k, let by): "incrbyfloat \(k) by \(by)"
        case .substring(let k, let a, let b): "getrange \(k) \(a)...\(b)"
        case .overwrite(let k, let offset, let v): "setrange \(k)@\(offset)=\(v)"
        case .deleteIf(let k, let v, let equal): "delex \(k) if\(equal ? "eq" : "ne") \(v)"
        case .moveElement(let k, let to, let fromHead, let toHead): "lmove \(k)@\(fromHead ? "head" : "tail")→\(to)@\(toHead ? "head" : "tail")"
        case .moveMember(let k, let to, let m): "smove \(m) \(k)→\(to)"
        case .combineSets(let how, let keys, let store): "\(how) \(keys.map(\.description).joined(separator: " "))\(store.map { "→\($0)" } ?? "")"
        case .digests(let keys): "digests \(keys.map(\.description).joined(separator: " "))"
        case .setWith(let k, let v, let condition, let expiry, let returnOld):
            "set \(k)=\(v) \(condition) \(expiry)\(returnOld ? " get" : "")"
        case .expire(let k, let time, let condition): "expire \(k) \(time) \(condition)"
        case .persist(let k): "persist \(k)"
        case .timeToLive(let k, let query): "ttl \(k) \(query)"
        case .getAndExpire(let k, let expiry): "getex \(k) \(expiry)"
        }
    }

    /// Whether the operation works on a string only (on a key that holds a collection it is refused).
    var isStringOnly: Bool {
        switch self {
        case .get, .append, .compareAndSet, .increment, .getAndSet, .getAndDelete, .incrementFloat, .substring, .overwrite,
             .deleteIf, .getAndExpire: true
        case .put, .delete, .count, .keys, .hash, .list, .set, .sortedSet, .type, .exists, .rename, .copy, .flush, .scan,
             .firstKey, .putAllIfAbsent, .moveElement, .moveMember, .combineSets, .digests, .setWith, .expire, .persist,
             .timeToLive: false
        }
    }

    /// Whether the operation only reads (it may be answered without a log slot).
    public var isRead: Bool {
        switch self {
        case .get, .count, .keys, .type, .exists, .scan, .firstKey, .substring, .digests, .timeToLive: true
        case .combineSets(_, _, let store): store == nil
        case .hash(let op): op.isRead
        case .list(let op): op.isRead
        case .set(let op): op.isRead
        case .sortedSet(let op): op.isRead
        case .put, .delete, .append, .compareAndSet, .increment, .getAndSet, .getAndDelete, .rename, .copy, .flush,
             .putAllIfAbsent, .incrementFloat, .overwrite, .deleteIf, .moveElement, .moveMember, .setWith, .expire, .persist,
             .getAndExpire: false
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

/// How SINTER, SUNION and SDIFF combine sets.
public enum SetCombination: UInt8, Hashable, Sendable {
    case intersection = 0
    case union = 1
    case difference = 2
}

/// SET's condition: none, NX (the key holds nothing), XX (it holds something), IFEQ (it holds this value).
public enum SetCondition: Hashable, Sendable {
    case always
    case ifAbsent
    case ifPresent
    case ifEqual(ByteString)

    func encode(into w: inout ByteWriter) {
        switch self {
        case .always: w.byte(0)
        case .ifAbsent: w.byte(1)
        case .ifPresent: w.byte(2)
        case .ifEqual(let v): w.byte(3); w.byteString(v)
        }
    }

    init(from r: inout ByteReader) throws {
        switch try r.byte() {
        case 0: self = .always
        case 1: self = .ifAbsent
        case 2: self = .ifPresent
        case 3: self = .ifEqual(try r.byteString())
        case let tag: throw ByteDecodingError("SET condition \(tag) is not 0...3")
        }
    }
}

/// What a write does to a key's deadline: remove it (SET, PERSIST), keep it (KEEPTTL, GETEX without options),
/// or set one.
public enum ExpiryChange: Hashable, Sendable {
    case clear
    case keep
    case set(ExpiryTime)

    func encode(into w: inout ByteWriter) {
        switch self {
        case .clear: w.byte(0)
        case .keep: w.byte(1)
        case .set(let time): w.byte(2); time.encode(into: &w)
        }
    }

    init(from r: inout ByteReader) throws {
        switch try r.byte() {
        case 0: self = .clear
        case 1: self = .keep
        case 2: self = .set(try ExpiryTime(from: &r))
        case let tag: throw ByteDecodingError("expiry change \(tag) is not 0...2")
        }
    }
}

extension ExpiryTime {
    func encode(into w: inout ByteWriter) {
        switch self {
        case .after(let ms): w.byte(0); w.int64(ms)
        case .at(let ms): w.byte(1); w.int64(ms)
        }
    }

    init(from r: inout ByteReader) throws {
        switch try r.byte() {
        case 0: self = .after(milliseconds: try r.int64())
        case 1: self = .at(milliseconds: try r.int64())
        case let tag: throw ByteDecodingError("expiry time kind \(tag) is not 0 or 1")
        }
    }
}
