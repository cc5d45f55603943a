/// The Redis commands on hashes, lists, sets and sorted sets, mapped to key-value operations with Redis 7's
/// arities, options and error texts.
extension RESPCommands {
    /// The collection commands understood, lowercase.
    static let collectionNames = [
        "hdel", "hexists", "hget", "hgetall", "hincrby", "hincrbyfloat", "hkeys", "hlen", "hmget", "hmset", "hset",
        "hscan", "hsetnx", "hstrlen", "hvals",
        "lindex", "linsert", "llen", "lmove", "lpop", "lpos", "lpush", "lpushx", "lrange", "lrem", "lset", "ltrim",
        "rpop", "rpoplpush", "rpush", "rpushx",
        "sadd", "scard", "sdiff", "sdiffstore", "sinter", "sinterstore", "sismember", "smembers", "smismember",
        "smove", "spop", "srandmember", "srem", "sscan", "sunion", "sunionstore",
        "zadd", "zcard", "zcount", "zincrby", "zmscore", "zpopmax", "zpopmin", "zrange", "zrangebyscore", "zrank",
        "zrem", "zremrangebyrank", "zremrangebyscore", "zrevrange", "zrevrangebyscore", "zrevrank", "zscan", "zscore",
    ]

    static let notInteger = RESPValue.error("ERR value is not an integer or out of range")
    static let notFloat = RESPValue.error("ERR value is not a valid float")
    static let syntaxError = RESPValue.error("ERR syntax error")

    /// The action for a hash, list, set or sorted set command; nil for a name that is none of them.
    static func collectionAction(_ name: String, _ args: [[UInt8]], protocolVersion: Int) -> RESPAction? {
        let n = args.count
        func key() -> ByteString { ByteString(args[1]) }
        func all(from i: Int) -> [ByteString] { args[i...].map { ByteString($0) } }
        func integer(_ i: Int) -> Int64? { RESPBytes.integer(args[i][...]) }
        func arity() -> RESPAction { .reply(wrongArity(name)) }
        let resp3 = protocolVersion == 3
        switch name {
        // Hashes
        case "hset", "hmset":
            guard n >= 4, n % 2 == 0 else { return arity() }
            return .replicate(.hash(.set(key(), fieldsAndValues: all(from: 2))), name == "hset" ? .result : .ok)
        case "hsetnx":
            return n == 4 ? .replicate(.hash(.setIfAbsent(key(), field: ByteString(args[2]), value: ByteString(args[3]))), .result) : arity()
        case "hget":
            return n == 3 ? .replicate(.hash(.get(key(), field: ByteString(args[2]))), .result) : arity()
        case "hmget":
            return n >= 3 ? .replicate(.hash(.getMany(key(), fields: all(from: 2))), .result) : arity()
        case "hgetall":
            return n == 2 ? .replicate(.hash(.getAll(key())), .map) : arity()
        case "hdel":
            return n >= 3 ? .replicate(.hash(.delete(key(), fields: all(from: 2))), .result) : arity()
        case "hexists":
            return n == 3 ? .replicate(.hash(.exists(key(), field: ByteString(args[2]))), .result) : arity()
        case "hlen":
            return n == 2 ? .replicate(.hash(.length(key())), .result) : arity()
        case "hkeys":
            return n == 2 ? .replicate(.hash(.fields(key())), .result) : arity()
        case "hvals":
            return n == 2 ? .replicate(.hash(.values(key())), .result) : arity()
        case "hstrlen":
            return n == 3 ? .replicate(.hash(.valueLength(key(), field: ByteString(args[2]))), .result) : arity()
        case "hincrby":
            guard n == 4 else { return arity() }
            guard let by = integer(3) else { return .reply(notInteger) }
            return .replicate(.hash(.increment(key(), field: ByteString(args[2]), by: by)), .result)
        case "hincrbyfloat":
            guard n == 4 else { return arity() }
            guard let by = RedisNumber.double(args[3]), by.isFinite else { return .reply(notFloat) }
            return .replicate(.hash(.incrementFloat(key(), field: ByteString(args[2]), by: by)), .result)
        // Lists
        case "lpush", "rpush", "lpushx", "rpushx":
            guard n >= 3 else { return arity() }
            return .replicate(.list(.push(key(), all(from: 2), atHead: name.hasPrefix("l"), onlyIfExists: name.hasSuffix("x"))), .result)
        case "lpop", "rpop":
            guard n == 2 || n == 3 else { return arity() }
            var count: Int?
            if n == 3 {
                guard let c = integer(2), c >= 0 else { return .reply(.error("ERR value is out of range, must be positive")) }
                count = Int(c)
            }
            return .replicate(.list(.pop(key(), atHead: name == "lpop", count: count)), .result)
        case "lrange", "ltrim":
            guard n == 4 else { return arity() }
            guard let a = integer(2), let b = integer(3) else { return .reply(notInteger) }
            return .replicate(.list(name == "lrange" ? .range(key(), start: a, stop: b) : .trim(key(), start: a, stop: b)), .result)
        case "llen":
            return n == 2 ? .replicate(.list(.length(key())), .result) : arity()
        case "lindex":
            guard n == 3 else { return arity() }
            guard let i = integer(2) else { return .reply(notInteger) }
            return .replicate(.list(.element(key(), at: i)), .result)
        case "lset":
            guard n == 4 else { return arity() }
            guard let i = integer(2) else { return .reply(notInteger) }
            return .replicate(.list(.set(key(), at: i, ByteString(args[3]))), .result)
        case "lrem":
            guard n == 4 else { return arity() }
            guard let count = integer(2) else { return .reply(notInteger) }
            return .replicate(.list(.remove(key(), count: count, ByteString(args[3]))), .result)
        case "linsert":
            guard n == 5 else { return arity() }
            let where_ = lowercased(args[2])
            guard where_ == "before" || where_ == "after" else { return .reply(syntaxError) }
            return .replicate(.list(.insert(key(), before: where_ == "before", pivot: ByteString(args[3]), ByteString(args[4]))), .result)
        case "lpos":
            return n >= 3 ? lpos(args) : arity()
        case "lmove":
            guard n == 5 else { return arity() }
            let ends = [lowercased(args[3]), lowercased(args[4])]
            guard ends.allSatisfy({ $0 == "left" || $0 == "right" }) else { return .reply(syntaxError) }
            return .replicate(.moveElement(key(), to: ByteString(args[2]), fromHead: ends[0] == "left", toHead: ends[1] == "left"), .result)
        case "rpoplpush":
            return n == 3 ? .replicate(.moveElement(key(), to: ByteString(args[2]), fromHead: false, toHead: true), .result) : arity()
        // Sets
        case "smove":
            return n == 4 ? .replicate(.moveMember(key(), to: ByteString(args[2]), ByteString(args[3])), .result) : arity()
        case "sinter", "sunion", "sdiff":
            guard n >= 2 else { return arity() }
            return .replicate(.combineSets(combination(name), all(from: 1), store: nil), .members)
        case "sinterstore", "sunionstore", "sdiffstore":
            guard n >= 3 else { return arity() }
            return .replicate(.combineSets(combination(name), all(from: 2), store: key()), .result)
        case "srandmember":
            guard n == 2 || n == 3 else { return arity() }
            guard n == 3 else { return .replicate(.set(.someMembers(key(), count: nil)), .result) }
            guard let c = integer(2), c.magnitude <= UInt64(maximumSetSample) else {
                return .reply(.error("ERR value is out of range (at most \(maximumSetSample) members)"))
            }
            return .replicate(.set(.someMembers(key(), count: c)), .result)
        case "hscan", "sscan", "zscan":
            return n >= 3 ? collectionScan(name, args) : arity()
        case "sadd":
            return n >= 3 ? .replicate(.set(.add(key(), all(from: 2))), .result) : arity()
        case "srem":
            return n >= 3 ? .replicate(.set(.remove(key(), all(from: 2))), .result) : arity()
        case "smembers":
            return n == 2 ? .replicate(.set(.members(key())), .members) : arity()
        case "sismember":
            return n == 3 ? .replicate(.set(.contains(key(), ByteString(args[2]))), .result) : arity()
        case "smismember":
            return n >= 3 ? .replicate(.set(.containsEach(key(), all(from: 2))), .result) : arity()
        case "scard":
            return n == 2 ? .replicate(.set(.cardinality(key())), .result) : arity()
        case "spop":
            guard n == 2 || n == 3 else { return arity() }
            guard n == 3 else { return .replicate(.set(.pop(key(), count: nil)), .result) }
            guard let c = integer(2), c >= 0 else { return .reply(.error("ERR value is out of range, must be positive")) }
            return .replicate(.set(.pop(key(), count: Int(c))), .members)
        // Sorted sets
        case "zadd":
            return n >= 4 ? zadd(args) : arity()
        case "zincrby":
            guard n == 4 else { return arity() }
            guard let by = RedisNumber.double(args[2]) else { return .reply(notFloat) }
            let add = SortedSetOperation.add(key(), [ScoredMember(score: by, member: ByteString(args[3]))], .increment)
            return .replicate(.sortedSet(add), resp3 ? .score : .result)
        case "zrem":
            return n >= 3 ? .replicate(.sortedSet(.remove(key(), all(from: 2))), .result) : arity()
        case "zscore":
            return n == 3 ? .replicate(.sortedSet(.score(key(), ByteString(args[2]))), resp3 ? .score : .result) : arity()
        case "zmscore":
            return n >= 3 ? .replicate(.sortedSet(.scores(key(), all(from: 2))), resp3 ? .score : .result) : arity()
        case "zcard":
            return n == 2 ? .replicate(.sortedSet(.cardinality(key())), .result) : arity()
        case "zcount":
            guard n == 4 else { return arity() }
            guard let min = scoreBound(args[2]), let max = scoreBound(args[3]) else { return .reply(.error("ERR min or max is not a float")) }
            return .replicate(.sortedSet(.count(key(), min: min, max: max)), .result)
        case "zrank", "zrevrank":
            return n == 3 ? .replicate(.sortedSet(.rank(key(), ByteString(args[2]), reverse: name == "zrevrank")), .result) : arity()
        case "zpopmin", "zpopmax":
            guard n == 2 || n == 3 else { return arity() }
            var count = 1
            if n == 3 {
                guard let c = integer(2), c >= 0 else { return .reply(.error("ERR value is out of range, must be positive")) }
                count = Int(c)
            }
            return .replicate(.sortedSet(.pop(key(), count: count, highest: name == "zpopmax")), resp3 ? .scorePairs(flat: n == 2) : .result)
        case "zremrangebyscore":
            guard n == 4 else { return arity() }
            guard let min = scoreBound(args[2]), let max = scoreBound(args[3]) else { return .reply(.error("ERR min or max is not a float")) }
            return .replicate(.sortedSet(.removeByScore(key(), min: min, max: max)), .result)
        case "zremrangebyrank":
            guard n == 4 else { return arity() }
            guard let a = integer(2), let b = integer(3) else { return .reply(notInteger) }
            return .replicate(.sortedSet(.removeByRank(key(), start: a, stop: b)), .result)
        case "zrange", "zrevrange", "zrangebyscore", "zrevrangebyscore":
            return n >= 4 ? zrange(name, args, protocolVersion: protocolVersion) : arity()
        default:
            return nil
        }
    }

    /// `ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]`.
    private static func zadd(_ args: [[UInt8]]) -> RESPAction {
        var options: SortedSetAddOptions = []
        var i = 2
        scan: while i < args.count {
            switch lowercased(args[i]) {
            case "nx": options.insert(.onlyNew)
            case "xx": options.insert(.onlyExisting)
            case "gt": options.insert(.onlyGreater)
            case "lt": options.insert(.onlyLess)
            case "ch": options.insert(.countChanged)
            case "incr": options.insert(.increment)
            default: break scan
            }
            i += 1
        }
        let pairs = args.count - i
        guard pairs > 0, pairs % 2 == 0 else { return .reply(syntaxError) }
        if options.isSuperset(of: [.onlyNew, .onlyExisting]) {
            return .reply(.error("ERR XX and NX options at the same time are not compatible"))
        }
        if options.isSuperset(of: [.onlyGreater, .onlyLess]) || (options.contains(.onlyNew) && !options.isDisjoint(with: [.onlyGreater, .onlyLess])) {
            return .reply(.error("ERR GT, LT, and/or NX options at the same time are not compatible"))
        }
        if options.contains(.increment), pairs != 2 {
            return .reply(.error("ERR INCR option supports a single increment-element pair"))
        }
        var members: [ScoredMember] = []
        for j in stride(from: i, to: args.count, by: 2) {
            guard let score = RedisNumber.double(args[j]) else { return .reply(notFloat) }
            members.append(ScoredMember(score: score, member: ByteString(args[j + 1])))
        }
        return .replicate(.sortedSet(.add(ByteString(args[1]), members, options)), .result)
    }

    /// `ZRANGE key start stop [BYSCORE] [REV] [LIMIT offset count] [WITHSCORES]`, and the older ZREVRANGE,
    /// ZRANGEBYSCORE and ZREVRANGEBYSCORE as the forms of it they are.
    private static func zrange(_ name: String, _ args: [[UInt8]], protocolVersion: Int) -> RESPAction {
        var byScore = name.hasSuffix("byscore"), reverse = name.hasPrefix("zrev"), withScores = false
        var limit: (offset: Int64, count: Int64)?
        var i = 4
        while i < args.count {
            switch lowercased(args[i]) {
            case "withscores": withScores = true
            case "byscore" where name == "zrange": byScore = true
            case "rev" where name == "zrange": reverse = true
            case "bylex" where name == "zrange":
                return .reply(.error("ERR ZRANGE's BYLEX is not supported by this server"))
            case "limit" where i + 2 < args.count && name != "zrevrange":
                guard let offset = RESPBytes.integer(args[i + 1][...]), let count = RESPBytes.integer(args[i + 2][...]) else {
                    return .reply(notInteger)
                }
                limit = (offset, count)
                i += 2
            default: return .reply(syntaxError)
            }
            i += 1
        }
        let key = ByteString(args[1])
        let form: RESPReplyForm = withScores && protocolVersion == 3 ? .scorePairs(flat: false) : .result
        if byScore {
            guard let from = scoreBound(args[2]), let to = scoreBound(args[3]) else { return .reply(.error("ERR min or max is not a float")) }
            let op = SortedSetOperation.rangeByScore(key, from: from, to: to, reverse: reverse, offset: limit?.offset ?? 0,
                                                     limit: limit?.count ?? -1, withScores: withScores)
            return .replicate(.sortedSet(op), form)
        }
        guard limit == nil else {
            return .reply(.error("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"))
        }
        guard let start = RESPBytes.integer(args[2][...]), let stop = RESPBytes.integer(args[3][...]) else { return .reply(notInteger) }
        return .replicate(.sortedSet(.range(key, start: start, stop: stop, reverse: reverse, withScores: withScores)), form)
    }

    /// A score bound as ZCOUNT and ZRANGE BYSCORE read one: `1.5`, `(1.5` (excluded), `-inf`, `+inf`.
    static func scoreBound(_ bytes: [UInt8]) -> ScoreBound? {
        let exclusive = bytes.first == UInt8(ascii: "(")
        guard let score = RedisNumber.double(Array(bytes.dropFirst(exclusive ? 1 : 0))) else { return nil }
        return ScoreBound(score, exclusive: exclusive)
    }

    private static func combination(_ name: String) -> SetCombination {
        name.hasPrefix("sinter") ? .intersection : name.hasPrefix("sunion") ? .union : .difference
    }

    /// `LPOS key element [RANK rank] [COUNT count] [MAXLEN len]`, with Redis's errors.
    private static func lpos(_ args: [[UInt8]]) -> RESPAction {
        var rank: Int64 = 1, count: Int64?, maxLength: Int64 = 0
        var i = 3
        while i < args.count {
            guard i + 1 < args.count else { return .reply(syntaxError) }
            guard let value = RESPBytes.integer(args[i + 1][...]) else { return .reply(notInteger) }
            switch lowercased(args[i]) {
            case "rank":
                guard value != 0, value != .min else {
                    return .reply(.error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"))
                }
                rank = value
            case "count":
                guard value >= 0 else { return .reply(.error("ERR COUNT can't be negative")) }
                count = value
            case "maxlen":
                guard value >= 0 else { return .reply(.error("ERR MAXLEN can't be negative")) }
                maxLength = value
            default: return .reply(syntaxError)
            }
            i += 2
        }
        return .replicate(.list(.position(ByteString(args[1]), ByteString(args[2]), rank: rank, count: count, maxLength: maxLength)), .result)
    }

    /// `HSCAN|SSCAN|ZSCAN key cursor [MATCH pattern] [COUNT n]`: the whole collection in one page, cursor 0 (as
    /// Redis answers for a small collection), filtered by the pattern.
    private static func collectionScan(_ name: String, _ args: [[UInt8]]) -> RESPAction {
        guard UInt64(String(decoding: args[2], as: UTF8.self)) != nil else { return .reply(.error("ERR invalid cursor")) }
        var pattern: ByteString?
        var i = 3
        while i < args.count {
            guard i + 1 < args.count else { return .reply(syntaxError) }
            switch lowercased(args[i]) {
            case "match": pattern = ByteString(args[i + 1])
            case "count": guard let c = RESPBytes.integer(args[i + 1][...]), c >= 1 else { return .reply(syntaxError) }
            default: return .reply(syntaxError)
            }
            i += 2
        }
        let key = ByteString(args[1])
        switch name {
        case "hscan": return .replicate(.hash(.getAll(key)), .scanPage(matching: pattern, pairs: true))
        case "sscan": return .replicate(.set(.members(key)), .scanPage(matching: pattern, pairs: false))
        default:
            return .replicate(.sortedSet(.range(key, start: 0, stop: -1, reverse: false, withScores: true)),
                              .scanPage(matching: pattern, pairs: true))
        }
    }
}
