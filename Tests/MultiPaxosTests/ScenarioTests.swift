import Testing
@testable import MultiPaxos

/// Whole clusters in the simulator, both modes.
@Suite struct ScenarioTests {
    @Test(arguments: [UInt64(1), 2, 3])
    func bothModesCommitTheSameCommandsWithoutLoss(seed: UInt64) async throws {
        var outcomes: [SimulationReport] = []
        for mode in Mode.allCases {
            let (report, _) = try await simulate {
                $0.seed = seed; $0.mode = mode; $0.dropRate = 0; $0.requestsPerClient = 25
            }
            #expect(report.passed, "\(mode): \(report.failures)")
            #expect(report.replicasAgree)
            outcomes.append(report)
        }
        let (stable, perSlot) = (outcomes[0], outcomes[1])
        #expect(stable.commandsCommitted == 100 && perSlot.commandsCommitted == 100)
        // Each client's own keys end the same; the shared journal holds the same appends, perhaps in another order.
        var a = stable.finalState, b = perSlot.finalState
        let journalA = a.removeValue(forKey: Workload.sharedKey)?.text?.split(separator: ";").sorted()
        let journalB = b.removeValue(forKey: Workload.sharedKey)?.text?.split(separator: ";").sorted()
        #expect(a == b)
        #expect(journalA == journalB)
    }

    @Test func stableLeaderRunsPhase1OncePerBallotPerSlotRunsItPerSlot() async throws {
        var rounds: [Int] = []
        for requests in [25, 250] {  // 100 and 1,000 commands from 4 clients
            let (report, _) = try await simulate { $0.seed = 5; $0.dropRate = 0; $0.requestsPerClient = requests }
            #expect(report.passed, "\(report.failures)")
            #expect(report.commandsCommitted == 4 * requests)
            rounds.append(report.phase1Rounds)
        }
        #expect(rounds[0] == rounds[1])
        #expect(rounds[0] <= 2)
        let (perSlot, _) = try await simulate { $0.seed = 5; $0.dropRate = 0; $0.requestsPerClient = 25; $0.mode = .perSlot }
        #expect(perSlot.passed)
        #expect(perSlot.phase1Rounds >= perSlot.slotsDecided)
    }

    @Test(arguments: Mode.allCases)
    func theLeadersNodeCrashesAndEveryRequestStillCompletesExactlyOnce(mode: Mode) async throws {
        for seed in UInt64(10)..<UInt64(16) {
            let (report, lines) = try await simulate {
                $0.seed = seed; $0.mode = mode; $0.dropRate = 0.05; $0.requestsPerClient = 30
                $0.crashLeaderAt = 300_000
            }
            #expect(report.passed, "seed \(seed) \(mode): \(report.failures)")
            #expect(report.crashedNodes.count == 1)
            #expect(report.requestsCompleted == report.requestsExpected)
            #expect(report.leaderChanges >= 2, "a new leader took over")
            // After the crash a different node leads.
            let crashed = report.crashedNodes[0]
            let afterCrash = lines.drop { !$0.contains("crashes") }
            #expect(afterCrash.contains { $0.contains("leads with ballot") && !$0.contains(" \(crashed) ") })
        }
    }

    @Test(arguments: Mode.allCases)
    func aFollowerThatMissedDecisionsCatchesUp(mode: Mode) async throws {
        // Node 2 hears nothing from 0.1 s to 1.5 s while clients elsewhere keep the log moving.
        let (report, lines) = try await simulate {
            $0.seed = 21; $0.mode = mode; $0.dropRate = 0; $0.requestsPerClient = 60
            $0.placements = [n(1), n(3), n(4)]
            $0.isolations = [Isolation(node: n(2), start: 100_000, end: 1_500_000)]
        }
        #expect(report.passed, "\(report.failures)")
        #expect(report.replicasAgree)
        let n2 = lines.filter { $0.contains(" n2  Replica ") }
        #expect(n2.contains { $0.contains("CatchUpRequest") }, "node 2 asked a peer for what it missed")
        #expect(n2.contains { $0.contains("applies") || $0.contains("installs a snapshot") })
    }

    @Test func theSameSeedGivesTheSameTraceAndAnotherSeedAnother() async throws {
        let configure: (UInt64) -> (inout SimulationOptions) -> Void = { seed in { $0.seed = seed; $0.crashLeaderAt = 200_000 } }
        let (_, first) = try await simulate(configure(77))
        let (_, again) = try await simulate(configure(77))
        let (_, other) = try await simulate(configure(78))
        #expect(first == again)
        #expect(first != other)
    }

    @Test func aThreeNodeClusterCommits() async throws {
        let (report, _) = try await simulate { $0.seed = 3; $0.nodes = 3; $0.clients = 3 }
        #expect(report.passed, "\(report.failures)")
        #expect(report.commandsCommitted == 30)
    }

    @Test func heavyLossAndDuplicationStillConverge() async throws {
        for mode in Mode.allCases {
            let (report, _) = try await simulate {
                $0.seed = 9; $0.mode = mode; $0.dropRate = 0.3; $0.duplicateRate = 0.1; $0.clients = 6
            }
            #expect(report.passed, "\(mode): \(report.failures)")
        }
    }
}
