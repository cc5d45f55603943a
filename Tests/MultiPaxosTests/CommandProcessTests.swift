import Foundation
import Testing
@testable import MultiPaxos

/// The `multipaxos` program itself: help and version for every command, typos, exit statuses, and output paths
/// checked before the run.
@Suite struct CommandProcessTests {
    /// Runs `multipaxos args` and returns its exit status, standard output and standard error.
    func run(_ args: [String], environment: [String: String]? = nil) throws -> (status: Int32, output: String, errors: String) {
        try ChildProcess.run(multipaxosExecutable(), args, environment: environment)
    }

    @Test func everyCommandHasHelpAndTheVersion() throws {
        for command in Subcommand.allCases where command != .help && command != .version {
            let help = try run([command.rawValue, "--help"])
            #expect(help.status == 0 && help.output.hasPrefix("usage: multipaxos \(command.rawValue)"), "\(command): \(help)")
            let viaHelp = try run(["help", command.rawValue])
            #expect(viaHelp.status == 0 && viaHelp.output == help.output, "\(command)")
            let version = try run([command.rawValue, "--version"])
            #expect(version.status == 0 && version.output == "multipaxos \(MultiPaxosVersion.current)\n", "\(command)")
        }
        let help = try run(["help"])
        #expect(help.status == 0 && help.output.hasPrefix("usage: multipaxos <seed> [options]"))
        #expect(try run(["version"]).output == "multipaxos \(MultiPaxosVersion.current)\n")
        #expect(try run(["--version"]).output == "multipaxos \(MultiPaxosVersion.current)\n")
        let unknown = try run(["help", "simualte"])
        #expect(unknown.status == 2 && unknown.errors.contains("help: unknown command 'simualte'; did you mean 'simulate'?"))
    }

    @Test func aMistypedCommandIsNotTakenForASeed() throws {
        let typo = try run(["simualte", "--seeds", "1..3"])
        #expect(typo.status == 2 && typo.output.isEmpty)
        #expect(typo.errors == "multipaxos: unknown command 'simualte'; did you mean 'simulate'? (see multipaxos --help)\n")
    }

    @Test func theWritersSayWhatIsMissing() throws {
        let none = try run(["log-writer"])
        #expect(none.status == 2 && none.errors.contains("log-writer takes a log file and a record count; both are missing"))
        let cluster = try run(["cluster-writer", "/tmp/x"])
        #expect(cluster.status == 2 && cluster.errors.contains("missing: a tag, a count"))
    }

    @Test func anUnwritableHistoryStopsTheRunBeforeItStarts() throws {
        let bad = try run(["42", "--quiet", "--history", "/nonexistent/history.jsonl"])
        #expect(bad.status == 2 && bad.output.isEmpty)
        #expect(bad.errors.contains("--history '/nonexistent/history.jsonl' cannot be created"))
        let sweep = try run(["simulate", "--seeds", "1", "--mode", "per-slot", "--history", "/nonexistent/h.jsonl"])
        #expect(sweep.status == 2 && sweep.output.isEmpty)
        let bench = try run(["bench", "--quick", "--out", "/nonexistent/r.json"])
        #expect(bench.status == 2 && bench.output.isEmpty && bench.errors.contains("--out '/nonexistent/r.json' cannot be created"))

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("h-\(UInt64.random(in: 1...UInt64.max)).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let good = try run(["42", "--quiet", "--nodes", "3", "--requests", "2", "--history=\(path)"])
        #expect(good.status == 0 && good.output.hasPrefix("summary (seed 42, stable-leader, 3 nodes"))
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains("\"type\":\"invoke\""))
    }

    @Test func badCombinationsAreRefused() throws {
        let both = try run(["42", "--crash-leader-at", "1", "--wipe-leader-at", "1"])
        #expect(both.status == 2 && both.errors.contains("exclude each other"))
        let twice = try run(["42", "--drop", "0.1", "--drop", "0.2"])
        #expect(twice.status == 2 && twice.errors.contains("--drop is given twice"))
        let empty = try run(["bench", "--scenarios", ""])
        #expect(empty.status == 2 && empty.output.isEmpty)
    }

    @Test func noColourWhenOutputIsNotATerminal() throws {
        let plain = try run(["3", "--nodes", "3", "--requests", "1"], environment: ["NO_COLOR": "", "TERM": "xterm"])
        #expect(plain.status == 0 && !plain.output.contains("\u{1B}["))
    }
}
