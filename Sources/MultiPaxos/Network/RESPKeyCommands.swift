/// The Redis commands on whole keys (RENAME, COPY, FLUSHDB, SCAN, RANDOMKEY, TOUCH) and on parts of strings
/// (MSETNX, INCRBYFLOAT, GETRANGE, SETRANGE, DELEX), mapped to key-value operations with Redis's errors.
extension RESPCommands {
    /// These commands' names, lowercase.
    static let keyNames = ["copy", "delex", "expire", "expireat", "expiretime", "flushall", "flushdb", "getex", "getrange",
                           "incrbyfloat", "msetnx", "persist", "pexpire", "pexpireat", "pexpiretime", "psetex", "pttl",
                           "randomkey", "rename", "renamenx", "scan", "setex", "setrange", "substr", "touch", "ttl"]

    /// The action for one of these commands; nil for a name that is none of them.
    static func keyAction(_ name: String, _ args: [[UInt8]]) -> RESPAction? {
        let n = args.count
        func bytes(_ i: Int) -> ByteString { ByteString(args[i]) }
        func integer(_ i: Int) -> Int64? { RESPBytes.integer(args[i][...]) }
        func arity() -> RESPAction { .reply(wrongArity(name)) }
        switch name {
        case "rename", "renamenx":
            guard n == 3 else { return arity() }
            return .replicate(.rename(bytes(1), to: bytes(2), onlyIfAbsent: name == "renamenx"), .result)
        case "copy":
            guard n >= 3 else { return arity() }
            var replace = false
            for option in args.dropFirst(3) {
                switch lowercased(option) {
                case "replace": replace = true
                case "db": return .reply(.error("ERR COPY's DB option is not supported by this server (it has database 0 only)"))
                default: return .reply(syntaxError)
                }
            }
            guard args[1] != args[2] else { return .reply(.error("ERR source and destination objects are the same")) }
            return .replicate(.copy(bytes(1), to: bytes(2), replace: replace), .result)
        case "flushdb", "flushall":
            guard n <= 2 else { return arity() }
            guard n == 1 || ["async", "sync"].contains(lowercased(args[1])) else { return .reply(syntaxError) }
            return .replicate(.flush, .result)
        case "touch":
            guard n >= 2 else { return arity() }
            return n == 2 ? .replicate(.exists(bytes(1)), .result) : .replicateAll((1..<n).map { .exists(bytes($0)) }, .sum)
        case "randomkey":
            return n == 1 ? .replicate(.firstKey, .result) : arity()
        case "scan":
            guard n >= 2 else { return arity() }
            guard let cursor = UInt64(String(decoding: args[1], as: UTF8.self)) else { return .reply(.error("ERR invalid cursor")) }
            var pattern: ByteString?, count = 10, type: ByteString?
            var i = 2
            while i < n {
                guard i + 1 < n else { return .reply(syntaxError) }
                switch lowercased(args[i]) {
                case "match": pattern = bytes(i + 1)
                case "count":
                    guard let c = integer(i + 1) else { return .reply(notInteger) }
                    guard c >= 1 else { return .reply(syntaxError) }
                    count = Int(min(c, 1 << 30))
                case "type": type = ByteString(lowercased(args[i + 1]))
                default: return .reply(syntaxError)
                }
                i += 2
            }
            return .replicate(.scan(cursor: cursor, matching: pattern, count: count, type: type), .result)
        case "msetnx":
            guard n >= 3, n % 2 == 1 else { return arity() }
            return .replicate(.putAllIfAbsent((1..<n).map(bytes)), .result)
        case "incrbyfloat":
            guard n == 3 else { return arity() }
            guard let by = RedisNumber.double(args[2]), by.isFinite else { return .reply(notFloat) }
            return .replicate(.incrementFloat(bytes(1), by: by), .result)
        case "getrange", "substr":
            guard n == 4 else { return arity() }
            guard let start = integer(2), let end = integer(3) else { return .reply(notInteger) }
            return .replicate(.substring(bytes(1), start: start, end: end), .result)
        case "setrange":
            guard n == 4 else { return arity() }
            guard let offset = integer(2) else { return .reply(notInteger) }
            guard offset >= 0 else { return .reply(.error("ERR offset is out of range")) }
            guard offset + Int64(args[3].count) <= Int64(KeyValueStore.maximumValueBytes) else {
                return .reply(.error("ERR string exceeds maximum allowed size (proto-max-bulk-len)"))
            }
            return .replicate(.overwrite(bytes(1), offset: Int(offset), bytes(3)), .result)
        case "delex":
            // Redis 8.4's conditional delete: a lock's holder releases it only while it still holds it.
            switch n {
            case 2: return .replicate(.delete(bytes(1)), .result)
            case 4:
                switch lowercased(args[2]) {
                case "ifeq": return .replicate(.deleteIf(bytes(1), value: bytes(3), equal: true), .result)
                case "ifne": return .replicate(.deleteIf(bytes(1), value: bytes(3), equal: false), .result)
                case "ifdeq", "ifdne": return .reply(.error("ERR DELEX's digest conditions are not supported by this server (IFEQ and IFNE are)"))
                default: return .reply(syntaxError)
                }
            default: return n == 3 ? .reply(syntaxError) : arity()
            }
        case "setex", "psetex":
            guard n == 4 else { return arity() }
            guard let time = expiryTime(name == "setex" ? "ex" : "px", args[2]) else {
                return .reply(.error("ERR invalid expire time in '\(name)' command"))
            }
            return .replicate(.setWith(bytes(1), bytes(3), condition: .always, expiry: .set(time), returnOld: false), .result)
        case "getex":
            guard n >= 2 else { return arity() }
            var change = ExpiryChange.keep
            switch n {
            case 2: break
            case 3 where lowercased(args[2]) == "persist": change = .clear
            case 4 where ["ex", "px", "exat", "pxat"].contains(lowercased(args[2])):
                guard let time = expiryTime(lowercased(args[2]), args[3]) else { return .reply(.error("ERR invalid expire time in 'getex' command")) }
                change = .set(time)
            default: return .reply(syntaxError)
            }
            return .replicate(.getAndExpire(bytes(1), change), .result)
        case "expire", "pexpire", "expireat", "pexpireat":
            guard n == 3 || n == 4 else { return arity() }
            guard let number = integer(2) else { return .reply(notInteger) }
            let seconds = !name.hasPrefix("p")
            let (ms, overflow) = seconds ? number.multipliedReportingOverflow(by: 1000) : (number, false)
            guard !overflow else { return .reply(.error("ERR invalid expire time in '\(name)' command")) }
            var condition = ExpiryCondition.always
            if n == 4 {
                switch lowercased(args[3]) {
                case "nx": condition = .onlyWithout
                case "xx": condition = .onlyWith
                case "gt": condition = .onlyLater
                case "lt": condition = .onlySooner
                default: return .reply(.error("ERR Unsupported option \(String(decoding: args[3], as: UTF8.self))"))
                }
            }
            let time: ExpiryTime = name.hasSuffix("at") ? .at(milliseconds: ms) : .after(milliseconds: ms)
            return .replicate(.expire(bytes(1), time, condition), .result)
        case "ttl", "pttl", "expiretime", "pexpiretime":
            guard n == 2 else { return arity() }
            let query: ExpiryQuery = switch name {
            case "ttl": .secondsLeft
            case "pttl": .millisecondsLeft
            case "expiretime": .deadlineSeconds
            default: .deadlineMilliseconds
            }
            return .replicate(.timeToLive(bytes(1), query), .result)
        case "persist":
            return n == 2 ? .replicate(.persist(bytes(1)), .result) : arity()
        case "blpop", "brpop", "brpoplpush", "blmove", "blmpop", "bzpopmin", "bzpopmax", "bzmpop":
            return .reply(.error("ERR \(name.uppercased()) is not supported by this server: blocking commands are not replicated (pop without blocking, and poll)"))
        default:
            return nil
        }
    }
}
