#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// What `multipaxos serve` was asked for: one member of a cluster of processes.
public struct ServeOptions: Sendable {
    /// The node's configuration.
    public var configuration: ServeConfiguration
    /// No event lines on standard error.
    public var quiet = false
    /// Each event line begins with the UTC time to the millisecond, so that several nodes' logs can be read in
    /// one order (torture's nodes run with it).
    public var logTime = false

    /// The text `serve --help` prints.
    public static let usage = """
        usage: multipaxos serve --id I --peers HOST:PORT,... --client HOST:PORT --data DIR [options]

        Runs one member of a Multi-Paxos cluster in this process. Peers talk over TCP on the addresses of --peers
        (entry I is this node's own, which it listens on); clients speak the Redis protocol (RESP2, or RESP3
        after HELLO 3) on --client: redis-cli, redis-benchmark and Redis client libraries work unchanged. Any
        node takes any command; a reply means the command is committed and applied. Event lines (listening,
        peers, leaders, catch-up) go to standard error. SIGTERM or SIGINT: a leader hands leadership to a live
        voter first (a leader timeout at most), then stop, sync, exit 0; a second signal stops at once.

        options:
          --id I                          this node's index in --peers (0-based)
          --peers HOST:PORT,...           every member's peer address, in id order (1 to 64 members)
          --client HOST:PORT              where clients connect (RESP)
          --listen-peers HOST:PORT        listen for peers here rather than on entry I of --peers (when peers
                                          reach this node through a proxy or NAT)
          --data DIR                      the data directory (created if missing); it records the cluster's
                                          identity, and another --peers, --id, --mode or --cluster-id is refused
          --cluster-id NAME               the cluster's name (default multipaxos); peers of another are refused
          --mode stable-leader|per-slot   (default stable-leader)
          --voters I,J,...                the members that vote when the cluster begins (default: all); the
                                          others join as spares, added later with MPX.ADDVOTER (recorded in
                                          --data: another --voters is refused)
          --rejoin                        this node's data was lost: rejoin as a learner before voting again
          --in-memory                     no data directory (benchmarks only): a restarted node has forgotten
                                          its votes and must be started with --rejoin
          --reads log|read-index|lease    GET and EXISTS through the log, by read index (the leader confirms
                                          with a majority, no log slot; the default), or by leader lease (no
                                          round while a majority's grants hold; give every node the same)
          --clock-drift F                 with --reads lease: the bound on any clock's drift (default 0.01)
          --batch N                       at most N commands share a slot (1...65536, default 256; 1: no batching)
          --window N|unlimited            at most N slots in flight at once (default 8); commands that arrive
                                          while the window is full share the next slot
          --heartbeat-ms N                leader heartbeat interval (default 50)
          --leader-timeout-ms N           follower's wait for the leader before competing (default 300)
          --client-timeout-ms N           a command waiting longer gets -TRYAGAIN (default 5000)
          --max-request-bytes N           the largest client request, 64...15728640 (default 1572864): a
                                          command travels whole in one peer frame (16 MiB)
          --max-clients N                 the most client connections (default 10000)
          --snapshot-chunk-bytes N        a snapshot for a lagging peer travels in chunks of N bytes (4096...
                                          8388608, default 1048576), one at a time as the peer asks for the next
          --max-log-bytes N               snapshot once N bytes of commands were applied since the last one,
                                          however large the state (1048576..., default 268435456): bounds the
                                          log kept in memory and on disk between snapshots
          --password-file FILE            clients must AUTH with the first line of FILE (never a flag: flags show
                                          in ps); without one, --client must be a loopback address
          --no-auth                       serve clients on any address without a password (not recommended)
          --cluster-key-file FILE         peers prove they hold a key of FILE (one or two lines of 64 hex digits,
                                          mode 0600; multipaxos keygen FILE makes one) and every frame carries a
                                          MAC; without one, peers must be on loopback addresses
          --no-peer-auth                  accept peers on any address (--peers, --listen-peers) without a
                                          cluster key (not recommended)
          --metrics [HOST:]PORT           serve Prometheus metrics at http://HOST:PORT/metrics (HOST defaults to
                                          127.0.0.1; see Docs/Observability.md)
          --metrics-public                let --metrics listen on an address other than loopback (the endpoint
                                          has no authentication)
          --quiet                         no event lines
          --log-time                      begin each event line with the UTC time (2026-12-07T17:45:01.123Z)

        \(ExitStatus.rule) (serve: 1 when the node stops on an error)
        """

    /// Parses the arguments after `serve`; nil for `--help`. Throws a one-line error naming the bad value.
    public static func parse(_ args: [String]) throws(OptionsError) -> ServeOptions? {
        var id: Int?
        var votersText: String?
        var peers: [PeerAddress]?
        var client: PeerAddress?
        var data: String?
        var rest = ServeConfiguration(id: NodeID(0), peers: [], client: PeerAddress(host: "127.0.0.1", port: 0))
        var quiet = false
        var logTime = false
        var inMemory = false
        var cursor = ArgumentCursor(args)
        func address(_ flag: String, _ text: String) throws(OptionsError) -> PeerAddress {
            do { return try PeerAddress(parsing: text) } catch { throw OptionsError("\(flag): \(error)") }
        }
        while let arg = try cursor.next() {
            switch arg {
            case "--help", "-h": return nil
            case "--id": id = try cursor.integer(arg, 0...(NodeSet.capacity - 1))
            case "--peers":
                let text = try cursor.value(arg)
                var list: [PeerAddress] = []
                for part in text.split(separator: ",", omittingEmptySubsequences: false) {
                    list.append(try address(arg, String(part)))
                }
                guard list.count <= NodeSet.capacity else { throw OptionsError("--peers lists \(list.count) members; at most 64") }
                guard Set(list).count == list.count else { throw OptionsError("--peers '\(text)' lists an address twice") }
                peers = list
            case "--client": client = try address(arg, try cursor.value(arg))
            case "--listen-peers": rest.peerListen = try address(arg, try cursor.value(arg))
            case "--flaw":  // hidden: a deliberate bug for tests (multipaxos torture must catch it)
                let text = try cursor.value(arg)
                guard let flaw = ServeFlaw(rawValue: text) else {
                    throw OptionsError("--flaw '\(text)' is not one of \(ServeFlaw.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                rest.flaw = flaw
            case "--data":
                let text = try cursor.value(arg)
                guard !text.isEmpty else { throw OptionsError("--data '' is empty: give a directory") }
                data = text
            case "--cluster-id":
                let text = try cursor.value(arg)
                guard (1...64).contains(text.utf8.count) else { throw OptionsError("--cluster-id '\(text)' must be 1 to 64 bytes") }
                rest.clusterID = text
            case "--mode":
                let text = try cursor.value(arg)
                guard let mode = Mode(rawValue: text) else { throw OptionsError("--mode '\(text)' is not stable-leader or per-slot") }
                rest.mode = mode
            case "--rejoin": rest.rejoin = true
            case "--voters": votersText = try cursor.value(arg)
            case "--in-memory": inMemory = true
            case "--reads": rest.reads = try cursor.reads(arg)
            case "--clock-drift": rest.maxClockDrift = try cursor.probability(arg)
            case "--batch": rest.batching.maxCommands = try cursor.integer(arg, 1...65_536)
            case "--window": rest.batching.window = try cursor.window(arg)
            case "--heartbeat-ms": rest.timing.heartbeatInterval = Microseconds(try cursor.integer(arg, 1...60_000)) * 1000
            case "--leader-timeout-ms": rest.timing.leaderTimeout = Microseconds(try cursor.integer(arg, 1...600_000)) * 1000
            case "--client-timeout-ms": rest.clientTimeout = .milliseconds(try cursor.integer(arg, 1...3_600_000))
            // At most 15 MiB: a command travels whole in an Accept, and a peer frame holds 16 MiB.
            case "--max-request-bytes": rest.limits.maxRequestBytes = try cursor.integer(arg, 64...(15 << 20))
            case "--max-clients":
                rest.limits.maxClients = try cursor.integer(arg, 1...1_000_000)
                rest.maxClientsGiven = true
            case "--snapshot-chunk-bytes": rest.snapshotChunkBytes = try cursor.integer(arg, 4096...(8 << 20))
            case "--max-log-bytes": rest.maxLogBytes = try cursor.integer(arg, (1 << 20)...(1 << 40))
            case "--quiet": quiet = true
            case "--log-time": logTime = true
            case "--password-file":
                let path = try cursor.value(arg)
                do { rest.password = try SecretFile.readPassword(path: path) } catch { throw OptionsError("--password-file: \(error)") }
            case "--no-auth": rest.allowUnauthenticatedClients = true
            case "--cluster-key-file":
                let path = try cursor.value(arg)
                do { rest.clusterKeys = try ClusterKeys.load(path: path) } catch { throw OptionsError("--cluster-key-file: \(error)") }
            case "--no-peer-auth": rest.allowUnauthenticatedPeers = true
            case "--metrics-public": rest.allowPublicMetrics = true
            case "--metrics":
                let text = try cursor.value(arg)
                rest.metrics = try address(arg, text.contains(":") ? text : "127.0.0.1:\(text)")
            default: throw OptionsError("unknown option '\(arg)'")
            }
        }
        guard let id else { throw OptionsError("missing --id") }
        guard let peers else { throw OptionsError("missing --peers") }
        guard let client else { throw OptionsError("missing --client") }
        guard data != nil || inMemory else { throw OptionsError("missing --data (or --in-memory, for benchmarks)") }
        guard data == nil || !inMemory else { throw OptionsError("--data and --in-memory exclude each other") }
        guard id < peers.count else { throw OptionsError("--id \(id) is not an index into --peers (\(peers.count) members)") }
        if let votersText {
            var voters = NodeSet()
            for part in votersText.split(separator: ",", omittingEmptySubsequences: false) {
                let digits = part.hasPrefix("n") ? part.dropFirst() : part
                guard digits.count <= 2, let value = Int(digits), (0..<peers.count).contains(value) else {
                    throw OptionsError("--voters '\(votersText)': '\(part)' is not an index into --peers (0...\(peers.count - 1))")
                }
                guard voters.insert(NodeID(value)) else { throw OptionsError("--voters '\(votersText)' names \(part) twice") }
            }
            rest.voters = voters
        }
        guard rest.timing.leaderTimeout > rest.timing.heartbeatInterval else {
            throw OptionsError("--leader-timeout-ms must exceed --heartbeat-ms")
        }
        if rest.reads == .lease, let problem = Leases(maxClockDrift: rest.maxClockDrift).problem(rest.timing) {
            throw OptionsError(problem)
        }
        guard !peers.contains(client) else { throw OptionsError("--client \(client) is also a peer address") }
        if let listen = rest.peerListen, listen == client {
            throw OptionsError("--listen-peers \(listen) is also the --client address")
        }
        if let metrics = rest.metrics, metrics.port != 0,
           metrics == client || peers.contains(metrics) || metrics == rest.peerListen {
            throw OptionsError("--metrics \(metrics) is also a client or peer address")
        }
        var configuration = rest
        configuration.id = NodeID(id)
        configuration.peers = peers
        configuration.client = client
        configuration.dataDirectory = data
        return ServeOptions(configuration: configuration, quiet: quiet, logTime: logTime)
    }
}
