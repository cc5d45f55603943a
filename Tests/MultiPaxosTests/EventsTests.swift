import Synchronization
import Testing
@testable import MultiPaxos

/// `LocalCluster.leaderChanges()`, `events()` and the logging hook.
@Suite struct EventsTests {
    /// The first element of `stream` that `matches`, or nil if none came within `seconds` (real clock, bounded).
    func first<T: Sendable>(_ stream: AsyncStream<T>, within seconds: Int64 = 20,
                            where matches: @escaping @Sendable (T) -> Bool) async -> T? {
        await withTaskGroup(of: T?.self) { group in
            group.addTask {
                for await element in stream where matches(element) { return element }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(seconds))
                return nil
            }
            let found = await group.next() ?? nil
            group.cancelAll()
            return found
        }
    }

    @Test func leaderChangesGivesTheCurrentLeaderFirstThenTheNextOneAfterItStops() async throws {
        try await withLocalCluster({ try await LocalCluster(nodes: 3) }) { cluster in
            // Subscribed while the leader is the same before and after (on a loaded machine elections can go on).
            var subscribed: (AsyncStream<NodeID?>, NodeID)?
            for _ in 0..<50 where subscribed == nil {
                let (before, _) = try #require(await cluster.settledLeader())
                let changes = cluster.leaderChanges()
                let current = await first(changes) { _ in true }
                if await cluster.leader() == before {
                    #expect(current == .some(before), "the current leader first")
                    subscribed = (changes, before)
                }
            }
            let (changes, leader) = try #require(subscribed)

            try await cluster.stop(leader)
            let next = await first(changes) { $0 != nil } ?? nil
            let successor = try #require(next, "a new leader after the old one stopped")
            #expect(successor != leader)
        }
    }

    @Test func readersThatNeverReadBlockNoCommitAndTheNewestEventWaits() async throws {
        try await withLocalCluster({ try await LocalCluster(nodes: 3) }) { cluster in
            let unreadLeaders = cluster.leaderChanges()
            let unreadEvents = cluster.events(bufferSize: 1)
            let client = await cluster.makeClient(giveUpAfter: .seconds(60))
            let clock = ContinuousClock()
            let start = clock.now
            for i in 0..<200 { _ = try await client.run(.put("k\(i % 7)", "\(i)")) }
            #expect(clock.now - start < .seconds(60))

            // Two more events than the buffer holds: the older one is dropped and counted, the newest waits.
            let (leader, _) = try #require(await cluster.settledLeader())
            let stopped = try #require(cluster.configuration.members.first { $0 != leader })
            try await cluster.stop(stopped)
            try await cluster.restart(stopped)
            #expect(cluster.droppedEventCount >= 1)
            var iterator = unreadEvents.makeAsyncIterator()
            let newest = await iterator.next()
            #expect(newest.map { $0.kind != .stopped } == true, "the stop was dropped for a later event: \(String(describing: newest))")
            var leaders = unreadLeaders.makeAsyncIterator()
            #expect(await leaders.next() != nil, "the latest leader waits for the reader")
        }
    }

    @Test func eventsReportAStoppedLeaderAndTheElectionThatFollows() async throws {
        try await withLocalCluster({ try await LocalCluster(nodes: 3) }) { cluster in
            let (leader, _) = try #require(await cluster.settledLeader())
            let events = cluster.events()
            try await cluster.stop(leader)
            let recorded = Mutex<[ClusterEvent]>([])
            // Both must be reported, in either order: on a loaded machine another node may take over just before
            // the stop (it stopped hearing the leader's heartbeats in time).
            let elected = await first(events) { event in
                recorded.withLock { seen in
                    seen.append(event)
                    let stopped = seen.contains(ClusterEvent(node: leader, kind: .stopped))
                    let other = seen.contains { if case .elected = $0.kind { $0.node != leader } else { false } }
                    return stopped && other
                }
            }
            #expect(elected != nil, "a node other than \(leader) elected after its stop; events: \(recorded.withLock { $0 })")
        }
    }

    @Test func aRestartedNodeThatMissedSlotsReportsItsCatchUp() async throws {
        try await withLocalCluster({ try await LocalCluster(nodes: 3) }) { cluster in
            let client = await cluster.makeClient()
            let (leader, _) = try #require(await cluster.settledLeader())
            let lagging = try #require(cluster.configuration.members.first { $0 != leader })
            try await cluster.stop(lagging)
            for i in 0..<20 { _ = try await client.run(.put("k", "\(i)")) }
            let events = cluster.events()
            try await cluster.restart(lagging)
            let seen = Mutex<[ClusterEvent.Kind]>([])
            let finished = await first(events) { event in
                guard event.node == lagging else { return false }
                seen.withLock { $0.append(event.kind) }
                if case .catchUpFinished = event.kind { return true }
                return false
            }
            guard case .catchUpFinished(let applied)? = finished?.kind else {
                Issue.record("no catch-up finished for \(lagging): \(seen.withLock { $0 })")
                return
            }
            #expect(applied.index >= 20)
            let kinds = seen.withLock { $0 }
            #expect(kinds.first == .restarted)
            #expect(kinds.contains { if case .catchUpStarted(_, let peer) = $0 { peer != lagging } else { false } }, "\(kinds)")
        }
    }

    @Test func theLoggingHookGetsDebugAndTraceRecordsAndNothingAboveFromTheLibrary() async throws {
        let records = Mutex<[LogRecord]>([])
        let logger = ClosureLogger(level: .trace) { record in records.withLock { $0.append(record) } }
        try await withLocalCluster({ try await LocalCluster(nodes: 3, logger: logger) }) { cluster in
            let client = await cluster.makeClient()
            for i in 0..<5 { _ = try await client.run(.put("k", "\(i)")) }
            try await cluster.stop(NodeID(2))
        }
        let all = records.withLock { $0 }
        #expect(all.contains { $0.level == .debug && $0.message.contains("leads with ballot") })
        #expect(all.contains { $0.level == .debug && $0.message == "n2 stopped" && $0.node == NodeID(2) })
        #expect(all.contains { $0.level == .trace && $0.message.contains("takes Accept(") })
        #expect(all.allSatisfy { $0.level <= .debug }, "\(all.filter { $0.level > .debug })")

        // A logger that wants debug only is never handed a trace record.
        let debugOnly = Mutex<[LogRecord]>([])
        let quietLogger = ClosureLogger(level: .debug) { r in debugOnly.withLock { $0.append(r) } }
        try await withLocalCluster({ try await LocalCluster(nodes: 3, logger: quietLogger) }) { quiet in
            _ = try await quiet.makeClient().run(.put("k", "v"))
        }
        #expect(!debugOnly.withLock { $0 }.isEmpty)
        #expect(debugOnly.withLock { $0 }.allSatisfy { $0.level == .debug })
    }

    @Test func levelsAreOrderedAsSwiftLogs() {
        #expect(LogLevel.allCases.map(\.rawValue) == ["trace", "debug", "info", "warning", "error"])
        #expect(LogLevel.trace < .debug && LogLevel.debug < .info && LogLevel.warning < .error)
    }
}
