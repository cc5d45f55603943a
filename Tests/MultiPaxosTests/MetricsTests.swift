import Foundation
import Testing
@testable import MultiPaxos

extension LocalCluster {
    /// The leader and its metrics once a node both leads and reports itself leading, waiting (bounded) through
    /// elections: on a loaded machine a cluster can take seconds to settle.
    func settledLeader(within seconds: Int64 = 30) async -> (NodeID, NodeMetrics)? {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if let leader = await leader(), let metrics = await metrics(of: leader), metrics.role == .leader {
                return (leader, metrics)
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }
}

/// `LocalCluster.metrics(of:)`: what the roles know, the shell's counters, and the latency histogram under them.
@Suite struct MetricsTests {
    @Test func afterNCommandsTheLeadersMetricsShowThemDecidedAppliedAndCounted() async throws {
        try await withLocalCluster({ try await LocalCluster(nodes: 3) }) { cluster in
            let client = await cluster.makeClient()
            let count = 30
            for i in 0..<count { _ = try await client.run(.put("k\(i % 5)", "\(i)")) }
            let (leader, metrics) = try #require(await cluster.settledLeader())
            #expect(metrics.node == leader)
            #expect(metrics.ballot > .initial && metrics.ballot.leader == leader)
            #expect(metrics.knownLeader == leader && metrics.knownLeaderBallot == metrics.ballot)
            #expect(metrics.promisedBallot >= metrics.ballot)
            #expect(metrics.decidedSlots >= Int64(count) && metrics.appliedSlots >= Int64(count))
            #expect(metrics.decidedSlots >= metrics.appliedSlots)
            #expect(metrics.inFlightSlots >= 0 && metrics.inboxInputs >= 0)
            #expect(metrics.sentMessages[.heartbeat] > 0)
            #expect(metrics.storageFsyncs == 0 && metrics.storageWrittenBytes == 0, "no storage directory: nothing written")

            // Over every node (leadership may have moved on a loaded machine): an Accept and a Decision per command at
            // least, every node voted, and the client's calls were measured at the nodes that answered them.
            var measured = 0
            var sent = MessageCounts(), received = MessageCounts()
            for node in cluster.configuration.members {
                let m = try #require(await cluster.metrics(of: node))
                for kind in MessageKind.allCases {
                    sent.add(kind, m.sentMessages[kind])
                    received.add(kind, m.receivedMessages[kind])
                }
                #expect(m.receivedMessages[.accept] > 0 && m.sentMessages[.accepted] > 0, "\(node) voted")
                #expect(m.appliedSlots > 0)
                let latency = m.commitLatency
                measured += latency.count
                if latency.count > 0 {
                    #expect(0 < latency.p50Microseconds)
                    #expect(latency.p50Microseconds <= latency.p90Microseconds)
                    #expect(latency.p90Microseconds <= latency.p99Microseconds)
                    #expect(latency.p99Microseconds <= latency.maxMicroseconds)
                    #expect(latency.sumMicroseconds >= latency.maxMicroseconds)
                }
            }
            #expect(measured == count)
            #expect(sent[.accept] >= UInt64(count) && sent[.decision] >= UInt64(count) && received[.accepted] >= UInt64(count))
            #expect(sent.total > sent[.accept])
        }
    }

    @Test func withFileStorageEveryNodeCountsFsyncsAndBytesWritten() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UInt64.random(in: 1...UInt64.max))").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await withLocalCluster({ try await LocalCluster(nodes: 3, storageDirectory: directory) }) { cluster in
            let client = await cluster.makeClient()
            for i in 0..<10 { _ = try await client.run(.put("k", "\(i)")) }
            for node in cluster.configuration.members {
                let metrics = try #require(await cluster.metrics(of: node))
                #expect(metrics.storageFsyncs > 10, "\(node): \(metrics.storageFsyncs) fsyncs")
                #expect(metrics.storageWrittenBytes > 100, "\(node): \(metrics.storageWrittenBytes) bytes")
            }
        }
    }

    @Test func aStoppedNodeOrANonMemberHasNoMetrics() async throws {
        try await withLocalCluster({ try await LocalCluster(nodes: 3) }) { cluster in
            #expect(await cluster.metrics(of: NodeID(3)) == nil)
            try await cluster.stop(NodeID(1))
            #expect(await cluster.metrics(of: NodeID(1)) == nil)
            #expect(await cluster.metrics(of: NodeID(0)) != nil)
        }
    }

    @Test func histogramBucketsHoldTheirValuesWithinAnEighth() {
        var values: [Microseconds] = Array(0...5000)
        var x: Microseconds = 5000
        while x < 1 << 40 { values.append(x); values.append(x + 1); x = x * 3 / 2 }
        for value in values {
            let bucket = LatencyHistogram.bucket(of: value)
            let bound = LatencyHistogram.upperBound(of: bucket)
            #expect(bound >= value, "\(value) → bucket \(bucket) ≤ \(bound)")
            #expect(Double(bound - value) <= Double(value) / 8, "\(value) → \(bound)")
            #expect(bucket == 0 || LatencyHistogram.upperBound(of: bucket - 1) < value, "\(value) is in the lowest bucket that holds it")
        }
        #expect(LatencyHistogram.bucket(of: -5) == 0)
        #expect(LatencyHistogram.bucket(of: .max) == LatencyHistogram.bucketCount - 1)
    }

    @Test func percentilesAreOrderedAndNearTheTrueOnes() {
        var histogram = LatencyHistogram()
        #expect(histogram.summary == .empty)
        for value in 1...1000 { histogram.record(Microseconds(value) * 100) }
        let s = histogram.summary
        #expect(s.count == 1000 && s.maxMicroseconds == 100_000 && s.sumMicroseconds == 100 * 500_500)
        for (q, got) in [(0.5, s.p50Microseconds), (0.9, s.p90Microseconds), (0.99, s.p99Microseconds)] {
            let truth = q * 100_000
            #expect(Double(got) >= truth && Double(got) <= truth * 1.125, "p\(Int(q * 100)) = \(got), truly \(truth)")
        }
        #expect(s.p50Microseconds <= s.p90Microseconds && s.p90Microseconds <= s.p99Microseconds && s.p99Microseconds <= s.maxMicroseconds)
        var one = LatencyHistogram()
        one.record(12_345)
        #expect(one.percentile(0.5) == 12_345 && one.percentile(0.99) == 12_345, "capped at the largest value")
    }

    @Test func messageCountsAddInPlaceAndDescribeTheKindsCounted() {
        var counts = MessageCounts()
        counts.add(.accept, 3)
        counts.add(.heartbeat)
        #expect(counts[.accept] == 3 && counts[.heartbeat] == 1 && counts[.reply] == 0)
        #expect(counts.total == 4)
        #expect(counts.description == "Accept=3,Heartbeat=1")
        #expect(Duration.milliseconds(3).microseconds == 3000 && Duration.seconds(Int64.max).microseconds == .max)
    }
}
