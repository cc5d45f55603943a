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
    let quiet = options.quiet
    let log: @Sendable (String) -> Void = { text in
        if !quiet { logLine("\(prefix): \(text)") }
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
