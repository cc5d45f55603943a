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

/// A lease is safe only while clocks drift within the bound the configuration states. Here the first leader's
/// clock runs 95% slow and the others' 50% fast (the bound says 1%): cut off, the leader goes on answering
/// its clients' reads of a register from its lease after the others' grants lapsed and a new leader committed
/// writes to it, and the linearizability check catches the stale reads. The same runs within the bound pass.
@Suite struct LeaseDriftTests {
    func run(seed: UInt64, drifts: [Double]) async throws -> SimulationReport {
        let count = 150
        func script(_ client: Int, on node: Int, count: Int = count, startAt: Microseconds,
                    _ operation: (Int) -> KeyValueOperation) -> ClientScript {
            var script = ClientScript(client: ClientID(UInt64(client)), node: NodeID(node),
                                      operations: (0..<count).map(operation), expected: Array(repeating: nil, count: count),
                                      sharedTokens: Array(repeating: nil, count: count))
            script.startAt = startAt
            return script
        }
        // Two writers give the first leader (n0) a few slots to apply before it is cut off at 0.6 s, with nothing
        // left in flight; four more write once the others elect a successor. Readers of the register on n0 start
        // one by one, 20 ms apart, around the moment the successor commits: a lease n0 still holds by its slow
        // clock answers them at once from its stale copy.
        let readers = (1...8).map { c in script(c, on: 0, startAt: 760_000 + Microseconds(c) * 20_000) { _ in .get("register") } }
        let writers = (9...12).map { c in script(c, on: 1 + c % 2, startAt: 800_000) { .put("register", "c\(c).\($0)") } }
        let early = (13...14).map { c in script(c, on: 1 + c % 2, count: 5, startAt: 200_000) { .put("register", "e\(c).\($0)") } }
        let (report, _) = try await simulate { options in
            options.seed = seed
            options.nodes = 3
            options.reads = .lease
            options.dropRate = 0
            options.clockDrifts = drifts
            options.actualClockDrift = drifts.map(abs).max()
            options.scripts = readers + writers + early
            options.faults.windows = [.init(cut: .isolateLeader, start: 600_000, end: 2_000_000)]
        }
        return report
    }

    @Test func aDriftBeyondTheBoundIsCaughtAndOneWithinItIsNot() async throws {
        var caught: [UInt64] = []
        for seed in UInt64(1)...4 {
            let beyond = try await run(seed: seed, drifts: [0.95, -0.5, -0.5])
            if beyond.failures.contains(where: { $0.hasPrefix("linearizability") }) { caught.append(seed) }
            let within = try await run(seed: seed, drifts: [0.01, -0.01, -0.01])
            #expect(within.failures.isEmpty, "seed \(seed) within the bound: \(within.failures)")
        }
        #expect(!caught.isEmpty, "no seed of 1...4 caught a lease that outlived its grants")
    }
}
