import Foundation
import Testing
@testable import MultiPaxos

/// A whole small run's trace is the contract: any change to what the protocol sends, when, or in what order
/// shows up here. Regenerate deliberately with `UPDATE_GOLDEN=1 swift test --filter GoldenTrace`.
@Suite struct GoldenTraceTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    @Test(arguments: Mode.allCases)
    func theTraceOfASmallRunIsUnchanged(mode: Mode) async throws {
        let (report, lines) = try await simulate {
            $0.seed = 7; $0.mode = mode; $0.nodes = 3; $0.clients = 2; $0.requestsPerClient = 3; $0.dropRate = 0.1
        }
        #expect(report.passed)
        let text = (lines + [""] + report.summary).joined(separator: "\n") + "\n"
        let file = Self.directory.appendingPathComponent("seed7-\(mode.rawValue).txt")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] != nil {
            try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
            try text.write(to: file, atomically: true, encoding: .utf8)
        }
        let golden = try String(contentsOf: file, encoding: .utf8)
        #expect(text == golden, "trace differs from \(file.path)")
    }
}
