import Foundation

/// The benchmark: both modes on identical workloads and seeds, scenario by scenario, measured side by side.
public enum Benchmark {
    /// Where the clients sit.
    public enum Placement: String, Sendable, CaseIterable {
        /// Every client on the node that leads first (node 0).
        case leader
        /// Every client on one follower (node 1).
        case follower
        /// Client i on node i mod n.
        case spread
    }

    /// One workload shape.
    public struct Scenario: Sendable {
        /// A short name for tables and options.
        public var name: String
        /// Cluster size.
        public var nodes: Int
        /// Concurrent clients.
        public var clients: Int
        /// Probability that a network message is lost.
        public var dropRate: Double
        /// Where the clients sit.
        public var placement: Placement
        /// Crash the leader's node once half the commands are done.
        public var crashLeader = false
        /// Two nodes propose at once (nodes 0 and 1 are contenders, clients split between them).
        public var contention = false
        /// Gets per put in each client's workload (1: half the requests are reads; 9: 90%).
        public var readsPerWrite = 1
        /// How the gets are served.
        public var reads = ReadConsistency.log

        /// Makes a scenario.
        public init(name: String, nodes: Int, clients: Int, dropRate: Double = 0, placement: Placement = .spread,
                    crashLeader: Bool = false, contention: Bool = false) {
            self.name = name
            self.nodes = nodes
            self.clients = clients
            self.dropRate = dropRate
            self.placement = placement
            self.crashLeader = crashLeader
            self.contention = contention
        }

        /// The simulation options for `commands` commands in `mode`.
        public func options(mode: Mode, commands: Int, seed: UInt64) -> SimulationOptions {
            var o = SimulationOptions()
            o.seed = seed
            o.mode = mode
            o.nodes = nodes
            o.clients = clients
            o.requestsPerClient = max(1, commands / clients)
            o.dropRate = dropRate
            o.generatedWorkload = true
            o.generatedReadsPerWrite = readsPerWrite
            o.reads = reads
            o.fullChecks = false
            o.timeLimit = 3_600_000_000
            switch placement {
            case .leader: o.placements = Array(repeating: NodeID(0), count: clients)
            case .follower: o.placements = Array(repeating: NodeID(min(1, nodes - 1)), count: clients)
            case .spread: o.placements = (0..<clients).map { NodeID($0 % nodes) }
            }
            if crashLeader { o.crashLeaderAfterRequests = o.requestsPerClient * clients / 2 }
            if contention {
                o.contenders = [NodeID(0), NodeID(1)]
                o.placements = (0..<clients).map { NodeID($0 % 2) }
            }
            return o
        }
    }

    /// The full set: 3, 5 and 7 nodes; 1, 16 and 256 clients; no loss and 5% loss; client placements; a leader
    /// crash; two proposers at once.
    public static let allScenarios: [Scenario] = {
        var list: [Scenario] = []
        for nodes in [3, 5, 7] {
            for clients in [1, 16, 256] {
                for drop in [0.0, 0.05] {
                    list.append(Scenario(name: "n\(nodes)-c\(clients)-\(drop == 0 ? "lossless" : "loss5")",
                                         nodes: nodes, clients: clients, dropRate: drop))
                }
            }
        }
        for placement in Placement.allCases {
            list.append(Scenario(name: "n3-c1-on-\(placement.rawValue)", nodes: 3, clients: 1, placement: placement))
        }
        list.append(Scenario(name: "n3-c64-throughput", nodes: 3, clients: 64))
        list.append(Scenario(name: "n5-c16-leader-crash", nodes: 5, clients: 16, dropRate: 0.05, crashLeader: true))
        list.append(Scenario(name: "n5-c16-two-proposers", nodes: 5, clients: 16, contention: true))
        return list
    }()

    /// Read-heavy workloads (nine gets per put), the gets served through the log or by read index: what a read
    /// costs either way. Named in `--scenarios`; not part of the full set.
    public static let readScenarios: [Scenario] = [3, 5].flatMap { nodes in
        ReadConsistency.allCases.map { reads in
            var scenario = Scenario(name: "n\(nodes)-c16-reads90-\(reads)", nodes: nodes, clients: 16)
            scenario.readsPerWrite = 9
            scenario.reads = reads
            return scenario
        }
    }

    /// Every scenario `--scenarios` can name: the full set and the read-heavy ones.
    public static var namedScenarios: [Scenario] { allScenarios + readScenarios }

    /// A few scenarios that run in seconds.
    public static let quickScenarios: [Scenario] = allScenarios.filter {
        ["n3-c1-on-leader", "n3-c1-on-follower", "n3-c16-lossless", "n5-c16-loss5", "n3-c64-throughput",
         "n5-c16-leader-crash", "n5-c16-two-proposers"].contains($0.name)
    }

    /// The figures of one scenario in one mode.
    public struct Result: Sendable {
        /// The scenario's name.
        public let scenario: String
        /// The Phase-1 mode.
        public let mode: Mode
        /// Cluster size.
        public let nodes: Int
        /// Concurrent clients.
        public let clients: Int
        /// Probability that a network message was lost.
        public let dropRate: Double
        /// Commands committed (client requests answered).
        public let commands: Int
        /// Whether every check of the run held.
        public let passed: Bool
        /// Messages between different nodes per committed command (self-messages not counted, heartbeats are).
        public let networkMessagesPerCommand: Double
        /// Per kind, in `MessageKind` order.
        public let networkMessagesPerCommandByKind: [Double]
        /// Messages nodes sent to themselves per committed command.
        public let localMessagesPerCommand: Double
        /// Phase-1 rounds started in the run.
        public let phase1Rounds: Int
        /// Median request latency, in milliseconds of simulated time.
        public let latencyMedianMilliseconds: Double
        /// 99th-percentile request latency, in milliseconds of simulated time.
        public let latencyP99Milliseconds: Double
        /// Median latency divided by the mean network round trip.
        public let latencyMedianRoundTrips: Double
        /// Committed commands per wall-clock second of the simulation.
        public let commandsPerWallSecond: Double
        /// Simulated time the run covered.
        public let simulatedSeconds: Double
        /// Wall-clock time the run took.
        public let wallSeconds: Double
        /// The process's peak resident memory so far, in MiB.
        public let peakMemoryMiB: Double
    }

    /// Runs `scenario` in `mode`, with leaders batching and pipelining as `batching` says.
    public static func run(_ scenario: Scenario, mode: Mode, commands: Int, seed: UInt64,
                           batching: Batching = .off) async -> Result {
        var options = scenario.options(mode: mode, commands: commands, seed: seed)
        options.batching = batching
        let clock = ContinuousClock()  // wall time of the harness, outside the simulation
        let start = clock.now
        let report: SimulationReport
        do {
            report = try await Simulation(options: options).run()
        } catch {
            preconditionFailure("benchmark scenario \(scenario.name) has bad options: \(error)")
        }
        let wall = clock.now - start
        let wallSeconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
        let committed = max(1, report.requestsCompleted)
        let sorted = report.latencies.sorted()
        func percentile(_ p: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            return Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) / 1000
        }
        let roundTripMilliseconds = 2 * (Double(options.networkDelay) + Double(options.networkJitter) / 2) / 1000
        return Result(
            scenario: scenario.name, mode: mode, nodes: scenario.nodes, clients: scenario.clients,
            dropRate: scenario.dropRate, commands: report.requestsCompleted, passed: report.passed,
            networkMessagesPerCommand: Double(report.totalNetworkMessages) / Double(committed),
            networkMessagesPerCommandByKind: report.networkMessages.map { Double($0) / Double(committed) },
            localMessagesPerCommand: Double(report.localMessages.reduce(0, +)) / Double(committed),
            phase1Rounds: report.phase1Rounds,
            latencyMedianMilliseconds: percentile(0.5), latencyP99Milliseconds: percentile(0.99),
            latencyMedianRoundTrips: percentile(0.5) / roundTripMilliseconds,
            commandsPerWallSecond: Double(report.requestsCompleted) / max(wallSeconds, 1e-9),
            simulatedSeconds: Double(report.simulatedTime) / 1e6, wallSeconds: wallSeconds,
            peakMemoryMiB: peakResidentMiB())
    }

    /// The process's peak resident set size (VmHWM), in MiB; 0 where /proc is not available.
    public static func peakResidentMiB() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kb / 1024
    }
}
