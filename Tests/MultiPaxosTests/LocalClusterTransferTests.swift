import Synchronization
import Testing
@testable import MultiPaxos

/// `LocalCluster.transferLeadership(to:)`: leadership moves to each node in turn under load, and no command is
/// lost or run twice; bad requests get typed errors.
extension LocalClusterTests {
    @Test func transferringLeadershipToEachNodeInTurnUnderLoadLosesNoCommand() async throws {
        try await withLocalCluster({ try await LocalCluster(nodes: 3) }) { cluster in
            let recorder = Recorder()
            let handedTo = Mutex<[(NodeID, Int)]>([])  // each target, with the history's size when it led
            let failures = Mutex<[TransferError]>([])
            // 8,000 commands: enough that three transfers end while clients still send, on a fast machine too (with
            // 2,000 the load could finish before the third transfer did).
            let perTask = 160
            let completed = try await load(cluster, perTask: perTask, recorder: recorder) {
                // Once 100 of the commands are done, hand leadership to each node in turn (the next one after
                // the leader, three times round), while the 50 tasks keep sending.
                while recorder.history.withLock({ $0.events.count }) < 200 { try? await Task.sleep(for: .milliseconds(1)) }
                for _ in 0..<3 {
                    guard let leader = await cluster.leader() else { continue }
                    let target = NodeID((leader.value + 1) % 3)
                    // On a loaded machine a transfer may be abandoned (the target did not win within a leader
                    // timeout); the leader then assigns again, and the next try goes ahead.
                    for _ in 0..<5 {
                        do throws(TransferError) {
                            try await cluster.transferLeadership(to: target)
                            let done = recorder.history.withLock { $0.events.count }
                            handedTo.withLock { $0.append((target, done)) }
                            break
                        } catch {
                            failures.withLock { $0.append(error) }
                        }
                    }
                }
            }
            let moves = handedTo.withLock { $0 }
            #expect(Set(moves.map(\.0)).count == 3, "leadership went to \(moves); failed tries: \(failures.withLock { $0 })")
            // Every transfer ended while clients were still waiting for answers.
            #expect(moves.allSatisfy { $0.1 < 2 * 50 * perTask }, "\(moves)")
            #expect(completed == 50 * perTask)
            #expect(recorder.history.withLock { $0.events.count } == 2 * 50 * perTask)
            #expect(Linearizability.check(recorder.history.withLock { $0 }).isLinearizable)
            // Every append landed exactly once.
            let tokens = try await appendedTokens(cluster)
            #expect(tokens.count == 50 * perTask / 4 && Set(tokens).count == 50 * perTask / 4)
        }
    }

    @Test func aTransferThatCannotHappenGetsATypedErrorNamingWhy() async throws {
        try await withLocalCluster({ try await LocalCluster(nodes: 3) }) { cluster in
            await #expect(throws: TransferError.unknownNode(NodeID(5))) { try await cluster.transferLeadership(to: NodeID(5)) }
            let leader = try #require(await cluster.leader())
            try await cluster.transferLeadership(to: leader)  // already leads: nothing to do
            let follower = NodeID((leader.value + 1) % 3)
            try await cluster.stop(follower)
            await #expect(throws: TransferError.targetDown(follower)) { try await cluster.transferLeadership(to: follower) }
            #expect(TransferError.targetDown(follower).description == "node \(follower) is stopped: it cannot take over")
            // With two of three stopped, no node leads: there is no one to hand over from.
            try await cluster.stop(leader)
            let last = NodeID((leader.value + 2) % 3)
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(10)
            while await cluster.leader() != nil, clock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
            await #expect(throws: TransferError.noLeader) { try await cluster.transferLeadership(to: last) }
            await cluster.shutdown()
            await #expect(throws: TransferError.shutDown) { try await cluster.transferLeadership(to: last) }
        }
    }
}
