import Testing
@testable import MultiPaxos

/// Simulated sweeps with leases on: every node's clock drifts within the bound (drawn from the seed), and the
/// linearizability check holds under every fault family, with transfers and changes of voters too.
@Suite struct LeaseSimulationTests {
    @Test(arguments: Mode.allCases) func sweepsWithLeaseReadsPassEveryCheck(mode: Mode) async {
        let outcomes = await Sweep.run(seeds: 1...60) { seed in
            var options = SimulationOptions.sweep(seed: seed, mode: mode, nodes: 5, clients: 6, requestsPerClient: 16)
            options.reads = .lease
            return options
        }
        #expect(outcomes.count == 60)
        #expect(Set(outcomes.compactMap(\.options.schedule)).count >= 8, "most fault families drawn")
        for outcome in outcomes {
            #expect(outcome.failures.isEmpty, "seed \(outcome.options.seed) \(mode): \(outcome.failures)")
        }
    }

    @Test func sweepsWithLeaseReadsTransfersAndChangesOfVotersPass() async {
        let outcomes = await Sweep.run(seeds: 1...30) { seed in
            var options = SimulationOptions.sweep(seed: seed, mode: .stableLeader, nodes: 5, clients: 6, requestsPerClient: 16,
                                                  transfers: true, reconfigure: true)
            options.reads = .lease
            return options
        }
        for outcome in outcomes {
            #expect(outcome.failures.isEmpty, "seed \(outcome.options.seed): \(outcome.failures)")
        }
    }

    @Test func leaseReadsTakeNoRoundOfTheirOwn() async throws {
        func run(_ reads: ReadConsistency) async throws -> SimulationReport {
            let (report, _) = try await simulate { options in
                options.seed = 3
                options.reads = reads
                options.clients = 3
                options.requestsPerClient = 30
            }
            #expect(report.passed, "\(reads): \(report.failures)")
            return report
        }
        let lease = try await run(.lease), index = try await run(.readIndex)
        #expect(lease.commandsCommitted < lease.requestsCompleted, "gets take no slot")
        // Rounds renew the lease once per heartbeat, not once per read.
        let leaseRounds = lease.networkMessages[MessageKind.readConfirm.rawValue]
        let indexRounds = index.networkMessages[MessageKind.readConfirm.rawValue]
        #expect(leaseRounds > 0 && index.networkMessages[MessageKind.readIndexRequest.rawValue] > 0)
        let perSecondLease = Double(leaseRounds) / Double(lease.simulatedTime)
        #expect(perSecondLease <= 4 * 20 / 1_000_000 * 1.1, "four acceptors, twenty heartbeats a second: \(perSecondLease)")
        #expect(indexRounds > 0)
    }

    @Test func clocksDriftOnlyWithLeasesWithinTheActualBound() {
        var options = SimulationOptions()
        #expect(Simulation.drawClockDrift(options, leases: false).isEmpty)
        options.actualClockDrift = 0.6
        let drift = Simulation.drawClockDrift(options, leases: true)
        #expect(drift.count == options.universe && drift.allSatisfy { abs($0) <= 0.6 })
        #expect(drift.contains { abs($0) > 0.01 }, "beyond the configured bound")
        #expect(drift == Simulation.drawClockDrift(options, leases: true), "drawn from the seed")
    }
}
