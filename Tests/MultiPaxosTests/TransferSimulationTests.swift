import Testing
@testable import MultiPaxos

/// Leadership transfers in the simulation: drawn into every seed's faults (under loss, partitions, crashes), every
/// check holds; a transfer that skips Phase 1 while the old leader assigns on is caught.
@Suite struct TransferSimulationTests {
    @Test(arguments: Mode.allCases)
    func sixtySeedsWithTransfersDrawnInPassEveryCheck(mode: Mode) async {
        let outcomes = await Sweep.run(seeds: 1...60) { seed in
            SimulationOptions.sweep(seed: seed, mode: mode, nodes: 5, clients: 4, requestsPerClient: 12, transfers: true)
        }
        let failed = outcomes.filter { !$0.failures.isEmpty }
        #expect(failed.isEmpty, "\(failed.map { "seed \($0.options.seed): \($0.failures[0])" })")
        // The transfers really happened: most were handed over, some were abandoned (a target cut off or down).
        let started = outcomes.reduce(0) { $0 + $1.transfers.started }
        let handedOver = outcomes.reduce(0) { $0 + $1.transfers.handedOver }
        let abandoned = outcomes.reduce(0) { $0 + $1.transfers.abandoned }
        #expect(started >= 60 && handedOver >= started / 2 && abandoned > 0, "\(started) \(handedOver) \(abandoned)")
        #expect(outcomes.filter { $0.requestsCompleted == 0 }.count <= 2)
    }

    @Test func transfersAreDrawnApartFromTheSeedsOtherFaults() {
        let plain = SimulationOptions.sweep(seed: 7, mode: .stableLeader, nodes: 5, clients: 4, requestsPerClient: 12)
        let with = SimulationOptions.sweep(seed: 7, mode: .stableLeader, nodes: 5, clients: 4, requestsPerClient: 12,
                                           transfers: true)
        let transfers = with.faults.nodeFaults.filter { if case .transfer = $0.kind { true } else { false } }
        #expect((1...3).contains(transfers.count))
        #expect(transfers.allSatisfy { $0.node == nil && (300_000..<with.faults.healAt).contains($0.at) })
        #expect(with.faults.nodeFaults.count == plain.faults.nodeFaults.count + transfers.count)
        #expect(with.faults.windows.count == plain.faults.windows.count && with.dropRate == plain.dropRate
                && with.schedule == plain.schedule)
        #expect(with.summary.contains("ask the leader to hand leadership to n"))
    }

    @Test func aTransferDemoShowsTheHandOverInTheTrace() async throws {
        let (report, trace) = try await simulate {
            $0.seed = 42
            $0.faults.nodeFaults = [.init(node: nil, kind: .transfer(to: NodeID(3)), at: 1_000_000)]
        }
        #expect(report.passed, "\(report.failures)")
        #expect(report.transfers.started == 1 && report.transfers.handedOver == 1 && report.transfers.abandoned == 0)
        let lines = trace.filter { $0.contains("hand") || $0.contains("TimeoutNow") || $0.contains("leads with") }
        #expect(lines.contains { $0.contains("Bus") && $0.contains("is asked to hand leadership to n3") })
        #expect(lines.contains { $0.contains("pauses ballot") && $0.contains("to hand leadership to n3") })
        #expect(lines.contains { $0.contains("TimeoutNow(above b=") && $0.contains("→ n3") })
        #expect(lines.contains { $0.contains(" n3 ") && $0.contains("competes at once") })
        // n3 leads last (nothing else disturbs the run after the transfer).
        #expect(lines.last { $0.contains("leads with") }?.contains(" n3 ") == true, "\(lines)")
    }

    @Test func aTransferWhoseTargetSkipsPhase1WhileTheOldLeaderAssignsOnIsCaught() async {
        let mutant = Mutant.catalogue.first { $0.name == "transfer-without-phase-1" }
        #expect(mutant?.modes == [.stableLeader])
        guard let mutant else { return }
        let outcomes = await Sweep.run(seeds: 1...30) { mutant.options(seed: $0, mode: .stableLeader) }
        let failures = outcomes.flatMap(\.failures)
        // Its Phase-1 check catches the takeover at once; and two values end up chosen for one slot: the target
        // overwrote a slot the old leader had got chosen.
        #expect(failures.contains { $0.hasPrefix("phase 1:") && $0.contains("which only") }, "\(failures.prefix(3))")
        #expect(failures.contains { $0.hasPrefix("chosen:") && $0.contains("was decided") }, "\(failures.prefix(3))")
        // The same seeds pass with the transfer done right.
        let honest = await Sweep.run(seeds: 1...10) { seed in
            SimulationOptions.sweep(seed: seed, mode: .stableLeader, nodes: 5, clients: 4, requestsPerClient: 40, transfers: true)
        }
        #expect(honest.allSatisfy { $0.failures.isEmpty }, "\(honest.flatMap(\.failures).prefix(3))")
    }

    @Test func theDemoTakesATransferAndNamesABadOne() throws {
        let parsed = try CommandLineOptions.parse(["42", "--transfer-at", "0.5", "--transfer-to", "n3", "--crash-leader-at", "1"])
        guard case .transfer(to: NodeID(3))? = parsed.options.faults.nodeFaults.first?.kind else {
            Issue.record("no transfer in \(parsed.options.faults.nodeFaults)")
            return
        }
        #expect(parsed.options.faults.nodeFaults.first?.at == 500_000 && parsed.options.faults.nodeFaults.first?.node == nil)
        #expect(try CommandLineOptions.parse(["1", "--transfer-at=1", "--transfer-to=2"]).options.faults.nodeFaults.count == 1)
        for (args, message) in [
            (["1", "--transfer-at", "1"], "--transfer-at needs --transfer-to N: the node to hand leadership to"),
            (["1", "--transfer-to", "2"], "--transfer-to needs --transfer-at T: when to ask the leader"),
            (["1", "--transfer-at", "1", "--transfer-to", "n5"], "--transfer-to 'n5' is not a node of the 5-node cluster (0...4, or n0...n4)"),
            (["1", "--nodes", "3", "--transfer-at", "1", "--transfer-to", "x"], "--transfer-to 'x' is not a node of the 3-node cluster (0...2, or n0...n2)"),
            (["1", "--transfer-at", "-1", "--transfer-to", "1"], "--transfer-at '-1'"),
        ] {
            do {
                _ = try CommandLineOptions.parse(args)
                Issue.record("\(args) was accepted")
            } catch {
                #expect(error.message.hasPrefix(message), "\(error.message)")
            }
        }
        let simulate = try #require(try SimulateOptions.parse(["--seeds", "3", "--transfers"]))
        #expect(simulate.transfers && simulate.reproduce(seed: 3, mode: .perSlot).contains(" --transfers"))
        #expect(simulate.options(seed: 3, mode: .perSlot).faults.nodeFaults.contains { if case .transfer = $0.kind { true } else { false } })
    }
}
