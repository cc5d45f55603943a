import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import MultiPaxos

/// The space-time diagram of a simulated run (`multipaxos <seed> --svg FILE`): well-formed, a lane per node, an
/// arrow per network message sent in the window (checked against the trace and the summary's counts), lost
/// messages crossed, faults marked, the same bytes every time, and its options checked before the run.
@Suite struct RunDiagramTests {
    /// Runs a recorded simulation; returns the report and the trace.
    func recordedRun(_ configure: (inout SimulationOptions) -> Void = { _ in }) async throws -> (SimulationReport, [String]) {
        var options = SimulationOptions()
        configure(&options)
        let lines = TraceCollector()
        let report = try await Simulation(options: options, trace: { lines.append($0) }, recordsRun: true).run()
        return (report, lines.lines)
    }

    /// The elements of an SVG document as Foundation's XML parser reads them (nil when it is not well-formed XML).
    func elements(_ svg: String) -> [(name: String, attributes: [String: String])]? {
        final class Collector: NSObject, XMLParserDelegate {
            var found: [(name: String, attributes: [String: String])] = []
            func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                        attributes: [String: String] = [:]) {
                found.append((name, attributes))
            }
        }
        let parser = XMLParser(data: Data(svg.utf8))
        let collector = Collector()
        parser.delegate = collector
        return parser.parse() ? collector.found : nil
    }

    func classes(_ element: (name: String, attributes: [String: String])) -> [Substring] {
        (element.attributes["class"] ?? "").split(separator: " ")
    }

    /// The network sends the trace shows from `start` to `stop` (a node's sends to itself left out), and how
    /// many of them it marks lost (✗).
    func tracedSends(_ trace: [String], from start: Microseconds, to stop: Microseconds) -> (sent: Int, lost: Int) {
        var sent = 0, lost = 0
        for line in trace {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 3, let seconds = Double(fields[0]), let arrow = fields.firstIndex(of: "→") else { continue }
            let at = Microseconds((seconds * 1_000_000).rounded())
            guard start <= at && at <= stop else { continue }
            for target in fields[(arrow + 1)...] where target.trimmingCharacters(in: ["✗"]) != fields[1] {
                sent += 1
                if target.hasSuffix("✗") { lost += 1 }
            }
        }
        return (sent, lost)
    }

    @Test func theDefaultRunIsWellFormedWithALanePerNodeAndAnArrowPerMessage() async throws {
        let (report, trace) = try await recordedRun()
        let recording = try #require(report.recording)
        let svg = RunDiagram.render(recording, command: "multipaxos 42")
        let parsed = try #require(elements(svg), "not well-formed XML")
        #expect(parsed.first?.name == "svg")

        // One lane per node: lane lines at five distinct heights, and the five labels.
        let laneHeights = Set(parsed.filter { classes($0).contains("lane") || classes($0).contains("down") }.compactMap { $0.attributes["y1"] })
        #expect(laneHeights.count == 5)
        for i in 0..<5 { #expect(svg.contains(">n\(i)</text>")) }
        #expect(!svg.contains(">n5</text>"))

        // An arrow per network message, a cross per lost one: as the summary counts them and as the trace shows them.
        let arrows = parsed.filter { $0.name == "line" && classes($0).contains("msg") }
        let crosses = parsed.filter { classes($0).contains("drop") }
        #expect(report.totalNetworkMessages > 500 && report.totalDropped > 0 && report.duplicatedMessages == 0)
        #expect(arrows.count == report.totalNetworkMessages)
        #expect(crosses.count == report.totalDropped)
        let traced = tracedSends(trace, from: 0, to: report.simulatedTime)
        #expect(arrows.count == traced.sent && crosses.count == traced.lost)

        // Crowded: heartbeats faint, a zoom suggested; one election marked, and every decision.
        #expect(svg.contains("Zoom in with --from S --to S"))
        #expect(arrows.contains { classes($0).contains("thin") && classes($0).contains("k\(MessageKind.heartbeat.rawValue)") })
        #expect(!arrows.contains { classes($0).contains("thin") && classes($0).contains("k\(MessageKind.accept.rawValue)") })
        #expect(svg.components(separatedBy: "leads with ballot").count - 1 == report.leaderChanges)
        #expect(svg.components(separatedBy: ": decided s").count - 1 == report.slotsDecided)
    }

    @Test func theSameSeedGivesTheSameBytes() async throws {
        let firstRun = try await recordedRun().0
        let secondRun = try await recordedRun().0
        let first = try #require(firstRun.recording)
        let second = try #require(secondRun.recording)
        #expect(RunDiagram.render(first, command: "c") == RunDiagram.render(second, command: "c"))
        #expect(RunDiagram.render(first, from: 100_000, to: 200_000, command: "c")
                == RunDiagram.render(second, from: 100_000, to: 200_000, command: "c"))
    }

    @Test func recordingDoesNotChangeTheRun() async throws {
        let (recorded, recordedTrace) = try await recordedRun()
        let (plain, plainTrace) = try await simulate { _ in }
        #expect(recordedTrace == plainTrace && recorded.summary == plain.summary && plain.recording == nil)
    }

    @Test func aWindowNarrowsTheDiagram() async throws {
        let (report, trace) = try await recordedRun()
        let recording = try #require(report.recording)
        let whole = try #require(elements(RunDiagram.render(recording, command: "c")))
        let svg = RunDiagram.render(recording, from: 0, to: 100_000, command: "c")
        let window = try #require(elements(svg))
        let arrows = window.filter { $0.name == "line" && classes($0).contains("msg") }
        let traced = tracedSends(trace, from: 0, to: 100_000)
        #expect(arrows.count == traced.sent && arrows.count > 10)
        #expect(arrows.count < whole.filter { $0.name == "line" && classes($0).contains("msg") }.count)
        #expect(window.filter { classes($0).contains("drop") }.count == traced.lost)
        #expect(svg.contains("0–0.1 s of ") && !svg.contains("Zoom in"))
        #expect(svg.contains("leads with ballot"))  // seed 42 elects its leader at 0.088 s
    }

    @Test func crashesRestartsAndCutsAreMarked() async throws {
        let (report, _) = try await recordedRun {
            $0.isolations = [Isolation(node: NodeID(2), start: 300_000, end: 600_000)]
            $0.faults.nodeFaults = [.init(node: NodeID(3), kind: .crash(restartAfter: 200_000), at: 700_000)]
        }
        let recording = try #require(report.recording)
        let svg = RunDiagram.render(recording, command: "c")
        let parsed = try #require(elements(svg))
        #expect(svg.contains("isolate n2") && svg.contains("n3 at 0.7") && svg.contains("crashes"))
        #expect(svg.contains("restarts with its durable state"))
        #expect(parsed.contains { classes($0).contains("down") })
        // Messages the cut lost are crossed and say so; the network's and the cut's losses are the summary's.
        #expect(svg.contains("(cut)"))
        let lostOnTheWay = recording.transmissions.filter {
            if case .dropped(_, let why) = $0.fate { why == "lost by the network" || why == "cut" } else { false }
        }
        #expect(lostOnTheWay.count == report.totalDropped)
    }

    @Test func copiesAreDrawnDashed() async throws {
        let (report, _) = try await recordedRun { $0.duplicateRate = 0.2 }
        let recording = try #require(report.recording)
        let parsed = try #require(elements(RunDiagram.render(recording, command: "c")))
        let arrows = parsed.filter { $0.name == "line" && classes($0).contains("msg") }
        #expect(report.duplicatedMessages > 0)
        #expect(arrows.count == report.totalNetworkMessages + report.duplicatedMessages)
        #expect(arrows.filter { classes($0).contains("copy") }.count == report.duplicatedMessages)
    }

    @Test func badWindowsAreRefusedNamingTheValue() throws {
        let parsing = CommandLineParsingTests()
        let good = try CommandLineOptions.parse(["42", "--svg=r.svg", "--from=0.1", "--to", "0.25"])
        #expect(good.svgPath == "r.svg" && good.svgFrom == 100_000 && good.svgTo == 250_000)
        #expect(good.rerunCommand == "multipaxos 42")
        #expect(parsing.refusal { try CommandLineOptions.parse(["42", "--svg", "r.svg", "--from", "2", "--to", "1.5"]) }
                == "--from 2 is not before --to 1.5: the window would be empty")
        #expect(parsing.refusal { try CommandLineOptions.parse(["42", "--svg", "r.svg", "--from", "1", "--to=1"]) }
                == "--from 1 is not before --to 1: the window would be empty")
        #expect(parsing.refusal { try CommandLineOptions.parse(["42", "--svg", "r.svg", "--from", "-1"]) }
                == "--from '-1' is not a number of seconds in 0...1000000")
        #expect(parsing.refusal { try CommandLineOptions.parse(["42", "--svg", "r.svg", "--to=soon"]) }
                == "--to 'soon' is not a number of seconds in 0...1000000")
        #expect(parsing.refusal { try CommandLineOptions.parse(["42", "--to", "1"]) }
                == "--to chooses the window of the diagram: give --svg FILE too")
    }

    @Test func theProgramChecksThePathAndTheWindowBeforeTheRun() throws {
        let program = CommandProcessTests()
        let badPath = try program.run(["42", "--quiet", "--svg", "/nonexistent/run.svg"])
        #expect(badPath.status == 2 && badPath.output.isEmpty && badPath.errors.contains("--svg '/nonexistent/run.svg' cannot be created"))
        let badWindow = try program.run(["42", "--svg", "run.svg", "--from", "0.5", "--to", "0.2"])
        #expect(badWindow.status == 2 && badWindow.output.isEmpty && badWindow.errors.contains("--from 0.5 is not before --to 0.2"))

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UInt64.random(in: 1...UInt64.max)).svg").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let good = try program.run(["42", "--quiet", "--nodes", "3", "--requests", "2", "--svg=\(path)", "--to", "0.2"])
        #expect(good.status == 0 && good.output.hasPrefix("summary (seed 42"))
        let svg = try String(contentsOfFile: path, encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.contains("a simulated run of 3 node(s), 0–0.2 s") && elements(svg) != nil)
    }
}

/// The pictures in Docs/GettingStarted.md are what the commands shown there draw today.
@Suite struct RunDiagramDocsTests {
    @Test func theDocumentedDiagramsAreCurrent() async throws {
        for (file, from, to, flags) in [("run-42.svg", Microseconds(0), Microseconds?.none, ""),
                                        ("run-42-election.svg", 0, 100_000, " --from 0 --to 0.1")] {
            let report = try await Simulation(options: SimulationOptions(), recordsRun: true).run()
            let recording = try #require(report.recording)
            let drawn = RunDiagram.render(recording, from: from, to: to, command: "multipaxos 42 --svg Docs/\(file)\(flags)")
            let stored = try String(contentsOf: DocsTests.root.appendingPathComponent("Docs/\(file)"), encoding: .utf8)
            let current = drawn == stored  // not compared inside #expect, which would print both documents
            #expect(current, "Docs/\(file) is stale: run `swift run multipaxos 42 --svg Docs/\(file)\(flags)`")
        }
    }
}
