/// An operation on a hash: a key's fields and their values (Redis's H commands).
public enum HashOperation: Hashable, Sendable {
    /// Set fields, given as field, value, field, value (a later pair wins); answers how many fields are new (HSET).
    case set(ByteString, fieldsAndValues: [ByteString])
    /// Set a field only if it is absent; answers 1 if set, 0 if not (HSETNX).
    case setIfAbsent(ByteString, field: ByteString, value: ByteString)
    /// A field's value (HGET).
    case get(ByteString, field: ByteString)
    /// Several fields' values, absent ones nil (HMGET).
    case getMany(ByteString, fields: [ByteString])
    /// Every field and value, as field, value, ..., fields in byte order (HGETALL).
    case getAll(ByteString)
    /// Remove fields; answers how many were there (HDEL).
    case delete(ByteString, fields: [ByteString])
    /// 1 if the field is there, else 0 (HEXISTS).
    case exists(ByteString, field: ByteString)
    /// The number of fields (HLEN).
    case length(ByteString)
    /// The fields in byte order (HKEYS).
    case fields(ByteString)
    /// The values in their fields' byte order (HVALS).
    case values(ByteString)
    /// Add to a field's 64-bit integer (absent: 0); answers the new value (HINCRBY).
    case increment(ByteString, field: ByteString, by: Int64)
    /// Add to a field's floating-point number (absent: 0); answers the new value as text (HINCRBYFLOAT).
    case incrementFloat(ByteString, field: ByteString, by: Double)
    /// A field's value's length in bytes, 0 if absent (HSTRLEN).
    case valueLength(ByteString, field: ByteString)

    /// The key of the hash.
    public var key: ByteString {
        switch self {
        case .set(let k, _), .setIfAbsent(let k, _, _), .get(let k, _), .getMany(let k, _), .getAll(let k),
             .delete(let k, _), .exists(let k, _), .length(let k), .fields(let k), .values(let k),
             .increment(let k, _, _), .incrementFloat(let k, _, _), .valueLength(let k, _): k
        }
    }

    /// Whether the operation only reads.
    public var isRead: Bool {
        switch self {
        case .get, .getMany, .getAll, .exists, .length, .fields, .values, .valueLength: true
        case .set, .setIfAbsent, .delete, .increment, .incrementFloat: false
        }
    }

    func encode(into w: inout ByteWriter) {
        switch self {
        case .set(let k, let pairs): w.byte(0); w.byteString(k); w.byteStrings(pairs)
        case .setIfAbsent(let k, let f, let v): w.byte(1); w.byteString(k); w.byteString(f); w.byteString(v)
        case .get(let k, let f): w.byte(2); w.byteString(k); w.byteString(f)
        case .getMany(let k, let fs): w.byte(3); w.byteString(k); w.byteStrings(fs)
        case .getAll(let k): w.byte(4); w.byteString(k)
        case .delete(let k, let fs): w.byte(5); w.byteString(k); w.byteStrings(fs)
        case .exists(let k, let f): w.byte(6); w.byteString(k); w.byteString(f)
        case .length(let k): w.byte(7); w.byteString(k)
        case .fields(let k): w.byte(8); w.byteString(k)
        case .values(let k): w.byte(9); w.byteString(k)
        case .increment(let k, let f, let by): w.byte(10); w.byteString(k); w.byteString(f); w.uint64(UInt64(bitPattern: by))
        case .incrementFloat(let k, let f, let by): w.byte(11); w.byteString(k); w.byteString(f); w.uint64(by.bitPattern)
        case .valueLength(let k, let f): w.byte(12); w.byteString(k); w.byteString(f)
        }
    }

    init(from r: inout ByteReader) throws {
        switch try r.byte() {
        case 0:
            let k = try r.byteString(), pairs = try r.byteStrings()
            guard pairs.count % 2 == 0 else { throw ByteDecodingError("hash set of \(pairs.count) fields and values: one lacks its pair") }
            self = .set(k, fieldsAndValues: pairs)
        case 1: self = .setIfAbsent(try r.byteString(), field: try r.byteString(), value: try r.byteString())
        case 2: self = .get(try r.byteString(), field: try r.byteString())
        case 3: self = .getMany(try r.byteString(), fields: try r.byteStrings())
        case 4: self = .getAll(try r.byteString())
        case 5: self = .delete(try r.byteString(), fields: try r.byteStrings())
        case 6: self = .exists(try r.byteString(), field: try r.byteString())
        case 7: self = .length(try r.byteString())
        case 8: self = .fields(try r.byteString())
        case 9: self = .values(try r.byteString())
        case 10: self = .increment(try r.byteString(), field: try r.byteString(), by: Int64(bitPattern: try r.uint64()))
        case 11: self = .incrementFloat(try r.byteString(), field: try r.byteString(), by: try r.double("increment"))
        case 12: self = .valueLength(try r.byteString(), field: try r.byteString())
        case let tag: throw ByteDecodingError("unknown hash operation tag \(tag)")
        }
    }
}

/// An operation on a list (Redis's L and R commands). Positions count from 0 at the head; negative ones from
/// -1 at the tail.
public enum ListOperation: Hashable, Sendable {
    /// Push elements one by one at the head (`atHead`, LPUSH) or tail (RPUSH), only onto an existing list if
    /// `onlyIfExists` (LPUSHX, RPUSHX); answers the length.
    case push(ByteString, [ByteString], atHead: Bool, onlyIfExists: Bool)
    /// Pop one element (`count` nil: answers it or nil) or up to `count` (answers them, or nil if absent).
    case pop(ByteString, atHead: Bool, count: Int?)
    /// The elements from `start` to `stop`, both included (LRANGE).
    case range(ByteString, start: Int64, stop: Int64)
    /// The number of elements (LLEN).
    case length(ByteString)
    /// The element at a position, nil if out of range (LINDEX).
    case element(ByteString, at: Int64)
    /// Replace the element at a position (LSET).
    case set(ByteString, at: Int64, ByteString)
    /// Remove elements equal to a value: the first `count` from the head (count > 0), from the tail
    /// (count < 0), or all (0); answers how many (LREM).
    case remove(ByteString, count: Int64, ByteString)
    /// Keep only the elements from `start` to `stop` (LTRIM).
    case trim(ByteString, start: Int64, stop: Int64)
    /// Insert an element before (or after) the first one equal to `pivot`; answers the length, -1 if no element
    /// is the pivot, 0 if there is no list (LINSERT).
    case insert(ByteString, before: Bool, pivot: ByteString, ByteString)
    /// The positions of elements equal to a value: the `rank`-th match on (negative: from the tail), `count`
    /// of them (nil: the first only, answered as one integer or nil; 0: all), looking at most `maxLength`
    /// elements (0: all) (LPOS).
    case position(ByteString, ByteString, rank: Int64, count: Int64?, maxLength: Int64)

    /// The key of the list.
    public var key: ByteString {
        switch self {
        case .push(let k, _, _, _), .pop(let k, _, _), .range(let k, _, _), .length(let k), .element(let k, _),
             .set(let k, _, _), .remove(let k, _, _), .trim(let k, _, _), .insert(let k, _, _, _), .position(let k, _, _, _, _): k
        }
    }

    /// Whether the operation only reads.
    public var isRead: Bool {
        switch self {
        case .range, .length, .element, .position: true
        case .push, .pop, .set, .remove, .trim, .insert: false
        }
    }

    func encode(into w: inout ByteWriter) {
        switch self {
        case .push(let k, let vs, let head, let onlyIfExists):
            w.byte(0); w.byteString(k); w.byteStrings(vs); w.byte(head ? 1 : 0); w.byte(onlyIfExists ? 1 : 0)
        case .pop(let k, let head, let count):
            w.byte(1); w.byteString(k); w.byte(head ? 1 : 0)
            if let count { w.byte(1); w.uint64(UInt64(count)) } else { w.byte(0) }
        case .range(let k, let a, let b): w.byte(2); w.byteString(k); w.int64(a); w.int64(b)
        case .length(let k): w.byte(3); w.byteString(k)
        case .element(let k, let i): w.byte(4); w.byteString(k); w.int64(i)
        case .set(let k, let i, let v): w.byte(5); w.byteString(k); w.int64(i); w.byteString(v)
        case .remove(let k, let n, let v): w.byte(6); w.byteString(k); w.int64(n); w.byteString(v)
        case .trim(let k, let a, let b): w.byte(7); w.byteString(k); w.int64(a); w.int64(b)
        case .insert(let k, let before, let pivot, let v):
            w.byte(8); w.byteString(k); w.byte(before ? 1 : 0); w.byteString(pivot); w.byteString(v)
        case .position(let k, let v, let rank, let count, let maxLength):
            w.byte(9); w.byteString(k); w.byteString(v); w.int64(rank)
            if let count { w.byte(1); w.int64(count) } else { w.byte(0) }
            w.int64(maxLength)
        }
    }

    init(from r: inout ByteReader) throws {
        switch try r.byte() {
        case 0: self = .push(try r.byteString(), try r.byteStrings(), atHead: try r.bool("head"), onlyIfExists: try r.bool("only if exists"))
        case 1:
            let k = try r.byteString(), head = try r.bool("head")
            let count = try r.bool("count present") ? try r.uint64() : nil
            guard (count ?? 0) <= UInt64(Int.max) else { throw ByteDecodingError("list pop count \(count ?? 0) is out of range") }
            self = .pop(k, atHead: head, count: count.map { Int($0) })
        case 2: self = .range(try r.byteString(), start: try r.int64(), stop: try r.int64())
        case 3: self = .length(try r.byteString())
        case 4: self = .element(try r.byteString(), at: try r.int64())
        case 5: self = .set(try r.byteString(), at: try r.int64(), try r.byteString())
        case 6: self = .remove(try r.byteString(), count: try r.int64(), try r.byteString())
        case 7: self = .trim(try r.byteString(), start: try r.int64(), stop: try r.int64())
        case 8: self = .insert(try r.byteString(), before: try r.bool("before"), pivot: try r.byteString(), try r.byteString())
        case 9:
            let k = try r.byteString(), v = try r.byteString(), rank = try r.int64()
            let count = try r.bool("count present") ? try r.int64() : nil
            let maxLength = try r.int64()
            guard rank != 0, rank != .min, (count ?? 0) >= 0, maxLength >= 0 else {
                throw ByteDecodingError("LPOS rank \(rank), count \(count ?? 0), maxlen \(maxLength) out of range")
            }
            self = .position(k, v, rank: rank, count: count, maxLength: maxLength)
        case let tag: throw ByteDecodingError("unknown list operation tag \(tag)")
        }
    }
}

/// The most members SRANDMEMBER answers at once (a negative count repeats members: its reply is built whole).
public let maximumSetSample = 1 << 20

/// An operation on a set (Redis's S commands). Members are answered in byte order, and SPOP takes the lowest
/// members: every replica must answer alike, so nothing here is random.
public enum SetOperation: Hashable, Sendable {
    /// Add members; answers how many are new (SADD).
    case add(ByteString, [ByteString])
    /// Remove members; answers how many were there (SREM).
    case remove(ByteString, [ByteString])
    /// Every member (SMEMBERS).
    case members(ByteString)
    /// 1 if a member, else 0 (SISMEMBER).
    case contains(ByteString, ByteString)
    /// 1 or 0 for each (SMISMEMBER).
    case containsEach(ByteString, [ByteString])
    /// The number of members (SCARD).
    case cardinality(ByteString)
    /// Remove and answer one member (`count` nil: or nil) or up to `count` (SPOP).
    case pop(ByteString, count: Int?)
    /// Members without removing them (SRANDMEMBER): one (`count` nil: or nil), up to `count` distinct ones, or
    /// with a negative count exactly that many, repeating. The lowest members, cycling: never random.
    case someMembers(ByteString, count: Int64?)

    /// The key of the set.
    public var key: ByteString {
        switch self {
        case .add(let k, _), .remove(let k, _), .members(let k), .contains(let k, _), .containsEach(let k, _),
             .cardinality(let k), .pop(let k, _), .someMembers(let k, _): k
        }
    }

    /// Whether the operation only reads.
    public var isRead: Bool {
        switch self {
        case .members, .contains, .containsEach, .cardinality, .someMembers: true
        case .add, .remove, .pop: false
        }
    }

    func encode(into w: inout ByteWriter) {
        switch self {
        case .add(let k, let ms): w.byte(0); w.byteString(k); w.byteStrings(ms)
        case .remove(let k, let ms): w.byte(1); w.byteString(k); w.byteStrings(ms)
        case .members(let k): w.byte(2); w.byteString(k)
        case .contains(let k, let m): w.byte(3); w.byteString(k); w.byteString(m)
        case .containsEach(let k, let ms): w.byte(4); w.byteString(k); w.byteStrings(ms)
        case .cardinality(let k): w.byte(5); w.byteString(k)
        case .pop(let k, let count):
            w.byte(6); w.byteString(k)
            if let count { w.byte(1); w.uint64(UInt64(count)) } else { w.byte(0) }
        case .someMembers(let k, let count):
            w.byte(7); w.byteString(k)
            if let count { w.byte(1); w.int64(count) } else { w.byte(0) }
        }
    }

    init(from r: inout ByteReader) throws {
        switch try r.byte() {
        case 0: self = .add(try r.byteString(), try r.byteStrings())
        case 1: self = .remove(try r.byteString(), try r.byteStrings())
        case 2: self = .members(try r.byteString())
        case 3: self = .contains(try r.byteString(), try r.byteString())
        case 4: self = .containsEach(try r.byteString(), try r.byteStrings())
        case 5: self = .cardinality(try r.byteString())
        case 6:
            let k = try r.byteString()
            let count = try r.bool("count present") ? try r.uint64() : nil
            guard (count ?? 0) <= UInt64(Int.max) else { throw ByteDecodingError("set pop count \(count ?? 0) is out of range") }
            self = .pop(k, count: count.map { Int($0) })
        case 7:
            let k = try r.byteString()
            let count = try r.bool("count present") ? try r.int64() : nil
            guard (count ?? 0).magnitude <= UInt64(maximumSetSample) else {
                throw ByteDecodingError("SRANDMEMBER count \(count ?? 0) is out of range (at most \(maximumSetSample))")
            }
            self = .someMembers(k, count: count)
        case let tag: throw ByteDecodingError("unknown set operation tag \(tag)")
        }
    }
}

/// ZADD's conditions: NX (only add), XX (only update), GT/LT (only raise/lower an existing score), CH (count
/// changed members, not only added ones), INCR (add to the score; one member).
public struct SortedSetAddOptions: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let onlyNew = SortedSetAddOptions(rawValue: 1)
    public static let onlyExisting = SortedSetAddOptions(rawValue: 2)
    public static let onlyGreater = SortedSetAddOptions(rawValue: 4)
    public static let onlyLess = SortedSetAddOptions(rawValue: 8)
    public static let countChanged = SortedSetAddOptions(rawValue: 16)
    public static let increment = SortedSetAddOptions(rawValue: 32)
}

/// An operation on a sorted set (Redis's Z commands). Ranks count from 0 at the lowest score (the highest with
/// `reverse`); negative ones from -1 at the other end.
public enum SortedSetOperation: Hashable, Sendable {
    /// Add or update members (ZADD, ZINCRBY with `.increment`); answers how many were added (or changed, with
    /// `.countChanged`), or with `.increment` the new score (nil if a condition stopped it).
    case add(ByteString, [ScoredMember], SortedSetAddOptions)
    /// Remove members; answers how many were there (ZREM).
    case remove(ByteString, [ByteString])
    /// A member's score, nil if not a member (ZSCORE).
    case score(ByteString, ByteString)
    /// Each member's score (ZMSCORE).
    case scores(ByteString, [ByteString])
    /// The number of members (ZCARD).
    case cardinality(ByteString)
    /// How many members score within the bounds (ZCOUNT).
    case count(ByteString, min: ScoreBound, max: ScoreBound)
    /// A member's rank, nil if not a member (ZRANK, ZREVRANK).
    case rank(ByteString, ByteString, reverse: Bool)
    /// Members from rank `start` to `stop`, with their scores if asked (ZRANGE).
    case range(ByteString, start: Int64, stop: Int64, reverse: Bool, withScores: Bool)
    /// Members scoring within `from` and `to` (with `reverse`, `from` is the upper bound and members come
    /// highest first), skipping `offset` and taking at most `limit` (negative: all) (ZRANGE BYSCORE).
    case rangeByScore(ByteString, from: ScoreBound, to: ScoreBound, reverse: Bool, offset: Int64, limit: Int64, withScores: Bool)
    /// Remove and answer the lowest (or `highest`) members with their scores (ZPOPMIN, ZPOPMAX).
    case pop(ByteString, count: Int, highest: Bool)
    /// Remove the members scoring within the bounds; answers how many (ZREMRANGEBYSCORE).
    case removeByScore(ByteString, min: ScoreBound, max: ScoreBound)
    /// Remove the members from rank `start` to `stop`; answers how many (ZREMRANGEBYRANK).
    case removeByRank(ByteString, start: Int64, stop: Int64)

    /// The key of the sorted set.
    public var key: ByteString {
        switch self {
        case .add(let k, _, _), .remove(let k, _), .score(let k, _), .scores(let k, _), .cardinality(let k),
             .count(let k, _, _), .rank(let k, _, _), .range(let k, _, _, _, _), .rangeByScore(let k, _, _, _, _, _, _),
             .pop(let k, _, _), .removeByScore(let k, _, _), .removeByRank(let k, _, _): k
        }
    }

    /// Whether the operation only reads.
    public var isRead: Bool {
        switch self {
        case .score, .scores, .cardinality, .count, .rank, .range, .rangeByScore: true
        case .add, .remove, .pop, .removeByScore, .removeByRank: false
        }
    }

    func encode(into w: inout ByteWriter) {
        switch self {
        case .add(let k, let members, let options):
            w.byte(0); w.byteString(k); w.byte(options.rawValue)
            w.uint32(UInt32(members.count))
            for m in members { w.uint64(m.score.bitPattern); w.byteString(m.member) }
        case .remove(let k, let ms): w.byte(1); w.byteString(k); w.byteStrings(ms)
        case .score(let k, let m): w.byte(2); w.byteString(k); w.byteString(m)
        case .scores(let k, let ms): w.byte(3); w.byteString(k); w.byteStrings(ms)
        case .cardinality(let k): w.byte(4); w.byteString(k)
        case .count(let k, let min, let max): w.byte(5); w.byteString(k); w.scoreBound(min); w.scoreBound(max)
        case .rank(let k, let m, let reverse): w.byte(6); w.byteString(k); w.byteString(m); w.byte(reverse ? 1 : 0)
        case .range(let k, let a, let b, let reverse, let withScores):
            w.byte(7); w.byteString(k); w.int64(a); w.int64(b); w.byte(reverse ? 1 : 0); w.byte(withScores ? 1 : 0)
        case .rangeByScore(let k, let from, let to, let reverse, let offset, let limit, let withScores):
            w.byte(8); w.byteString(k); w.scoreBound(from); w.scoreBound(to); w.byte(reverse ? 1 : 0)
            w.int64(offset); w.int64(limit); w.byte(withScores ? 1 : 0)
        case .pop(let k, let count, let highest): w.byte(9); w.byteString(k); w.uint64(UInt64(count)); w.byte(highest ? 1 : 0)
        case .removeByScore(let k, let min, let max): w.byte(10); w.byteString(k); w.scoreBound(min); w.scoreBound(max)
        case .removeByRank(let k, let a, let b): w.byte(11); w.byteString(k); w.int64(a); w.int64(b)
        }
    }

    init(from r: inout ByteReader) throws {
        switch try r.byte() {
        case 0:
            let k = try r.byteString()
            let options = SortedSetAddOptions(rawValue: try r.byte())
            let count = try r.count(of: "sorted set member", minimumBytes: 12)
            var members: [ScoredMember] = []
            for _ in 0..<count {
                let score = try r.double("score")
                guard !score.isNaN else { throw ByteDecodingError("sorted set score NaN for member \(members.count)") }
                members.append(ScoredMember(score: score, member: try r.byteString()))
            }
            guard !options.contains(.increment) || members.count == 1 else {
                throw ByteDecodingError("ZADD INCR of \(members.count) members (exactly one)")
            }
            self = .add(k, members, options)
        case 1: self = .remove(try r.byteString(), try r.byteStrings())
        case 2: self = .score(try r.byteString(), try r.byteString())
        case 3: self = .scores(try r.byteString(), try r.byteStrings())
        case 4: self = .cardinality(try r.byteString())
        case 5: self = .count(try r.byteString(), min: try r.scoreBound(), max: try r.scoreBound())
        case 6: self = .rank(try r.byteString(), try r.byteString(), reverse: try r.bool("reverse"))
        case 7:
            self = .range(try r.byteString(), start: try r.int64(), stop: try r.int64(), reverse: try r.bool("reverse"),
                          withScores: try r.bool("with scores"))
        case 8:
            self = .rangeByScore(try r.byteString(), from: try r.scoreBound(), to: try r.scoreBound(), reverse: try r.bool("reverse"),
                                 offset: try r.int64(), limit: try r.int64(), withScores: try r.bool("with scores"))
        case 9:
            let k = try r.byteString(), count = try r.uint64()
            guard count <= UInt64(Int.max) else { throw ByteDecodingError("sorted set pop count \(count) is out of range") }
            self = .pop(k, count: Int(count), highest: try r.bool("highest"))
        case 10: self = .removeByScore(try r.byteString(), min: try r.scoreBound(), max: try r.scoreBound())
        case 11: self = .removeByRank(try r.byteString(), start: try r.int64(), stop: try r.int64())
        case let tag: throw ByteDecodingError("unknown sorted set operation tag \(tag)")
        }
    }
}

extension ByteWriter {
    mutating func int64(_ v: Int64) { uint64(UInt64(bitPattern: v)) }
    mutating func byteStrings(_ list: [ByteString]) {
        uint32(UInt32(list.count))
        for s in list { byteString(s) }
    }
    mutating func scoreBound(_ b: ScoreBound) { uint64(b.score.bitPattern); byte(b.exclusive ? 1 : 0) }
}

extension ByteReader {
    mutating func int64() throws -> Int64 { Int64(bitPattern: try uint64()) }
    mutating func double(_ field: String) throws -> Double { Double(bitPattern: try uint64()) }
    mutating func byteStrings() throws -> [ByteString] {
        let count = try count(of: "byte string", minimumBytes: 4)
        var list: [ByteString] = []
        list.reserveCapacity(count)
        for _ in 0..<count { list.append(try byteString()) }
        return list
    }
    mutating func scoreBound() throws -> ScoreBound {
        let score = try double("score bound")
        guard !score.isNaN else { throw ByteDecodingError("score bound NaN at offset \(offset - 8)") }
        return ScoreBound(score, exclusive: try bool("exclusive"))
    }
}
