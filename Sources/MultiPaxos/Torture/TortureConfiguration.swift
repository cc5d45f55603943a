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
    /// The nemesis also wipes data directories (the node restarts with its usual flags and must rejoin).
    public var wipe = false
    /// A deliberate bug switched on in every node (tests only).
    public var flaw: ServeFlaw?
    /// The `multipaxos` executable the nodes run.
    public var executable = "/proc/self/exe"
    /// How long the linearizability checker may take; nil: the run's length, at least 30 s.
    public var checkBudget: Duration?
    /// How long each client waits between operations (zero: closed loop, as fast as the cluster answers; the test
    /// suite waits a little, to leave the machine's cores to the other tests).
    public var clientPause: Duration = .zero
    /// How long a client waits for one reply (then the outcome is unknown).
    public var replyTimeout: Duration = .seconds(3)
    /// How long the cluster may take to serve every node, at the start and after healing.
    public var convergenceTimeout: Duration = .seconds(30)
    /// Filler bytes after every token a client writes (nil: values are their tokens, a few bytes): large values
    /// and a large state for the cluster, while the history keeps only tokens (see `TorturePadding`).
    public var valueBytes: ClosedRange<Int>?
    /// The filler `valueBytes` asks for, if any.
    var padding: TorturePadding? { valueBytes.map(TorturePadding.init) }
    /// Flags passed to every `serve` child as well.
    public var serveArguments = ["--client-timeout-ms", "2000", "--log-time"]

    /// Makes the default configuration.
    public init() {}

    /// Append-only logs at a time, whose every acknowledged token is read back at the end.
    public static let logs = 2
    /// Every register and log moves to a fresh key this often (`r0.0`, `r0.1`, ...), as Jepsen's independent
    /// keys do, so that no key's history grows long: the checker's work grows faster than linearly with one key's
    /// history (an operation of unknown outcome stays open until the key's end), and a log's value with every
    /// append.
    public static let rotation: Duration = .seconds(5)
    /// The key of register `i` (`log` false) or log `i` at `elapsed` after the clients started.
    static func key(_ i: Int, log: Bool, at elapsed: Duration) -> ByteString {
        "\(log ? "log" : "r")\(i).\(Int(max(elapsed, .zero) / rotation))"
    }
    /// The key generations a run of `seconds` may use (the clients may run a little past the end).
    private var generations: Int { Int(seconds / Self.rotation.seconds) + 2 }
    /// Every register key the run's clients may write.
    public var registerKeys: [ByteString] {
        (0..<generations).flatMap { g in (0..<keys).map { "r\($0).\(g)" } }
    }
    /// Every log key the run's clients may write.
    public var logKeys: [ByteString] {
        (0..<generations).flatMap { g in (0..<Self.logs).map { "log\($0).\(g)" } }
    }
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
