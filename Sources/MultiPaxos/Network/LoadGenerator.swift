import Foundation
import Synchronization

/// What a load run measured.
public struct LoadReport: Sendable, CustomStringConvertible {
    /// Commands answered with a non-error reply.
    public let operations: Int
    /// Error replies, timeouts and broken connections.
    public let errors: Int
    /// The run's wall-clock length.
    public let elapsedSeconds: Double
    /// Latencies of the answered commands, in microseconds, at the 50th and 99th percentile.
    public let p50Microseconds: Int64, p99Microseconds: Int64

    /// Answered commands per second.
    public var operationsPerSecond: Double { Double(operations) / max(elapsedSeconds, 1e-9) }

    public var description: String {
        let rate = Int(operationsPerSecond.rounded())
        return "\(operations) ops in \(String(format: "%.1f", elapsedSeconds)) s: \(rate) ops/s, "
            + "p50 \(String(format: "%.2f", Double(p50Microseconds) / 1000)) ms, "
            + "p99 \(String(format: "%.2f", Double(p99Microseconds) / 1000)) ms, \(errors) errors"
    }
}

/// Closed-loop RESP clients, one thread each: every client keeps one command outstanding.
public enum LoadGenerator {
    /// Runs the load and returns what it measured.
    public static func run(_ options: LoadOptions) -> LoadReport {
        let results = Mutex<(ops: Int, errors: Int, latencies: [Int64])>((0, 0, []))
        let start = ContinuousClock.now
        let end = start + .milliseconds(Int64(options.seconds * 1000))
        let done = DispatchGroup()
        for i in 0..<options.clients {
            done.enter()
            let thread = Thread {
                let (ops, errors, latencies) = client(i, options: options, until: end)
                results.withLock {
                    $0.ops += ops
                    $0.errors += errors
                    $0.latencies += latencies
                }
                done.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        done.wait()
        let elapsed = ContinuousClock.now - start
        let (ops, errors, latencies) = results.withLock { ($0.ops, $0.errors, $0.latencies.sorted()) }
        func percentile(_ p: Double) -> Int64 {
            latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return LoadReport(operations: ops, errors: errors, elapsedSeconds: seconds,
                          p50Microseconds: percentile(0.5), p99Microseconds: percentile(0.99))
    }

    private static func client(_ i: Int, options: LoadOptions, until end: ContinuousClock.Instant) -> (Int, Int, [Int64]) {
        var rng = SplitMix64(seed: UInt64(i) &+ 0x9E37)
        let address = options.addresses[i % options.addresses.count]
        let value = Array(repeating: UInt8(ascii: "x"), count: options.valueBytes)
        var ops = 0, errors = 0
        var latencies: [Int64] = []
        var connection: RESPConnection?
        while ContinuousClock.now < end {
            let key = Array("key:\(rng.next() % UInt64(options.keys))".utf8)
            let isGet = Double(rng.next() % 1_000_000) / 1_000_000 < options.getRatio
            let args: [[UInt8]] = isGet ? [Array("GET".utf8), key] : [Array("SET".utf8), key, value]
            let began = ContinuousClock.now
            do {
                if connection == nil { connection = try RESPConnection(to: address, deadline: began + .seconds(5)) }
                let reply = try connection!.call(args, deadline: began + .seconds(10))
                if case .error = reply { errors += 1; continue }
                ops += 1
                let took = ContinuousClock.now - began
                latencies.append(took.components.seconds * 1_000_000 + took.components.attoseconds / 1_000_000_000_000)
            } catch {
                errors += 1
                connection = nil
                usleep(10_000)
            }
        }
        return (ops, errors, latencies)
    }
}

/// A small seeded generator for load keys (the simulation's generator lives with the simulation).
private struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
