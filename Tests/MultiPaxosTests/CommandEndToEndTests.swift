import Foundation
import Testing
@testable import MultiPaxos

extension ProcessTests {
/// The commands a user runs, run to their end as the README and `help` describe them: what they print on success,
/// and the exit status of a failure. (`cluster` has its own suite, ClusterCommandTests; the served store's
/// commands are the Served* suites.)
@Suite struct CommandEndToEndTests {
    func run(_ args: [String], in directory: String? = nil, timeout: Duration = .seconds(120)) throws
        -> (status: Int32, output: String, errors: String) {
        try ChildProcess.run(multipaxosExecutable(), args, directory: directory, timeout: timeout)
    }

    @Test func simulateSweepsSeedsAndSaysHowManyPassed() throws {
        let sweep = try run(["simulate", "--seeds", "1..3", "--nodes", "3", "--requests", "5"])
        #expect(sweep.status == 0, "\(sweep.errors)")
        #expect(sweep.output.contains("6 passed, 0 failed"), "three seeds in both modes: \(sweep.output)")
    }

    /// A sweep whose runs break a check exits 1 and names the seed with the command that reproduces it, which
    /// fails the same way. Clocks that drift 99% against a stated bound of 1% break the lease's assumption: at
    /// seed 26 in per-slot mode, no request completes for seconds while a connected majority is up.
    @Test func aFailingSimulationExitsOneAndItsReproduceCommandFailsTheSameWay() throws {
        let sweep = try run(["simulate", "--seeds", "25..26", "--mode", "per-slot", "--nodes", "3", "--reads", "lease",
                             "--clock-drift", "0.01", "--actual-clock-drift", "0.99"])
        #expect(sweep.status == 1, "\(sweep.output.suffix(400))")
        #expect(sweep.output.contains("seed 26 per-slot FAILED: liveness during faults"), "\(sweep.output.prefix(400))")
        #expect(sweep.output.contains("1 passed, 1 failed"))
        let line = try #require(sweep.output.split(separator: "\n").first { $0.contains("reproduce: multipaxos simulate --seeds 26..26") })
        let command = line.split(separator: " ").drop { $0 != "multipaxos" }.dropFirst().map(String.init)
        let again = try run(command)
        #expect(again.status == 1 && again.output.contains("- liveness during faults: n0,n1 were up"), "with its trace")
        #expect(again.output.contains("0 passed, 1 failed"))
    }

    /// A value no run would accept is refused before the sweep, once, with the usage status.
    @Test func aSimulationOptionNoRunAcceptsIsRefusedBeforeTheSweep() throws {
        let refused = try run(["simulate", "--seeds", "1..50", "--reads", "lease", "--actual-clock-drift", "1"])
        #expect(refused.status == 2 && refused.errors.contains("actual clock drift 1.0"), "\(refused.errors)")
        #expect(!refused.output.contains("FAILED"))
    }

    @Test func mutantsPrintsItsTableAndPassesWhenEveryMutantIsCaught() throws {
        let table = try run(["mutants", "--only", "replica-skips-holes", "--mode", "stable-leader"])
        #expect(table.status == 0, "\(table.output)")
        #expect(table.output.contains("| replica-skips-holes") && table.output.contains("every mutant was caught"))
        let unknown = try run(["mutants", "--only", "no-such-mutant"])
        #expect(unknown.status == 2 && unknown.errors.contains("no-such-mutant"), "\(unknown.errors)")
    }

    @Test func benchQuickCompareTheModesAndWritesItsReport() throws {
        let directory = try scratchDirectory("e2e")
        let report = directory.path + "/bench.json"
        let bench = try run(["bench", "--quick", "--scenarios", "n3-c1-lossless", "--commands", "200", "--out", report])
        #expect(bench.status == 0, "\(bench.errors)")
        #expect(bench.output.contains("n3-c1-lossless") && bench.output.contains("stable/per-slot"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report)))
        #expect(json is [Any] || json is [String: Any])
    }

    @Test(arguments: ["resp", "frame", "storage"])
    func fuzzRunsABoundedCountPerTarget(_ target: String) throws {
        let fuzz = try run(["fuzz", "--target", target, "--count", "300", "--seconds", "60"])
        #expect(fuzz.status == 0, "\(fuzz.output) \(fuzz.errors)")
        #expect(fuzz.output.contains("300"), "it says how many inputs it fed: \(fuzz.output)")
    }

    @Test func keygenWritesAPrivateKeyOnceAndServeAcceptsIt() throws {
        let directory = try scratchDirectory("e2e")
        let path = directory.path + "/cluster.key"
        let made = try run(["keygen", path])
        #expect(made.status == 0, "\(made.errors)")
        let text = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(text.count == 64 && text.allSatisfy(\.isHexDigit))
        let mode = try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        #expect(mode & 0o077 == 0, "readable by its owner only: \(String(mode, radix: 8))")
        let again = try run(["keygen", path])
        #expect(again.status != 0 && again.errors.contains(path), "never overwrites a key: \(again.errors)")
        #expect(try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == text)
        #expect(try ClusterKeys.load(path: path).presentedKey.count == ClusterKeys.keyBytes)
    }

    @Test func loadDrivesAnInProcessClusterAndReportsThroughput() throws {
        let load = try run(["load", "--local", "3", "--seconds", "0.5", "--clients", "4"])
        #expect(load.status == 0, "\(load.errors)")
        #expect(load.output.contains("/s") && load.output.contains("p99"), "\(load.output)")
    }

    /// No node at the address: no operation completes, which `load` reports with exit status 1.
    @Test func loadAgainstNoServerExitsOne() throws {
        let port = try PortReservation(count: 1)
        let load = try run(["load", "--resp", "127.0.0.1:\(port.ports[0])", "--seconds", "0.5", "--clients", "1"])
        #expect(load.status == 1, "\(load.output) \(load.errors)")
    }
}
}
