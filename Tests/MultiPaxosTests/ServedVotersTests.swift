import Foundation
import Testing
@testable import MultiPaxos

/// `MPX.VOTERS`, `MPX.ADDVOTER` and `MPX.REMOVEVOTER`: parsed by the session, and run by a cluster of
/// `multipaxos serve` processes that starts with a spare (`--voters`).
extension ClientSessionTests {
    @Test func voterCommandsParseAndABadOneNamesTheValue() throws {
        #expect(try RemoteProtocol.admin([Array("MPX.VOTERS".utf8)])?.get() == .voters)
        #expect(try RemoteProtocol.admin(["mpx.addvoter", "n3"].map { Array($0.utf8) })?.get() == .addVoter(NodeID(3)))
        #expect(try RemoteProtocol.admin(["MPX.RemoveVoter", "0"].map { Array($0.utf8) })?.get() == .removeVoter(NodeID(0)))
        #expect(RemoteProtocol.admin(["GET", "k"].map { Array($0.utf8) }) == nil)
        var s = session()
        let (replies, call) = try feed(&s, [["MPX.ADDVOTER"], ["MPX.ADDVOTER", "n64"], ["MPX.VOTERS", "x"]])
        #expect(call == nil)
        #expect(replies == [
            .error("ERR wrong number of arguments for 'mpx.addvoter' command"),
            .error("ERR mpx.addvoter: 'n64' is not a node id (0...63, or n0...n63)"),
            .error("ERR wrong number of arguments for 'mpx.voters' command"),
        ])
    }
}

extension ProcessTests {
@Suite struct ServedVotersTests {
    @Test func aSpareIsAddedAndAVoterRemovedThroughTheLog() async throws {
        let cluster = try ServedProcesses(nodes: 4)
        defer { cluster.stopAll() }
        cluster.extraArguments += ["--voters", "0,1,2"]
        try cluster.startAll()
        for i in 0..<3 { try cluster.waitUntilServing(i) }
        guard case .bulkString(let before) = try cluster.call(0, ["MPX.VOTERS"]) else {
            Issue.record("MPX.VOTERS answered no text")
            return
        }
        #expect(String(decoding: before, as: UTF8.self).hasPrefix("configuration #0: voters n0,n1,n2"))
        #expect(try cluster.call(1, ["SET", "before", "change"]) == .ok)
        // The spare, n3, joined as a non-voter; a voter is asked to add it, then to remove n0.
        #expect(try cluster.call(1, ["MPX.ADDVOTER", "n3"], seconds: 20) == .ok)
        // n3 is asked next: on a loaded machine (the whole suite in parallel) its own join may still be under way.
        try cluster.waitUntilServing(3)
        #expect(try cluster.call(3, ["MPX.REMOVEVOTER", "0"], seconds: 20) == .ok)
        guard case .bulkString(let after) = try cluster.call(3, ["MPX.VOTERS"]) else {
            Issue.record("MPX.VOTERS answered no text")
            return
        }
        #expect(String(decoding: after, as: UTF8.self).hasPrefix("configuration #2: voters n1,n2,n3"), "\(String(decoding: after, as: UTF8.self))")
        cluster.kill(0)
        #expect(try cluster.call(3, ["SET", "after", "change"], seconds: 20) == .ok)
        #expect(try cluster.call(2, ["GET", "before"], seconds: 20) == .bulkString(Array("change".utf8)))
        #expect(try cluster.call(3, ["GET", "after"], seconds: 20) == .bulkString(Array("change".utf8)))
        // n1 applied every slot in order (n3 may have learned the change from a snapshot when it was let in).
        #expect(cluster.log(1).contains("voters become {n0,n1,n2,n3}"), "\(cluster.log(1))")
        // Adding a node that votes already is answered at once; a node outside --peers is named.
        #expect(try cluster.call(1, ["MPX.ADDVOTER", "n1"]) == .ok)
        #expect(try cluster.call(1, ["MPX.ADDVOTER", "n9"])
            == .error("ERR mpx.addvoter: n9 is not a member of this cluster (n0...n3)"))
    }
}
}
