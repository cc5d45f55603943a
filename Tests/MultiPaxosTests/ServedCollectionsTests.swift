import Foundation
import Testing
@testable import MultiPaxos

/// Hashes, lists, sets and sorted sets through three `serve` processes: written through one node, read through
/// the others over RESP2 and RESP3, in a transaction, and kept by a snapshot and a restart.
extension ProcessTests {
    @Suite struct ServedCollectionsTests {
        @Test func everyCollectionTypeIsReplicatedSnapshottedAndRestored() throws {
            let cluster = try ServedProcesses(nodes: 3)
            defer { cluster.stopAll() }
            cluster.extraArguments = ["--heartbeat-ms", "20", "--leader-timeout-ms", "300", "--client-timeout-ms", "20000",
                                      "--max-log-bytes", "1048576"]
            try cluster.startAll()
            for i in 0..<3 { try cluster.waitUntilServing(i) }
            let deadline = ContinuousClock.now + .seconds(60)
            let key: [UInt8] = [0xFF, 0x00, 0x68], field: [UInt8] = [0xC3, 0x28], member: [UInt8] = [0x80, 0xFE]
            func words(_ w: String...) -> [[UInt8]] { w.map { Array($0.utf8) } }

            let writer = try cluster.connect(1)
            #expect(try writer.call(words("HSET") + [key, field, member] + words("f", "1"), deadline: deadline) == .integer(2))
            #expect(try writer.call(words("RPUSH", "list", "a", "b") + [member], deadline: deadline) == .integer(3))
            #expect(try writer.call(words("SADD", "set") + [member] + words("m"), deadline: deadline) == .integer(2))
            #expect(try writer.call(words("ZADD", "zset", "2", "b", "1") + [member], deadline: deadline) == .integer(2))
            // A transaction across types is one log entry: all of it or none.
            #expect(try writer.call(["MULTI"], deadline: deadline) == .ok)
            for command in [words("HINCRBY", "counts", "n", "5"), words("LPUSH", "list", "z"), words("ZINCRBY", "zset", "10", "b"),
                            words("SREM", "set", "m")] {
                #expect(try writer.call(command, deadline: deadline) == .simpleString("QUEUED"))
            }
            #expect(try writer.call(["EXEC"], deadline: deadline) == .array([.integer(5), .integer(4), .bulk("12"), .integer(1)]))
            #expect(try writer.call(words("GET", "list"), deadline: deadline)
                    == .error("WRONGTYPE Operation against a key holding the wrong kind of value"))
            // A megabyte and more of hash values takes every node past its snapshot threshold.
            let value = [UInt8](repeating: 0xFE, count: 100_000)
            for i in 0..<12 {
                var reply = RESPValue.null
                for _ in 0..<5 {  // again after a -TRYAGAIN (an HSET is idempotent): the suite loads the machine
                    reply = try writer.call(words("HSET", "big", "\(i)") + [value], deadline: .now + .seconds(30))
                    guard case .error(let e) = reply, e.hasPrefix("TRYAGAIN") else { break }
                }
                guard case .integer = reply else { Issue.record("HSET of 100 kB: \(reply)"); return }
            }

            func readAll(from node: Int, resp3: Bool) throws {
                let reader = try cluster.connect(node)
                if resp3 { _ = try reader.call(["HELLO", "3"], deadline: deadline) }
                let hash = try reader.call(words("HGETALL") + [key], deadline: deadline)
                #expect(hash == (resp3 ? .map([(.bulk("f"), .bulk("1")), (.bulkString(field), .bulkString(member))])
                                       : .array([.bulk("f"), .bulk("1"), .bulkString(field), .bulkString(member)])), "node \(node)")
                #expect(try reader.call(words("LRANGE", "list", "0", "-1"), deadline: deadline)
                        == .array([.bulk("z"), .bulk("a"), .bulk("b"), .bulkString(member)]), "node \(node)")
                #expect(try reader.call(words("SMEMBERS", "set"), deadline: deadline)
                        == (resp3 ? .set([.bulkString(member)]) : .array([.bulkString(member)])), "node \(node)")
                #expect(try reader.call(words("ZRANGE", "zset", "0", "-1", "WITHSCORES"), deadline: deadline)
                        == (resp3 ? .array([.array([.bulkString(member), .double(1)]), .array([.bulk("b"), .double(12)])])
                                  : .array([.bulkString(member), .bulk("1"), .bulk("b"), .bulk("12")])), "node \(node)")
                #expect(try reader.call(words("HGET", "counts", "n"), deadline: deadline) == .bulk("5"), "node \(node)")
                #expect(try reader.call(words("HLEN", "big"), deadline: deadline) == .integer(12), "node \(node)")
                #expect(try reader.call(words("HSTRLEN", "big", "11"), deadline: deadline) == .integer(100_000), "node \(node)")
                #expect(try reader.call(words("TYPE", "zset"), deadline: deadline) == .simpleString("zset"), "node \(node)")
            }
            for node in [0, 2] { try readAll(from: node, resp3: node == 2) }
            // A restart (from its data directory: the snapshot of every type, then the log) keeps everything.
            try cluster.restartOnceItHasASnapshot(2)
            try readAll(from: 2, resp3: false)
            try readAll(from: 2, resp3: true)
        }

        /// Deadlines by the time the log carries: a key set with PX through one node is gone for every node once
        /// its time has passed, and a lock taken with SET NX PX is free again after it.
        @Test func keysExpireForEveryNodeByTheLogsTime() throws {
            let cluster = try ServedProcesses(nodes: 3)
            defer { cluster.stopAll() }
            cluster.extraArguments = ["--heartbeat-ms", "20", "--leader-timeout-ms", "300", "--client-timeout-ms", "20000"]
            try cluster.startAll()
            for i in 0..<3 { try cluster.waitUntilServing(i) }
            #expect(try cluster.call(1, ["SET", "lock", "token-1", "NX", "PX", "300"]) == .ok)
            #expect(try cluster.call(2, ["SET", "long", "v", "EX", "600"]) == .ok)
            guard case .integer(let ttl) = try cluster.call(0, ["TTL", "long"]), (590...600).contains(ttl) else {
                Issue.record("TTL through another node: \(try cluster.call(0, ["TTL", "long"]))")
                return
            }
            // Polled (a loaded machine): each node answers null for the lock once its 300 ms have passed.
            for node in 0..<3 {
                var reply = RESPValue.ok
                for _ in 0..<300 {
                    reply = try cluster.call(node, ["GET", "lock"])
                    if reply == .null { break }
                    usleep(20_000)
                }
                #expect(reply == .null, "node \(node) still answers \(reply) for an expired key")
            }
            #expect(try cluster.call(2, ["SET", "lock", "token-2", "NX", "PX", "60000"]) == .ok, "the lock is free again")
            #expect(try cluster.call(0, ["GET", "long"]) == .bulk("v") && cluster.call(1, ["PERSIST", "long"]) == .integer(1))
            #expect(try cluster.call(1, ["TTL", "long"]) == .integer(-1))
        }
    }
}
