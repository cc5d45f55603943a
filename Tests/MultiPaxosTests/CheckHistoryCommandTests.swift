import Foundation
import Testing
@testable import MultiPaxos

/// `multipaxos check-history`: its options, and the real command's output and exit status for each verdict,
/// bad input, standard input and the SVG.
@Suite struct CheckHistoryCommandTests {
    @Test func parsesItsOptions() throws {
        let parsed = try #require(try CheckHistoryOptions.parse(["h.jsonl", "--svg", "out.svg", "--max-memory", "64",
                                                                 "--timeout", "2.5"]))
        #expect(parsed.path == "h.jsonl" && parsed.svgPath == "out.svg")
        #expect(parsed.budget == Linearizability.Budget(maxMemoryBytes: 64 << 20, timeout: .milliseconds(2_500)))
        #expect(try CheckHistoryOptions.parse(["-"])?.path == "-")
        #expect(try CheckHistoryOptions.parse(["-"])?.budget == Linearizability.Budget(maxMemoryBytes: 2_048 << 20,
                                                                                      timeout: .seconds(60)))
        #expect(try CheckHistoryOptions.parse(["--help"]) == nil)
        #expect(try CheckHistoryOptions.parse(["h.jsonl", "-h"]) == nil)
    }

    @Test(arguments: [
        ([String](), "needs a history file"),
        (["a", "b"], "takes one history file (got 'a' and 'b')"),
        (["a", "--max-memory", "0"], "--max-memory '0'"),
        (["a", "--timeout", "soon"], "--timeout 'soon'"),
        (["a", "--timeout", "-1"], "--timeout '-1'"),
        (["a", "--svg"], "--svg needs a value"),
        (["a", "--verbose"], "unknown check-history option '--verbose'"),
    ])
    func badArgumentsNameTheBadValue(args: [String], fragment: String) {
        do {
            _ = try CheckHistoryOptions.parse(args)
            Issue.record("\(args) was accepted")
        } catch {
            #expect(error.message.contains(fragment), "\(error.message)")
        }
    }

    /// Runs `multipaxos check-history` with `args` and `input` on standard input.
    func run(_ args: [String], input: String = "") throws -> (status: Int32, output: String, errors: String) {
        try ChildProcess.run(multipaxosExecutable(), ["check-history"] + args, input: Array(input.utf8))
    }

    static let stale = """
        {"process":0,"type":"invoke","f":"put","key":"x","value":"1"}\r
        {"process":0,"type":"ok","f":"put","key":"x"}\r
        {"process":1,"type":"invoke","f":"get","key":"x"}\r
        {"process":1,"type":"ok","f":"get","key":"x","value":null}\r

        """

    @Test func readsStandardInputAndExplainsAFailure() throws {
        let svg = FileManager.default.temporaryDirectory.appendingPathComponent("check-\(UInt64.random(in: 1...UInt64.max)).svg").path
        defer { try? FileManager.default.removeItem(atPath: svg) }
        let (status, output, _) = try run(["-", "--svg", svg], input: Self.stale)
        #expect(status == 1)
        #expect(output.hasPrefix("not linearizable (key \"x\")\na linearization of 1 of its 2 operations, in order:\n"))
        #expect(output.contains("  1. process 0: put \"1\" (events 0-1)"))
        #expect(output.contains("  process 1: get -> absent (events 2-3): the key holds \"1\""))
        let picture = try String(contentsOfFile: svg, encoding: .utf8)
        #expect(picture.hasPrefix("<svg") && picture.contains("cannot come next"))

        let good = try run(["-"], input: "{\"process\":0,\"type\":\"invoke\",\"f\":\"put\",\"key\":\"x\",\"value\":\"1\"}\r\n"
                                       + "{\"process\":0,\"type\":\"ok\",\"f\":\"put\",\"key\":\"x\"}")
        #expect(good.status == 0 && good.output == "linearizable\n")
    }

    @Test func helpBadInputAndTheBudgetHaveTheirOwnExitStatus() throws {
        let help = try run(["--help"])
        #expect(help.status == 0 && help.output.hasPrefix("usage: multipaxos check-history"))

        let malformed = try run(["-"], input: "{\"process\":0,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"x\"}\n[1]\n")
        #expect(malformed.status == 2)
        #expect(malformed.errors.contains("standard input: line 2: not a history event (the line is not a JSON object)"))
        let missing = try run(["/nonexistent/history.jsonl"])
        #expect(missing.status == 2 && missing.errors.contains("history file '/nonexistent/history.jsonl' does not exist "
                                                               + "(write one with: multipaxos 42 --history /nonexistent/history.jsonl)"))
        let folder = try run([FileManager.default.temporaryDirectory.path])
        #expect(folder.status == 2 && folder.errors.contains("is a folder, not a file"))
        let unwritable = try run(["-", "--svg", "/nonexistent/f.svg"], input: Self.stale)
        #expect(unwritable.status == 2 && unwritable.output.isEmpty && unwritable.errors.contains("--svg '/nonexistent/f.svg' cannot be created"))

        // Twelve appends at once and a read no order of them gives: 12! orders, beyond a 1 MB budget. ("1;" starts
        // "1;1", so the key is searched, not checked as a list.)
        var events: [HistoryEvent] = []
        for i in 0..<12 { events.append(HistoryEvent(process: i, kind: .invoke, function: .append, key: "k", value: i == 11 ? "1;1" : "\(i);")) }
        for i in 0..<12 { events.append(HistoryEvent(process: i, kind: .ok, function: .append, key: "k")) }
        events.append(HistoryEvent(process: 0, kind: .invoke, function: .get, key: "k"))
        events.append(HistoryEvent(process: 0, kind: .ok, function: .get, key: "k", value: "0;"))
        let undecided = try run(["-", "--max-memory", "1"], input: History(events: events).jsonLines())
        #expect(undecided.status == 3)
        #expect(undecided.output.hasPrefix("unknown: not decided within budget (reached the memory limit of 1 MB"))
    }
}
