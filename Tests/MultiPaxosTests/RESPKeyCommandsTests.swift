import Testing
@testable import MultiPaxos

/// Commands on whole keys and on parts of strings, from request to reply bytes against a store, as Redis 7
/// (and, for DELEX, Redis 8.4) documents them.
@Suite struct RESPKeyCommandsTests {
    @Test func renameCopyTouchAndFlush() {
        var s = RESPTestServer()
        #expect(s.run("RPUSH", "l", "a") == ":1|" && s.run("SET", "s", "v") == "+OK|")
        #expect(s.run("RENAME", "l", "l2") == "+OK|" && s.run("TYPE", "l2") == "+list|" && s.run("EXISTS", "l") == ":0|")
        #expect(s.run("RENAME", "nope", "x") == "-ERR no such key|")
        #expect(s.run("RENAMENX", "s", "l2") == ":0|")
        #expect(s.run("RENAME", "s", "l2") == "+OK|" && s.run("GET", "l2") == "$1|v|", "RENAME replaces a key of another type")
        #expect(s.run("COPY", "l2", "c") == ":1|" && s.run("COPY", "l2", "c") == ":0|")
        #expect(s.run("COPY", "l2", "c", "REPLACE") == ":1|" && s.run("GET", "c") == "$1|v|")
        #expect(s.run("COPY", "c", "c") == "-ERR source and destination objects are the same|")
        #expect(s.run("TOUCH", "c", "l2", "nope") == ":2|")
        #expect(s.run("FLUSHDB", "ASYNC") == "+OK|" && s.run("DBSIZE") == ":0|")
        #expect(s.run("FLUSHALL", "LATER") == "-ERR syntax error|")
    }

    @Test func scanReturnsEveryKeyOnceAcrossPagesAndFilters() {
        var s = RESPTestServer()
        for i in 0..<50 { _ = s.run("SET", "k\(i)", "v") }
        _ = s.run("SADD", "set:1", "m")
        var cursor = "0", seen: [String] = [], pages = 0
        repeat {
            guard case .array(let reply) = RESPCommands.action(for: [Array("SCAN".utf8), Array(cursor.utf8), Array("COUNT".utf8), Array("7".utf8)], protocolVersion: 2)
                .replyAgainst(&s.store), reply.count == 2, case .bulkString(let next) = reply[0], case .array(let keys) = reply[1] else {
                Issue.record("SCAN answered no cursor and page")
                return
            }
            cursor = String(decoding: next, as: UTF8.self)
            seen += keys.compactMap { if case .bulkString(let k) = $0 { String(decoding: k, as: UTF8.self) } else { nil } }
            pages += 1
        } while cursor != "0" && pages < 100
        #expect(seen.count == 51 && Set(seen).count == 51, "every key once: \(seen.count) returned")
        #expect(pages >= 7, "pages of about seven keys: \(pages)")
        #expect(s.run("SCAN", "0", "COUNT", "1000", "MATCH", "set:*").hasSuffix("*1|$5|set:1|"))
        #expect(s.run("SCAN", "0", "COUNT", "1000", "TYPE", "SET").hasSuffix("*1|$5|set:1|"))
        #expect(s.run("SCAN", "x") == "-ERR invalid cursor|" && s.run("SCAN", "0", "COUNT") == "-ERR syntax error|")
        // The first key SCAN returns is RANDOMKEY's: the same on every replica.
        #expect(s.run("SCAN", "0", "COUNT", "1").contains(s.run("RANDOMKEY")))
    }

    @Test func aScanCursorMeansTheSameAfterKeysComeAndGo() {
        var store = KeyValueStore()
        for i in 0..<40 { _ = store.apply(.put(ByteString("k\(i)"), "v")) }
        guard case .array(let first) = store.apply(.scan(cursor: 0, matching: nil, count: 10, type: nil)),
              case .value(let next?) = first[0], let cursor = UInt64(next.text ?? "") else {
            Issue.record("no cursor")
            return
        }
        // Keys removed and added between calls: every key present throughout is still returned.
        for i in 0..<10 { _ = store.apply(.delete(ByteString("k\(i)"))) }
        for i in 40..<60 { _ = store.apply(.put(ByteString("k\(i)"), "v")) }
        var returned = Set<ByteString>()
        if case .list(let page) = first[1] { returned.formUnion(page) }
        var at = cursor
        for _ in 0..<100 where at != 0 {
            guard case .array(let reply) = store.apply(.scan(cursor: at, matching: nil, count: 10, type: nil)),
                  case .value(let n?) = reply[0], case .list(let page) = reply[1] else { break }
            returned.formUnion(page)
            at = UInt64(n.text ?? "") ?? 0
        }
        let throughout = (10..<40).map { ByteString("k\($0)") }
        #expect(throughout.allSatisfy(returned.contains))
    }

    @Test func partsOfStringsAndConditionalDelete() {
        var s = RESPTestServer()
        #expect(s.run("MSETNX", "a", "1", "b", "2") == ":1|" && s.run("MSETNX", "b", "3", "c", "4") == ":0|")
        #expect(s.run("GET", "c") == "$-1|", "MSETNX sets none of them if any exists")
        #expect(s.run("INCRBYFLOAT", "a", "0.5") == "$3|1.5|" && s.run("INCRBYFLOAT", "a", "x") == "-ERR value is not a valid float|")
        #expect(s.run("SET", "t", "Hello World") == "+OK|")
        #expect(s.run("GETRANGE", "t", "0", "4") == "$5|Hello|" && s.run("GETRANGE", "t", "-5", "-1") == "$5|World|")
        #expect(s.run("GETRANGE", "t", "5", "1") == "$0||" && s.run("GETRANGE", "none", "0", "-1") == "$0||")
        #expect(s.run("SETRANGE", "t", "6", "Redis") == ":11|" && s.run("GET", "t") == "$11|Hello Redis|")
        #expect(s.run("SETRANGE", "pad", "2", "x") == ":3|" && s.run("STRLEN", "pad") == ":3|", "padded with zero bytes")
        #expect(s.run("SETRANGE", "none", "0", "") == ":0|" && s.run("EXISTS", "none") == ":0|")
        #expect(s.run("SETRANGE", "t", "-1", "x") == "-ERR offset is out of range|")
        // DELEX IFEQ: a lock released only by the holder of its token.
        #expect(s.run("SET", "lock", "token-1", "NX") == "+OK|")
        #expect(s.run("DELEX", "lock", "IFEQ", "token-2") == ":0|" && s.run("EXISTS", "lock") == ":1|")
        #expect(s.run("DELEX", "lock", "IFNE", "token-1") == ":0|")
        #expect(s.run("DELEX", "lock", "IFEQ", "token-1") == ":1|" && s.run("EXISTS", "lock") == ":0|")
        #expect(s.run("DELEX", "lock", "IFDEQ", "abc").hasPrefix("-ERR DELEX's digest conditions are not supported"))
        #expect(s.run("RPUSH", "l", "x") == ":1|")
        #expect(s.run("DELEX", "l", "IFEQ", "x") == "-WRONGTYPE Operation against a key holding the wrong kind of value|")
        #expect(s.run("GETRANGE", "l", "0", "1") == "-WRONGTYPE Operation against a key holding the wrong kind of value|")
    }

    @Test func expiryCommands() {
        var s = RESPTestServer()  // unstamped: the log's time stays 0, so relative times count from 0
        #expect(s.run("SETEX", "k", "10", "v") == "+OK|" && s.run("TTL", "k") == ":10|" && s.run("PTTL", "k") == ":10000|")
        #expect(s.run("EXPIRETIME", "k") == ":10|" && s.run("PEXPIRETIME", "k") == ":10000|")
        #expect(s.run("EXPIRE", "k", "5", "GT") == ":0|" && s.run("PEXPIRE", "k", "5000", "LT") == ":1|" && s.run("TTL", "k") == ":5|")
        #expect(s.run("GETEX", "k", "EX", "3") == "$1|v|" && s.run("TTL", "k") == ":3|")
        #expect(s.run("GETEX", "k", "PERSIST") == "$1|v|" && s.run("TTL", "k") == ":-1|" && s.run("PERSIST", "k") == ":0|")
        #expect(s.run("SET", "k", "w", "PX", "250", "GET") == "$1|v|" && s.run("PTTL", "k") == ":250|")
        #expect(s.run("SET", "k", "x", "KEEPTTL") == "+OK|" && s.run("PTTL", "k") == ":250|")
        #expect(s.run("SET", "k", "y", "XX", "EX", "1") == "+OK|" && s.run("SET", "none", "y", "XX") == "$-1|")
        #expect(s.run("EXPIREAT", "k", "100") == ":1|" && s.run("PEXPIREAT", "none", "100") == ":0|" && s.run("TTL", "none") == ":-2|")
        #expect(s.run("PSETEX", "p", "1500", "v") == "+OK|" && s.run("TTL", "p") == ":2|", "1.5 s rounds to 2, as Redis rounds")
        #expect(s.run("SETEX", "k", "0", "v") == "-ERR invalid expire time in 'setex' command|")
        #expect(s.run("EXPIRE", "k", "x") == "-ERR value is not an integer or out of range|")
        #expect(s.run("EXPIRE", "k", "5", "ZZ") == "-ERR Unsupported option ZZ|")
        #expect(s.run("GETEX", "k", "EX") == "-ERR syntax error|" && s.run("GETEX", "k", "EX", "-1") == "-ERR invalid expire time in 'getex' command|")
        #expect(s.run("EXPIRE", "k", "9223372036854775807") == "-ERR invalid expire time in 'expire' command|")
    }

    @Test func keyOperationsRoundTripAndReadsSkipTheLog() throws {
        let ops: [KeyValueOperation] = [
            .rename("a", to: ByteString([0xFF]), onlyIfAbsent: true), .copy(ByteString([0xFF]), to: "b", replace: false), .flush,
            .scan(cursor: .max, matching: "*", count: 10, type: "hash"), .scan(cursor: 0, matching: nil, count: 1, type: nil),
            .firstKey, .putAllIfAbsent(["k", ByteString([0])]), .incrementFloat("k", by: -1e-300),
            .substring("k", start: .min, end: .max), .overwrite("k", offset: 3, ByteString([0xFE])), .deleteIf("k", value: "v", equal: false),
            .setWith("k", ByteString([0xFF]), condition: .ifEqual("x"), expiry: .set(.at(milliseconds: 5)), returnOld: true),
            .setWith("k", "v", condition: .ifPresent, expiry: .keep, returnOld: false), .setWith("k", "v", condition: .ifAbsent, expiry: .clear, returnOld: false),
            .expire("k", .after(milliseconds: -1), .onlySooner), .persist("k"), .timeToLive("k", .deadlineSeconds),
            .getAndExpire("k", .set(.after(milliseconds: 3))), .getAndExpire("k", .keep),
        ]
        for op in ops { #expect(try KeyValueOperation(decoding: op.encoded) == op) }
        let store = KeyValueStore()
        #expect(store.query(KeyValueOperation.scan(cursor: 0, matching: nil, count: 10, type: nil).encoded) != nil)
        #expect(store.query(KeyValueOperation.substring("k", start: 0, end: 1).encoded) != nil)
        #expect(store.query(KeyValueOperation.firstKey.encoded) != nil)
        #expect(store.query(KeyValueOperation.flush.encoded) == nil && store.query(KeyValueOperation.rename("a", to: "b", onlyIfAbsent: false).encoded) == nil)
    }
}

extension RESPAction {
    /// The reply a served node would send for this action, run against `store`.
    func replyAgainst(_ store: inout KeyValueStore) -> RESPValue {
        switch self {
        case .reply(let r): r
        case .replicate(let op, let form): form.reply(to: store.apply(op))
        case .replicateAll(let ops, let combination): combination.reply(to: ops.map { store.apply($0) })
        default: .error("unexpected \(self)")
        }
    }
}
