import Foundation
import Testing
@testable import MultiPaxos

@Suite struct LinearizabilityTests {
    /// porcupine's published histories (MIT; see Histories/LICENSE-porcupine.md), vendored beside this file.
    static let histories = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Histories")

    static func expectedVerdicts() throws -> [(String, Bool)] {
        let text = try String(contentsOf: histories.appendingPathComponent("expected.tsv"), encoding: .utf8)
        return text.split(separator: "\n").dropFirst().map { line in
            let parts = line.split(separator: "\t")
            return (String(parts[0]), parts[1] == "yes")
        }
    }

    @Test func agreesWithEveryPublishedVerdict() throws {
        let verdicts = try Self.expectedVerdicts()
        #expect(verdicts.count >= 50)
        for (file, expected) in verdicts {
            let text = try String(contentsOf: Self.histories.appendingPathComponent(file), encoding: .utf8)
            // Deterministic budget: every one of them is decided well within it.
            let verdict = Linearizability.check(try History.parse(jsonLines: text), budget: .init(maxSteps: 5_000_000))
            #expect(verdict.isDecided, "\(file): \(verdict)")
            #expect(verdict.isLinearizable == expected, "\(file)")
            if case .notLinearizable(_, let explanation) = verdict {
                #expect(!explanation.unplaceable.isEmpty, "\(file)")
            }
        }
    }

    func history(_ lines: String) throws -> History { try History.parse(jsonLines: lines) }

    @Test func acceptsAReadThatOverlapsTheWrite() throws {
        let h = try history("""
            {"process":0,"type":"invoke","f":"put","key":"x","value":"1"}
            {"process":1,"type":"invoke","f":"get","key":"x"}
            {"process":1,"type":"ok","f":"get","key":"x","value":"1"}
            {"process":0,"type":"ok","f":"put","key":"x"}
            {"process":1,"type":"invoke","f":"cas","key":"x","value":"2","expected":"9"}
            {"process":1,"type":"fail","f":"cas","key":"x"}
            """)
        #expect(Linearizability.check(h).isLinearizable)
    }

    @Test func rejectsAStaleReadAfterTheWriteCompleted() throws {
        let h = try history("""
            {"process":0,"type":"invoke","f":"put","key":"x","value":"1"}
            {"process":0,"type":"ok","f":"put","key":"x"}
            {"process":1,"type":"invoke","f":"get","key":"x"}
            {"process":1,"type":"ok","f":"get","key":"x","value":null}
            """)
        let verdict = Linearizability.check(h)
        #expect(!verdict.isLinearizable)
        #expect(verdict.failingKey == "x")
    }

    @Test func anUnknownOutcomeMayTakeEffectLateOrNever() throws {
        let late = try history("""
            {"process":0,"type":"invoke","f":"append","key":"k","value":"a"}
            {"process":0,"type":"info","f":"append","key":"k"}
            {"process":1,"type":"invoke","f":"get","key":"k"}
            {"process":1,"type":"ok","f":"get","key":"k","value":null}
            {"process":1,"type":"invoke","f":"get","key":"k"}
            {"process":1,"type":"ok","f":"get","key":"k","value":"a"}
            """)
        #expect(Linearizability.check(late).isLinearizable)
        // But not twice: "aa" cannot come from one append.
        let twice = try history("""
            {"process":0,"type":"invoke","f":"append","key":"k","value":"a"}
            {"process":0,"type":"info","f":"append","key":"k"}
            {"process":1,"type":"invoke","f":"get","key":"k"}
            {"process":1,"type":"ok","f":"get","key":"k","value":"aa"}
            """)
        #expect(!Linearizability.check(twice).isLinearizable)
    }

    @Test func roundTripsThroughJSONLines() throws {
        let h = History(events: [
            HistoryEvent(process: 3, kind: .invoke, function: .cas, key: "q\"\\", value: "n\n", expected: nil),
            HistoryEvent(process: 3, kind: .fail, function: .cas, key: "q\"\\", expected: nil),
            HistoryEvent(process: 1, kind: .invoke, function: .get, key: "é"),
            HistoryEvent(process: 1, kind: .ok, function: .get, key: "é", value: nil),
        ])
        #expect(try History.parse(jsonLines: h.jsonLines()) == h)
    }

    @Test(arguments: [
        ("{\"process\":0,\"type\":\"ok\",\"f\":\"get\",\"key\":\"x\"}", "line 1: process 0 completes an operation it never invoked"),
        ("{\"process\":0,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"x\"}\n{\"process\":0,", "line 2: not a history event"),
        ("{\"process\":0,\"type\":\"invoke\",\"f\":\"frob\",\"key\":\"x\"}", "line 1: unknown or missing f 'frob'"),
        ("{\"process\":0,\"type\":\"later\"}", "line 1: unknown type 'later'"),
        ("{\"process\":\"zero\",\"type\":\"invoke\"}", "line 1: not a history event (process has the wrong type, expected a number)"),
        ("{\"process\":0,\"type\":\"invoke\",\"f\":\"put\",\"key\":\"x\"}", "line 1: put without a value"),
        ("[1,2]", "line 1: not a history event (the line is not a JSON object)"),
        ("{\"process\":1.5,\"type\":\"invoke\"}", "line 1: process 1.5 is not an integer"),
        ("\r\n{\"process\":0,\"type\":\"invoke\",\"f\":\"get\",\"key\":7}\r\n", "line 2: not a history event (key has the wrong type, expected a string)"),
    ])
    func malformedHistoriesNameTheLine(text: String, message: String) {
        #expect(throws: HistoryError.self) { try History.parse(jsonLines: text) }
        do { _ = try History.parse(jsonLines: text) } catch { #expect(error.description.hasPrefix(message), "\(error)") }
    }

    @Test func acceptsCRLFLineEndings() throws {
        let lf = """
            {"process":0,"type":"invoke","f":"put","key":"x","value":"1"}
            {"process":0,"type":"ok","f":"put","key":"x"}

            {"process":1,"type":"invoke","f":"get","key":"x"}
            {"process":1,"type":"ok","f":"get","key":"x","value":"1"}
            """
        let crlf = lf.replacingOccurrences(of: "\n", with: "\r\n") + "\r\n"
        #expect(try History.parse(jsonLines: crlf) == History.parse(jsonLines: lf))
        #expect(try History.parse(jsonLines: crlf).events.count == 4)
    }
}
