#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import MultiPaxos

/// Writes one line to standard error, unbuffered, so that lines of several processes never interleave mid-line.
@Sendable func logLine(_ text: String) {
    let line = Array((text + "\n").utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// The wall-clock time in UTC to the millisecond, as `2026-12-07T17:45:01.123Z` (`serve --log-time`).
func utcTimestamp() -> String {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    var t = time_t(now.tv_sec), parts = tm()
    gmtime_r(&t, &parts)
    func digits(_ v: Int, _ width: Int) -> String {
        let text = String(v)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
    return "\(digits(Int(parts.tm_year) + 1900, 4))-\(digits(Int(parts.tm_mon) + 1, 2))-\(digits(Int(parts.tm_mday), 2))"
        + "T\(digits(Int(parts.tm_hour), 2)):\(digits(Int(parts.tm_min), 2)):\(digits(Int(parts.tm_sec), 2))"
        + ".\(digits(Int(now.tv_nsec / 1_000_000), 3))Z"
}

/// `multipaxos serve ...`: one member of a cluster of processes (see `ServeOptions.usage`).
func serveCommand(_ args: [String]) async -> Int32 {
    let options: ServeOptions
    do {
        guard let parsed = try ServeOptions.parse(args) else {
            print(ServeOptions.usage)
            return 0
        }
        options = parsed
    } catch {
        complain("serve: \(error) (see multipaxos serve --help)")
        return 2
    }
    let prefix = "n\(options.configuration.id.value)"
    let quiet = options.quiet, stamped = options.logTime
    let log: @Sendable (String) -> Void = { text in
        guard !quiet else { return }
        logLine((stamped ? utcTimestamp() + " " : "") + "\(prefix): \(text)")
    }
    if let flaw = options.configuration.flaw {
        log("WARNING: running with the test-only flaw '\(flaw.rawValue)': this node breaks its promises to clients")
    }
    let node: ServedNode
    do {
        node = try ServedNode(options.configuration, log: log)
    } catch {
        complain("serve: \(error)")
        return 1
    }
    // SIGTERM and SIGINT stop the node: it finishes the step under way, syncs, and exits 0.
    let signals = onStopSignals { number in
        log("signal \(number): stopping")
        node.stop()
    }
    defer { for source in signals { source.cancel() } }
    do {
        try await node.run()
    } catch {
        complain("serve: \(error)")
        return 1
    }
    log("stopped")
    return 0
}
