import Foundation
import Synchronization

/// The checks a torture run ends with, on what it recorded: pure functions of the history and the final reads.
enum TortureChecks {
    /// Counts the clients' invocations and outcomes (entries of processes below `finalProcesses` only).
    static func tally(_ entries: [TortureRecorder.Entry], into report: inout TortureReport) {
        for entry in entries where entry.event.process < TortureConfiguration.finalProcesses {
            switch entry.event.kind {
            case .invoke: report.invoked += 1
            case .ok: report.acknowledged += 1
            case .fail: report.failed += 1
            case .info: report.unknown += 1
            }
        }
    }

    /// The longest stretch of `0..<end` (times from the start of the clients) in which no client operation was
    /// answered by the cluster (an `ok`, or a cas that found another value), and when it began.
    static func longestWindow(_ entries: [TortureRecorder.Entry], end: Duration) -> (length: Duration, from: Duration) {
        let answered = entries.filter { e in
            e.event.process < TortureConfiguration.finalProcesses && e.time <= end
                && (e.event.kind == .ok || (e.event.kind == .fail && e.event.function == .cas))
        }.map(\.time)
        var best: (length: Duration, from: Duration) = (.zero, .zero)
        var last = Duration.zero
        for time in answered + [end] {
            if time - last > best.length { best = (time - last, last) }
            last = max(last, time)
        }
        return best
    }

    /// Decides linearizability with the built-in checker, within `budget` of time and 2 GiB of memory (past
    /// either the check stays undecided).
    static func linearizable(_ history: History, budget: Duration) -> TortureReport.Check {
        let name = "linearizable"
        let operations = history.events.filter { $0.kind == .invoke }.count
        let began = ContinuousClock.now
        let verdict = Linearizability.check(history, budget: .init(maxMemoryBytes: 2 << 30, timeout: budget),
                                            elapsed: { ContinuousClock.now - began })
        let took = TortureReport.seconds(ContinuousClock.now - began)
        switch verdict {
        case .linearizable:
            return .init(name: name, holds: true, detail: "\(operations) operations, checked in \(took) s")
        case .notLinearizable(let key, _):
            return .init(name: name, holds: false, detail: "no linearization of key \"\(key)\" "
                         + "(\(operations) operations, checked in \(took) s)")
        case .unknown(let reason):
            return .init(name: name, holds: nil, detail: "not decided within the budget: \(reason) (\(operations) operations)")
        }
    }

    /// Every acknowledged append to a log is in its final value exactly once, and every token there was appended.
    static func appendsPresent(_ entries: [TortureRecorder.Entry], logs: [ByteString], finalValues: [ByteString: ByteString?])
        -> TortureReport.Check {
        var problems: [String] = []
        var acknowledged = 0, unknown = 0, unknownApplied = 0
        var byKey: [ByteString: [TortureRecorder.Entry]] = [:]
        for entry in entries where entry.event.function == .append { byKey[entry.event.key, default: []].append(entry) }
        for key in logs {
            var invoked: [Int: ByteString] = [:]  // by process: the token of its open append
            var appended: Set<ByteString> = [], acked: Set<ByteString> = [], unsure: Set<ByteString> = []
            for entry in byKey[key] ?? [] {
                let token = entry.event.value.map(token)
                switch entry.event.kind {
                case .invoke:
                    invoked[entry.event.process] = token ?? ByteString()
                    if let token { appended.insert(token) }
                case .ok: if let t = invoked.removeValue(forKey: entry.event.process) { acked.insert(t) }
                case .info: if let t = invoked.removeValue(forKey: entry.event.process) { unsure.insert(t) }
                case .fail: invoked[entry.event.process] = nil
                }
            }
            guard let value = finalValues[key] else {
                problems.append("\(key) was not read back")
                continue
            }
            let present = (value ?? ByteString()).bytes.split(separator: TortureWorkload.tokenEnd).map(ByteString.init)
            var seen: Set<ByteString> = []
            let twice = present.filter { !seen.insert($0).inserted }
            let missing = acked.subtracting(seen)
            let phantoms = seen.subtracting(appended)
            if !missing.isEmpty { problems.append("\(key) lost \(missing.count) acknowledged appends (\(Self.sample(missing)))") }
            if !twice.isEmpty { problems.append("\(key) holds \(twice.count) tokens twice (\(Self.sample(Set(twice))))") }
            if !phantoms.isEmpty { problems.append("\(key) holds \(phantoms.count) tokens never appended (\(Self.sample(phantoms)))") }
            acknowledged += acked.count
            unknown += unsure.count
            unknownApplied += unsure.intersection(seen).count
        }
        guard problems.isEmpty else {
            return .init(name: "acknowledged appends present", holds: false, detail: problems.joined(separator: "; "))
        }
        return .init(name: "acknowledged appends present", holds: true,
                     detail: "all \(acknowledged) present once; \(unknown) unknown, \(unknownApplied) of them applied")
    }

    /// An appended value without its end mark.
    private static func token(_ value: ByteString) -> ByteString {
        value.bytes.last == TortureWorkload.tokenEnd ? ByteString(value.bytes.dropLast()) : value
    }

    private static func sample(_ tokens: Set<ByteString>) -> String {
        let shown = tokens.sorted().prefix(5).map(\.description).joined(separator: ", ")
        return tokens.count > 5 ? shown + ", ..." : shown
    }
}
