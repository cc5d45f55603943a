import Foundation
import Synchronization
import Testing
@testable import MultiPaxos

/// `LocalCluster.addNode()`, `removeNode(_:)` and `replaceNode(_:)`: members change through the log under load,
/// every node that remains agrees, no command is lost or run twice; bad requests get typed errors.
extension LocalClusterTests {
    @Test func replacingEveryInitialMemberUnderLoadLosesNoCommand() async throws {
        try await withLocalCluster({ try await LocalCluster(nodes: 3) }) { cluster in
            let recorder = Recorder()
            let replaced = Mutex<[(NodeID, NodeID)]>([])
            let failures = Mutex<[String]>([])
            let completed = try await load(cluster, perTask: 40, recorder: recorder) {
                while recorder.history.withLock({ $0.events.count }) < 200 { try? await Task.sleep(for: .milliseconds(1)) }
                // The leader first (it hands over when its removal is in force), then the others.
                var order = [NodeID(0), NodeID(1), NodeID(2)]
                if let leader = await cluster.leader() { order = [leader] + order.filter { $0 != leader } }
                for old in order {
                    do throws(ClusterError) {
                        let new = try await cluster.replaceNode(old, timeout: .seconds(30))
                        replaced.withLock { $0.append((old, new)) }
                    } catch {
                        failures.withLock { $0.append("\(old): \(error)") }
                    }
                }
            }
            let moves = replaced.withLock { $0 }
            #expect(moves.count == 3, "replaced \(moves); failures: \(failures.withLock { $0 })")
            let voters = await cluster.voters()
            #expect(Set(voters) == Set(moves.map(\.1)) && voters.count == 3, "\(voters)")
            #expect(completed == 2000)
            #expect(Linearizability.check(recorder.history.withLock { $0 }).isLinearizable)
            // Every append landed exactly once, read through the new voters.
            let tokens = try await appendedTokens(cluster)
            #expect(tokens.count == 500 && Set(tokens).count == 500)
            // The removed nodes are stopped; a new one leads.
            #expect(Set(await cluster.runningNodes) == Set(voters))
            #expect(await cluster.leader().map(voters.contains) == true)
        }
    }

    @Test func aMembershipChangeThatCannotHappenGetsATypedError() async throws {
        try await withLocalCluster({ try await LocalCluster(nodes: 1) }) { cluster in
            await #expect(throws: ClusterError.unknownNode(NodeID(7))) { try await cluster.removeNode(NodeID(7)) }
            await #expect(throws: ClusterError.invalidConfiguration("node n0 is the last voter")) {
                try await cluster.removeNode(NodeID(0))
            }
            // A single node grows to two, then shrinks back to the new one.
            let added = try await cluster.addNode(timeout: .seconds(30))
            #expect(Set(await cluster.voters()) == [NodeID(0), added])
            try await cluster.removeNode(NodeID(0), timeout: .seconds(30))
            #expect(await cluster.voters() == [added])
            let client = await cluster.makeClient(giveUpAfter: .seconds(30))
            _ = try await client.run(.put("after", "change"))
            #expect(try await client.run(.get("after")) == .value("change"))
            await cluster.shutdown()
            await #expect(throws: ClusterError.shutDown) { _ = try await cluster.addNode() }
        }
    }

    @Test func aClusterOnDiskThatChangedItsMembersStartsAgainWithThem() async throws {
        let directory = NSTemporaryDirectory() + "multipaxos-membership-\(UInt64.random(in: 1...UInt64.max))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await withLocalCluster({ try await LocalCluster(nodes: 3, storageDirectory: directory) }) { first in
            let client = await first.makeClient(giveUpAfter: .seconds(30))
            _ = try await client.run(.put("k", "before"))
            let added = try await first.replaceNode(NodeID(0), timeout: .seconds(30))
            #expect(added == NodeID(3))
            _ = try await client.run(.put("k", "after"))
        }
        #expect(FileManager.default.fileExists(atPath: directory + "/node-0.log.removed"))
        #expect(FileManager.default.fileExists(atPath: directory + "/node-3.log"))

        // Started again with the same initial size: the added node comes back, the removed one does not.
        try await withLocalCluster({ try await LocalCluster(nodes: 3, storageDirectory: directory) }) {
            (again: LocalCluster) async throws in
            #expect(Set(await again.voters()) == [NodeID(1), NodeID(2), NodeID(3)])
            #expect(Set(await again.runningNodes) == [NodeID(1), NodeID(2), NodeID(3)])
            let reader = await again.makeClient(giveUpAfter: .seconds(30))
            #expect(try await reader.run(.get("k")) == .value("after"))
            // A new node never reuses the removed one's id.
            #expect(try await again.addNode(timeout: .seconds(30)) == NodeID(4))
        }

        // Asked for another initial size, the added nodes' files say no, naming why.
        do {
            let unexpected = try await LocalCluster(nodes: 4, storageDirectory: directory)
            await unexpected.shutdown()
            Issue.record("a directory begun with 3 nodes started as 4")
        } catch {
            #expect("\(error)".contains("holds node n1 of cluster 'local' with 3 members") && "\(error)".contains("asked to start"),
                    "\(error)")
        }
    }
}

/// Reads by leader lease on the real-time shells: an in-process cluster under load, and served processes.
extension LocalClusterTests {
    @Test func aLoadWithLeaseReadsRunsExactlyOnceAndLinearizably() async throws {
        try await withLocalCluster({ try await LocalCluster(nodes: 3, reads: .lease) }) { cluster in
            #expect(cluster.configuration.leases != nil, "lease reads turn the cluster's leases on")
            let recorder = Recorder()
            let completed = try await load(cluster, perTask: 20, recorder: recorder)
            #expect(completed == 1000)
            #expect(Linearizability.check(recorder.history.withLock { $0 }).isLinearizable)
            let tokens = try await appendedTokens(cluster)
            #expect(tokens.count == 250 && Set(tokens).count == 250)
        }
    }
}

extension ProcessTests {
@Suite struct ServedLeaseTests {
    @Test func servedNodesAnswerLeaseReadsAndGoOnAfterTheLeaderIsKilled() async throws {
        let cluster = try ServedProcesses(nodes: 3)
        defer { cluster.stopAll() }
        cluster.extraArguments += ["--reads", "lease"]
        try cluster.startAll()
        for i in 0..<3 { try cluster.waitUntilServing(i) }
        let leader = try #require(cluster.leader(), "no node logged its election")
        let follower = (leader + 1) % 3, other = (leader + 2) % 3
        #expect(try cluster.call(follower, ["SET", "k", "v1"]) == .ok)
        #expect(try cluster.call(other, ["GET", "k"]) == .bulkString(Array("v1".utf8)))
        #expect(try cluster.call(leader, ["GET", "k"]) == .bulkString(Array("v1".utf8)))
        cluster.kill(leader)
        #expect(try cluster.call(follower, ["SET", "k", "v2"], seconds: 20) == .ok)
        #expect(try cluster.call(other, ["GET", "k"], seconds: 20) == .bulkString(Array("v2".utf8)))
    }
}
}
