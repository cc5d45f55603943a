import Foundation

/// A client connection's number on one server, as `HELLO` and `CLIENT ID` report it.
public struct ConnectionID: Hashable, Sendable, CustomStringConvertible {
    /// The number.
    public let value: Int64
    /// Makes the identifier of connection `value`.
    public init(_ value: Int64) { self.value = value }
    public var description: String { "conn\(value)" }
}

/// A user name (nil: `default`) and password presented by `AUTH` or `HELLO ... AUTH`.
public struct RESPCredentials: Equatable, Sendable {
    /// The user name, if one was given (`AUTH user pass`); nil for `AUTH pass`.
    public let user: String?
    /// The password's bytes, to be compared in constant time.
    public let password: [UInt8]
    /// Makes credentials.
    public init(user: String?, password: [UInt8]) {
        self.user = user
        self.password = password
    }
}

/// How a key-value result becomes a Redis reply.
public enum RESPReplyForm: Equatable, Sendable {
    /// As Redis answers GET, SET, DEL and APPEND: a value as a bulk string (absent: null), `OK`, a failed
    /// compare-and-set (`SET ... IFEQ` or `NX`) as null, a count as an integer.
    case result
    /// As Redis answers STRLEN: the value's length in bytes, 0 when the key is absent.
    case length
    /// As Redis answers SETNX: 1 when set, 0 when the key existed.
    case flag
    /// As Redis answers HMSET: `OK` for any count.
    case ok
    /// As Redis answers TYPE: the value as a simple string.
    case status
    /// As Redis answers HGETALL: fields and values as a map (RESP2: a flat array).
    case map
    /// As Redis answers SMEMBERS and SPOP with a count: a set (RESP2: an array).
    case members
    /// As Redis answers ZSCORE, ZMSCORE, ZINCRBY in RESP3: scores as doubles (null for none).
    case score
    /// As Redis answers ZRANGE ... WITHSCORES and ZPOPMIN with a count in RESP3: [member, score] pairs
    /// (`flat`: one pair's two items without the pair around them, as ZPOPMIN without a count).
    case scorePairs(flat: Bool)
    /// As Redis answers HSCAN, SSCAN and ZSCAN of a whole collection: cursor 0 and the items (with `pairs`,
    /// field and value or member and score, kept or dropped together) whose first part matches the pattern.
    case scanPage(matching: ByteString?, pairs: Bool)

    /// The reply for `result`.
    public func reply(to result: KeyValueResult) -> RESPValue {
        switch (self, result) {
        case (.length, .value(let v)): .integer(Int64(v?.count ?? 0))
        case (.flag, .ok): .integer(1)
        case (.flag, .mismatch): .integer(0)
        case (.ok, .integer): .ok
        case (.status, .value(let v?)): .simpleString(String(decoding: v.bytes, as: UTF8.self))
        case (.map, .list(let items)):
            .map(stride(from: 0, to: items.count - 1, by: 2).map { (key: .bulkString(items[$0].bytes), value: .bulkString(items[$0 + 1].bytes)) })
        case (.members, .list(let items)): .set(items.map { .bulkString($0.bytes) })
        case (.score, .value(let v?)): RedisNumber.double(v.bytes).map(RESPValue.double) ?? .bulkString(v.bytes)
        case (.score, .array(let items)): .array(items.map { RESPReplyForm.score.reply(to: $0) })
        case (.scorePairs(let flat), .list(let items)):
            RESPReplyForm.pairs(items, flat: flat)
        case (.scanPage(let pattern, let pairs), .list(let items)):
            .array([.bulk("0"), .array(RESPReplyForm.matching(items, pattern, pairs: pairs).map { .bulkString($0.bytes) })])
        case (_, .error(let text)): .error(text)
        case (_, .list(let keys)): .array(keys.map { .bulkString($0.bytes) })
        case (_, .value(let v?)): .bulkString(v.bytes)
        case (_, .value(nil)), (_, .mismatch): .null
        case (_, .ok): .ok
        case (_, .integer(let n)): .integer(n)
        case (_, .array(let items)): .array(items.map { RESPReplyForm.result.reply(to: $0) })
        }
    }

    /// The items (or pairs of items) whose first part matches `pattern`.
    private static func matching(_ items: [ByteString], _ pattern: ByteString?, pairs: Bool) -> [ByteString] {
        guard let pattern else { return items }
        let width = pairs ? 2 : 1
        return stride(from: 0, to: items.count - width + 1, by: width)
            .filter { Glob.matches(pattern.bytes[...], items[$0].bytes[...]) }
            .flatMap { items[$0..<($0 + width)] }
    }

    /// Member, score, member, score ... as [member, score] pairs with double scores.
    private static func pairs(_ items: [ByteString], flat: Bool) -> RESPValue {
        let pairs = stride(from: 0, to: items.count - 1, by: 2).map { i -> RESPValue in
            .array([.bulkString(items[i].bytes), RedisNumber.double(items[i + 1].bytes).map(RESPValue.double) ?? .bulkString(items[i + 1].bytes)])
        }
        if flat, let only = pairs.first, pairs.count == 1 { return only }
        return .array(pairs)
    }
}

/// How the results of a command of several keys (one operation per key, in one log entry) become one reply.
public enum RESPCombination: Equatable, Sendable {
    /// DEL, UNLINK, EXISTS: the number of keys removed or found (EXISTS counts a key as often as it is named).
    case sum
    /// MGET: the values in order, null for an absent key.
    case values
    /// MSET: `OK`.
    case ok

    /// The reply for `results`, one per operation.
    public func reply(to results: [KeyValueResult]) -> RESPValue {
        switch self {
        case .sum:
            return .integer(results.reduce(0) { if case .integer(let n) = $1 { $0 + n } else { $0 } })
        case .values:
            // MGET answers null for a key that holds no string, as Redis does.
            return .array(results.map { if case .error = $0 { .null } else { RESPReplyForm.result.reply(to: $0) } })
        case .ok:
            return .ok
        }
    }
}

/// What a connection does with `MULTI`, `EXEC` and `DISCARD`: the commands between `MULTI` and `EXEC` are
/// queued on the connection and run as one log entry, so that all of them take effect at one point or none does.
public enum RESPTransactionStep: Equatable, Sendable {
    /// `MULTI`: start queueing.
    case begin
    /// `EXEC`: run what was queued, reply with each command's reply in an array.
    case commit
    /// `DISCARD`: drop what was queued.
    case discard
}

/// What the server does for one request.
public enum RESPAction: Equatable, Sendable {
    /// Send this reply; nothing else changes.
    case reply(RESPValue)
    /// Run the operation through the cluster, then reply with `form.reply(to:)` of its result: writes through the
    /// replicated log, reads (GET, EXISTS) linearizably too, by the log or by read index as the node is configured
    /// (`serve --reads`).
    case replicate(KeyValueOperation, RESPReplyForm)
    /// Run one operation per key as one log entry (so all take effect at once), then reply with their
    /// `combination` (DEL, EXISTS and UNLINK of several keys, MGET, MSET).
    case replicateAll([KeyValueOperation], RESPCombination)
    /// MULTI, EXEC or DISCARD: the connection queues, runs or drops a transaction.
    case transaction(RESPTransactionStep)
    /// WATCH: read what the keys hold (a digest of each), so that the connection's next EXEC runs only if they
    /// still hold it, and answers null otherwise.
    case watch([ByteString])
    /// UNWATCH: forget the watched keys.
    case unwatch
    /// HELLO: if credentials are given, check them first (a wrong pair gets `RESPCommands.wrongPassword` and
    /// changes nothing); then switch the connection to RESP `version` and send `reply` encoded in it.
    case setProtocol(Int, reply: RESPValue, credentials: RESPCredentials?)
    /// AUTH: check the credentials and reply `OK` or `RESPCommands.wrongPassword` (without a configured
    /// password, `RESPCommands.noPasswordConfigured`).
    case authenticate(RESPCredentials)
    /// QUIT: reply `OK`, then close the connection once the reply is written.
    case quit
    /// RESET: back to RESP2, unauthenticated; reply `+RESET`.
    case reset
}

/// The Redis commands this server understands, mapped from a request's arguments to a `RESPAction`.
///
/// Names are case-insensitive. Keys and values are bytes, stored and answered exactly as sent (never decoded as
/// text). DEL, UNLINK, EXISTS, MGET and MSET of several keys are one log entry, applied at once. SET takes
/// `IFEQ expected` (Valkey 8.1 / Redis 8.4 compare-and-set) or `NX` (set only if absent); both reply null when
/// nothing was set. MULTI ... EXEC runs the commands queued between them as one log entry, and only if the keys
/// WATCH read still hold what they held then.
public enum RESPCommands {
    /// The Redis version the server reports (in HELLO and INFO): the command set clients may assume.
    public static let redisVersion = "7.0.0"
    /// The `mode` HELLO reports and INFO's `redis_mode`.
    public static let serverMode = "standalone"
    /// The commands understood, lowercase.
    public static let names = (["append", "auth", "client", "command", "config", "dbsize", "decr", "decrby", "del",
                                "discard", "echo", "exec", "exists", "get", "getdel", "getset", "hello", "incr",
                                "incrby", "info", "keys", "mget", "mset", "multi", "ping", "quit", "reset", "select",
                                "set", "setnx", "strlen", "time", "type", "unlink", "unwatch"] + keyNames + collectionNames).sorted()

    /// `-NOAUTH`: a command before authentication on a password-protected server (Redis's text).
    public static let noAuthentication = RESPValue.error("NOAUTH Authentication required.")
    /// `-NOAUTH` for a bare `HELLO` on a password-protected server (Redis's text).
    public static let helloNeedsAuthentication = RESPValue.error(
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
    /// `-WRONGPASS`: credentials that do not match (Redis's text).
    public static let wrongPassword = RESPValue.error("WRONGPASS invalid username-password pair or user is disabled.")
    /// AUTH on a server without a password (Redis's text).
    public static let noPasswordConfigured = RESPValue.error(
        "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
    /// The reply to a connection over `--max-clients` (Redis's text).
    public static let tooManyClients = RESPValue.error("ERR max number of clients reached")

    /// The action for a request's `args` on a connection speaking RESP `protocolVersion` (2 or 3), whose id
    /// HELLO and CLIENT ID report.
    public static func action(for args: [[UInt8]], protocolVersion: Int, connection: ConnectionID = ConnectionID(0)) -> RESPAction {
        guard let first = args.first else { return .reply(.error("ERR empty command")) }
        let name = lowercased(first)
        let n = args.count
        func text(_ i: Int) -> String { String(decoding: args[i], as: UTF8.self) }
        func bytes(_ i: Int) -> ByteString { ByteString(args[i]) }
        func arity() -> RESPAction { .reply(wrongArity(name)) }
        switch name {
        case "ping":
            return n == 1 ? .reply(.simpleString("PONG")) : n == 2 ? .reply(.bulkString(args[1])) : arity()
        case "echo":
            return n == 2 ? .reply(.bulkString(args[1])) : arity()
        case "get":
            return n == 2 ? .replicate(.get(bytes(1)), .result) : arity()
        case "set":
            return n >= 3 ? set(args) : arity()
        case "del", "unlink", "exists":
            guard n >= 2 else { return arity() }
            let exists = name == "exists"
            guard n > 2 else { return .replicate(exists ? .exists(bytes(1)) : .delete(bytes(1)), .result) }
            return .replicateAll((1..<n).map { exists ? .exists(bytes($0)) : .delete(bytes($0)) }, .sum)
        case "mget":
            return n >= 2 ? .replicateAll((1..<n).map { .get(bytes($0)) }, .values) : arity()
        case "mset":
            guard n >= 3, n % 2 == 1 else { return arity() }
            return .replicateAll(stride(from: 1, to: n, by: 2).map { .put(bytes($0), bytes($0 + 1)) }, .ok)
        case "strlen":
            return n == 2 ? .replicate(.get(bytes(1)), .length) : arity()
        case "incr", "decr":
            return n == 2 ? .replicate(.increment(bytes(1), by: name == "incr" ? 1 : -1), .result) : arity()
        case "incrby", "decrby":
            guard n == 3 else { return arity() }
            guard let by = RESPBytes.integer(args[2][...]) else { return .reply(.error("ERR value is not an integer or out of range")) }
            if name == "incrby" { return .replicate(.increment(bytes(1), by: by), .result) }
            guard by != .min else { return .reply(.error("ERR decrement would overflow")) }
            return .replicate(.increment(bytes(1), by: -by), .result)
        case "setnx":
            return n == 3 ? .replicate(.compareAndSet(bytes(1), expected: nil, new: bytes(2)), .flag) : arity()
        case "getset":
            return n == 3 ? .replicate(.getAndSet(bytes(1), bytes(2)), .result) : arity()
        case "getdel":
            return n == 2 ? .replicate(.getAndDelete(bytes(1)), .result) : arity()
        case "dbsize":
            return n == 1 ? .replicate(.count, .result) : arity()
        case "keys":
            return n == 2 ? .replicate(.keys(matching: bytes(1)), .result) : arity()
        case "multi":
            return n == 1 ? .transaction(.begin) : arity()
        case "exec":
            return n == 1 ? .transaction(.commit) : arity()
        case "discard":
            return n == 1 ? .transaction(.discard) : arity()
        case "watch":
            return n >= 2 ? .watch((1..<n).map(bytes)) : arity()
        case "unwatch":
            return n == 1 ? .unwatch : arity()
        case "append":
            return n == 3 ? .replicate(.append(bytes(1), bytes(2)), .result) : arity()
        case "hello":
            return hello(args, protocolVersion: protocolVersion, connection: connection)
        case "auth":
            switch n {
            case 2: return .authenticate(RESPCredentials(user: nil, password: args[1]))
            case 3: return .authenticate(RESPCredentials(user: text(1), password: args[2]))
            default: return arity()
            }
        case "client":
            return n >= 2 ? .reply(client(args, connection: connection)) : arity()
        case "config":
            return n >= 2 ? .reply(config(args)) : arity()
        case "command":
            return .reply(command(args))
        case "info":
            return .reply(.bulk(info(sections: args.dropFirst().map(lowercased))))
        case "select":
            guard n == 2 else { return arity() }
            guard let db = RESPBytes.integer(args[1][...]) else { return .reply(.error("ERR value is not an integer or out of range")) }
            return .reply(db == 0 ? .ok : .error("ERR DB index is out of range"))
        case "quit":
            return .quit
        case "reset":
            return n == 1 ? .reset : arity()
        case "time":
            return n == 1 ? .reply(time(now: Date().timeIntervalSince1970)) : arity()
        case "type":
            return n == 2 ? .replicate(.type(bytes(1)), .status) : arity()
        default:
            return keyAction(name, args) ?? collectionAction(name, args, protocolVersion: protocolVersion) ?? .reply(unknownCommand(args))
        }
    }

    /// `SET key value [NX | XX | IFEQ expected] [GET] [EX s | PX ms | EXAT s | PXAT ms | KEEPTTL]`, as Redis 7
    /// (and 8.4 for IFEQ) parses it. The plain forms map to the simple operations (SET, SETNX, GETSET, IFEQ).
    private static func set(_ args: [[UInt8]]) -> RESPAction {
        let key = ByteString(args[1]), value = ByteString(args[2])
        var condition = SetCondition.always, expiry = ExpiryChange.clear, get = false
        var i = 3
        while i < args.count {
            let option = lowercased(args[i])
            let more = i + 1 < args.count
            switch option {
            case "nx" where condition == .always: condition = .ifAbsent
            case "xx" where condition == .always: condition = .ifPresent
            case "ifeq" where condition == .always && more:
                condition = .ifEqual(ByteString(args[i + 1]))
                i += 1
            case "get" where !get: get = true
            case "keepttl" where expiry == .clear: expiry = .keep
            case "ex", "px", "exat", "pxat":
                guard expiry == .clear, more else { return .reply(syntaxError) }
                guard let time = expiryTime(option, args[i + 1]) else { return .reply(.error("ERR invalid expire time in 'set' command")) }
                expiry = .set(time)
                i += 1
            case "ifne", "ifdeq", "ifdne":
                return .reply(.error("ERR SET option '\(option.uppercased())' is not supported by this server"))
            default:
                return .reply(syntaxError)
            }
            i += 1
        }
        switch (condition, expiry, get) {
        case (.always, .clear, false): return .replicate(.put(key, value), .result)
        case (.always, .clear, true): return .replicate(.getAndSet(key, value), .result)
        case (.ifAbsent, .clear, false): return .replicate(.compareAndSet(key, expected: nil, new: value), .result)
        case (.ifEqual(let expected), .clear, false): return .replicate(.compareAndSet(key, expected: expected, new: value), .result)
        default: return .replicate(.setWith(key, value, condition: condition, expiry: expiry, returnOld: get), .result)
        }
    }

    /// An EX, PX, EXAT or PXAT argument as an expiry time; nil if it is not a positive integer or overflows.
    static func expiryTime(_ unit: String, _ bytes: [UInt8]) -> ExpiryTime? {
        guard let n = RESPBytes.integer(bytes[...]), n > 0 else { return nil }
        let seconds = unit == "ex" || unit == "exat" || unit == "expire" || unit == "expireat" || unit == "setex"
        let (ms, overflow) = seconds ? n.multipliedReportingOverflow(by: 1000) : (n, false)
        guard !overflow else { return nil }
        return unit.hasSuffix("at") ? .at(milliseconds: ms) : .after(milliseconds: ms)
    }

    /// `HELLO [protover [AUTH user pass] [SETNAME name]]`, parsed as Redis 7 does.
    private static func hello(_ args: [[UInt8]], protocolVersion: Int, connection: ConnectionID) -> RESPAction {
        var version = protocolVersion == 3 ? 3 : 2
        if args.count >= 2 {
            guard let requested = RESPBytes.integer(args[1][...]) else {
                return .reply(.error("ERR Protocol version is not an integer or out of range"))
            }
            guard requested == 2 || requested == 3 else { return .reply(.error("NOPROTO unsupported protocol version")) }
            version = Int(requested)
        }
        var credentials: RESPCredentials?
        var i = 2
        while i < args.count {
            let more = args.count - 1 - i
            switch lowercased(args[i]) {
            case "auth" where more >= 2:
                credentials = RESPCredentials(user: String(decoding: args[i + 1], as: UTF8.self), password: args[i + 2])
                i += 3
            case "setname" where more >= 1:
                i += 2  // names are accepted and not kept
            default:
                return .reply(.error("ERR Syntax error in HELLO option '\(String(decoding: args[i], as: UTF8.self))'"))
            }
        }
        let reply = RESPValue.map([
            (.bulk("server"), .bulk("multipaxos")), (.bulk("version"), .bulk(redisVersion)),
            (.bulk("proto"), .integer(Int64(version))), (.bulk("id"), .integer(connection.value)),
            (.bulk("mode"), .bulk(serverMode)), (.bulk("role"), .bulk("master")), (.bulk("modules"), .array([])),
        ])
        return .setProtocol(version, reply: reply, credentials: credentials)
    }

    /// `-ERR wrong number of arguments for 'name' command`, as Redis 7 words it.
    static func wrongArity(_ name: String) -> RESPValue {
        .error("ERR wrong number of arguments for '\(name)' command")
    }

    /// `-ERR unknown command 'name', with args beginning with: 'a' 'b' `, as Redis 7 words it (the name cut at
    /// 128 bytes, the arguments listed while they take under 128 bytes).
    static func unknownCommand(_ args: [[UInt8]]) -> RESPValue {
        var listed: [UInt8] = []
        for arg in args.dropFirst() where listed.count < 128 {
            listed += [UInt8(ascii: "'")] + arg.prefix(128 - listed.count) + Array("' ".utf8)
        }
        let name = String(decoding: args[0].prefix(128), as: UTF8.self)
        return .error("ERR unknown command '\(name)', with args beginning with: \(String(decoding: listed, as: UTF8.self))")
    }

    /// `-ERR unknown subcommand 'x'. Try NAME HELP.`, as Redis words it.
    static func unknownSubcommand(_ args: [[UInt8]]) -> RESPValue {
        let sub = String(decoding: args[1].prefix(128), as: UTF8.self)
        return .error("ERR unknown subcommand '\(sub)'. Try \(lowercased(args[0]).uppercased()) HELP.")
    }

    /// A name's ASCII letters in lowercase.
    static func lowercased(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
    }
}
