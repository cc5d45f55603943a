#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Foundation
import MultiPaxos

/// Writes one line to standard output at once (progress lines must show while the run goes on).
@Sendable func sayLine(_ text: String) {
    let line = Array((text + "\n").utf8)
    _ = line.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
}

/// `multipaxos torture ...`: fault testing of real processes (see `TortureOptions.usage`). Exit status 0 when
/// every check holds, 1 when one fails, 2 for bad flags or an unusable folder, 3 when the linearizability checker
/// ran out of time, 130 when interrupted.
func tortureCommand(_ args: [String]) -> Int32 {
    var options: TortureOptions
    do {
        guard let parsed = try TortureOptions.parse(args) else {
            print(TortureOptions.usage)
            return 0
        }
        options = parsed
    } catch {
        complain("torture: \(error) (see multipaxos torture --help)")
        return 2
    }
    options.configuration.executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
    let torture: Torture
    do {
        torture = try Torture(options.configuration, output: sayLine)
    } catch {
        complain("torture: \(error)")
        return 2
    }
    // Ctrl-C or SIGTERM: the run stops its clients and nemesis, stops every node by its PID and the proxy.
    let signals = onStopSignals { number in
        sayLine("torture: signal \(number): stopping every node and the proxy")
        torture.interrupt()
    }
    defer { for source in signals { source.cancel() } }
    let report: TortureReport
    do {
        report = try torture.run()
    } catch {
        complain("torture: \(error)")
        return 1
    }
    sayLine("")
    for line in report.summary { sayLine(line) }
    switch report.verdict {
    case .pass: return 0
    case .violation: return 1
    case .undecided: return 3
    case .interrupted: return 130
    }
}
