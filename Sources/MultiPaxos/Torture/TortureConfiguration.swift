/// What `multipaxos torture` runs: a cluster of `serve` processes behind a fault proxy, a nemesis, and clients.
public struct TortureConfiguration: Sendable {
    /// Members: 3 or 5.
    public var nodes = 3
    /// Concurrent clients.
    public var clients = 4
    /// Registers (keys of every operation); the clients also append to ``logs`` logs.
    public var keys = 4
    /// How long the clients run, in seconds.
    public var seconds = 30.0
    /// Draws the nemesis's schedule and the clients' choices.
    public var seed: UInt64 = 0
    /// The nodes' Phase-1 mode.
    public var mode = Mode.stableLeader
    /// The run's folder; nil makes a new one in the temporary directory.
    public var outDirectory: String?
    /// The nemesis also wipes data directories (the node restarts with `--rejoin`).
    public var wipe = false
    /// A deliberate bug switched on in every node (tests only).
    public var flaw: ServeFlaw?
    /// The `multipaxos` executable the nodes run.
    public var executable = "/proc/self/exe"
    /// How long the linearizability checker may take; nil: the run's length, at least 30 s.
    public var checkBudget: Duration?
    /// How long a client waits for one reply (then the outcome is unknown).
    public var replyTimeout: Duration = .seconds(3)
    /// How long the cluster may take to serve every node, at the start and after healing.
    public var convergenceTimeout: Duration = .seconds(30)
    /// Flags passed to every `serve` child as well.
    public var serveArguments = ["--client-timeout-ms", "2000"]

    /// Makes the default configuration.
    public init() {}

    /// Append-only logs at a time, whose every acknowledged token is read back at the end.
    public static let logs = 2
    /// Each log moves to a fresh key this often, so that no key's history grows long: the checker's work grows
    /// faster than linearly with one key's history, and a log's value grows with every append.
    public static let logRotation: Duration = .seconds(5)
    /// The key of log `log` at `elapsed` after the clients started.
    static func logKey(_ log: Int, at elapsed: Duration) -> String {
        "log\(log).\(Int(max(elapsed, .zero) / logRotation))"
    }
    /// Every log key the run's clients may write (the rotation may run a little past the end).
    public var logKeys: [String] {
        let generations = Int(seconds / Self.logRotation.seconds) + 2
        return (0..<generations).flatMap { g in (0..<Self.logs).map { "log\($0).\(g)" } }
    }
    /// The registers' names.
    public var registerKeys: [String] { (0..<keys).map { "r\($0)" } }
    /// Process numbers from here on are the final reads, not clients.
    static let finalProcesses = 1_000_000_000

    /// The checker's budget.
    var effectiveCheckBudget: Duration { checkBudget ?? .milliseconds(Int64(max(seconds, 30) * 1000)) }
}

/// Why a torture run could not start.
public enum TortureError: Error, CustomStringConvertible {
    /// The run's folder (or a file in it) cannot be written.
    case folder(String, String)
    /// A node's process could not be started.
    case spawn(String, String)
    /// The fault proxy or a port could not be opened.
    case network(NetworkError)

    public var description: String {
        switch self {
        case .folder(let path, let why): "folder '\(path)' cannot be used: \(why)"
        case .spawn(let path, let why): "cannot start '\(path)': \(why)"
        case .network(let error): "\(error)"
        }
    }
}
