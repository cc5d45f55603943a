import Foundation
import Synchronization
import Testing
import MultiPaxos

/// The example of Docs/GettingStarted.md, compiled and run here so that it cannot rot; a second test checks
/// that the document shows exactly this code.
@Suite(.serialized) struct GettingStartedExampleTests {
    // BEGIN EXAMPLE
    static func example() async throws {
        // Start a 3-node key-value cluster in this process.
        let cluster = try await LocalCluster(nodes: 3)
        let client = await cluster.makeClient()

        // Watch every command committed from now on, in slot order.
        let log = cluster.committedLog()
        let watcher = Task {
            var seen = 0
            for await entry in log {
                seen += 1
                print("committed \(entry.slot): \(entry.value)")
            }
            return seen
        }

        // Write, read, compare-and-set.
        print(try await client.run(.put("colour", "red")))                                   // ok
        print(try await client.run(.get("colour")))                                          // "red"
        print(try await client.run(.compareAndSet("colour", expected: "red", new: "blue")))  // ok
        print(try await client.run(.compareAndSet("colour", expected: "red", new: "green"))) // mismatch (holds "blue")

        // Stop the leader's node and keep going: a new leader takes over.
        if let leader = await cluster.leader() {
            try await cluster.stop(leader)
            print("stopped \(leader)")
        }
        print(try await client.run(.append("colour", "!")))                                  // 5
        print(try await client.run(.get("colour")))                                          // "blue!"

        // Shut down: every node and task ends, the log stream finishes.
        await cluster.shutdown()
        print("log entries seen: \(await watcher.value)")
    }
    // END EXAMPLE

    /// What the example printed: inside this type `print` is this one, which keeps each line and prints it too.
    static let printed = Mutex<[String]>([])
    static func print(_ item: Any) {
        let line = "\(item)"
        printed.withLock { $0.append(line) }
        Swift.print(line)
    }

    @Test func theExampleRunsAndPrintsWhatItsCommentsSay() async throws {
        Self.printed.withLock { $0 = [] }
        try await Self.example()
        let all = Self.printed.withLock { $0 }
        let committed = all.filter { $0.hasPrefix("committed s") }
        let lines = all.filter { !$0.hasPrefix("committed s") }
        #expect(lines.count == 8, "\(all)")
        guard lines.count == 8 else { return }
        #expect(Array(lines[0..<4]) == ["ok", "\"red\"", "ok", "mismatch (holds \"blue\")"])
        #expect(lines[4].hasPrefix("stopped n"))
        #expect(lines[5] == "5" && lines[6] == "\"blue!\"")
        // Every write (the four; reads need no log entry) was committed and seen by the watcher, which ended at
        // the shutdown having counted each line it printed.
        #expect(committed.count >= 4 && lines[7] == "log entries seen: \(committed.count)", "\(all)")
    }

    @Test func theDocumentShowsTheExampleVerbatim() throws {
        try expectDocumentShowsExample(page: "GettingStarted.md")
    }
}
