import Foundation
import Testing
@testable import MultiPaxos

/// Hash, list, set and sorted set commands from request to reply bytes, against a store: the replies (RESP2 and
/// RESP3) and errors are those Redis 7's documentation gives for the same commands.
@Suite struct RESPCollectionCommandsTests {
    @Test func hashCommands() {
        var s = RESPTestServer()
        #expect(s.run("HSET", "h", "a", "1", "b", "2") == ":2|")
        #expect(s.run("HMSET", "h", "c", "3") == "+OK|")
        #expect(s.run("HGET", "h", "a") == "$1|1|")
        #expect(s.run("HMGET", "h", "a", "x") == "*2|$1|1|$-1|")
        #expect(s.run("HGETALL", "h") == "*6|$1|a|$1|1|$1|b|$1|2|$1|c|$1|3|")
        #expect(s.run("HINCRBY", "h", "a", "41") == ":42|")
        #expect(s.run("HINCRBY", "h", "a", "x") == "-ERR value is not an integer or out of range|")
        #expect(s.run("HINCRBYFLOAT", "h", "f", "2.5") == "$3|2.5|")
        #expect(s.run("HSETNX", "h", "a", "0") == ":0|")
        #expect(s.run("HEXISTS", "h", "a") == ":1|" && s.run("HLEN", "h") == ":4|" && s.run("HSTRLEN", "h", "a") == ":2|")
        #expect(s.run("HKEYS", "h") == "*4|$1|a|$1|b|$1|c|$1|f|")
        #expect(s.run("HDEL", "h", "a", "b", "zz") == ":2|")
        #expect(s.run("HSET", "h", "a") == "-ERR wrong number of arguments for 'hset' command|")
        s.version = 3
        #expect(s.run("HGETALL", "h") == "%2|$1|c|$1|3|$1|f|$3|2.5|", "RESP3: a map")
        #expect(s.run("HGETALL", "none") == "%0|")
    }

    @Test func listCommands() {
        var s = RESPTestServer()
        #expect(s.run("RPUSH", "l", "a", "b", "c") == ":3|")
        #expect(s.run("LPUSH", "l", "z") == ":4|")
        #expect(s.run("LPUSHX", "nolist", "z") == ":0|")
        #expect(s.run("LRANGE", "l", "0", "-1") == "*4|$1|z|$1|a|$1|b|$1|c|")
        #expect(s.run("LINDEX", "l", "-1") == "$1|c|" && s.run("LLEN", "l") == ":4|")
        #expect(s.run("LSET", "l", "0", "y") == "+OK|")
        #expect(s.run("LSET", "l", "10", "y") == "-ERR index out of range|")
        #expect(s.run("LREM", "l", "0", "b") == ":1|")
        #expect(s.run("LTRIM", "l", "0", "1") == "+OK|")
        #expect(s.run("LPOP", "l") == "$1|y|")
        #expect(s.run("RPOP", "l", "2") == "*1|$1|a|")
        #expect(s.run("RPOP", "l") == "$-1|")
        #expect(s.run("LPOP", "l", "-1") == "-ERR value is out of range, must be positive|")
        #expect(s.run("LRANGE", "l", "a", "1") == "-ERR value is not an integer or out of range|")
    }

    @Test func setCommands() {
        var s = RESPTestServer()
        #expect(s.run("SADD", "s", "b", "a", "a") == ":2|")
        #expect(s.run("SMEMBERS", "s") == "*2|$1|a|$1|b|")
        #expect(s.run("SISMEMBER", "s", "a") == ":1|" && s.run("SCARD", "s") == ":2|")
        #expect(s.run("SMISMEMBER", "s", "a", "x") == "*2|:1|:0|")
        #expect(s.run("SREM", "s", "x") == ":0|")
        s.version = 3
        #expect(s.run("SMEMBERS", "s") == "~2|$1|a|$1|b|", "RESP3: a set")
        #expect(s.run("SPOP", "s") == "$1|a|")
        #expect(s.run("SPOP", "s", "5") == "~1|$1|b|")
        #expect(s.run("SPOP", "s") == "_|")
    }

    @Test func sortedSetCommands() {
        var s = RESPTestServer()
        #expect(s.run("ZADD", "z", "1", "a", "2", "b", "2.5", "c") == ":3|")
        #expect(s.run("ZADD", "z", "XX", "CH", "5", "a", "1", "new") == ":1|")
        #expect(s.run("ZADD", "z", "NX", "XX", "1", "a") == "-ERR XX and NX options at the same time are not compatible|")
        #expect(s.run("ZADD", "z", "GT", "LT", "1", "a") == "-ERR GT, LT, and/or NX options at the same time are not compatible|")
        #expect(s.run("ZADD", "z", "INCR", "1", "a", "2", "b") == "-ERR INCR option supports a single increment-element pair|")
        #expect(s.run("ZADD", "z", "x", "a") == "-ERR value is not a valid float|")
        #expect(s.run("ZADD", "z", "NX", "1") == "-ERR syntax error|")
        #expect(s.run("ZADD", "z", "1") == "-ERR wrong number of arguments for 'zadd' command|")
        #expect(s.run("ZSCORE", "z", "a") == "$1|5|")
        #expect(s.run("ZINCRBY", "z", "0.5", "a") == "$3|5.5|")
        #expect(s.run("ZRANGE", "z", "0", "-1", "WITHSCORES") == "*6|$1|b|$1|2|$1|c|$3|2.5|$1|a|$3|5.5|")
        #expect(s.run("ZREVRANGE", "z", "0", "0") == "*1|$1|a|")
        #expect(s.run("ZRANGE", "z", "(2", "+inf", "BYSCORE", "LIMIT", "1", "1") == "*1|$1|a|")
        #expect(s.run("ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV") == "*3|$1|a|$1|c|$1|b|")
        #expect(s.run("ZRANGEBYSCORE", "z", "-inf", "2.5") == "*2|$1|b|$1|c|")
        #expect(s.run("ZRANGE", "z", "0", "1", "LIMIT", "0", "1") == "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX|")
        #expect(s.run("ZCOUNT", "z", "2", "(5.5") == ":2|" && s.run("ZCARD", "z") == ":3|")
        #expect(s.run("ZCOUNT", "z", "x", "1") == "-ERR min or max is not a float|")
        #expect(s.run("ZRANK", "z", "c") == ":1|" && s.run("ZREVRANK", "z", "c") == ":1|" && s.run("ZRANK", "z", "no") == "$-1|")
        #expect(s.run("ZMSCORE", "z", "b", "no") == "*2|$1|2|$-1|")
        s.version = 3
        #expect(s.run("ZSCORE", "z", "b") == ",2.0|", "RESP3: a double")
        #expect(s.run("ZRANGE", "z", "0", "0", "WITHSCORES") == "*1|*2|$1|b|,2.0|", "RESP3: [member, score] pairs")
        #expect(s.run("ZPOPMIN", "z") == "*2|$1|b|,2.0|", "RESP3: one pair, flat")
        #expect(s.run("ZPOPMAX", "z", "5") == "*2|*2|$1|a|,5.5|*2|$1|c|,2.5|")
        #expect(s.run("ZREM", "z", "a") == ":0|" && s.run("EXISTS", "z") == ":0|")
    }

    @Test func listInsertPositionAndMove() {
        var s = RESPTestServer()
        #expect(s.run("RPUSH", "l", "a", "b", "a", "c", "a") == ":5|")
        #expect(s.run("LINSERT", "l", "BEFORE", "b", "x") == ":6|" && s.run("LINSERT", "l", "AFTER", "zz", "y") == ":-1|")
        #expect(s.run("LINSERT", "none", "AFTER", "a", "y") == ":0|" && s.run("LINSERT", "l", "MIDDLE", "a", "y") == "-ERR syntax error|")
        #expect(s.run("LPOS", "l", "a") == ":0|" && s.run("LPOS", "l", "a", "RANK", "2") == ":3|")
        #expect(s.run("LPOS", "l", "a", "RANK", "-1") == ":5|" && s.run("LPOS", "l", "a", "COUNT", "0") == "*3|:0|:3|:5|")
        #expect(s.run("LPOS", "l", "a", "COUNT", "2", "MAXLEN", "3") == "*1|:0|" && s.run("LPOS", "l", "q") == "$-1|")
        #expect(s.run("LPOS", "l", "a", "RANK", "0").hasPrefix("-ERR RANK can't be zero"))
        #expect(s.run("LMOVE", "l", "m", "RIGHT", "LEFT") == "$1|a|" && s.run("RPOPLPUSH", "l", "m") == "$1|c|")
        #expect(s.run("LRANGE", "m", "0", "-1") == "*2|$1|c|$1|a|")
        #expect(s.run("LMOVE", "none", "m", "LEFT", "LEFT") == "$-1|")
        #expect(s.run("SET", "str", "v") == "+OK|")
        #expect(s.run("LMOVE", "l", "str", "LEFT", "LEFT") == "-WRONGTYPE Operation against a key holding the wrong kind of value|")
        #expect(s.run("LLEN", "l") == ":4|", "a refused move pops nothing")
    }

    @Test func setAlgebraMoveAndSomeMembers() {
        var s = RESPTestServer()
        #expect(s.run("SADD", "a", "1", "2", "3") == ":3|" && s.run("SADD", "b", "2", "3", "4") == ":3|")
        #expect(s.run("SINTER", "a", "b") == "*2|$1|2|$1|3|" && s.run("SUNION", "a", "b", "none") == "*4|$1|1|$1|2|$1|3|$1|4|")
        #expect(s.run("SDIFF", "a", "b") == "*1|$1|1|" && s.run("SINTER", "a", "none") == "*0|")
        #expect(s.run("SINTERSTORE", "c", "a", "b") == ":2|" && s.run("SMEMBERS", "c") == "*2|$1|2|$1|3|")
        #expect(s.run("SDIFFSTORE", "c", "a", "a") == ":0|" && s.run("EXISTS", "c") == ":0|", "an empty result removes the key")
        #expect(s.run("SMOVE", "a", "b", "1") == ":1|" && s.run("SMOVE", "a", "b", "1") == ":0|")
        #expect(s.run("SISMEMBER", "b", "1") == ":1|")
        #expect(s.run("SRANDMEMBER", "b") == "$1|1|" && s.run("SRANDMEMBER", "b", "2") == "*2|$1|1|$1|2|")
        #expect(s.run("SRANDMEMBER", "a", "-5") == "*5|$1|2|$1|3|$1|2|$1|3|$1|2|", "a negative count repeats")
        #expect(s.run("SRANDMEMBER", "a", "-1073741824") == "-ERR value is out of range (at most 1048576 members)|")
        #expect(s.run("SET", "str", "v") == "+OK|")
        #expect(s.run("SUNION", "a", "str") == "-WRONGTYPE Operation against a key holding the wrong kind of value|")
        #expect(s.run("SMOVE", "a", "str", "2") == "-WRONGTYPE Operation against a key holding the wrong kind of value|")
        #expect(s.run("SSCAN", "b", "0", "MATCH", "[12]") == "*2|$1|0|*2|$1|1|$1|2|")
    }

    @Test func sortedSetRemovalByScoreAndRankAndScans() {
        var s = RESPTestServer()
        #expect(s.run("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d") == ":4|")
        #expect(s.run("ZREMRANGEBYSCORE", "z", "(1", "2") == ":1|" && s.run("ZREMRANGEBYRANK", "z", "-1", "-1") == ":1|")
        #expect(s.run("ZRANGE", "z", "0", "-1") == "*2|$1|a|$1|c|")
        #expect(s.run("ZSCAN", "z", "0") == "*2|$1|0|*4|$1|a|$1|1|$1|c|$1|3|")
        #expect(s.run("ZSCAN", "z", "0", "MATCH", "c") == "*2|$1|0|*2|$1|c|$1|3|")
        #expect(s.run("HSET", "h", "f1", "v1", "g", "v2") == ":2|")
        #expect(s.run("HSCAN", "h", "0", "MATCH", "f*", "COUNT", "10") == "*2|$1|0|*2|$2|f1|$2|v1|")
        #expect(s.run("HSCAN", "h", "x") == "-ERR invalid cursor|")
    }

    @Test func keysOfEveryTypeAndBinaryBytes() {
        var s = RESPTestServer()
        let key: [UInt8] = [0xFF, 0x00], member: [UInt8] = [0xC3, 0x28]
        #expect(s.run(Array("SADD".utf8), key, member) == ":1|")
        #expect(s.run(Array("SMEMBERS".utf8), key) == "*1|$2|" + String(decoding: member, as: UTF8.self) + "|")
        #expect(s.run(Array("TYPE".utf8), key) == "+set|")
        #expect(s.run(Array("GET".utf8), key) == "-WRONGTYPE Operation against a key holding the wrong kind of value|")
        #expect(s.run("SET", "str", "v") == "+OK|" && s.run("RPUSH", "l", "x") == ":1|")
        #expect(s.run("LPUSH", "str", "x") == "-WRONGTYPE Operation against a key holding the wrong kind of value|")
        #expect(s.run("MGET", "str", "l") == "*2|$1|v|$-1|", "MGET answers null for a key that holds no string")
        #expect(s.run("EXISTS", "str", "l", "l", "none") == ":3|" && s.run("DBSIZE") == ":3|")
        #expect(s.run("TYPE", "none") == "+none|")
        #expect(s.run("DEL", "l", "str") == ":2|" && s.run("DBSIZE") == ":1|")
    }
}

/// A store and a connection's protocol version: runs requests as a served node would, one at a time.
struct RESPTestServer {
    var store = KeyValueStore()
    var version = 2

    /// The reply to `words`, in RESP text (CRLF shown as `|`).
    mutating func run(_ words: [UInt8]...) -> String { run(words) }

    mutating func run(_ words: String...) -> String { run(words.map { Array($0.utf8) }) }

    mutating func run(_ words: [[UInt8]]) -> String {
        let reply = RESPCommands.action(for: words, protocolVersion: version).replyAgainst(&store)
        return String(decoding: reply.encoded(protocolVersion: version), as: UTF8.self).replacingOccurrences(of: "\r\n", with: "|")
    }
}
