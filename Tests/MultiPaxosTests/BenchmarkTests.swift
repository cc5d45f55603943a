import Foundation
import Testing
@testable import MultiPaxos

@Suite struct BenchmarkTests {
    @Test func stableLeaderSendsFewerMessagesAndRunsPhase1Once() async throws {
        let scenario = try #require(Benchmark.allScenarios.first { $0.name == "n3-c1-on-leader" })
        let stable = await Benchmark.run(scenario, mode: .stableLeader, commands: 300, seed: 2)
        let perSlot = await Benchmark.run(scenario, mode: .perSlot, commands: 300, seed: 2)
        #expect(stable.passed && perSlot.passed)
        #expect(stable.commands == 300 && perSlot.commands == 300)
        #expect(stable.phase1Rounds == 1)
        #expect(perSlot.phase1Rounds >= 300)
        #expect(stable.networkMessagesPerCommand < perSlot.networkMessagesPerCommand)
        #expect(stable.latencyMedianMilliseconds < perSlot.latencyMedianMilliseconds)
        #expect(perSlot.networkMessagesPerCommandByKind[MessageKind.prepare.rawValue] >= 2)
        #expect(stable.networkMessagesPerCommandByKind[MessageKind.prepare.rawValue] < 0.1)
    }

    @Test func theContentionScenarioFinishesInBothModes() async throws {
        let scenario = try #require(Benchmark.allScenarios.first { $0.name == "n5-c16-two-proposers" })
        for mode in Mode.allCases {
            let result = await Benchmark.run(scenario, mode: mode, commands: 320, seed: 3)
            #expect(result.passed, "\(mode)")
            #expect(result.commands == 320)
        }
    }

    @Test func outputsAreWellFormed() async throws {
        let scenario = try #require(Benchmark.allScenarios.first { $0.name == "n3-c16-lossless" })
        let results = [await Benchmark.run(scenario, mode: .stableLeader, commands: 160, seed: 1),
                       await Benchmark.run(scenario, mode: .perSlot, commands: 160, seed: 1)]
        let json = try JSONSerialization.jsonObject(with: Data(BenchmarkReport.json(results).utf8)) as? [[String: Any]]
        #expect(json?.count == 2)
        #expect(json?.first?["mode"] as? String == "stable-leader")
        let rows = BenchmarkReport.csv(results).split(separator: "\n")
        #expect(rows.count == 3)
        #expect(Set(rows.map { $0.split(separator: ",", omittingEmptySubsequences: false).count }).count == 1)
        let table = BenchmarkReport.table(results)
        #expect(table.contains("stable/per-slot: messages ×"))
        let svg = BenchmarkReport.svg(results)
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
        #expect(svg.contains("<rect"))
    }
}
