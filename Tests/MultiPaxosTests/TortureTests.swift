import Foundation
import Testing
@testable import MultiPaxos

extension ProcessTests {
/// `multipaxos torture`: its schedule and flags, a short run that passes under kill -9 of the leader, a pause and
/// a partition, a run that catches a deliberately broken build, and Ctrl-C. Every child is stopped by its PID.
@Suite(.serialized) struct TortureTests {
    func folder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("torture-\(UInt64.random(in: 1...UInt64.max))").path
    }

    @Test func theScheduleComesFromTheSeedAloneAndOpensWithAKillOfTheLeaderAPauseAndAPartition() {
        for nodes in [3, 5] {
            for seed in UInt64(0)..<50 {
                let steps = NemesisSchedule.draw(seed: seed, nodes: nodes, seconds: 12, wipe: seed.isMultiple(of: 2))
                #expect(steps == NemesisSchedule.draw(seed: seed, nodes: nodes, seconds: 12, wipe: seed.isMultiple(of: 2)))
                let first = steps.prefix(3).map(\.fault)
                #expect(first.contains(.kill(.leader)), "seed \(seed): \(first)")
                #expect(first.contains { if case .pause = $0 { true } else { false } }, "seed \(seed): \(first)")
                #expect(first.contains { if case .partition = $0 { true } else { false } }, "seed \(seed): \(first)")
                // One fault at a time, all within the run, each partition leaving a majority connected.
                for (a, b) in zip(steps, steps.dropFirst()) { #expect(a.at + a.length < b.at) }
                #expect(steps.allSatisfy { $0.at + $0.length <= .milliseconds(11_500) })
                for step in steps {
                    switch step.fault {
                    case .partition(.minority(let side), _): #expect(!side.isEmpty && side.count <= (nodes - 1) / 2)
                    case .partition(.bridge(let b, let l, let r), _):
                        #expect(Set(l + r + [b]).count == nodes && l.count + 1 > nodes / 2 && r.count + 1 > nodes / 2)
                    case .partition(.oneWay(let n, _), _), .kill(.node(let n)), .pause(.node(let n)): #expect(n.value < nodes)
                    case .wipe: #expect(seed.isMultiple(of: 2), "wipes only with --wipe")
                    default: break
                    }
                }
            }
        }
        #expect(NemesisSchedule.draw(seed: 1, nodes: 3, seconds: 60, wipe: false)
                != NemesisSchedule.draw(seed: 2, nodes: 3, seconds: 60, wipe: false))
        // A long run draws every kind of fault.
        let long = NemesisSchedule.draw(seed: 3, nodes: 5, seconds: 600, wipe: true).map(\.fault.description)
        for kind in ["kill -9 n", "wipe", "pause", "minority", "isolated", "bridge", "hears", "delay", "slow", "cut"] {
            #expect(long.contains { $0.contains(kind) }, "\(kind)")
        }
    }

    @Test func flagsAreParsedAndBadOnesNamedInOneLine() throws {
        let c = try #require(try TortureOptions.parse(["--nodes", "5", "--clients", "9", "--keys", "3", "--seconds", "2.5",
                                                       "--seed", "42", "--mode", "per-slot", "--out", "d", "--wipe",
                                                       "--flaw", "acknowledge-before-commit"])).configuration
        #expect(c.nodes == 5 && c.clients == 9 && c.keys == 3 && c.seconds == 2.5 && c.seed == 42)
        #expect(c.mode == .perSlot && c.outDirectory == "d" && c.wipe && c.flaw == .acknowledgeBeforeCommit)
        #expect(c.logKeys == ["log0.0", "log1.0", "log0.1", "log1.1"] && c.registerKeys.count == 3 * 2 && c.registerKeys[3] == "r0.1")
        #expect(TortureConfiguration.key(1, log: false, at: .seconds(11)) == "r1.2")
        #expect(try TortureOptions.parse(["--help"]) == nil)
        for (args, fragment) in [(["--nodes", "2"], "--nodes '2' is not 3 or 5"), (["--seconds", "-1"], "--seconds '-1'"),
                                 (["--seconds", "nan"], "--seconds 'nan'"), (["--clients", "0"], "--clients '0'"),
                                 (["--seed", "-3"], "--seed '-3'"), (["--mode", "x"], "--mode 'x'"), (["--out", ""], "--out ''"),
                                 (["--flaw", "x"], "--flaw 'x'"), (["--keys"], "--keys needs a value"), (["--bogus"], "'--bogus'")] {
            do {
                _ = try TortureOptions.parse(args)
                Issue.record("\(args) was accepted")
            } catch {
                #expect(error.message.contains(fragment) && !error.message.contains("\n"), "\(error.message)")
            }
        }
        // serve's hidden flaw flag and its --listen-peers.
        let serve = try #require(try ServeOptions.parse(["--id", "0", "--peers", "127.0.0.1:1,127.0.0.1:2", "--client", "127.0.0.1:3",
                                                         "--data", "d", "--listen-peers", "127.0.0.1:4",
                                                         "--flaw", "acknowledge-before-commit"])).configuration
        #expect(serve.peerListen == PeerAddress(host: "127.0.0.1", port: 4) && serve.flaw == .acknowledgeBeforeCommit)
        #expect(!ServeOptions.usage.contains("--flaw"))
    }

    func run(_ configure: (inout TortureConfiguration) -> Void) throws -> (TortureReport, String) {
        var configuration = TortureConfiguration()
        configuration.executable = try multipaxosExecutable().path
        configuration.outDirectory = folder()
        configure(&configuration)
        let torture = try Torture(configuration, output: { _ in })
        return (try torture.run(), torture.folder)
    }

    @Test func aShortRunUnderKillsPausesAndPartitionsPassesEveryCheck() throws {
        let (report, folder) = try run {
            $0.seconds = 12
            $0.seed = 1
            $0.clientPause = .milliseconds(3)  // leave the cores to the suite's other tests
        }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let summary = report.summary.joined(separator: "\n")
        #expect(report.verdict == .pass, "\(summary)")
        #expect(report.faults["kill -9 leader", default: 0] >= 1, "\(summary)")
        #expect(report.faults["pause leader", default: 0] + report.faults["pause other", default: 0] >= 1, "\(summary)")
        #expect(report.faults.keys.contains { $0.hasPrefix("partition") }, "\(summary)")
        // Progress, not speed: on a loaded 2-core machine a 12 s run may acknowledge only a few dozen operations.
        #expect(report.acknowledged > 10 && report.invoked == report.acknowledged + report.failed + report.unknown, "\(summary)")
        for name in ["linearizable", "acknowledged appends present", "nodes agree", "no exit but the nemesis's", "replies well-formed"] {
            #expect(report.check(name)?.holds == true, "\(name): \(summary)")
        }
        // The folder holds the history (check-history's format), the nemesis log, each node's log and the summary.
        let history = try History.parse(jsonLines: String(contentsOfFile: "\(folder)/history.jsonl", encoding: .utf8))
        #expect(history.events.filter { $0.kind == .invoke }.count >= report.invoked)
        let nemesis = try String(contentsOfFile: "\(folder)/nemesis.log", encoding: .utf8)
        #expect(nemesis.contains("kill -9") && nemesis.contains("SIGSTOP") && nemesis.contains("partition:"))
        let nodeLog = try String(contentsOfFile: "\(folder)/node-0.log", encoding: .utf8)
        #expect(nodeLog.contains("listening for peers"))
        // The nodes run with --log-time: every line begins with its UTC time, so the logs read in one order.
        let stamped = try Regex(#"^20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z n0: "#)
        #expect(nodeLog.split(separator: "\n").allSatisfy { $0.prefixMatch(of: stamped) != nil }, "\(nodeLog.prefix(300))")
        #expect(try String(contentsOfFile: "\(folder)/summary.txt", encoding: .utf8).contains("verdict: PASS"))
    }

    @Test func aBuildThatAcknowledgesBeforeCommittingIsCaught() throws {
        let (report, folder) = try run {
            $0.seconds = 12
            $0.clients = 6
            $0.seed = 7  // opens with a minority partition: what that node acknowledges is missing on the others
            $0.flaw = .acknowledgeBeforeCommit
        }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // The seed's plan still opens with a minority partition (what the test relies on).
        let plan = try String(contentsOfFile: "\(folder)/nemesis.log", encoding: .utf8).split(separator: "\n")
        #expect(plan.first { $0.contains("plan at") }?.contains("partition: minority") == true, "\(plan.prefix(3))")
        #expect(report.verdict == .violation, "\(report.summary.joined(separator: "\n"))")
        #expect(report.check("linearizable")?.holds == false, "\(report.summary.joined(separator: "\n"))")
    }

    @Test func badFlagsExitTwoAndCtrlCStopsEveryNodeAndKeepsTheRecord() throws {
        let binary = try multipaxosExecutable()
        for args in [["--nodes", "2"], ["--seconds", "-5"], ["--out", "/proc/no-such-folder/x"]] {
            let (status, _, text) = try ChildProcess.run(binary, ["torture"] + args, timeout: .seconds(30))
            #expect(status == 2, "\(args): \(text)")
            #expect(text.split(separator: "\n").count == 1, "\(args): one line: \(text)")
        }

        // Ctrl-C while the nemesis holds a node paused (seed 3 begins with a pause): exit 130, every node gone,
        // the paused one too, and the history and nemesis log kept.
        let out = folder()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let torture = try ChildProcess(binary, ["torture", "--seconds", "60", "--seed", "3", "--out", out], errors: .discard)
        var pids: [pid_t] = []
        defer { for pid in pids { kill(pid, SIGKILL) } }  // if the test fails half-way, no node outlives it
        var text = torture.waitForOutput(timeout: .seconds(30)) { $0.contains(" s  SIGSTOP") } ?? torture.output
        pids = text.split(separator: " ").compactMap { word -> pid_t? in
            word.hasPrefix("pid=") ? pid_t(word.dropFirst(4).prefix { $0.isNumber }) : nil
        }
        #expect(pids.count >= 3 && text.contains(" s  SIGSTOP"), "\(text)")
        #expect(torture.stop(SIGINT, grace: .seconds(30)), "torture did not stop on SIGINT")
        text = torture.output
        #expect(torture.status == 130, "\(text)")
        #expect(text.contains("verdict: INTERRUPTED"), "\(text)")
        for pid in pids { #expect(kill(pid, 0) == -1 && errno == ESRCH, "node pid \(pid) still exists") }
        pids = []
        #expect(FileManager.default.fileExists(atPath: "\(out)/history.jsonl"))
        #expect(try String(contentsOfFile: "\(out)/nemesis.log", encoding: .utf8).contains("plan at"))
    }
}
}
