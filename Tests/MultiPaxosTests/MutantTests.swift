import Foundation
import Testing
@testable import MultiPaxos

/// Every bug of the mutant catalogue is caught by its sweep, in every mode where it is unsafe: the checks can
/// tell a broken protocol from a working one. (`multipaxos mutants --seeds 1..200` runs the full sweeps.)
@Suite struct MutantTests {
    /// Each mutant is caught, by the check Docs/Simulation.md's table names for it; and the same run without the
    /// flaw passes, so what the check caught is the flaw, not a false alarm of those settings.
    @Test func everyPlantedBugIsCaughtWithinItsCISeedsByItsCheckAndTheHonestRunPasses() async throws {
        let documented = try Self.documentedChecks()
        var results: [MutantResult] = []
        for mutant in Mutant.catalogue {
            for mode in mutant.modes {
                results.append(await Mutants.run(mutant, mode: mode, seeds: 1...mutant.ciSeeds, stopAtFirstCatch: true))
            }
        }
        let missed = results.filter { !$0.caught }.map { "\($0.mutant.name) (\($0.mode.rawValue))" }
        #expect(missed.isEmpty, "not caught: \(missed)\n\(Mutants.table(results).joined(separator: "\n"))")
        #expect(results.count == Mutant.catalogue.reduce(0) { $0 + $1.modes.count })
        for result in results where result.caught {
            let name = "\(result.mutant.name) (\(result.mode.rawValue))"
            #expect(result.check == documented[name], "\(name) was caught by \(result.check ?? "nothing"), the table says \(documented[name] ?? "nothing") (re-run `multipaxos mutants --seeds 1..200` and update Docs/Simulation.md): \(result.failure ?? "")")
            let seed = result.catching[0]
            let honest = await Sweep.run(seeds: seed...seed) { seed in
                var options = result.mutant.options(seed: seed, mode: result.mode)
                options.flaws = []
                return options
            }
            #expect(honest.first?.failures.isEmpty == true, "\(name) without its flaw, seed \(seed): \(honest.first?.failures ?? [])")
        }
    }

    /// The check of each mutant and mode in Docs/Simulation.md's table (`mutant (mode)` to check).
    static func documentedChecks(testFile: String = #filePath) throws -> [String: String] {
        let doc = try String(contentsOf: URL(fileURLWithPath: testFile).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Docs/Simulation.md"), encoding: .utf8)
        var checks: [String: String] = [:]
        let table = try #require(doc.range(of: "| mutant ")).lowerBound
        for line in doc[table...].split(separator: "\n") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard line.hasPrefix("|"), cells.count == 6, Mutant.catalogue.contains(where: { $0.name == cells[0] }) else { continue }
            checks["\(cells[0]) (\(cells[1]))"] = cells[5]
        }
        return checks
    }

    /// The sweep that catches Promises past the frame limit passes without the flaw: what it catches is the flaw.
    @Test func theLargeStateSweepPassesWithoutTheFlaw() async {
        let mutant = Mutant.catalogue.first { $0.name == "promise-ignores-size-bound" }!
        let outcomes = await Sweep.run(seeds: 1...mutant.ciSeeds) { seed in
            var options = mutant.options(seed: seed, mode: .stableLeader)
            options.flaws = []
            return options
        }
        let failed = outcomes.filter { !$0.failures.isEmpty }.map { "seed \($0.options.seed): \($0.failures[0])" }
        #expect(failed.isEmpty, "\(failed)")
    }

    @Test func theCatalogueHoldsEveryBugTheIssueNamesAndEachFlawOnce() {
        let names = Set(Mutant.catalogue.map(\.name))
        for required in ["scout-adopts-lowest-ballot", "scout-counts-duplicate-promises", "acceptor-acks-below-trim",
                         "rejoin-fence-reads-one-fewer", "trims-at-highest-applied", "trims-on-undurable-progress",
                         "small-phase-1-quorum", "small-phase-2-quorum", "acceptor-ignores-promises",
                         "leader-skips-redrive", "replica-skips-holes", "snapshot-without-reply-cache",
                         "commander-counts-duplicates", "per-slot-skips-phase-1", "sends-before-syncing"] {
            #expect(names.contains(required), "\(required)")
        }
        #expect(names.count == Mutant.catalogue.count)
        #expect(Set(Mutant.catalogue.map(\.flaws.rawValue)).count == Mutant.catalogue.count)
    }

    @Test func theTableNamesTheCheckThatCaughtEachMutant() {
        let mutant = Mutant.catalogue[0]
        let table = Mutants.table([
            MutantResult(mutant: mutant, mode: .perSlot, seedsRun: 9, catching: [4, 7], check: "chosen", failure: "chosen: …"),
            MutantResult(mutant: mutant, mode: .stableLeader, seedsRun: 9, catching: [], check: nil, failure: nil),
        ])
        #expect(table.count == 4)
        #expect(table[2].contains(mutant.name) && table[2].contains("| 2 ") && table[2].contains("| 9 ") && table[2].contains("| 4 ")
                && table[2].contains("chosen"))
        #expect(table[3].contains("NOT CAUGHT"))
        #expect(Mutants.checkName("replicas differ: n1 at s3") == "convergence")
        #expect(Mutants.checkName("agreement: s3 decided as a and as b") == "agreement")
    }

    @Test func mutantsArgumentsParseAndNameTheBadValue() throws {
        let parsed = try #require(try MutantsOptions.parse(["--seeds", "3..9", "--mode", "per-slot", "--only",
                                                            "small-phase-2-quorum,replica-skips-holes"]))
        #expect(parsed.seeds == 3...9 && parsed.modes == [.perSlot])
        #expect(parsed.mutants.map(\.name) == ["small-phase-2-quorum", "replica-skips-holes"])
        #expect(try MutantsOptions.parse(["--help"]) == nil)
        for (args, fragment) in [(["--only", "nope"], "no mutant named 'nope'"), (["--seeds", "9..3"], "--seeds '9..3'"),
                                 (["--mode", "x"], "--mode 'x'"), (["--frob"], "unknown mutants option '--frob'")] {
            #expect(throws: OptionsError.self) { try MutantsOptions.parse(args) }
            do { _ = try MutantsOptions.parse(args) } catch { #expect(error.message.contains(fragment), "\(error.message)") }
        }
    }
}
