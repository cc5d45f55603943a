import Synchronization

/// Closed-loop load on an in-process `LocalCluster` (`multipaxos load --local N`): each client is a task with its
/// own `ClusterClient` and one command outstanding, as `LoadGenerator`'s are threads with a RESP connection.
public enum LocalLoad {
    /// What a run measured, with the bytes the nodes' storage wrote.
    public struct Report: Sendable, CustomStringConvertible {
        /// Throughput, latency and errors.
        public let load: LoadReport
        /// Bytes written to the node files (0 in memory).
        public let storageBytes: Int

        public var description: String {
            guard storageBytes > 0 else { return load.description }
            let perCommand = Double(storageBytes) / Double(max(load.operations, 1))
            return "\(load); storage wrote \(storageBytes / 1_000_000) MB (\(Int(perCommand.rounded())) bytes per command)"
        }
    }

    /// Starts the cluster `options` describe, runs the load, shuts the cluster down, and returns what it measured.
    public static func run(_ options: LoadOptions) async throws(ClusterError) -> Report {
        let cluster = try await LocalCluster(nodes: options.localNodes ?? 3, mode: options.mode,
                                             batching: options.batching, storageDirectory: options.dataDirectory)
        let clock = ContinuousClock()
        let start = clock.now
        let end = start + .milliseconds(Int64(options.seconds * 1000))
        let value = ByteString(Array(repeating: UInt8(ascii: "x"), count: options.valueBytes))
        var clients: [ClusterClient] = []
        for _ in 0..<options.clients { clients.append(await cluster.makeClient(giveUpAfter: .seconds(30))) }
        let results = await withTaskGroup(of: (Int, Int, [Int64]).self) { group in
            for (i, client) in clients.enumerated() {
                group.addTask {
                    var rng = UInt64(i) &* 0x9E37_79B9_7F4A_7C15 | 1
                    var ops = 0, errors = 0
                    var latencies: [Int64] = []
                    while clock.now < end {
                        var operations: [KeyValueOperation] = []
                        for _ in 0..<options.pipeline {
                            rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17
                            let key: ByteString = "key:\(rng % UInt64(options.keys))"
                            let isGet = Double(rng >> 11) / Double(1 << 53) < options.getRatio
                            operations.append(isGet ? .get(key) : .put(key, value))
                        }
                        let began = clock.now
                        do {
                            _ = try await client.run(operations)
                            ops += operations.count
                            let took = clock.now - began
                            latencies.append(took.components.seconds * 1_000_000 + took.components.attoseconds / 1_000_000_000_000)
                        } catch {
                            errors += 1
                        }
                    }
                    return (ops, errors, latencies)
                }
            }
            var all: (Int, Int, [Int64]) = (0, 0, [])
            for await (ops, errors, latencies) in group {
                all.0 += ops
                all.1 += errors
                all.2 += latencies
            }
            return all
        }
        let elapsed = clock.now - start
        let bytes = await cluster.storageBytesWritten()
        await cluster.shutdown()
        let latencies = results.2.sorted()
        func percentile(_ p: Double) -> Int64 {
            latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let report = LoadReport(operations: results.0, errors: results.1, elapsedSeconds: seconds,
                                p50Microseconds: percentile(0.5), p99Microseconds: percentile(0.99))
        return Report(load: report, storageBytes: bytes)
    }
}
