/// The hash, list, set and sorted set operations of the key-value store, with Redis's replies and errors.
extension KeyValueStore {
    /// The positions `start...stop` of a sequence of `count` elements, Redis's way: negative positions count from
    /// the end, the range is clipped to the sequence, and one that ends before it starts is empty.
    static func positions(_ start: Int64, _ stop: Int64, count: Int) -> Range<Int> {
        let n = Int64(count)
        var from = start < 0 ? max(n + start, 0) : start
        let to = stop < 0 ? n + stop : min(stop, n - 1)
        from = min(from, n)
        return from <= to ? Int(from)..<Int(to + 1) : 0..<0
    }

    /// What a key holds, for a change.
    private enum Taken {
        case absent
        case string
        /// Taken out of `collections`, so that changing it copies nothing; the caller puts it back (unless it
        /// became empty, or is of another type than the operation's).
        case held(KeyCollection)
    }

    private mutating func take(_ key: ByteString) -> Taken {
        if entries[key] != nil { return .string }
        return collections.removeValue(forKey: key).map(Taken.held) ?? .absent
    }

    // MARK: Hashes

    func read(_ op: HashOperation) -> KeyValueResult {
        let hash: [ByteString: ByteString]
        switch collections[op.key] {
        case .hash(let h)?: hash = h
        case nil where entries[op.key] == nil: hash = [:]
        default: return wrongTypeError
        }
        switch op {
        case .get(_, let f): return .value(hash[f])
        case .getMany(_, let fs): return .array(fs.map { .value(hash[$0]) })
        case .getAll: return .list(hash.keys.sorted().flatMap { [$0, hash[$0]!] })
        case .exists(_, let f): return .integer(hash[f] == nil ? 0 : 1)
        case .length: return .integer(Int64(hash.count))
        case .fields: return .list(hash.keys.sorted())
        case .values: return .list(hash.keys.sorted().map { hash[$0]! })
        case .valueLength(_, let f): return .integer(Int64(hash[f]?.count ?? 0))
        case .set, .setIfAbsent, .delete, .increment, .incrementFloat: preconditionFailure("\(op) is not a read")
        }
    }

    mutating func apply(_ op: HashOperation) -> KeyValueResult {
        if op.isRead { return read(op) }
        var hash: [ByteString: ByteString]
        switch take(op.key) {
        case .held(.hash(let h)): hash = h
        case .absent: hash = [:]
        case .held(let other): collections[op.key] = other; return wrongTypeError
        case .string: return wrongTypeError
        }
        defer { if !hash.isEmpty { collections[op.key] = .hash(hash) } }
        switch op {
        case .set(_, let pairs):
            var added: Int64 = 0
            for i in stride(from: 0, to: pairs.count - 1, by: 2) where hash.updateValue(pairs[i + 1], forKey: pairs[i]) == nil {
                added += 1
            }
            return .integer(added)
        case .setIfAbsent(_, let f, let v):
            guard hash[f] == nil else { return .integer(0) }
            hash[f] = v
            return .integer(1)
        case .delete(_, let fs):
            return .integer(Int64(fs.filter { hash.removeValue(forKey: $0) != nil }.count))
        case .increment(_, let f, let by):
            var current: Int64 = 0
            if let held = hash[f] {
                guard let parsed = Self.integer(held.bytes) else { return .error("ERR hash value is not an integer") }
                current = parsed
            }
            let (sum, overflow) = current.addingReportingOverflow(by)
            guard !overflow else { return .error("ERR increment or decrement would overflow") }
            hash[f] = ByteString(String(sum))
            return .integer(sum)
        case .incrementFloat(_, let f, let by):
            var current = 0.0
            if let held = hash[f] {
                guard let parsed = RedisNumber.double(held.bytes), parsed.isFinite else { return .error("ERR hash value is not a float") }
                current = parsed
            }
            let sum = current + by
            guard sum.isFinite else { return .error("ERR increment would produce NaN or Infinity") }
            hash[f] = RedisNumber.bytes(sum)
            return .value(hash[f])
        case .get, .getMany, .getAll, .exists, .length, .fields, .values, .valueLength: preconditionFailure("\(op) is a read")
        }
    }

    // MARK: Lists

    func read(_ op: ListOperation) -> KeyValueResult {
        let list: ByteList
        switch collections[op.key] {
        case .list(let l)?: list = l
        case nil where entries[op.key] == nil: list = ByteList()
        default: return wrongTypeError
        }
        switch op {
        case .range(_, let a, let b): return .list(Self.positions(a, b, count: list.count).map { list[$0] })
        case .length: return .integer(Int64(list.count))
        case .element(_, let i):
            let range = Self.positions(i, i, count: list.count)
            return .value(range.isEmpty ? nil : list[range.lowerBound])
        case .position(_, let value, let rank, let count, let maxLength):
            let fromTail = rank < 0
            let limit = maxLength == 0 ? list.count : Int(min(maxLength, Int64(list.count)))
            var skip = rank.magnitude - 1, found: [KeyValueResult] = []
            for step in 0..<limit {
                let i = fromTail ? list.count - 1 - step : step
                guard list[i] == value else { continue }
                if skip > 0 { skip -= 1; continue }
                found.append(.integer(Int64(i)))
                if let count, count != 0, found.count == count { break }
                if count == nil { break }
            }
            return count == nil ? (found.first ?? .value(nil)) : .array(found)
        case .push, .pop, .set, .remove, .trim, .insert: preconditionFailure("\(op) is not a read")
        }
    }

    mutating func apply(_ op: ListOperation) -> KeyValueResult {
        if op.isRead { return read(op) }
        var list: ByteList
        switch take(op.key) {
        case .held(.list(let l)): list = l
        case .absent: list = ByteList()
        case .held(let other): collections[op.key] = other; return wrongTypeError
        case .string: return wrongTypeError
        }
        defer { if !list.isEmpty { collections[op.key] = .list(list) } }
        switch op {
        case .push(_, let values, let head, let onlyIfExists):
            if onlyIfExists, list.isEmpty { return .integer(0) }
            for v in values { if head { list.pushFront(v) } else { list.pushBack(v) } }
            return .integer(Int64(list.count))
        case .pop(_, let head, let count):
            guard let count else { return .value(head ? list.popFront() : list.popBack()) }
            if list.isEmpty { return .value(nil) }
            var popped: [ByteString] = []
            while popped.count < count, let v = head ? list.popFront() : list.popBack() { popped.append(v) }
            return .list(popped)
        case .set(_, let i, let v):
            guard !list.isEmpty else { return .error("ERR no such key") }
            let range = Self.positions(i, i, count: list.count)
            guard !range.isEmpty else { return .error("ERR index out of range") }
            list[range.lowerBound] = v
            return .ok
        case .remove(_, let count, let v):
            var elements = list.elements
            var removed: Int64 = 0
            let limit = count == 0 ? Int64.max : count.magnitude > UInt64(Int64.max) ? Int64.max : Int64(count.magnitude)
            let order: [Int] = count < 0 ? Array(elements.indices.reversed()) : Array(elements.indices)
            var drop = Set<Int>()
            for i in order where removed < limit && elements[i] == v {
                drop.insert(i)
                removed += 1
            }
            if removed > 0 {
                elements = elements.indices.filter { !drop.contains($0) }.map { elements[$0] }
                list.replace(with: elements)
            }
            return .integer(removed)
        case .trim(_, let a, let b):
            list.keep(Self.positions(a, b, count: list.count))
            return .ok
        case .insert(_, let before, let pivot, let value):
            guard !list.isEmpty else { return .integer(0) }
            var elements = list.elements
            guard let at = elements.firstIndex(of: pivot) else { return .integer(-1) }
            elements.insert(value, at: before ? at : at + 1)
            list.replace(with: elements)
            return .integer(Int64(list.count))
        case .range, .length, .element, .position: preconditionFailure("\(op) is a read")
        }
    }

    // MARK: Sets

    func read(_ op: SetOperation) -> KeyValueResult {
        let set: Set<ByteString>
        switch collections[op.key] {
        case .set(let s)?: set = s
        case nil where entries[op.key] == nil: set = []
        default: return wrongTypeError
        }
        switch op {
        case .members: return .list(set.sorted())
        case .contains(_, let m): return .integer(set.contains(m) ? 1 : 0)
        case .containsEach(_, let ms): return .array(ms.map { .integer(set.contains($0) ? 1 : 0) })
        case .cardinality: return .integer(Int64(set.count))
        case .someMembers(_, let count):
            let sorted = set.sorted()
            guard let count else { return .value(sorted.first) }
            if count >= 0 { return .list(Array(sorted.prefix(Int(count)))) }
            return .list(sorted.isEmpty ? [] : (0..<Int(count.magnitude)).map { sorted[$0 % sorted.count] })
        case .add, .remove, .pop: preconditionFailure("\(op) is not a read")
        }
    }

    mutating func apply(_ op: SetOperation) -> KeyValueResult {
        if op.isRead { return read(op) }
        var set: Set<ByteString>
        switch take(op.key) {
        case .held(.set(let s)): set = s
        case .absent: set = []
        case .held(let other): collections[op.key] = other; return wrongTypeError
        case .string: return wrongTypeError
        }
        defer { if !set.isEmpty { collections[op.key] = .set(set) } }
        switch op {
        case .add(_, let ms): return .integer(Int64(ms.filter { set.insert($0).inserted }.count))
        case .remove(_, let ms): return .integer(Int64(ms.filter { set.remove($0) != nil }.count))
        case .pop(_, let count):
            // The lowest members, not random ones: every replica must pop the same.
            guard let count else { return .value(set.min().map { set.remove($0)! }) }
            let popped = count >= set.count ? set.sorted() : Array(set.sorted().prefix(count))
            for m in popped { set.remove(m) }
            return .list(popped)
        case .members, .contains, .containsEach, .cardinality, .someMembers: preconditionFailure("\(op) is a read")
        }
    }

    // MARK: Sorted sets

    func read(_ op: SortedSetOperation) -> KeyValueResult {
        let zset: ScoredSet
        switch collections[op.key] {
        case .sortedSet(let z)?: zset = z
        case nil where entries[op.key] == nil: zset = ScoredSet()
        default: return wrongTypeError
        }
        switch op {
        case .score(_, let m): return .value(zset.scores[m].map(RedisNumber.bytes))
        case .scores(_, let ms): return .array(ms.map { .value(zset.scores[$0].map(RedisNumber.bytes)) })
        case .cardinality: return .integer(Int64(zset.count))
        case .count(_, let min, let max): return .integer(Int64(zset.positions(from: min, to: max).count))
        case .rank(_, let m, let reverse):
            guard let rank = zset.rank(of: m) else { return .value(nil) }
            return .integer(Int64(reverse ? zset.count - 1 - rank : rank))
        case .range(_, let a, let b, let reverse, let withScores):
            let range = Self.positions(a, b, count: zset.count)
            let ranks = reverse ? range.map { zset.count - 1 - $0 } : Array(range)
            return Self.listing(ranks.map { zset.order[$0] }, withScores: withScores)
        case .rangeByScore(_, let from, let to, let reverse, let offset, let limit, let withScores):
            let range = reverse ? zset.positions(from: to, to: from) : zset.positions(from: from, to: to)
            var entries = reverse ? Array(zset.order[range].reversed()) : Array(zset.order[range])
            entries = Array(entries.dropFirst(offset < 0 ? entries.count : Int(min(offset, Int64(entries.count)))))
            if limit >= 0 { entries = Array(entries.prefix(Int(min(limit, Int64(entries.count))))) }
            return Self.listing(entries, withScores: withScores)
        case .add, .remove, .pop, .removeByScore, .removeByRank: preconditionFailure("\(op) is not a read")
        }
    }

    /// Members, each followed by its score if `withScores`.
    private static func listing(_ entries: [ScoredMember], withScores: Bool) -> KeyValueResult {
        .list(withScores ? entries.flatMap { [$0.member, RedisNumber.bytes($0.score)] } : entries.map(\.member))
    }

    mutating func apply(_ op: SortedSetOperation) -> KeyValueResult {
        if op.isRead { return read(op) }
        var zset: ScoredSet
        switch take(op.key) {
        case .held(.sortedSet(let z)): zset = z
        case .absent: zset = ScoredSet()
        case .held(let other): collections[op.key] = other; return wrongTypeError
        case .string: return wrongTypeError
        }
        defer { if !zset.isEmpty { collections[op.key] = .sortedSet(zset) } }
        switch op {
        case .add(_, let members, let options):
            var added: Int64 = 0, changed: Int64 = 0
            var result: Double?
            for entry in members {
                let old = zset.scores[entry.member]
                if options.contains(.onlyNew), old != nil { continue }
                if options.contains(.onlyExisting), old == nil { continue }
                var score = entry.score
                if options.contains(.increment) {
                    score += old ?? 0
                    guard !score.isNaN else { return .error("ERR resulting score is not a number (NaN)") }
                }
                if let old {
                    if options.contains(.onlyGreater), score <= old { continue }
                    if options.contains(.onlyLess), score >= old { continue }
                    if score != old { zset.set(entry.member, score); changed += 1 }
                } else {
                    zset.set(entry.member, score)
                    added += 1
                }
                result = score
            }
            if options.contains(.increment) { return .value(result.map(RedisNumber.bytes)) }
            return .integer(options.contains(.countChanged) ? added + changed : added)
        case .remove(_, let ms):
            return .integer(Int64(ms.filter { zset.remove($0) }.count))
        case .pop(_, let count, let highest):
            var popped: [ScoredMember] = []
            while popped.count < count, let entry = highest ? zset.order.last : zset.order.first {
                zset.remove(entry.member)
                popped.append(entry)
            }
            return Self.listing(popped, withScores: true)
        case .removeByScore(_, let min, let max):
            let doomed = zset.order[zset.positions(from: min, to: max)].map(\.member)
            for m in doomed { zset.remove(m) }
            return .integer(Int64(doomed.count))
        case .removeByRank(_, let a, let b):
            let doomed = Self.positions(a, b, count: zset.count).map { zset.order[$0].member }
            for m in doomed { zset.remove(m) }
            return .integer(Int64(doomed.count))
        case .score, .scores, .cardinality, .count, .rank, .range, .rangeByScore: preconditionFailure("\(op) is a read")
        }
    }
}

/// The collections part of a version 2 key-value snapshot: the number of collection keys, then for each key in
/// byte order the key, a type byte (1 hash, 2 list, 3 set, 4 sorted set), the number of items, and the items:
/// a hash's fields and values in field order, a list's elements in order, a set's members in byte order, a
/// sorted set's score (64-bit IEEE) and member, in set order.
enum KeyValueSnapshot {
    /// Where a version 1 snapshot has its key count: no version 1 snapshot has this many keys (it would take
    /// 34 GB), so a reader tells the versions apart by it.
    static let versionMarker: UInt32 = 0xFFFF_FFFF

    static func write(_ collections: [ByteString: KeyCollection], into w: inout ByteWriter) {
        w.uint32(UInt32(collections.count))
        for key in collections.keys.sorted() {
            w.byteString(key)
            write(collections[key]!, into: &w)
        }
    }

    /// One collection: its type byte, the number of items, and the items.
    static func write(_ collection: KeyCollection, into w: inout ByteWriter) {
            switch collection {
            case .hash(let hash):
                w.byte(1)
                w.uint32(UInt32(hash.count))
                for field in hash.keys.sorted() { w.byteString(field); w.byteString(hash[field]!) }
            case .list(let list):
                w.byte(2)
                w.byteStrings(list.elements)
            case .set(let set):
                w.byte(3)
                w.byteStrings(set.sorted())
            case .sortedSet(let zset):
                w.byte(4)
                w.uint32(UInt32(zset.count))
                for entry in zset.order { w.uint64(entry.score.bitPattern); w.byteString(entry.member) }
            }
    }

    static func readCollections(from r: inout ByteReader) throws -> [ByteString: KeyCollection] {
        let count = try r.count(of: "collection", minimumBytes: 9)
        var collections: [ByteString: KeyCollection] = [:]
        for _ in 0..<count {
            let key = try r.byteString()
            let tag = try r.byte()
            let collection: KeyCollection
            switch tag {
            case 1:
                let fields = try r.count(of: "hash field", minimumBytes: 8)
                var hash: [ByteString: ByteString] = [:]
                for _ in 0..<fields {
                    let field = try r.byteString()
                    guard hash.updateValue(try r.byteString(), forKey: field) == nil else {
                        throw ByteDecodingError("hash \(key) holds field \(field) twice")
                    }
                }
                collection = .hash(hash)
            case 2: collection = .list(ByteList(try r.byteStrings()))
            case 3:
                let members = try r.byteStrings()
                let set = Set(members)
                guard set.count == members.count else { throw ByteDecodingError("set \(key) holds a member twice") }
                collection = .set(set)
            case 4:
                let members = try r.count(of: "sorted set member", minimumBytes: 12)
                var zset = ScoredSet()
                for _ in 0..<members {
                    let score = try r.double("score")
                    guard !score.isNaN else { throw ByteDecodingError("sorted set \(key) holds a NaN score") }
                    let member = try r.byteString()
                    guard zset.scores[member] == nil else { throw ByteDecodingError("sorted set \(key) holds \(member) twice") }
                    zset.set(member, score)
                }
                collection = .sortedSet(zset)
            default: throw ByteDecodingError("collection type \(tag) of key \(key) is not 1 to 4")
            }
            guard !collection.isEmpty else { throw ByteDecodingError("key-value snapshot holds an empty collection at \(key)") }
            guard collections.updateValue(collection, forKey: key) == nil else {
                throw ByteDecodingError("key-value snapshot holds collection key \(key) twice")
            }
        }
        return collections
    }
}
