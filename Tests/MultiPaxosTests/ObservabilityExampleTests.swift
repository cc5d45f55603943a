import Foundation
import Testing
import MultiPaxos

/// The example of Docs/Observability.md, compiled and run here so that it cannot rot; a second test checks
/// that the document shows exactly this code.
@Suite struct ObservabilityExampleTests {
    // BEGIN EXAMPLE
    static func example() async throws {
        // Log records go to a closure (or to swift-log, see below); the library logs at debug and trace only.
        let logger = ClosureLogger(level: .debug) { record in print("[\(record.level)] \(record.message)") }
        let cluster = try await LocalCluster(nodes: 3, logger: logger)

        // The leader now, then each change. A slow reader never blocks a node: it gets the latest value.
        let leaders = Task {
            for await leader in cluster.leaderChanges() { print("leader:", leader.map(\.description) ?? "none") }
        }
        // Elections, stops and restarts, catch-up, snapshots; up to 256 wait for this reader.
        let events = Task {
            for await event in cluster.events(bufferSize: 256) { print("event:", event) }
        }

        let client = await cluster.makeClient()
        for i in 0..<100 { _ = try await client.run(.put("k", "\(i)")) }
        for node in cluster.configuration.members {
            guard let m = await cluster.metrics(of: node) else { continue }
            print("\(node) \(m.role), ballot \(m.ballot): \(m.appliedSlots) slots applied, sent \(m.sentMessages)")
            print("  \(m.commitLatency.count) answered, p50 \(m.commitLatency.p50Microseconds) µs, p99 \(m.commitLatency.p99Microseconds) µs")
        }
        if let leader = await cluster.leader() { try await cluster.stop(leader) }  // leader: none, then the next one
        _ = try await client.run(.get("k"))

        await cluster.shutdown()  // ends both streams
        await leaders.value
        await events.value
    }
    // END EXAMPLE

    @Test func theExampleRuns() async throws {
        try await Self.example()
    }

    @Test func theDocumentShowsTheExampleVerbatim() throws {
        try expectDocumentShowsExample(page: "Observability.md")
    }
}
