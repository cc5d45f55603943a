import Testing
@testable import MultiPaxos

@Suite struct RESPCommandsTests {
    /// The action for a request given as words.
    func action(_ words: String..., version: Int = 2, id: Int64 = 7) -> RESPAction {
        RESPCommands.action(for: words.map { Array($0.utf8) }, protocolVersion: version, connection: ConnectionID(id))
    }

    func reply(_ words: String..., version: Int = 2) -> RESPValue? {
        if case .reply(let r) = RESPCommands.action(for: words.map { Array($0.utf8) }, protocolVersion: version, connection: ConnectionID(7)) { r } else { nil }
    }

    @Test func pingAndEchoAnswerAtOnce() {
        #expect(action("PING") == .reply(.simpleString("PONG")))
        #expect(action("ping", "hi") == .reply(.bulk("hi")))
        #expect(action("PING", "a", "b") == .reply(.error("ERR wrong number of arguments for 'ping' command")))
        #expect(action("EcHo", "x y") == .reply(.bulk("x y")))
        #expect(action("ECHO") == .reply(.error("ERR wrong number of arguments for 'echo' command")))
    }

    @Test func keyValueCommandsAreReplicated() {
        #expect(action("GET", "k") == .replicate(.get("k"), .result))
        #expect(action("set", "k", "v") == .replicate(.put("k", "v"), .result))
        #expect(action("DEL", "k") == .replicate(.delete("k"), .result))
        #expect(action("APPEND", "k", "é") == .replicate(.append("k", "é"), .result))
        #expect(action("EXISTS", "k") == .replicate(.exists("k"), .result))
        // Keys and values are bytes, passed on exactly as sent: never decoded as text.
        #expect(RESPCommands.action(for: [Array("GET".utf8), [0x61, 0xFF]], protocolVersion: 2)
                == .replicate(.get(ByteString([0x61, 0xFF])), .result))
        #expect(RESPCommands.action(for: [Array("SET".utf8), [0xFF], [0xFE, 0x00], Array("IFEQ".utf8), [0x80]], protocolVersion: 3)
                == .replicate(.compareAndSet(ByteString([0xFF]), expected: ByteString([0x80]), new: ByteString([0xFE, 0x00])), .result))
        #expect(RESPReplyForm.result.reply(to: .value(ByteString([0xFF, 0x00]))) == .bulkString([0xFF, 0x00]))
    }

    @Test func wrongArityIsWordedAsRedisWordsIt() {
        #expect(reply("GET") == .error("ERR wrong number of arguments for 'get' command"))
        #expect(reply("GET", "a", "b") == .error("ERR wrong number of arguments for 'get' command"))
        #expect(reply("SET", "k") == .error("ERR wrong number of arguments for 'set' command"))
        #expect(reply("APPEND", "k") == .error("ERR wrong number of arguments for 'append' command"))
        #expect(reply("DEL") == .error("ERR wrong number of arguments for 'del' command"))
        #expect(reply("EXISTS") == .error("ERR wrong number of arguments for 'exists' command"))
        #expect(reply("SELECT") == .error("ERR wrong number of arguments for 'select' command"))
        #expect(reply("AUTH") == .error("ERR wrong number of arguments for 'auth' command"))
        #expect(reply("CONFIG", "GET") == .error("ERR wrong number of arguments for 'config|get' command"))
        #expect(reply("RESET", "x") == .error("ERR wrong number of arguments for 'reset' command"))
        #expect(reply("MGET") == .error("ERR wrong number of arguments for 'mget' command"))
        #expect(reply("MSET", "k") == .error("ERR wrong number of arguments for 'mset' command"))
        #expect(reply("MSET", "k", "v", "k2") == .error("ERR wrong number of arguments for 'mset' command"))
        #expect(reply("STRLEN") == .error("ERR wrong number of arguments for 'strlen' command"))
        #expect(reply("EXEC", "x") == .error("ERR wrong number of arguments for 'exec' command"))
    }

    @Test func stringCommandsMapToTheirOperations() {
        #expect(action("INCR", "n") == .replicate(.increment("n", by: 1), .result))
        #expect(action("decr", "n") == .replicate(.increment("n", by: -1), .result))
        #expect(action("INCRBY", "n", "-5") == .replicate(.increment("n", by: -5), .result))
        #expect(action("DECRBY", "n", "5") == .replicate(.increment("n", by: -5), .result))
        #expect(reply("INCRBY", "n", "x") == .error("ERR value is not an integer or out of range"))
        #expect(reply("INCRBY", "n", "99999999999999999999") == .error("ERR value is not an integer or out of range"))
        #expect(reply("DECRBY", "n", "-9223372036854775808") == .error("ERR decrement would overflow"))
        #expect(reply("INCR") == .error("ERR wrong number of arguments for 'incr' command"))
        #expect(action("SETNX", "k", "v") == .replicate(.compareAndSet("k", expected: nil, new: "v"), .flag))
        #expect(RESPReplyForm.flag.reply(to: .ok) == .integer(1) && RESPReplyForm.flag.reply(to: .mismatch(current: "x")) == .integer(0))
        #expect(action("GETSET", "k", "v") == .replicate(.getAndSet("k", "v"), .result))
        #expect(action("SET", "k", "v", "GET") == .replicate(.getAndSet("k", "v"), .result))
        #expect(reply("SET", "k", "v", "GET", "GET") == .error("ERR syntax error"))
        #expect(action("SET", "k", "v", "NX", "GET") == .replicate(.setWith("k", "v", condition: .ifAbsent, expiry: .clear, returnOld: true), .result))
        #expect(action("GETDEL", "k") == .replicate(.getAndDelete("k"), .result))
        #expect(action("DBSIZE") == .replicate(.count, .result))
        #expect(action("KEYS", "user:*") == .replicate(.keys(matching: "user:*"), .result))
        #expect(reply("KEYS") == .error("ERR wrong number of arguments for 'keys' command"))
        // A refused operation's result is Redis's error reply; KEYS answers an array of bulk strings.
        #expect(RESPReplyForm.result.reply(to: .error("ERR value is not an integer or out of range"))
                == .error("ERR value is not an integer or out of range"))
        #expect(RESPReplyForm.result.reply(to: .list(["a", ByteString([0xFF])])) == .array([.bulk("a"), .bulkString([0xFF])]))
    }

    @Test func severalKeysAreOneOperationEachInOneLogEntry() {
        #expect(action("DEL", "a", "b") == .replicateAll([.delete("a"), .delete("b")], .sum))
        #expect(action("UNLINK", "a") == .replicate(.delete("a"), .result))
        #expect(action("EXISTS", "a", "a", "b") == .replicateAll([.exists("a"), .exists("a"), .exists("b")], .sum))
        #expect(action("MGET", "a", "b") == .replicateAll([.get("a"), .get("b")], .values))
        #expect(action("MSET", "a", "1", "b", "2") == .replicateAll([.put("a", "1"), .put("b", "2")], .ok))
        #expect(action("STRLEN", "a") == .replicate(.get("a"), .length))
        // Absent values are null in MGET.
                #expect(RESPCombination.sum.reply(to: [.integer(1), .integer(0), .integer(1)]) == .integer(2))
        #expect(RESPCombination.values.reply(to: [.value(ByteString([0xFF])), .value(nil)]) == .array([.bulkString([0xFF]), .null]))
        #expect(RESPReplyForm.length.reply(to: .value(ByteString([0xFF, 0, 1]))) == .integer(3))
        #expect(RESPReplyForm.length.reply(to: .value(nil)) == .integer(0))
        #expect(action("MULTI") == .transaction(.begin) && action("exec") == .transaction(.commit))
        #expect(action("DISCARD") == .transaction(.discard))
    }

    @Test func setTakesIfeqAndNxAsCompareAndSet() {
        #expect(action("SET", "k", "new", "IFEQ", "old") == .replicate(.compareAndSet("k", expected: "old", new: "new"), .result))
        #expect(action("SET", "k", "new", "ifeq", "") == .replicate(.compareAndSet("k", expected: "", new: "new"), .result))
        #expect(action("SET", "k", "v", "nx") == .replicate(.compareAndSet("k", expected: nil, new: "v"), .result))
        #expect(reply("SET", "k", "v", "IFEQ") == .error("ERR syntax error"))
        #expect(reply("SET", "k", "v", "IFEQ", "a", "NX") == .error("ERR syntax error"))
        #expect(reply("SET", "k", "v", "BOGUS") == .error("ERR syntax error"))
        #expect(action("SET", "k", "v", "ex", "10") == .replicate(.setWith("k", "v", condition: .always, expiry: .set(.after(milliseconds: 10_000)), returnOld: false), .result))
        #expect(reply("SET", "k", "v", "EX", "0") == .error("ERR invalid expire time in 'set' command"))
        #expect(reply("SET", "k", "v", "EX", "1", "PX", "1") == .error("ERR syntax error"))
        #expect(reply("SET", "k", "v", "ifne", "x") == .error("ERR SET option 'IFNE' is not supported by this server"))
        // IFEQ answers OK when set, and nil when the key holds another value or is absent.
        let form = RESPReplyForm.result
        var store = KeyValueStore()
        _ = store.apply(.put("k", "old"))
        #expect(form.reply(to: store.apply(.compareAndSet("k", expected: "old", new: "new"))) == .ok)
        #expect(form.reply(to: store.apply(.compareAndSet("k", expected: "old", new: "x"))) == .null)
        #expect(form.reply(to: store.apply(.compareAndSet("absent", expected: "old", new: "x"))) == .null)
    }

    @Test func resultsBecomeRedisReplies() {
        var store = KeyValueStore()
        #expect(RESPReplyForm.result.reply(to: store.apply(.put("k", "v"))) == .ok)
        #expect(RESPReplyForm.result.reply(to: store.apply(.get("k"))) == .bulk("v"))
        #expect(RESPReplyForm.result.reply(to: store.apply(.exists("k"))) == .integer(1))
        #expect(RESPReplyForm.result.reply(to: store.apply(.append("k", "éé"))) == .integer(5))
        #expect(RESPReplyForm.result.reply(to: store.apply(.delete("k"))) == .integer(1))
        #expect(RESPReplyForm.result.reply(to: store.apply(.delete("k"))) == .integer(0))
        #expect(RESPReplyForm.result.reply(to: store.apply(.get("k"))) == .null)
        #expect(RESPReplyForm.result.reply(to: store.apply(.exists("k"))) == .integer(0))
        #expect(RESPReplyForm.result.reply(to: .ok) == .ok, "an earlier version's result still answers")
    }

    @Test func helloSwitchesTheProtocolAndAnswersWithTheServerMap() throws {
        guard case .setProtocol(let version, let reply, let credentials) = action("HELLO", "3", id: 42) else {
            Issue.record("HELLO 3 is not a protocol switch")
            return
        }
        #expect(version == 3)
        #expect(credentials == nil)
        #expect(reply == .map([(.bulk("server"), .bulk("multipaxos")), (.bulk("version"), .bulk("7.0.0")),
                               (.bulk("proto"), .integer(3)), (.bulk("id"), .integer(42)), (.bulk("mode"), .bulk("standalone")),
                               (.bulk("role"), .bulk("master")), (.bulk("modules"), .array([]))]))
        #expect(reply.encoded(protocolVersion: 3).starts(with: Array("%7\r\n$6\r\nserver\r\n".utf8)))
        // No version: the current one, unchanged; HELLO 2 back to RESP2.
        if case .setProtocol(let v, _, _) = action("hello", version: 3) { #expect(v == 3) } else { Issue.record("bare HELLO") }
        if case .setProtocol(let v, _, _) = action("HELLO", "2", version: 3) { #expect(v == 2) } else { Issue.record("HELLO 2") }
        #expect(action("HELLO", "4") == .reply(.error("NOPROTO unsupported protocol version")))
        #expect(action("HELLO", "1") == .reply(.error("NOPROTO unsupported protocol version")))
        #expect(action("HELLO", "three") == .reply(.error("ERR Protocol version is not an integer or out of range")))
        #expect(action("HELLO", "3", "AUTH", "default") == .reply(.error("ERR Syntax error in HELLO option 'AUTH'")))
        #expect(action("HELLO", "3", "FOO") == .reply(.error("ERR Syntax error in HELLO option 'FOO'")))
    }

    @Test func passwordsArePassedOnForTheServerToCheck() {
        guard case .setProtocol(3, _, let credentials) = action("HELLO", "3", "AUTH", "default", "pw", "SETNAME", "me") else {
            Issue.record("HELLO 3 AUTH is not a protocol switch")
            return
        }
        #expect(credentials == RESPCredentials(user: "default", password: Array("pw".utf8)))
        #expect(action("AUTH", "pw") == .authenticate(RESPCredentials(user: nil, password: Array("pw".utf8))))
        #expect(action("auth", "default", "pw") == .authenticate(RESPCredentials(user: "default", password: Array("pw".utf8))))
        #expect(RESPCommands.wrongPassword.encoded(protocolVersion: 2)
                == Array("-WRONGPASS invalid username-password pair or user is disabled.\r\n".utf8))
    }

    @Test func clientConfigCommandAndInfoSatisfyRealClients() {
        #expect(reply("CLIENT", "SETINFO", "LIB-NAME", "redis-py") == .ok)
        #expect(reply("client", "setname", "me") == .ok)
        #expect(reply("CLIENT", "ID") == .integer(7))
        #expect(reply("CLIENT", "MAINT_NOTIFICATIONS", "ON") == .error("ERR unknown subcommand 'MAINT_NOTIFICATIONS'. Try CLIENT HELP."))
        #expect(reply("CLIENT") == .error("ERR wrong number of arguments for 'client' command"))
        // redis-benchmark needs an array of at least two elements for each.
        #expect(reply("CONFIG", "GET", "save")?.encoded(protocolVersion: 2) == Array("*2\r\n$4\r\nsave\r\n$0\r\n\r\n".utf8))
        #expect(reply("CONFIG", "GET", "appendonly")?.encoded(protocolVersion: 2) == Array("*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n".utf8))
        #expect(reply("CONFIG", "GET", "SAVE")?.encoded(protocolVersion: 3) == Array("%1\r\n$4\r\nsave\r\n$0\r\n\r\n".utf8))
        #expect(reply("CONFIG", "GET", "maxmemory") == .map([]))
        #expect(reply("CONFIG", "GET", "*a*es") == .map([(.bulk("databases"), .bulk("1"))]))
        #expect(reply("CONFIG", "GET", "*")?.encoded(protocolVersion: 2).starts(with: Array("*6\r\n".utf8)) == true)
        #expect(reply("CONFIG", "SET", "save", "") == .error("ERR CONFIG SET is not supported by this server"))
        #expect(reply("COMMAND") == .array([]))
        #expect(reply("COMMAND", "COUNT") == .integer(Int64(RESPCommands.names.count)))
        #expect(reply("COMMAND", "DOCS") == .map([]))
        #expect(reply("COMMAND", "INFO", "get", "set") == .array([.null, .null]))
        var infoBytes: [UInt8] = []
        if case .bulkString(let b)? = reply("INFO") { infoBytes = b }
        let info = String(decoding: infoBytes, as: UTF8.self)
        #expect(info.hasPrefix("# Server\r\nredis_version:7.0.0\r\n"))
        #expect(info.contains("\r\n\r\n# Replication\r\nrole:master\r\n"))
        #expect(reply("INFO", "replication") == .bulk("# Replication\r\nrole:master\r\nconnected_slaves:0\r\n"))
        #expect(reply("INFO", "keyspace") == .bulk(""))
    }

    @Test func selectQuitResetAndUnknownCommands() {
        #expect(reply("SELECT", "0") == .ok)
        #expect(reply("SELECT", "1") == .error("ERR DB index is out of range"))
        #expect(reply("SELECT", "x") == .error("ERR value is not an integer or out of range"))
        #expect(action("QUIT") == .quit)
        guard case .array(let time)? = reply("TIME"), time.count == 2, case .bulkString(let seconds) = time[0],
              case .bulkString(let micros) = time[1], let s = Int(String(decoding: seconds, as: UTF8.self)),
              let us = Int(String(decoding: micros, as: UTF8.self)) else {
            Issue.record("TIME answered \(String(describing: reply("TIME")))")
            return
        }
        #expect(s > 1_700_000_000 && (0..<1_000_000).contains(us))
        #expect(action("reset") == .reset)
        #expect(reply("BLPOP", "k", "0") == .error("ERR BLPOP is not supported by this server: blocking commands are not replicated (pop without blocking, and poll)"))
        #expect(reply("XADD", "s", "*") == .error("ERR unknown command 'XADD', with args beginning with: 's' '*' "))
        #expect(reply("foo", "a", "b c") == .error("ERR unknown command 'foo', with args beginning with: 'a' 'b c' "))
        let long = String(repeating: "x", count: 200)
        #expect(reply("foo", long, "more")
                == .error("ERR unknown command 'foo', with args beginning with: '\(String(repeating: "x", count: 128))' "))
        #expect(RESPCommands.action(for: [], protocolVersion: 2) == .reply(.error("ERR empty command")))
    }

    @Test func aRedisPyHandshakeParsesAndMapsEndToEnd() throws {
        var parser = RESPRequestParser()
        parser.append(Array(("*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n" +
                             "*4\r\n$6\r\nCLIENT\r\n$7\r\nSETINFO\r\n$8\r\nLIB-NAME\r\n$8\r\nredis-py\r\n" +
                             "*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$4\r\nIFEQ\r\n$1\r\nu\r\n").utf8))
        var version = 2
        var out: [UInt8] = []
        var operations: [KeyValueOperation] = []
        while let request = try parser.next() {
            switch RESPCommands.action(for: request, protocolVersion: version) {
            case .setProtocol(let v, let reply, nil):
                version = v
                reply.encode(into: &out, protocolVersion: version)
            case .reply(let reply): reply.encode(into: &out, protocolVersion: version)
            case .replicate(let op, let form):
                operations.append(op)
                form.reply(to: .mismatch(current: nil)).encode(into: &out, protocolVersion: version)
            default: Issue.record("unexpected action for \(request)")
            }
        }
        #expect(version == 3)
        #expect(operations == [.compareAndSet("k", expected: "u", new: "v")])
        #expect(out.starts(with: Array("%7\r\n".utf8)))
        #expect(String(decoding: out, as: UTF8.self).hasSuffix("$7\r\nmodules\r\n*0\r\n+OK\r\n_\r\n"))
    }
}
