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

    /// The text `load --help` prints.
    public static let usage = """
        usage: multipaxos load --resp HOST:PORT[,...] [--clients N] [--seconds D] [--get-ratio F] [--value-bytes B] [--keys K]

        A closed-loop load generator (as etcd's benchmark tool is for etcd): N clients, each connected to one of
        the given nodes (client i to node i mod count) and keeping one command outstanding, send SETs and GETs
        for D seconds, then it prints operations per second, median and 99th-percentile latency, and errors.

        options:
          --resp HOST:PORT,...   the nodes' client addresses
          --clients N            concurrent clients, 1...10000 (default 16)
          --seconds D            how long, 0.1...86400 (default 10)
          --get-ratio F          share of GETs, 0...1 (default 0)
          --value-bytes B        bytes per value, 1...1048576 (default 16)
          --keys K               distinct keys, 1...10000000 (default 1000)

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
            default: throw OptionsError("unknown option '\(arg)'")
            }
        }
        guard !result.addresses.isEmpty else { throw OptionsError("missing --resp") }
        return result
    }
}
