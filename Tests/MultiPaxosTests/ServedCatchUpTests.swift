import Foundation
import Testing
@testable import MultiPaxos

/// A follower that was down while the others took a large state and trimmed their logs catches up by a snapshot
/// in chunks, even when it crashes in the middle of the transfer.
extension ProcessTests {
    @Suite struct ServedCatchUpTests {
        /// Key `i`'s 20 KB value: every byte value, different per key.
        static func value(_ i: Int) -> [UInt8] {
            (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i &* 7) }
        }

        /// Waits (bounded) until `condition` holds; false if it never did.
        static func waitFor(seconds: Double, _ condition: () -> Bool) -> Bool {
            let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
            while ContinuousClock.now < deadline {
                if condition() { return true }
                usleep(10_000)
            }
            return condition()
        }

        @Test func aFollowerBehindA40MBSnapshotCatchesUpEvenAfterACrashMidTransfer() throws {
            let cluster = try ServedProcesses(nodes: 3)
            defer { cluster.stopAll() }
            // Small chunks, so that the transfer takes many round trips and a crash can land in its middle.
            cluster.extraArguments = ["--heartbeat-ms", "20", "--leader-timeout-ms", "300", "--client-timeout-ms", "20000",
                                      "--snapshot-chunk-bytes", "16384"]
            try cluster.startAll()
            for i in 0..<3 { try cluster.waitUntilServing(i) }
            cluster.kill(2)

            // 2,100 SETs of 20 KB, one slot each: 42 MB, past the retained log (1,024 slots) and a snapshot.
            let count = 2_100
            let writer = try cluster.connect(0)
            for i in 0..<count {
                var reply = RESPValue.null
                for _ in 0..<5 {  // again after a -TRYAGAIN: a SET is idempotent
                    reply = try writer.call([Array("SET".utf8), Array("k\(i)".utf8), Self.value(i)], deadline: .now + .seconds(30))
                    guard case .error(let e) = reply, e.hasPrefix("TRYAGAIN") else { break }
                }
                try #require(reply == .ok, "SET k\(i): \(reply)")
            }

            // Node 2 comes back, asks for slots the others trimmed, and is killed once the snapshot is on its way.
            try cluster.start(2)
            let sending = Self.waitFor(seconds: 60) { (0..<2).contains { cluster.log($0).contains("sending a snapshot") } }
            try #require(sending, "no snapshot sent; logs:\n\(cluster.log(0))\n\(cluster.log(1))\n\(cluster.log(2))")
            // Some chunks are on node 2's disk (their own file beside its log) when it dies.
            let incoming = FileStorage.incomingPath(of: "\(cluster.root)/node-2/node.log")
            let written = Self.waitFor(seconds: 20) {
                ((try? FileManager.default.attributesOfItem(atPath: incoming)[.size] as? Int) ?? 0) > 40_000
            }
            try #require(written, "no chunk written; node 2's log:\n\(cluster.log(2))")
            cluster.kill(2)
            #expect(!cluster.log(2).contains("caught up by snapshot"), "the crash came after the transfer, not in it")

            // Started again: it catches up and serves every key, byte for byte.
            let restarted = ContinuousClock.now
            try cluster.start(2)
            let caughtUp = Self.waitFor(seconds: 120) {  // a fresh connection each time: a late reply is never read as the next
                guard let probe = try? cluster.connect(2) else { return false }
                return (try? probe.call(["GET", "k\(count - 1)"], deadline: .now + .seconds(5))) == .bulkString(Self.value(count - 1))
            }
            try #require(caughtUp, "node 2 never served the last key; its log:\n\(cluster.log(2))")
            let took = ContinuousClock.now - restarted
            #expect(took < .seconds(120))
            #expect(cluster.log(2).contains("caught up by snapshot"))
            #expect(cluster.log(2).contains("resuming a snapshot transfer from n"), "\(cluster.log(2))")
            let reader = try cluster.connect(2)
            let deadline = ContinuousClock.now + .seconds(60)
            for start in stride(from: 0, to: count, by: 100) {
                let keys = start..<min(count, start + 100)
                try reader.send(keys.flatMap { RESPConnection.encode([Array("GET".utf8), Array("k\($0)".utf8)]) }, deadline: deadline)
                for i in keys {
                    let reply = try reader.reply(deadline: deadline)
                    guard reply == .bulkString(Self.value(i)) else {
                        Issue.record("node 2: k\(i) answered other bytes (\(reply.description.prefix(40)))")
                        return
                    }
                }
            }
        }
    }
}
