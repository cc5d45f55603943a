import Testing
@testable import MultiPaxos

/// Runs with crashes and lost disks: a run lasts until its scheduled restarts are done, and what a restarted
/// node sends is judged against what it really depends on.
@Suite struct RestartTests {
    @Test(arguments: Mode.allCases)
    func twoNodeRunsWaitForTheirScheduledRestarts(mode: Mode) async {
        // These seeds crash both nodes of a 2-node cluster; the run used to end before either restart, with no
        // replica left to compare ("replicas differ: no replica").
        let seeds: [UInt64] = [122, 131, 157, 171, 184, 216]
        for seed in seeds {
            let options = SimulationOptions.sweep(seed: seed, mode: mode, nodes: 2, clients: 4, requestsPerClient: 20)
            let report = await (try? Simulation(options: options))!.run()
            #expect(report.failures.isEmpty, "seed \(seed): \(report.failures)")
            #expect(report.replicasAgree == true, "seed \(seed)")
            // The scenario the seeds were chosen for still happens: both nodes crash (and restart).
            #expect(report.diskCrashes.crashes >= 2, "seed \(seed): \(report.diskCrashes)")
        }
    }

    @Test func aWipedDiskAlwaysReachesItsRestartAndRejoins() async throws {
        // The clients are done long before node 2 comes back; the run still waits for it to rejoin.
        let (report, lines) = try await simulate {
            $0.seed = 3
            $0.requestsPerClient = 5
            $0.placements = [n(0), n(1)]
            $0.faults.nodeFaults = [.init(node: n(2), kind: .wipe(restartAfter: 5_000_000), at: 300_000)]
        }
        #expect(report.failures.isEmpty, "\(report.failures)")
        #expect(report.diskCrashes.wipes == 1 && report.rejoins == 1, "\(report.diskCrashes)")
        #expect(lines.contains { $0.contains(" n2 ") && $0.contains("restarts with an empty disk") })
    }

    @Test(arguments: Mode.allCases)
    func aWipedContenderRejoinsThoughTheFirstMemberIsDown(mode: Mode) async throws {
        // Node 0 stops for good; node 3, a contender (its leader never defers), loses its disk. As a learner it
        // has no Leader of its own: its rejoin must reach a live member's Leader (it used to go to node 0, the
        // first other member, forever).
        let (report, _) = try await simulate {
            $0.seed = 5
            $0.mode = mode
            $0.requestsPerClient = 15
            $0.placements = [n(1), n(2), n(4)]
            $0.contenders = [n(3), n(4)]
            $0.faults.nodeFaults = [
                .init(node: n(0), kind: .crash(restartAfter: nil), at: 400_000),
                .init(node: n(3), kind: .wipe(restartAfter: 200_000), at: 800_000),
            ]
        }
        #expect(report.failures.isEmpty, "\(report.failures)")
        #expect(report.rejoins == 1 && report.learners.isEmpty)
    }
}
