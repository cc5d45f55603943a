import Testing
@testable import MultiPaxos

@Suite struct CommandLineTests {
    @Test func parsesEveryOption() throws {
        let parsed = try CommandLineOptions.parse(["18446744073709551615", "--mode", "per-slot", "--nodes", "7",
                                                   "--requests", "3", "--drop", "0.1", "--crash-leader-at", "1.5",
                                                   "--quiet", "--no-color", "--clients", "2", "--duplicate", "0.01"])
        #expect(parsed.options.seed == .max)
        #expect(parsed.options.mode == .perSlot)
        #expect(parsed.options.nodes == 7 && parsed.options.requestsPerClient == 3 && parsed.options.clients == 2)
        #expect(parsed.options.dropRate == 0.1 && parsed.options.duplicateRate == 0.01)
        #expect(parsed.options.crashLeaderAt == 1_500_000)
        let wiped = try CommandLineOptions.parse(["1", "--wipe-leader-at", "0.25"])
        #expect(wiped.options.faults.nodeFaults.count == 1 && wiped.options.faults.nodeFaults[0].at == 250_000)
        #expect(parsed.quiet && parsed.color == false)
    }

    @Test func theRerunHintKeepsEveryOptionButQuietAndHistory() throws {
        let parsed = try CommandLineOptions.parse(["42", "--drop", "0.9", "--quiet", "--history", "h.jsonl", "--mode", "per-slot",
                                                   "--wipe-leader-at", "0.5"])
        #expect(parsed.rerunCommand == "multipaxos 42 --drop 0.9 --mode per-slot --wipe-leader-at 0.5")
        let attached = try CommandLineOptions.parse(["42", "-q", "--history=h.jsonl", "--drop=0.9"])
        #expect(attached.rerunCommand == "multipaxos 42 --drop=0.9")
    }

    @Test(arguments: [
        (["abc"], "'abc' is not a command, nor a seed"),
        (["4x"], "seed '4x'"),
        (["-1"], "seed '-1'"),
        (["18446744073709551616"], "seed '18446744073709551616'"),
        ([String](), "missing <seed>"),
        (["1", "2"], "unexpected argument '2'"),
        (["1", "--nodes", "0"], "--nodes '0'"),
        (["1", "--nodes", "65"], "--nodes '65'"),
        (["1", "--drop", "1.5"], "--drop '1.5'"),
        (["1", "--drop", "nan"], "--drop 'nan'"),
        (["1", "--mode", "fast"], "--mode 'fast'"),
        (["1", "--crash-leader-at", "-3"], "--crash-leader-at '-3'"),
        (["1", "--wipe-leader-at", "soon"], "--wipe-leader-at 'soon'"),
        (["1", "--requests"], "--requests needs a value"),
        (["1", "--bogus"], "unknown option '--bogus'"),
    ])
    func badArgumentsNameTheBadValue(args: [String], fragment: String) {
        do {
            _ = try CommandLineOptions.parse(args)
            Issue.record("\(args) was accepted")
        } catch {
            #expect(error.message.contains(fragment), "\(error.message)")
            #expect(!error.message.contains("\n"))
        }
    }
}
