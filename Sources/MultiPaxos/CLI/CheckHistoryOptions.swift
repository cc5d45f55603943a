/// What `multipaxos check-history` was asked for: the history to read, the budget, and where to draw a failure.
public struct CheckHistoryOptions: Sendable, Equatable {
    /// The history file, or `-` for standard input.
    public var path = "-"
    /// Write a picture of the failing key's operations here (SVG), if the history is not linearizable.
    public var svgPath: String?
    /// The search's memory limit in megabytes (estimated from its cache).
    public var maxMemoryMB = 2_048
    /// The search's time limit in seconds.
    public var timeoutSeconds = 60.0

    /// The checker's budget these options ask for.
    public var budget: Linearizability.Budget {
        Linearizability.Budget(maxMemoryBytes: maxMemoryMB << 20, timeout: .milliseconds(Int64(timeoutSeconds * 1_000)))
    }

    /// Exit status of a linearizable history.
    public static let linearizableStatus: Int32 = 0
    /// Exit status of a history that is not linearizable.
    public static let notLinearizableStatus: Int32 = 1
    /// Exit status of bad arguments or a missing or malformed history.
    public static let badInputStatus: Int32 = 2
    /// Exit status when the budget ran out before a verdict.
    public static let undecidedStatus: Int32 = 3

    /// The text `check-history --help` prints.
    public static let usage = """
        usage: multipaxos check-history FILE|- [--svg FILE] [--max-memory MB] [--timeout SECONDS]

        Decides whether a JSON-lines client history (the format of Docs/HistoryFormat.md; `-` reads standard
        input; LF or CRLF line endings) is linearizable; `multipaxos 42 --history FILE` writes one. Keys are searched in turns, so the
        first key that fails decides. Prints `linearizable`; or `not linearizable (key "K")` with the longest
        linearization found of that key's operations and the operations that cannot come next; or
        `unknown: not decided within budget (...)`.

        options:
          --svg FILE           when not linearizable, draw the failing key's operations as bars on a time axis,
                               one row per client: the linearization found numbered in green, the operations
                               that cannot come next in red
          --max-memory MB      give up past about MB megabytes of search state, 1...1048576 (default 2048)
          --timeout SECONDS    give up after SECONDS of wall-clock time, 0...1000000 (default 60)
          --help               this text

        exit status: 0 linearizable, 1 not linearizable, 2 bad arguments, an unreadable or malformed history or
        an SVG file that cannot be written (checked first), 3 not decided within budget
        """

    /// Checks, before the search, that the SVG file can be written.
    public func checkOutputPaths() throws(OptionsError) {
        if let svgPath { try OutputPath.check(svgPath, flag: "--svg") }
    }

    /// Parses the arguments after `check-history`; nil when they ask for help. Throws a one-line error naming
    /// the bad value.
    public static func parse(_ args: [String]) throws(OptionsError) -> CheckHistoryOptions? {
        var result = CheckHistoryOptions()
        var path: String?
        var cursor = ArgumentCursor(args)
        while let arg = try cursor.next() {
            switch arg {
            case "--help", "-h": return nil
            case "--svg": result.svgPath = try cursor.value(arg)
            case "--max-memory": result.maxMemoryMB = try cursor.integer(arg, 1...1_048_576)
            case "--timeout":
                let text = try cursor.value(arg)
                guard let seconds = Double(text), seconds.isFinite, (0...1_000_000).contains(seconds) else {
                    throw OptionsError("--timeout '\(text)' is not a number of seconds in 0...1000000")
                }
                result.timeoutSeconds = seconds
            default:
                if arg.hasPrefix("-") && arg != "-" { throw OptionsError("unknown check-history option '\(arg)'") }
                if let path { throw OptionsError("check-history takes one history file (got '\(path)' and '\(arg)')") }
                path = arg
            }
        }
        guard let path else { throw OptionsError("check-history needs a history file, or - for standard input") }
        result.path = path
        return result
    }
}
