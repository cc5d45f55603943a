/// What `multipaxos load` was asked for: closed-loop RESP clients against a served cluster.
public struct LoadOptions: Sendable, Equatable {
    /// The nodes' client addresses; client i talks to node i mod count.
    public var addresses: [PeerAddress] = []
    /// Concurrent clients, each with one request outstanding.
    public var clients = 16
    /// How long to run.
    public var seconds = 10.0
    /// The share of GETs; the rest are SETs.
    public var getRatio = 0.0
    /// Bytes per value written.
    public var valueBytes = 16
    /// How many distinct keys.
    public var keys = 1000
    /// Run an in-process `LocalCluster` of this many nodes instead of connecting to served ones.
    public var localNodes: Int?
    /// The in-process cluster's storage directory (nil: durable state in memory).
    public var dataDirectory: String?
    /// The in-process cluster's mode.
    public var mode = Mode.stableLeader
    /// The in-process cluster's batching.
    public var batching = Batching.standard
    /// With `--local`: commands each client sends as one pipeline (one request, one log entry; 1: one at a time).
    public var pipeline = 1

    /// The text `load --help` prints.
    public static let usage = """
        usage: multipaxos load --resp HOST:PORT[,...] [--clients N] [--seconds D] [--get-ratio F] [--value-bytes B] [--keys K]
               multipaxos load --local N [--data DIR] [--mode M] [--batch N] [--window N|unlimited] [--pipeline N] [same options]

        A closed-loop load generator (as etcd's benchmark tool is for etcd): N clients, each connected to one of
        the given nodes (client i to node i mod count) and keeping one command outstanding, send SETs and GETs
        for D seconds, then it prints operations per second, median and 99th-percentile latency, and errors.
        With --local, the clients are tasks calling an in-process LocalCluster of N nodes (durable state in
        files under DIR, synced before sending, or in memory without --data), and it also prints the bytes the
        nodes wrote.

        options:
          --resp HOST:PORT,...   the nodes' client addresses
          --clients N            concurrent clients, 1...10000 (default 16)
          --seconds D            how long, 0.1...86400 (default 10)
          --get-ratio F          share of GETs, 0...1 (default 0)
          --value-bytes B        bytes per value, 1...1048576 (default 16)
          --keys K               distinct keys, 1...10000000 (default 1000)
          --local N              an in-process cluster of N nodes, 1...64, instead of --resp
          --data DIR             with --local: node files in DIR (must not hold another cluster's)
          --mode M               with --local: stable-leader or per-slot (default stable-leader)
          --batch N              with --local: commands per slot, 1...65536 (default 256)
          --window N|unlimited   with --local: slots in flight (default 8)
          --pipeline N           with --local: each client sends N commands at a time as one pipeline (one
                                 request, one log entry, results in order), 1...1024 (default 1)

        \(ExitStatus.rule) (load: 1 when no operation completed)
        """

    /// Parses the arguments after `load`; nil for `--help`.
    public static func parse(_ args: [String]) throws(OptionsError) -> LoadOptions? {
        var result = LoadOptions()
        var cursor = ArgumentCursor(args)
        while let arg = try cursor.next() {
            switch arg {
            case "--help", "-h": return nil
            case "--resp":
                let text = try cursor.value(arg)
                result.addresses = []
                for part in text.split(separator: ",", omittingEmptySubsequences: false) {
                    do { result.addresses.append(try PeerAddress(parsing: String(part))) } catch { throw OptionsError("--resp: \(error)") }
                }
            case "--clients": result.clients = try cursor.integer(arg, 1...10_000)
            case "--seconds":
                let text = try cursor.value(arg)
                guard let d = Double(text), d.isFinite, (0.1...86_400).contains(d) else {
                    throw OptionsError("--seconds '\(text)' is not a number in 0.1...86400")
                }
                result.seconds = d
            case "--get-ratio": result.getRatio = try cursor.probability(arg)
            case "--value-bytes": result.valueBytes = try cursor.integer(arg, 1...(1 << 20))
            case "--keys": result.keys = try cursor.integer(arg, 1...10_000_000)
            case "--local": result.localNodes = try cursor.integer(arg, 1...NodeSet.capacity)
            case "--data": result.dataDirectory = try cursor.value(arg)
            case "--mode":
                let text = try cursor.value(arg)
                guard let mode = Mode(rawValue: text) else { throw OptionsError("--mode '\(text)' is not stable-leader or per-slot") }
                result.mode = mode
            case "--batch": result.batching.maxCommands = try cursor.integer(arg, 1...65_536)
            case "--window": result.batching.window = try cursor.window(arg)
            case "--pipeline": result.pipeline = try cursor.integer(arg, 1...1024)
            default: throw OptionsError("unknown option '\(arg)'")
            }
        }
        if result.localNodes == nil {
            guard !result.addresses.isEmpty else { throw OptionsError("missing --resp (or --local N)") }
            if result.dataDirectory != nil { throw OptionsError("--data needs --local") }
            if result.pipeline != 1 { throw OptionsError("--pipeline needs --local (redis-benchmark -P pipelines RESP clients)") }
        } else if !result.addresses.isEmpty {
            throw OptionsError("--resp and --local exclude each other")
        }
        return result
    }
}
