import Foundation

/// What a torture run found: the counts, the checks, and the verdict.
public struct TortureReport: Sendable {
    /// How a run ended.
    public enum Verdict: String, Sendable {
        /// Every check holds.
        case pass
        /// A check failed: a violation, a lost write, a disagreement, an unexpected exit.
        case violation
        /// Nothing failed, but the linearizability checker did not finish within its budget.
        case undecided
        /// Stopped by Ctrl-C or SIGTERM before the checks.
        case interrupted
    }

    /// One check and its outcome.
    public struct Check: Sendable {
        /// What is checked, in a few words.
        public let name: String
        /// true: holds; false: fails; nil: undecided.
        public let holds: Bool?
        /// The figures or the failure, one line.
        public let detail: String
    }

    /// The configuration it ran with.
    public let configuration: TortureConfiguration
    /// The run's folder (history, nemesis log, node logs, data).
    public let folder: String
    /// Operations invoked by the clients (the final reads not included).
    public var invoked = 0
    /// Operations answered with a result (`ok`).
    public var acknowledged = 0
    /// Operations that certainly did not take effect (`fail`): reads without a value, cas mismatches, writes
    /// that never left the client.
    public var failed = 0
    /// Operations whose outcome is unknown (`info`): timeouts, broken connections, `-TRYAGAIN`.
    public var unknown = 0
    /// Faults injected, by kind (`Nemesis.kinds` order in the summary).
    public var faults: [String: Int] = [:]
    /// What the fault proxy did.
    public var proxy = ProxyStatistics()
    /// The longest time, while the clients ran, in which no operation was answered, and when it began (from the
    /// start of the clients).
    public var longestWindow: (length: Duration, from: Duration) = (.zero, .zero)
    /// The bytes of the final values of every key the clients wrote, as stored (padding included), read from
    /// the first node that answered them all; nil if none did.
    public var stateBytes: Int?
    /// The checks, in order.
    public var checks: [Check] = []
    /// Whether the run was stopped early.
    public var interrupted = false

    /// Faults injected in all.
    public var faultCount: Int { faults.values.reduce(0, +) }

    /// The run's verdict.
    public var verdict: Verdict {
        if interrupted { return .interrupted }
        if checks.contains(where: { $0.holds == false }) { return .violation }
        if checks.contains(where: { $0.holds == nil }) { return .undecided }
        return .pass
    }

    /// The check named `name`, if it ran.
    public func check(_ name: String) -> Check? { checks.first { $0.name == name } }

    /// The summary, one line per figure.
    public var summary: [String] {
        let c = configuration
        var lines = ["torture: seed \(c.seed), \(c.nodes) nodes, \(c.mode.rawValue), \(c.clients) clients, \(c.keys) "
                     + "registers and \(TortureConfiguration.logs) logs at a time (fresh keys every "
                     + "\(Int(TortureConfiguration.rotation.seconds)) s), \(Self.seconds(.milliseconds(Int64(c.seconds * 1000)))) s"
                     + (c.wipe ? ", wipes" : "") + (c.flaw.map { ", FLAW \($0.rawValue)" } ?? "")
                     + (c.valueBytes.map { ", values padded by \($0.lowerBound)-\($0.upperBound) bytes" } ?? "")]
        lines.append("operations: \(invoked) invoked, \(acknowledged) acknowledged, \(failed) failed, \(unknown) unknown")
        let kinds = Nemesis.kinds.compactMap { kind in faults[kind].map { "\(kind) \($0)" } }
        lines.append("faults: \(faultCount)" + (kinds.isEmpty ? "" : " (\(kinds.joined(separator: ", ")))")
                     + "; proxy: \(proxy.framesForwarded) messages forwarded, \(proxy.framesDropped) dropped, "
                     + "\(proxy.connectionsCut) connections cut, \(proxy.connectionsRefused) refused")
        if let stateBytes { lines.append("state: \(stateBytes) bytes in the final values (\(String(format: "%.1f", Double(stateBytes) / 1e6)) MB)") }
        lines.append("longest window without a completed operation: \(Self.seconds(longestWindow.length)) s "
                     + "(from \(Self.seconds(longestWindow.from)) s)")
        for check in checks {
            let mark = check.holds == true ? "ok" : check.holds == false ? "FAILED" : "UNDECIDED"
            lines.append("\(check.name): \(mark): \(check.detail)")
        }
        switch verdict {
        case .pass: lines.append("verdict: PASS")
        case .violation: lines.append("verdict: VIOLATION (history and logs in \(folder))")
        case .undecided: lines.append("verdict: UNDECIDED (the checker ran out of time; history in \(folder))")
        case .interrupted: lines.append("verdict: INTERRUPTED (what was recorded is in \(folder))")
        }
        return lines
    }

    static func seconds(_ d: Duration) -> String { String(format: "%.2f", d.seconds) }
}
