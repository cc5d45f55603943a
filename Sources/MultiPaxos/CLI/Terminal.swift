#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the terminal the program writes to can show.
public enum Terminal {
    /// Whether the trace gets ANSI colours: never with `--no-color` (`flag` false), when `NO_COLOR` is set to
    /// a non-empty value (no-color.org), or when `TERM` is `dumb`; otherwise only when the output is a terminal.
    public static func colors(flag: Bool?, isTerminal: Bool, environment: [String: String]) -> Bool {
        if let flag { return flag }
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return false }
        if environment["TERM"] == "dumb" { return false }
        return isTerminal
    }

    /// Whether file descriptor `fd` is a terminal (2: standard error, where progress goes).
    public static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }
}

/// Progress lines for a long run: at most one per `interval`, and none at all when disabled (standard error
/// is not a terminal, so a log or a pipe gets only the results).
public struct ProgressMeter {
    /// Whether lines are written.
    public let enabled: Bool
    private let interval: Duration
    private let write: (String) -> Void
    private var last: ContinuousClock.Instant?

    /// A meter that calls `write` with each line it lets through.
    public init(enabled: Bool, interval: Duration = .seconds(2), write: @escaping (String) -> Void) {
        self.enabled = enabled
        self.interval = interval
        self.write = write
    }

    /// Reports `line` if the last report is at least `interval` old (the first one waits an interval from `start`).
    public mutating func report(_ line: @autoclosure () -> String, now: ContinuousClock.Instant, start: ContinuousClock.Instant) {
        guard enabled, now - (last ?? start) >= interval else { return }
        last = now
        write(line())
    }

    /// Reports `line` now, whatever the interval (a step finished).
    public mutating func always(_ line: @autoclosure () -> String, now: ContinuousClock.Instant) {
        guard enabled else { return }
        last = now
        write(line())
    }
}
