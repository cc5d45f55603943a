import Foundation
import Testing
@testable import MultiPaxos

/// What every command's parser shares: `--flag=value`, options given twice, the list of commands and the
/// nearest one to a typo, output paths checked before work, and the parsers of bench, fuzz and the writers.
@Suite struct CommandLineParsingTests {
    /// The message of the error `parse` throws, or nil when it accepts.
    func refusal<T>(_ parse: () throws -> T) -> String? {
        do {
            _ = try parse()
            return nil
        } catch let error as OptionsError {
            #expect(!error.message.contains("\n"))
            return error.message
        } catch {
            Issue.record("not an OptionsError: \(error)")
            return "\(error)"
        }
    }

    @Test func optionsTakeAttachedValuesAndAreRefusedTwice() throws {
        let parsed = try CommandLineOptions.parse(["7", "--nodes=3", "--drop=0.2", "--mode=per-slot", "--history=h.jsonl"])
        #expect(parsed.options.nodes == 3 && parsed.options.dropRate == 0.2 && parsed.options.mode == .perSlot)
        #expect(parsed.historyPath == "h.jsonl")
        #expect(refusal { try CommandLineOptions.parse(["7", "--nodes", "3", "--nodes=4"]) } == "--nodes is given twice (give each option once)")
        #expect(refusal { try CommandLineOptions.parse(["7", "-q", "--quiet"]) } == "--quiet is given twice (give each option once)")
        #expect(refusal { try CommandLineOptions.parse(["7", "--quiet=yes"]) } == "--quiet takes no value (got '--quiet=yes')")
        #expect(refusal { try SimulateOptions.parse(["--seeds=1..3", "--seeds", "4"]) } == "--seeds is given twice (give each option once)")
        #expect(try SimulateOptions.parse(["--seeds=1..3"])?.seeds == 1...3)
        #expect(try ServeOptions.parse(["--id=0", "--peers=127.0.0.1:1", "--client=127.0.0.1:2", "--in-memory"])?
            .configuration.id == NodeID(0))
        #expect(try BenchOptions.parse(["--commands=5"])?.commands == 5)
        #expect(try CheckHistoryOptions.parse(["--timeout=2", "h"])?.timeoutSeconds == 2)
        // An empty attached value is a value, and is judged as one.
        #expect(refusal { try CommandLineOptions.parse(["7", "--nodes="]) } == "--nodes '' is not an integer in 1...64")
    }

    @Test func readsChooseTheReadPathEverywhere() throws {
        #expect(try CommandLineOptions.parse(["7"]).options.reads == .log)
        #expect(try CommandLineOptions.parse(["7", "--reads", "read-index"]).options.reads == .readIndex)
        let sweep = try #require(try SimulateOptions.parse(["--reads=read-index", "--seeds", "4"]))
        #expect(sweep.options(seed: 4, mode: .perSlot).reads == .readIndex)
        #expect(sweep.reproduce(seed: 4, mode: .perSlot).contains("--reads read-index"))
        #expect(try SimulateOptions.parse([])?.options(seed: 1, mode: .stableLeader).reads == .log)
        #expect(try SimulateOptions.parse([])?.reproduce(seed: 1, mode: .stableLeader).contains("--reads") == false)
        #expect(refusal { try CommandLineOptions.parse(["7", "--reads", "Lease"]) } == "--reads 'Lease' is not log, read-index or lease")
        #expect(refusal { try SimulateOptions.parse(["--reads", "Log"]) } == "--reads 'Log' is not log, read-index or lease")
        #expect(refusal { try ServeOptions.parse(["--reads", ""]) } == "--reads '' is not log, read-index or lease")
        // Leases: the bound the cluster states, and (simulations only) how far clocks actually drift.
        let demo = try CommandLineOptions.parse(["7", "--reads", "lease", "--clock-drift", "0.02", "--actual-clock-drift", "0.3"])
        #expect(demo.options.reads == .lease && demo.options.maxClockDrift == 0.02 && demo.options.actualClockDrift == 0.3)
        let leased = try #require(try SimulateOptions.parse(["--reads", "lease", "--actual-clock-drift", "0.6", "--seeds", "2"]))
        #expect(leased.options(seed: 2, mode: .stableLeader).actualClockDrift == 0.6)
        #expect(leased.reproduce(seed: 2, mode: .stableLeader).contains("--reads lease --actual-clock-drift 0.6"))
        var bad = SimulationOptions()
        bad.reads = .lease
        bad.maxClockDrift = 0.5
        #expect(throws: OptionsError("lease: maxClockDrift 0.5 is not in 0..<0.5")) { try bad.validate() }
        let mutants = try #require(try MutantsOptions.parse(["--clients", "12", "--only", "replica-answers-before-applied"]))
        #expect(mutants.mutants.map(\.clients) == [12] && mutants.mutants[0].reads == .readIndex)
        #expect(mutants.mutants[0].options(seed: 1, mode: .stableLeader).clientPlacements.count == 12)
        let read = try #require(try BenchOptions.parse(["--scenarios", "n3-c16-reads90-read-index"])).scenarios
        #expect(read.map(\.reads) == [.readIndex] && read[0].options(mode: .stableLeader, commands: 100, seed: 1).reads == .readIndex)
    }

    @Test func crashAndWipeOfTheLeaderExcludeEachOther() {
        #expect(refusal { try CommandLineOptions.parse(["1", "--crash-leader-at", "1", "--wipe-leader-at", "2"] ) }?
            .contains("--crash-leader-at and --wipe-leader-at exclude each other") == true)
    }

    @Test func aMistypedCommandSuggestsTheNearest() {
        #expect(Subcommand.nearest(to: "simualte") == .simulate)
        #expect(Subcommand.nearest(to: "bnech") == .bench)
        #expect(Subcommand.nearest(to: "check-histroy") == .checkHistory)
        #expect(Subcommand.nearest(to: "hlep") == .help)
        #expect(Subcommand.nearest(to: "Serve") == .serve)
        #expect(Subcommand.nearest(to: "keyge") == .keygen)
        #expect(Subcommand.nearest(to: "check") == .checkHistory)  // the only command it begins
        #expect(Subcommand.nearest(to: "clu") == nil)  // cluster or cluster-writer
        #expect(Subcommand.nearest(to: "banana") == nil)
        #expect(Subcommand.nearest(to: "simulate") == nil)  // a command needs no suggestion
        #expect(refusal { try CommandLineOptions.parse(["simualte"]) } == "unknown command 'simualte'; did you mean 'simulate'?")
        #expect(refusal { try CommandLineOptions.parse(["banana"]) }?.hasPrefix("'banana' is not a command, nor a seed") == true)
        #expect(refusal { try CommandLineOptions.parse(["abc"]) }?.contains("log-writer, cluster-writer, help, version") == true)
        #expect(Subcommand.editDistance("simualte", "simulate") == 1 && Subcommand.editDistance("", "abc") == 3)
    }

    @Test func theUsageListsEveryCommandAndTheExitRule() throws {
        for command in Subcommand.allCases {
            #expect(CommandLineOptions.usage.contains("multipaxos \(command.synopsis)"), "\(command)")
        }
        for usage in [CommandLineOptions.usage, SimulateOptions.usage, BenchOptions.usage, FuzzOptions.usage,
                      LogWriterOptions.usage, ClusterWriterOptions.usage, ServeOptions.usage, ClusterOptions.usage,
                      LoadOptions.usage] {
            #expect(usage.contains(ExitStatus.rule))
        }
        #expect(SimulateOptions.usage.contains("default 1..100"))
        #expect(try CommandLineOptions.parse(["--version"]).version)
    }

    @Test func simulateRefusesAbsurdRangesAndDefaultsToAHundredSeeds() throws {
        #expect(try SimulateOptions.parse([])?.seeds == 1...100)
        #expect(try SimulateOptions.parse(["--seeds", "0..9999999"])?.seeds == 0...9_999_999)
        #expect(refusal { try SimulateOptions.parse(["--seeds", "1..18446744073709551615"]) }
                == "--seeds '1..18446744073709551615' spans more than 10000000 seeds: run a smaller range")
        #expect(refusal { try SimulateOptions.parse(["--seeds", "0..18446744073709551615", "--history", "h"]) } != nil)
    }

    @Test func benchScenariosMustBeNamedOnceEach() throws {
        let names = Benchmark.allScenarios.map(\.name)
        let two = try #require(try BenchOptions.parse(["--scenarios", "\(names[1]),\(names[0])", "--seed", "9"]))
        #expect(two.scenarios.map(\.name) == [names[1], names[0]] && two.seed == 9 && two.commandsPerRun == 20_000)
        #expect(try BenchOptions.parse(["--quick"])?.scenarios.map(\.name) == Benchmark.quickScenarios.map(\.name))
        #expect(try BenchOptions.parse(["--help"]) == nil)
        #expect(refusal { try BenchOptions.parse(["--scenarios", ""]) } == "--scenarios '' has an empty name (give names separated by commas)")
        #expect(refusal { try BenchOptions.parse(["--scenarios", "\(names[0]),"]) }?.contains("has an empty name") == true)
        #expect(refusal { try BenchOptions.parse(["--scenarios", "\(names[0]),\(names[0])"]) } == "--scenarios names '\(names[0])' twice")
        #expect(refusal { try BenchOptions.parse(["--scenarios", "nope"]) }?.contains("unknown scenario 'nope'") == true)
        #expect(refusal { try BenchOptions.parse(["--out", "r.txt"]) } == "--out 'r.txt' must end in .json or .csv")
        #expect(refusal { try BenchOptions.parse(["--commands", "0"]) } == "--commands '0' is not an integer in 1...100000000")
        #expect(refusal { try BenchOptions.parse(["--quick", "--quick"]) } == "--quick is given twice (give each option once)")
    }

    @Test func fuzzAndTheWritersNameWhatIsMissing() throws {
        #expect(try FuzzOptions.parse(["--target=frame", "--count", "5"]) == FuzzOptions(target: .frame, count: 5))
        #expect(try FuzzOptions.parse(["-h"]) == nil)
        #expect(refusal { try FuzzOptions.parse([]) } == "missing --target (resp, frame or storage)")
        #expect(refusal { try FuzzOptions.parse(["--target", "x"]) } == "--target 'x' is not resp, frame or storage")

        #expect(try LogWriterOptions.parse(["/tmp/x.log", "10"]) == LogWriterOptions(path: "/tmp/x.log", count: 10))
        #expect(try LogWriterOptions.parse(["--help"]) == nil)
        #expect(refusal { try LogWriterOptions.parse([]) } == "log-writer takes a log file and a record count; both are missing")
        #expect(refusal { try LogWriterOptions.parse(["f"]) } == "log-writer takes a log file and a record count; the count is missing")
        #expect(refusal { try LogWriterOptions.parse(["f", "-3"]) } == "log-writer: the record count '-3' is not an integer >= 0")
        #expect(refusal { try LogWriterOptions.parse(["f", "1", "2"]) } == "log-writer takes a log file and a record count; got 3 arguments: 'f' '1' '2'")
        #expect(refusal { try LogWriterOptions.parse(["--verbose", "f", "1"]) } == "unknown log-writer option '--verbose'")

        #expect(try ClusterWriterOptions.parse(["d", "t", "3"]) == ClusterWriterOptions(directory: "d", tag: "t", count: 3))
        #expect(try ClusterWriterOptions.parse(["-h"]) == nil)
        #expect(refusal { try ClusterWriterOptions.parse([]) }
                == "cluster-writer takes a storage folder, a tag and a count; missing: a storage folder, a tag, a count")
        #expect(refusal { try ClusterWriterOptions.parse(["d", "t", "many"]) } == "cluster-writer: the count 'many' is not an integer >= 0")
    }

    @Test func outputPathsAreCheckedBeforeAnyWork() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("out-\(UInt64.random(in: 1...UInt64.max))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try OutputPath.check("\(folder)/new.json", flag: "--out")
        #expect(!FileManager.default.fileExists(atPath: "\(folder)/new.json"))  // nothing made
        #expect(refusal { try OutputPath.check(folder, flag: "--out") } == "--out '\(folder)' is a folder, not a file")
        #expect(refusal { try OutputPath.check("/nonexistent-folder/r.json", flag: "--svg") }
                == "--svg '/nonexistent-folder/r.json' cannot be created: folder '/nonexistent-folder': No such file or directory")
        #expect(refusal { try OutputPath.check("", flag: "--history") } == "--history '' is empty: give a file name")
        #expect(refusal { try BenchOptions.parse(["--svg", folder])?.checkOutputPaths() } != nil)
        #expect(refusal { try SimulateOptions.parse(["--seeds", "1", "--mode", "per-slot", "--history", folder])?.checkOutputPaths() } != nil)
        #expect(refusal { try CommandLineOptions.parse(["1", "--history", folder]).checkOutputPaths() } != nil)
        #expect(refusal { try CheckHistoryOptions.parse(["h", "--svg", folder])?.checkOutputPaths() } != nil)

        #expect(refusal { try InputFile.read("\(folder)/missing", what: "history file") } == "history file '\(folder)/missing' does not exist")
        #expect(refusal { try InputFile.read(folder, what: "history file") } == "history file '\(folder)' is a folder, not a file")
        try OutputPath.write("abc", to: "\(folder)/a.txt")
        #expect(try InputFile.read("\(folder)/a.txt", what: "file") == Data("abc".utf8))
    }
}
