import Foundation
import Synchronization
import Testing
import MultiPaxos

/// The example of Docs/Observability.md, compiled and run here so that it cannot rot; a second test checks
/// that the document shows exactly this code.
@Suite(.serialized) struct ObservabilityExampleTests {
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

    /// What the example printed: inside this type `print` is this one, which keeps each line and prints it too.
    static let printed = Mutex<[String]>([])
    static func print(_ items: Any...) {
        let line = items.map { "\($0)" }.joined(separator: " ")
        printed.withLock { $0.append(line) }
        Swift.print(line)
    }

    @Test func theExampleRunsAndPrintsWhatItsCommentsSay() async throws {
        Self.printed.withLock { $0 = [] }
        try await Self.example()
        let all = Self.printed.withLock { $0 }
        // The leader, then another once it was stopped.
        let leaders = all.filter { $0.hasPrefix("leader: n") }
        #expect(leaders.count >= 2 && leaders.first != leaders.last, "\(leaders)")
        // Events: the stop, then the next election.
        let events = all.filter { $0.hasPrefix("event: ") }
        let stop = events.firstIndex { $0.hasSuffix(" stopped") }
        #expect(stop != nil && events[(stop ?? events.endIndex)...].contains { $0.contains(" leads with ballot ") }, "\(events)")
        // Each node's metrics: one leader, which applied every put; 100 commands answered in all.
        let metrics = all.filter { $0.range(of: #"^n\d (leader|candidate|follower|learner|joining)"#, options: .regularExpression) != nil }
        #expect(metrics.count == 3, "\(all)")
        let applied = metrics.filter { $0.hasPrefix("n") && $0.contains(" leader, ") }
            .compactMap { $0.split(separator: ": ").last?.split(separator: " ").first.flatMap { Int($0) } }
        #expect(applied.count == 1 && applied[0] >= 100, "\(metrics)")
        let answered = all.filter { $0.hasPrefix("  ") && $0.contains(" answered, p50 ") }
            .compactMap { Int($0.dropFirst(2).split(separator: " ").first ?? "") }
        #expect(answered.count == 3 && answered.reduce(0, +) >= 100, "\(all)")
        #expect(all.contains { $0.hasPrefix("[debug] ") }, "the logger's records were printed")
    }

    @Test func theDocumentShowsTheExampleVerbatim() throws {
        try expectDocumentShowsExample(page: "Observability.md")
    }
}
