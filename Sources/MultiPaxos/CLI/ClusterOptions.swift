/// What `multipaxos cluster` was asked for: N `serve` processes on 127.0.0.1.
public struct ClusterOptions: Sendable, Equatable {
    /// How many members.
    public var nodes = 3
    /// Where the members' data directories go (`DIR/node-I`).
    public var dataDirectory = "multipaxos-cluster"
    /// Clients of node I connect to port `basePort + I`; peers use `basePort + 100 + I`.
    public var basePort = 7000
    /// The Phase-1 mode.
    public var mode = Mode.stableLeader
    /// The cluster key file every node uses; nil: `DIR/cluster.key`, made when missing.
    public var clusterKeyFile: String?
    /// No data directories (benchmarks only).
    public var inMemory = false
    /// Node I serves Prometheus metrics on 127.0.0.1, port `metricsBasePort + I`; nil: no metrics listeners.
    public var metricsBasePort: Int?
    /// Options passed on to every `serve` child unchanged (timing, limits, --quiet).
    public var passThrough: [String] = []

    /// The text `cluster --help` prints.
    public static let usage = """
        usage: multipaxos cluster [--nodes N] [--data DIR] [--base-port P] [--mode M] [serve options]

        Starts N members (`multipaxos serve`) as child processes on 127.0.0.1, prints each node's client address
        and a redis-cli line to try, forwards their event lines (prefixed n0, n1, ...), and stops them all on
        Ctrl-C or SIGTERM. A node killed on its own (kill -9 PID, to watch a failover) is reported and the
        others go on; restart it with the serve line the cluster printed for it, or rerun the cluster with the
        same --data to restart the whole cluster.

        options:
          --nodes N          members, 1...64 (default 3)
          --data DIR         data directories go to DIR/node-I (default ./multipaxos-cluster)
          --base-port P      clients of node I on port P+I, peers on P+100+I (default 7000)
          --mode M           stable-leader or per-slot (default stable-leader)
          --in-memory        no data directories (benchmarks only; nothing survives a restart)
          --metrics-base-port P  node I serves Prometheus metrics at http://127.0.0.1:(P+I)/metrics
          --password-file FILE   clients must AUTH with the first line of FILE
          --cluster-key-file F   the nodes' cluster key (default DIR/cluster.key, made with mode 0600 if missing)
          --batch, --window, --reads, --clock-drift, --heartbeat-ms, --leader-timeout-ms, --client-timeout-ms, --max-request-bytes,
          --max-clients, --quiet
                             passed on to every node (see multipaxos serve --help)

        \(ExitStatus.rule)
        """

    /// Parses the arguments after `cluster`; nil for `--help`.
    public static func parse(_ args: [String]) throws(OptionsError) -> ClusterOptions? {
        var result = ClusterOptions()
        var cursor = ArgumentCursor(args)
        while let arg = try cursor.next() {
            switch arg {
            case "--help", "-h": return nil
            case "--nodes": result.nodes = try cursor.integer(arg, 1...NodeSet.capacity)
            case "--data":
                let text = try cursor.value(arg)
                guard !text.isEmpty else { throw OptionsError("--data '' is empty: give a directory") }
                result.dataDirectory = text
            case "--base-port": result.basePort = try cursor.integer(arg, 1...(65_535 - 100 - NodeSet.capacity))
            case "--mode":
                let text = try cursor.value(arg)
                guard let mode = Mode(rawValue: text) else { throw OptionsError("--mode '\(text)' is not stable-leader or per-slot") }
                result.mode = mode
            case "--batch", "--window", "--reads", "--clock-drift", "--heartbeat-ms", "--leader-timeout-ms", "--client-timeout-ms",
                 "--max-request-bytes", "--max-clients":
                let value = try cursor.value(arg)
                // Checked here as serve checks it, so that a bad value is refused before any node starts.
                _ = try ServeOptions.parse(["--id", "0", "--peers", "127.0.0.1:1", "--client", "127.0.0.1:2", "--in-memory",
                                            arg, value])
                result.passThrough += [arg, value]
            case "--quiet", "--no-auth": result.passThrough.append(arg)
            case "--cluster-key-file": result.clusterKeyFile = try cursor.value(arg)
            case "--password-file": result.passThrough += [arg, try cursor.value(arg)]
            case "--in-memory": result.inMemory = true
            case "--metrics-base-port": result.metricsBasePort = try cursor.integer(arg, 1...(65_535 - NodeSet.capacity))
            default: throw OptionsError("unknown option '\(arg)'")
            }
        }
        return result
    }

    /// The key file the nodes are given.
    public var keyFile: String { clusterKeyFile ?? "\(dataDirectory)/cluster.key" }

    /// The arguments of node `i`'s `serve` process.
    public func serveArguments(node i: Int) -> [String] {
        let peers = (0..<nodes).map { "127.0.0.1:\(basePort + 100 + $0)" }.joined(separator: ",")
        return ["serve", "--id", "\(i)", "--peers", peers, "--client", "127.0.0.1:\(basePort + i)",
                "--mode", mode.rawValue, "--cluster-key-file", keyFile] + (inMemory ? ["--in-memory"] : ["--data", "\(dataDirectory)/node-\(i)"])
            + (metricsBasePort.map { ["--metrics", "127.0.0.1:\($0 + i)"] } ?? []) + passThrough
    }
}
