import Foundation
import Testing
@testable import MultiPaxos

extension ProcessTests {
/// A `serve` node whose data directory is lost comes back with its usual flags (no `--rejoin`): the cluster
/// tells it that it must rejoin, and it votes only once it has.
@Suite struct ServedRejoinTests {
    @Test func aWipedLeaderRestartedWithItsUsualFlagsRejoinsBeforeItVotes() async throws {
        let cluster = try ServedProcesses(nodes: 3)
        defer { cluster.stopAll() }
        try cluster.startAll()
        for i in 0..<3 { try cluster.waitUntilServing(i) }
        let value: [UInt8] = [0xFF, 0xFE, 0x00, 0x01]
        let connection = try RESPConnection(to: cluster.clientAddress(1), deadline: .now + .seconds(10))
        #expect(try connection.call([Array("SET".utf8), Array("before".utf8), value], deadline: .now + .seconds(10)) == .ok)
        let wiped = try #require(cluster.leader(), "no node logged its election")
        cluster.kill(wiped)
        try FileManager.default.removeItem(atPath: "\(cluster.root)/node-\(wiped)")
        try cluster.start(wiped)
        // Bounded: the others elect a leader, decide its rejoin, and it reads them at its fence.
        let deadline = ContinuousClock.now + .seconds(30)
        while !cluster.log(wiped).contains("rejoined as a voting member"), ContinuousClock.now < deadline { usleep(50_000) }
        let log = cluster.log(wiped)
        let mustRejoin = try #require(log.range(of: "must rejoin before voting"), "\(log)")
        let rejoined = try #require(log.range(of: "rejoined as a voting member"), "\(log)")
        #expect(mustRejoin.lowerBound < rejoined.lowerBound)
        #expect(log[mustRejoin.lowerBound..<rejoined.lowerBound].contains("as a learner: it votes once it has rejoined"), "\(log)")
        #expect(!log[mustRejoin.lowerBound..<rejoined.lowerBound].contains("leader elected: this node"))
        #expect(try cluster.call(wiped, ["GET", "before"], seconds: 20) == .bulkString(value))
        // It votes: with one of the others stopped, the cluster needs its vote to write.
        let other = (wiped + 1) % 3
        cluster.kill(other)
        let third = 3 - wiped - other
        #expect(try cluster.call(third, ["SET", "after", "rejoin"], seconds: 20) == .ok)
        #expect(try cluster.call(wiped, ["GET", "after"], seconds: 20) == .bulkString(Array("rejoin".utf8)))
    }
}
}
