/// Runs many seeded simulations, a few at a time (each on its own executor, so they use separate cores), and
/// reports each in seed order.
public enum Sweep {
    /// One seed's outcome.
    public struct Outcome: Sendable {
        /// The options the seed chose.
        public let options: SimulationOptions
        /// The failed checks (empty when the run passed).
        public let failures: [String]
        /// Simulated time the run covered.
        public let simulatedTime: Microseconds
        /// Requests completed.
        public let requestsCompleted: Int
        /// What the run's crashes did to disks.
        public var diskCrashes = DiskCrashTally()
        /// Why linearizability was not decided within budget, if it was not (counted apart, not a failure).
        public var linearizabilityUndecided: String?
        /// The run's longest stall (see `SimulationReport.longestStall`).
        public var longestStall: Microseconds = 0
        /// Leadership transfers started, handed over (the target was told to compete) and abandoned.
        public var transfers = SimulationReport.Transfers()
        /// Changes of voters put in force, and what happened around them.
        public var reconfigurations = 0
        public var membershipDraws = SimulationReport.MembershipDraws()
    }

    /// Runs `optionsFor(seed)` for every seed, `parallelism` at a time; `each` sees outcomes in seed order.
    public static func run(seeds: ClosedRange<UInt64>, parallelism: Int = 2,
                           optionsFor: @escaping @Sendable (UInt64) -> SimulationOptions,
                           each: (Outcome) -> Void = { _ in }) async -> [Outcome] {
        var outcomes: [Outcome] = []
        var pending: [UInt64: Outcome] = [:]
        var nextToReport = seeds.lowerBound
        await withTaskGroup(of: (UInt64, Outcome).self) { group in
            var next = seeds.lowerBound
            var running = 0
            var exhausted = false
            func launch() {
                guard !exhausted else { return }
                let seed = next
                group.addTask {
                    let options = optionsFor(seed)
                    do {
                        let report = try await Simulation(options: options).run()
                        return (seed, Outcome(options: options, failures: report.failures,
                                              simulatedTime: report.simulatedTime, requestsCompleted: report.requestsCompleted,
                                              diskCrashes: report.diskCrashes,
                                              linearizabilityUndecided: report.linearizabilityUndecided, longestStall: report.longestStall,
                                              transfers: report.transfers, reconfigurations: report.reconfigurations,
                                              membershipDraws: report.membershipDraws))
                    } catch {
                        return (seed, Outcome(options: options, failures: ["bad options: \(error)"], simulatedTime: 0,
                                              requestsCompleted: 0))
                    }
                }
                running += 1
                if seed == seeds.upperBound { exhausted = true } else { next += 1 }
            }
            for _ in 0..<max(1, parallelism) { launch() }
            while running > 0, let (seed, outcome) = await group.next() {
                running -= 1
                pending[seed] = outcome
                while let ready = pending.removeValue(forKey: nextToReport) {
                    outcomes.append(ready)
                    each(ready)
                    if nextToReport == seeds.upperBound { break }
                    nextToReport += 1
                }
                launch()
            }
        }
        return outcomes
    }
}
