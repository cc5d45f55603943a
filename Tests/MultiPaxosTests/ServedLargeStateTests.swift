import Foundation
import Testing
@testable import MultiPaxos

/// Issue 34's shape: three `serve` processes with data directories hold 200 MB, and the leader is killed
/// (`kill -9`): a survivor takes writes again within a few leader timeouts, in both modes, however large the state;
/// the old leader, started again while writes go on, catches up.
extension ProcessTests {
    @Suite struct ServedLargeStateTests {
        /// A megabyte value for key `i`: every byte value, different per key.
        static func value(_ i: Int) -> [UInt8] {
            var bytes = [UInt8](repeating: UInt8(truncatingIfNeeded: i), count: 1 << 20)
            for j in stride(from: 0, to: bytes.count, by: 4_096) { bytes[j] = UInt8(truncatingIfNeeded: j &* 31 &+ i) }
            return bytes
        }

        @Test(.serialized, arguments: Mode.allCases)  // two 200 MB clusters at once overload a 2-core machine
        func aClusterHolding200MBElectsAndWritesSoonAfterItsLeaderIsKilled(mode: Mode) throws {
            let cluster = try ServedProcesses(nodes: 3)
            defer { cluster.stopAll() }
            cluster.extraArguments = ["--heartbeat-ms", "50", "--leader-timeout-ms", "300", "--client-timeout-ms", "30000",
                                      "--mode", mode.rawValue]
            try cluster.startAll()
            for i in 0..<3 { try cluster.waitUntilServing(i) }

            // 200 SETs of 1 MiB through node 0, ten to a pipeline (each again after a -TRYAGAIN: a SET is idempotent).
            let count = 200
            let writer = try cluster.connect(0)
            for batch in stride(from: 0, to: count, by: 10) {
                let keys = Array(batch..<batch + 10)
                var pending = keys
                for _ in 0..<5 where !pending.isEmpty {
                    let deadline = ContinuousClock.now + .seconds(60)
                    try writer.send(pending.flatMap { RESPConnection.encode([Array("SET".utf8), Array("big\($0)".utf8), Self.value($0)]) },
                                    deadline: deadline)
                    let replies = try pending.map { _ in try writer.reply(deadline: deadline) }
                    pending = zip(pending, replies).filter { $0.1 != .ok }.map(\.0)
                }
                try #require(pending.isEmpty, "SETs \(pending) were never acknowledged")
            }

            // The leader, from the logs (the last node to say it was elected), is killed.
            let leader = try #require((0..<3).last { cluster.log($0).contains("leader elected: this node") })
            cluster.kill(leader)
            let killed = ContinuousClock.now
            let other = (leader + 1) % 3
            var resumed: Duration?
            while resumed == nil, ContinuousClock.now - killed < .seconds(60) {
                if let connection = try? cluster.connect(other),
                   (try? connection.call(["SET", "after", "kill"], deadline: .now + .seconds(5))) == .ok {
                    resumed = ContinuousClock.now - killed
                } else {
                    usleep(20_000)
                }
            }
            let took = try #require(resumed, "no write through n\(other) within 60 s of the kill; its log:\n\(cluster.log(other))")
            // Liveness, not speed: a few leader timeouts and an election, on a loaded machine in a debug build.
            #expect(took < .seconds(10), "the first write after the kill took \(took)")
            let last = try cluster.connect(other).call([Array("GET".utf8), Array("big\(count - 1)".utf8)], deadline: .now + .seconds(30))
            #expect(last == .bulkString(Self.value(count - 1)), "the last megabyte, byte for byte")

            // The old leader comes back while the others go on writing: it catches up, and the cluster keeps taking writes.
            try cluster.start(leader)
            for i in 0..<5 { #expect(try cluster.call(other, ["SET", "while-\(i)", "up"], seconds: 30) == .ok) }
            let caughtUp = ServedCatchUpTests.waitFor(seconds: 90) {
                guard let probe = try? cluster.connect(leader, seconds: 1) else { return false }
                return (try? probe.call([Array("GET".utf8), Array("big\(count - 1)".utf8)], deadline: .now + .seconds(10)))
                    == .bulkString(Self.value(count - 1))
            }
            #expect(caughtUp, "the old leader never served the last megabyte; its log:\n\(cluster.log(leader))")
            #expect(try cluster.call(leader, ["GET", "while-4"], seconds: 30) == .bulkString(Array("up".utf8)))
        }
    }
}
