import Testing
@testable import MultiPaxos

/// Seeded runs with every fault on, and proof that the checkers catch a broken protocol.
@Suite struct SimulationTestingTests {
    func sweep(_ seeds: ClosedRange<UInt64>, mode: Mode, nodes: Int = 5, flaws: Flaws = [],
               clients: Int = 4, requests: Int = 12, schedule: FaultSchedule? = nil) async -> [Sweep.Outcome] {
        await Sweep.run(seeds: seeds) { seed in
            var options = SimulationOptions.sweep(seed: seed, mode: mode, nodes: nodes, clients: clients,
                                                  requestsPerClient: requests, schedule: schedule)
            options.flaws = flaws
            return options
        }
    }

    @Test(arguments: Mode.allCases)
    func twoHundredSeedsWithAllFaultsPassEveryCheck(mode: Mode) async {
        let outcomes = await sweep(1...200, mode: mode)
        #expect(outcomes.count == 200)
        let failed = outcomes.filter { !$0.failures.isEmpty }
        #expect(failed.isEmpty, "\(failed.map { "seed \($0.options.seed): \($0.failures[0])" })")
        // The plans really contain faults.
        #expect(outcomes.contains { !$0.options.faults.nodeFaults.isEmpty })
        #expect(outcomes.contains { !$0.options.faults.windows.isEmpty })
        // Every schedule is drawn, and the plans leave work done (a crash storm may stop every client's node).
        #expect(Set(outcomes.compactMap(\.options.schedule)) == Set(FaultSchedule.allCases))
        #expect(outcomes.filter { $0.requestsCompleted == 0 }.count <= 2)
    }

    /// The first failure a sweep finds with `flaws`, or nil when every seed passed.
    func firstFailure(_ flaws: Flaws, mode: Mode = .stableLeader, seeds: ClosedRange<UInt64> = 1...60,
                      clients: Int = 4, requests: Int = 12, schedule: FaultSchedule? = nil) async -> [String]? {
        await sweep(seeds, mode: mode, flaws: flaws, clients: clients, requests: requests, schedule: schedule)
            .first { !$0.failures.isEmpty }?.failures
    }

    @Test func anAcceptorThatIgnoresItsPromiseIsCaught() async {
        let failures = await firstFailure(.acceptorIgnoresPromises)
        #expect(failures?.contains { $0.contains("below its promise") } == true, "\(failures ?? [])")
    }

    @Test func anAcceptorThatForgetsItsPromiseOnRestartIsCaught() async throws {
        var options = SimulationOptions()
        options.seed = 4
        options.requestsPerClient = 80
        options.placements = [NodeID(1), NodeID(3), NodeID(4)]
        // Node 2 crashes once it has promised and accepted, and comes back 0.1 s later.
        options.faults.nodeFaults = [.init(node: NodeID(2), kind: .crash(restartAfter: 100_000), at: 1_000_000)]
        let (honest, _) = try await simulate { $0 = options }
        #expect(honest.passed, "\(honest.failures)")
        options.flaws = .acceptorForgetsOnRestart
        let (broken, _) = try await simulate { $0 = options }
        #expect(broken.failures.contains { $0.contains("promise went back") }, "\(broken.failures)")
    }

    @Test func sendingBeforeTheStateIsDurableIsCaught() async {
        // Crash storms with the rule broken: a restarted acceptor has lost a promise it already sent.
        // Runs long enough that the crashes happen while clients are still busy.
        let failures = await firstFailure(.sendsBeforeSyncing, seeds: 1...40, requests: 80, schedule: .crashStorms)
        #expect(failures?.contains { $0.contains("durability") } == true, "\(failures ?? [])")
    }

    @Test(arguments: Mode.allCases)
    func aNodeWhoseDiskIsWipedRejoinsAsAFreshMemberBeforeItVotes(mode: Mode) async throws {
        var options = SimulationOptions()
        options.seed = 11
        options.mode = mode
        options.requestsPerClient = 30
        options.placements = [NodeID(0), NodeID(1), NodeID(3)]
        // Node 2 has voted by 0.5 s; then its disk is lost and it comes back 0.2 s later with nothing.
        options.faults.nodeFaults = [.init(node: NodeID(2), kind: .wipe(restartAfter: 200_000), at: 500_000)]
        let (honest, lines) = try await simulate { $0 = options }
        #expect(honest.passed, "\(honest.failures)")
        #expect(honest.diskCrashes.wipes == 1 && honest.rejoins == 1 && honest.learners.isEmpty)
        #expect(honest.requestsCompleted == 90)
        // In order: it joins as a learner, asks the log to rejoin, reads a quorum at the fence, then votes.
        // (That it sent no vote before, and holds every chosen value it had voted for, is checked as it goes.)
        let n2 = lines.filter { $0.contains(" n2 ") }
        var steps: [Int] = []
        for text in ["loses its disk", "restarts with an empty disk", "Initializer Join", "Request(c0#",
                     "Prepare(b=1:0.2", "rejoins as a voting member in epoch 1"] {
            let from = (steps.last ?? -1) + 1
            steps.append(try #require(n2[from...].firstIndex { $0.contains(text) }, "\(text) after line \(from)"))
        }
        let votes = n2.indices.filter { n2[$0].contains("Promise(") || n2[$0].contains("Accepted(") }
        #expect(votes.contains { $0 > steps.last! }, "it votes again once it has rejoined")
        #expect(!votes.contains { $0 > steps[0] && $0 < steps.last! })

        // Broken variants: rejoining as a new voting member at once, or without reading a quorum first.
        options.flaws = .amnesiacVotes
        let (votesAtOnce, _) = try await simulate { $0 = options }
        #expect(votesAtOnce.failures.contains { $0.contains("amnesia: n2 sent") }, "\(votesAtOnce.failures)")
        options.flaws = .rejoinsWithoutReading
        let (unread, _) = try await simulate { $0 = options }
        #expect(unread.failures.contains { $0.contains("amnesia: n2 rejoined having read {}") }, "\(unread.failures)")
    }

    @Test(arguments: Mode.allCases)
    func sweepsWithTwoDiskWipesEachPassEveryCheck(mode: Mode) async {
        // The leader's disk is lost mid-run, then another node's (possibly the same), under the seed's network
        // faults: both rejoin, and every check holds.
        let outcomes = await Sweep.run(seeds: 1...40) { seed in
            var options = SimulationOptions.sweep(seed: seed, mode: mode, nodes: 5, clients: 4, requestsPerClient: 12)
            options.faults.nodeFaults = [
                .init(node: nil, kind: .wipe(restartAfter: 300_000), at: 600_000),
                .init(node: NodeID(Int(seed % 5)), kind: .wipe(restartAfter: 200_000), at: 1_400_000),
            ]
            return options
        }
        var disks = DiskCrashTally()
        for outcome in outcomes {
            #expect(outcome.failures.isEmpty, "seed \(outcome.options.seed): \(outcome.failures)")
            disks += outcome.diskCrashes
        }
        #expect(disks.wipes >= 60 && disks.rejoins >= 60, "\(disks)")
    }

    @Test func aReplicaThatRunsARetryTwiceIsCaught() async {
        let failures = await firstFailure(.replicaReappliesRetries)
        #expect(failures?.contains { $0.contains("at-most-once") || $0.contains("exactly-once") } == true, "\(failures ?? [])")
    }

    @Test func staleLocalReadsAreCaughtByTheLinearizabilityCheck() async {
        // Replicas that answer reads from their own state, without ordering them, return stale values while
        // they lag; only the linearizability check can tell, since the shared keys have no scripted answers.
        let failures = await firstFailure(.replicaReadsLocally, seeds: 1...40, clients: 6, requests: 20)
        #expect(failures?.contains { $0.contains("linearizability") } == true, "\(failures ?? [])")
    }

    @Test func theLivenessPhaseFailsWhenAMajorityNeverComesBack() async throws {
        let (report, _) = try await simulate {
            $0.seed = 8
            $0.faults.healAt = 1_000_000
            $0.faults.livenessBound = 5_000_000
            $0.faults.nodeFaults = [1, 2, 3].map { .init(node: NodeID($0), kind: .crash(restartAfter: nil), at: 200_000) }
        }
        #expect(report.failures.contains { $0.contains("liveness") }, "\(report.failures)")
    }

    @Test func aRunsHistoryRoundTripsThroughTheFileFormatAndIsLinearizable() async throws {
        let (report, _) = try await simulate { $0 = .sweep(seed: 11, mode: .stableLeader, nodes: 3, clients: 3, requestsPerClient: 15) }
        #expect(report.passed, "\(report.failures)")
        let parsed = try History.parse(jsonLines: report.history.jsonLines())
        #expect(parsed == report.history)
        #expect(parsed.events.count >= 2 * report.requestsCompleted)
        #expect(Linearizability.check(parsed).isLinearizable)
    }

    @Test func aSeedChoosesTheSameFaultsEveryTime() {
        let a = SimulationOptions.sweep(seed: 99, mode: .perSlot, nodes: 5, clients: 4, requestsPerClient: 10)
        let b = SimulationOptions.sweep(seed: 99, mode: .perSlot, nodes: 5, clients: 4, requestsPerClient: 10)
        let c = SimulationOptions.sweep(seed: 100, mode: .perSlot, nodes: 5, clients: 4, requestsPerClient: 10)
        #expect(a.summary == b.summary)
        #expect(a.summary != c.summary)
    }

    @Test(arguments: [
        (["--seeds", "5..2"], "--seeds '5..2'"),
        (["--seeds", "x"], "--seeds 'x'"),
        (["--mode", "all"], "--mode 'all'"),
        (["--nodes", "99"], "--nodes '99'"),
        (["--frob"], "unknown simulate option '--frob'"),
        (["--seeds", "1..3", "--history", "h.jsonl"], "--history needs a single seed"),
        (["--schedule", "storms"], "--schedule 'storms' is not one of mixed, moving-partitions"),
    ])
    func badSimulateArgumentsNameTheBadValue(args: [String], fragment: String) {
        do {
            _ = try SimulateOptions.parse(args)
            Issue.record("\(args) was accepted")
        } catch {
            #expect(error.message.contains(fragment), "\(error.message)")
        }
    }

    @Test func simulateOptionsParse() throws {
        let parsed = try #require(try SimulateOptions.parse(["--seeds", "7..9", "--mode", "per-slot", "--nodes", "3", "--no-faults"]))
        #expect(parsed.seeds == 7...9 && parsed.modes == [.perSlot] && parsed.nodes == 3 && !parsed.faults)
        #expect(try SimulateOptions.parse(["--seeds", "4"])?.seeds == 4...4)
        #expect(parsed.reproduce(seed: 8, mode: .perSlot).contains("--seeds 8..8 --mode per-slot --nodes 3"))
        let storms = try #require(try SimulateOptions.parse(["--schedule", "crash-storms", "--seeds", "5"]))
        #expect(storms.options(seed: 5, mode: .stableLeader).schedule == .crashStorms)
        #expect(storms.reproduce(seed: 5, mode: .stableLeader).contains("--schedule crash-storms"))
    }
}

/// The liveness watch while a change of voters is decided but not yet in force.
@Suite struct ProgressWatchTests {
    @Test func whileAChangeIsDecidedItAsksForAMajorityOfTheOldVotersAndOfTheNew() throws {
        let old = VoterConfiguration(number: 0, from: .zero, voters: NodeSet([n(0), n(1), n(2)]))
        let new = VoterConfiguration(number: 1, from: Slot(33), voters: NodeSet([n(0), n(2)]))
        func stalls(up: [Int]) throws -> Bool {
            var watch = try #require(ProgressWatch(configurations: [old, new], bound: 1_000))
            let nodes = NodeSet(up.map(NodeID.init))
            let reaches = (0..<3).map { nodes.contains(n($0)) ? nodes : NodeSet() }
            _ = watch.observe(now: 0, up: nodes, reaches: reaches, waiting: nodes, completed: false)
            return watch.observe(now: 2_000, up: nodes, reaches: reaches, waiting: nodes, completed: false) != nil
        }
        // n1 and n2 are a majority of the old voters only: slots from 33 on need n0, so no stall is owed.
        #expect(try !stalls(up: [1, 2]))
        #expect(try stalls(up: [0, 2]))
        #expect(try stalls(up: [0, 1, 2]))
        // With the old voters alone, n1 and n2 would owe progress.
        var alone = try #require(ProgressWatch(configurations: [old], bound: 1_000))
        let up = NodeSet([n(1), n(2)])
        _ = alone.observe(now: 0, up: up, reaches: [NodeSet(), up, up], waiting: up, completed: false)
        #expect(alone.observe(now: 2_000, up: up, reaches: [NodeSet(), up, up], waiting: up, completed: false) != nil)
    }
}
