import Foundation
import Testing
@testable import MultiPaxos

/// What an app embedding the library runs into: a custom state machine with the key-value call, errors after
/// shutdown, restarts it can await, timing it cannot get wrong silently, and names that live beside Foundation's.
@Suite(.serialized) struct ClusterAPITests {
    @Test func theKeyValueCallOnAnotherStateMachineThrowsInsteadOfTrapping() async throws {
        try await withLocalCluster({
            try await LocalCluster(nodes: 3, makeStateMachine: { LocalClusterTests.Counter() })
        }) { cluster in
            let client = await cluster.makeClient()
            let committed = cluster.committedLog()
            // The operation's bytes are applied by the counter (it adds their first byte), then the answer is refused.
            await #expect(throws: ClusterError.self) { try await client.run(.get("x")) }
            do {
                _ = try await client.run(.get("x"))
                Issue.record("a counter's answer was taken for a key-value result")
            } catch let error as ClusterError {
                guard case .notKeyValueStore(let answer) = error else { Issue.record("\(error)"); return }
                #expect(!answer.isEmpty)
                #expect(error.description.contains("not the key-value store") && error.description.contains("submit(_:)"))
            }
            // The process is alive and the cluster still works through the bytes API.
            #expect(String(decoding: try await client.submit([1]), as: UTF8.self).allSatisfy(\.isNumber))
            await cluster.shutdown()
            // All three commands were committed (a retried request may take a second slot, applied once).
            var entries = 0
            for await _ in committed { entries += 1 }
            #expect(entries >= 3)
        }
    }

    @Test func afterShutdownCallsThrowShutDown() async throws {
        try await withLocalCluster({ try await LocalCluster(nodes: 3) }) { cluster in
            let client = await cluster.makeClient(requestTimeout: .milliseconds(50), giveUpAfter: .seconds(5))
            _ = try await client.run(.put("a", "1"))
            await cluster.shutdown()
            await #expect(throws: ClusterError.shutDown) { try await client.run(.get("a")) }
            await #expect(throws: ClusterError.shutDown) { try await client.submit([]) }
            let late = await cluster.makeClient()
            await #expect(throws: ClusterError.shutDown) { try await late.run(.get("a")) }
            await #expect(throws: ClusterError.shutDown) { try await cluster.restart(NodeID(0)) }
            // A log subscribed after shutdown is already over.
            var count = 0
            for await _ in cluster.committedLog() { count += 1 }
            #expect(count == 0)
        }
    }

    @Test func aTimeoutSaysTheCommandMayStillTakeEffect() {
        #expect(ClusterError.timeout(after: .seconds(2)).description.contains("may still take effect"))
    }

    @Test func restartReturnsOnceTheNodeIsAMemberAgain() async throws {
        try await withLocalCluster({ try await LocalCluster(nodes: 3) }) { cluster in
            let client = await cluster.makeClient()
            for node in [NodeID(1), NodeID(2)] {
                try await cluster.stop(node)
                _ = try? await client.run(.put("k", "v"))
                #expect(try await cluster.restart(node) == .member)
                #expect(try await cluster.membership(of: node) == .member)
            }
            // Restarting a running node changes nothing.
            #expect(try await cluster.restart(NodeID(0)) == .member)
            await #expect(throws: ClusterError.unknownNode(NodeID(7))) { try await cluster.restart(NodeID(7)) }
        }
    }

    /// The default timing with one change.
    static func timing(_ change: (inout Timing) -> Void) -> Timing {
        var timing = Timing()
        change(&timing)
        return timing
    }

    @Test(arguments: [
        (timing { $0.leaderTimeout = 0 }, "timing: leaderTimeout 0 µs is not positive"),
        (timing { $0.heartbeatInterval = -5 }, "timing: heartbeatInterval -5 µs is not positive"),
        (timing { $0.requestTimeout = 0 }, "timing: requestTimeout 0 µs is not positive"),
        (timing { $0.backoffMax = -1 }, "timing: backoffMax -1 µs is negative"),
        (timing { $0.leaderTimeout = 50_000 }, "timing: leaderTimeout 50000 µs must exceed heartbeatInterval 50000 µs"),
    ])
    func badTimingIsRefusedNamingTheValue(timing: Timing, message: String) async {
        #expect(timing.problem == message)
        await #expect(throws: ClusterError.invalidConfiguration(message)) { try await LocalCluster(nodes: 3, timing: timing) }
        var options = SimulationOptions()
        options.timing = timing
        #expect(throws: OptionsError(message)) { try options.validate() }
    }

    @Test func theDefaultTimingIsValid() {
        #expect(Timing().problem == nil)
    }

    @Test func theProtocolTimerDoesNotHideFoundationsTimer() {
        // With Foundation and MultiPaxos both imported, `Timer` is Foundation's and needs no qualification.
        #expect(ObjectIdentifier(Timer.self) == ObjectIdentifier(Foundation.Timer.self))
        #expect(ProtocolTimer.heartbeat.role == .leader)
    }
}
