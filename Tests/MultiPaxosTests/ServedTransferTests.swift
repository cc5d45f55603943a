import Foundation
import Testing
@testable import MultiPaxos

/// `MPX.TRANSFER <node>` on a RESP connection: parsed and answered in order by the session, and run by a cluster
/// of `multipaxos serve` processes.
extension ClientSessionTests {
    @Test func mpxTransferIsHandedToTheNodeAndAnsweredOkOrWithTheNodesError() throws {
        var s = session()
        let bytes = [["MPX.TRANSFER", "n2"], ["PING"], ["mpx.transfer", "1"]].flatMap { RESPConnection.encode($0.map { Array($0.utf8) }) }
        bytes.withUnsafeBytes { s.received($0) }
        let next = s.nextCall()
        let first = try #require(next)
        #expect(first == .admin(RequestKey(client: ClientID(7), request: RequestNumber(1)), .transfer(to: NodeID(2))))
        #expect(s.nextCall() == nil, "the PING waits for the transfer's answer")
        s.complete(first.key, .result([]))
        let after = s.nextCall()
        let second = try #require(after)
        #expect(second == .admin(RequestKey(client: ClientID(7), request: RequestNumber(2)), .transfer(to: NodeID(1))))
        s.complete(second.key, .unavailable("ERR mpx.transfer: no leader is known yet"))
        #expect(s.nextCall() == nil)  // writes the answer
        var parser = RESPReplyParser()
        parser.append(s.out.bytes)
        var replies: [RESPValue] = []
        while let value = try parser.next() { replies.append(value) }
        #expect(replies == [.ok, .simpleString("PONG"), .error("ERR mpx.transfer: no leader is known yet")])
    }

    @Test func aBadMpxTransferIsRefusedNamingTheValueAndNeedsAuthentication() throws {
        var s = session()
        let (replies, call) = try feed(&s, [["MPX.TRANSFER"], ["MPX.TRANSFER", "n64"], ["MPX.TRANSFER", "-1"],
                                            ["MPX.TRANSFER", "two"], ["MPX.TRANSFER", "1", "2"], ["MPX.TRANSFER", "0002"]])
        #expect(call == nil)
        #expect(replies == [
            .error("ERR wrong number of arguments for 'mpx.transfer' command"),
            .error("ERR mpx.transfer: 'n64' is not a node id (0...63, or n0...n63)"),
            .error("ERR mpx.transfer: '-1' is not a node id (0...63, or n0...n63)"),
            .error("ERR mpx.transfer: 'two' is not a node id (0...63, or n0...n63)"),
            .error("ERR wrong number of arguments for 'mpx.transfer' command"),
            .error("ERR mpx.transfer: '0002' is not a node id (0...63, or n0...n63)"),
        ])
        var locked = session(password: "pw")
        let (refused, none) = try feed(&locked, [["MPX.TRANSFER", "1"]])
        #expect(refused == [RESPCommands.noAuthentication] && none == nil)
    }
}

extension ProcessTests {
@Suite struct ServedTransferTests {
    @Test func mpxTransferMovesLeadershipBetweenServedProcesses() async throws {
        let cluster = try ServedProcesses(nodes: 3)
        defer { cluster.stopAll() }
        // The test asserts who leads after each transfer: a leader timeout of a second gives a loaded machine's
        // late heartbeats room, so that no election of its own comes between a transfer and the check.
        cluster.extraArguments = ["--heartbeat-ms", "50", "--leader-timeout-ms", "1000", "--client-timeout-ms", "3000"]
        try cluster.startAll()
        for i in 0..<3 { try cluster.waitUntilServing(i) }
        let leader = try #require(cluster.leader(), "no node logged its election")
        let target = (leader + 1) % 3, other = (leader + 2) % 3
        // Asked at a follower, which passes the request on to the leader: +OK once the target leads.
        #expect(try cluster.call(other, ["MPX.TRANSFER", "n\(target)"]) == .ok)
        #expect(cluster.log(target).contains("hands over leadership: competing now"), "\(cluster.log(target))")
        #expect(cluster.log(leader).contains("transferring leadership of ballot"), "\(cluster.log(leader))")
        #expect(cluster.leader() == target)
        #expect(try cluster.call(leader, ["SET", "after", "transfer"]) == .ok)
        // Asked at the new leader, back to the first one; a node that leads already is answered at once.
        #expect(try cluster.call(target, ["MPX.TRANSFER", "\(leader)"]) == .ok)
        #expect(cluster.leader() == leader)
        #expect(try cluster.call(other, ["MPX.TRANSFER", "\(leader)"]) == .ok)
        // A node that is not a member, and one that is down: errors naming why.
        #expect(try cluster.call(leader, ["MPX.TRANSFER", "n7"])
            == .error("ERR mpx.transfer: n7 is not a member of this cluster (n0...n2)"))
        cluster.kill(other)
        let down = try cluster.call(leader, ["MPX.TRANSFER", "n\(other)"])
        guard case .error(let message) = down else {
            Issue.record("a transfer to a stopped node answered \(down)")
            return
        }
        #expect(message.hasPrefix("ERR mpx.transfer: the leader gave the transfer to n\(other) up"), "\(message)")
        #expect(try cluster.call(target, ["GET", "after"]) == .bulkString(Array("transfer".utf8)))
    }

    /// SIGTERM on the leader hands leadership over before the process exits: the cluster does not wait out a
    /// leader timeout (five seconds here, so that no election of its own could have done it instead).
    @Test func sigtermOnTheLeaderHandsLeadershipOverBeforeExiting() throws {
        let cluster = try ServedProcesses(nodes: 3)
        defer { cluster.stopAll() }
        cluster.extraArguments = ["--heartbeat-ms", "50", "--leader-timeout-ms", "5000", "--client-timeout-ms", "20000"]
        try cluster.startAll()
        for i in 0..<3 { try cluster.waitUntilServing(i) }
        let leader = try #require(cluster.leader(), "no node logged its election")
        #expect(try cluster.call(leader, ["SET", "before", "stop"]) == .ok)
        let started = ContinuousClock.now
        cluster.kill(leader, signal: SIGTERM)
        let survivors = (0..<3).filter { $0 != leader }
        #expect(cluster.log(leader).contains("stopping: leadership handed over"), "\(cluster.log(leader))")
        #expect(survivors.contains { cluster.log($0).contains("hands over leadership: competing now") },
                "a survivor was told to compete: \(survivors.map { cluster.log($0) })")
        // A write through a survivor is answered by the new leader, well inside the leader timeout.
        #expect(try cluster.call(survivors[0], ["SET", "after", "stop"], seconds: 30) == .ok)
        let took = ContinuousClock.now - started
        #expect(took < .seconds(5), "stop, hand-over and a write took \(took), a leader timeout or more")
        #expect(try cluster.call(survivors[1], ["GET", "before"], seconds: 30) == .bulk("stop"))
    }
}
}
