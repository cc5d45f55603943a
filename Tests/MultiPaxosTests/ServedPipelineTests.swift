import Foundation
import Testing
@testable import MultiPaxos

/// Deep pipelines on one RESP connection of a served cluster: a client that reads its replies is never made to
/// wait on its own pipeline, however deep, and each command is applied exactly once.
extension ProcessTests {
    @Suite struct ServedPipelineTests {
        /// Reads `count` replies from `connection`, bounded by `deadline`; returns them.
        static func replies(_ count: Int, from connection: RESPConnection, deadline: ContinuousClock.Instant) throws -> [RESPValue] {
            var replies: [RESPValue] = []
            replies.reserveCapacity(count)
            while replies.count < count { replies.append(try connection.reply(deadline: deadline)) }
            return replies
        }

        @Test func pipelinesOfTenThousandAreAnsweredInFullThroughAFollowerAndTheLeader() throws {
            let cluster = try ServedProcesses(nodes: 3)
            defer { cluster.stopAll() }
            try cluster.startAll()
            for i in 0..<3 { try cluster.waitUntilServing(i) }
            let count = 10_000
            for node in 0..<3 {
                // 10,000 SETs written in one go, read only after the last byte was sent.
                let connection = try cluster.connect(node)
                let deadline = ContinuousClock.now + .seconds(60)
                let sets = (0..<count).flatMap { RESPConnection.encode([Array("SET".utf8), Array("p\(node).\($0)".utf8), Array("v\($0)".utf8)]) }
                try connection.send(sets, deadline: deadline)
                let answered = try Self.replies(count, from: connection, deadline: deadline)
                #expect(answered.allSatisfy { $0 == .ok }, "node \(node): \(answered.first { $0 != .ok }.map { "\($0)" } ?? "")")
                #expect(try connection.call(["GET", "p\(node).\(count - 1)"], deadline: deadline) == .bulk("v\(count - 1)"))
            }

            // 10,000 APPENDs in one go, each applied exactly once: the value is exactly 10,000 bytes long.
            let appender = try cluster.connect(1)
            let deadline = ContinuousClock.now + .seconds(60)
            let appends = (0..<count).flatMap { _ in RESPConnection.encode([Array("APPEND".utf8), Array("log".utf8), Array("x".utf8)]) }
            try appender.send(appends, deadline: deadline)
            let lengths = try Self.replies(count, from: appender, deadline: deadline)
            #expect(lengths.last == .integer(Int64(count)), "\(lengths.last.map { "\($0)" } ?? "")")
            #expect(lengths.enumerated().allSatisfy { $0.element == .integer(Int64($0.offset + 1)) })
            #expect(try appender.call(["GET", "log"], deadline: deadline) == .bulk(String(repeating: "x", count: count)))

            // Replies larger than a connection's unread-reply bound (40 GETs of 100 KB: 4 MB), asked in one go and
            // read after: the session holds the rest while its replies are unread, and goes on as they are read.
            let big = String(repeating: "b", count: 100_000)
            #expect(try appender.call(["SET", "big", big], deadline: deadline) == .ok)
            let bigGets = (0..<40).flatMap { _ in RESPConnection.encode([Array("GET".utf8), Array("big".utf8)]) }
            try appender.send(bigGets, deadline: deadline)
            #expect(try Self.replies(40, from: appender, deadline: deadline).allSatisfy { $0 == .bulk(big) })

            // A slow reader (a few replies at a time, a pause between): answered in full, never stalled.
            let slow = try cluster.connect(2)
            let gets = (0..<2_000).flatMap { RESPConnection.encode([Array("GET".utf8), Array("p0.\($0)".utf8)]) }
            try slow.send(gets, deadline: deadline)
            var read = 0
            while read < 2_000 {
                for _ in 0..<min(4, 2_000 - read) {
                    #expect(try slow.reply(deadline: deadline) == .bulk("v\(read)"))
                    read += 1
                }
                usleep(200)
            }
        }
    }
}
