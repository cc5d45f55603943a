import Foundation
import Testing
@testable import MultiPaxos

/// One executor for the role actors a unit test builds.
let testExecutor = QueueExecutor(label: "tests")

func n(_ i: Int) -> NodeID { NodeID(i) }

func config(_ size: Int = 3, mode: Mode = .stableLeader) -> ClusterConfiguration {
    ClusterConfiguration(members: (0..<size).map(NodeID.init), mode: mode)
}

func command(_ client: UInt64, _ request: UInt64, _ op: KeyValueOperation = .put("k", "v")) -> Command {
    Command(key: RequestKey(client: ClientID(client), request: RequestNumber(request)), operation: op.encoded)
}

let emptySnapshot = Snapshot(nextSlot: .zero, machine: KeyValueStore().snapshot(), replies: [])

/// The messages among `effects`, with their destinations (a broadcast gives one entry per node).
func sent(_ effects: [Effect]) -> [(Message, NodeID)] {
    effects.flatMap { effect -> [(Message, NodeID)] in
        switch effect {
        case .send(let m, let to): [(m, to)]
        case .broadcast(let m, let to): to.map { (m, $0) }
        default: []
        }
    }
}

func events(_ effects: [Effect]) -> [Event] {
    effects.compactMap { if case .event(let e) = $0 { e } else { nil } }
}

func timers(_ effects: [Effect]) -> [ProtocolTimer] {
    effects.compactMap { if case .setTimer(let t, _, _) = $0 { t } else { nil } }
}

extension Message {
    var accept: Accept? { if case .accept(let m) = self { m } else { nil } }
    var accepted: Accepted? { if case .accepted(let m) = self { m } else { nil } }
    var promise: Promise? { if case .promise(let m) = self { m } else { nil } }
    var prepare: Prepare? { if case .prepare(let m) = self { m } else { nil } }
    var decision: Decision? { if case .decision(let m) = self { m } else { nil } }
    var reply: Reply? { if case .reply(let m) = self { m } else { nil } }
    var propose: Propose? { if case .propose(let m) = self { m } else { nil } }
    var adopted: Adopted? { if case .adopted(let m) = self { m } else { nil } }
    var preempted: Preempted? { if case .preempted(let m) = self { m } else { nil } }
    var startPhase1: StartPhase1? { if case .startPhase1(let m) = self { m } else { nil } }
    var catchUpReply: CatchUpReply? { if case .catchUpReply(let m) = self { m } else { nil } }
    var catchUpRequest: CatchUpRequest? { if case .catchUpRequest(let m) = self { m } else { nil } }
    var welcome: Welcome? { if case .welcome(let m) = self { m } else { nil } }
    var request: Request? { if case .request(let m) = self { m } else { nil } }
    var preVote: PreVote? { if case .preVote(let m) = self { m } else { nil } }
    var preVoteGrant: PreVoteGrant? { if case .preVoteGrant(let m) = self { m } else { nil } }
}

/// Runs a simulation and returns its report and trace.
func simulate(_ configure: (inout SimulationOptions) -> Void) async throws -> (SimulationReport, [String]) {
    var options = SimulationOptions()
    configure(&options)
    let lines = TraceCollector()
    let sim = try Simulation(options: options, trace: { lines.append($0) })
    let report = await sim.run()
    return (report, lines.lines)
}

import Synchronization

/// Collects trace lines from the simulation's thread.
final class TraceCollector: Sendable {
    private let storage = Mutex<[String]>([])
    func append(_ line: String) { storage.withLock { $0.append(line) } }
    var lines: [String] { storage.withLock { $0 } }
}

/// The kinds of the roles an effect list installs.
func installedKinds(_ effects: [Effect]) -> [RoleKind] {
    effects.flatMap { effect -> [RoleKind] in
        if case .install(let roles) = effect { roles.map(\.kind) } else { [] }
    }
}

/// A small seeded generator for tests that feed random bytes to decoders.
struct XorShift {
    var state: UInt64
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }
}

/// Checks that `Docs/<page>` shows, verbatim, the example between `// BEGIN EXAMPLE` and `// END EXAMPLE` in the
/// test file that calls it (the page leaves out the four spaces of indentation the test type adds).
func expectDocumentShowsExample(page: String, testFile: String = #filePath) throws {
    let here = URL(fileURLWithPath: testFile)
    let source = try String(contentsOf: here, encoding: .utf8)
    let doc = try String(contentsOf: here.deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Docs/\(page)"), encoding: .utf8)
    func between(_ text: String, _ start: String, _ end: String) -> String? {
        guard let a = text.range(of: start), let b = text.range(of: end, range: a.upperBound..<text.endIndex) else { return nil }
        return String(text[a.upperBound..<b.lowerBound])
    }
    let code = try #require(between(source, "    // BEGIN EXAMPLE\n", "    // END EXAMPLE\n"))
    // The page's Swift block that shows the example (others may show a manifest or an adapter).
    let blocks = doc.components(separatedBy: "```swift\n").dropFirst().compactMap { between("\n" + $0, "\n", "```\n") }
    let shown = try #require(blocks.first { $0.hasPrefix("static func example()") })
    let unindented = code.split(separator: "\n", omittingEmptySubsequences: false)
        .map { $0.hasPrefix("    ") ? String($0.dropFirst(4)) : String($0) }.joined(separator: "\n")
    #expect(shown == unindented)
}

/// A fresh directory for one test, under a folder of this test process's own in the system's temporary directory;
/// that folder and everything in it are removed when the process exits, so that runs leave nothing behind.
func scratchDirectory(_ prefix: String) throws -> URL {
    let dir = testScratchRoot.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

private func scratchRootPath(of pid: Int32) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("multipaxos-tests-\(pid)").path
}

private let testScratchRoot: URL = {
    atexit { try? FileManager.default.removeItem(atPath: scratchRootPath(of: getpid())) }
    return URL(fileURLWithPath: scratchRootPath(of: getpid()))
}()

/// The `multipaxos` executable `swift test` built beside the test bundle, which every process test runs.
func multipaxosExecutable() throws -> URL {
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent("multipaxos")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        directory = directory.deletingLastPathComponent()
    }
    throw FileLogError.io(path: "multipaxos executable beside \(CommandLine.arguments[0])", operation: "find", errno: ENOENT)
}
