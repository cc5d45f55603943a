import Foundation
import Testing
@testable import MultiPaxos

@Suite struct ServeOptionsTests {
    let peers = "127.0.0.1:7100,127.0.0.1:7101,127.0.0.1:7102"

    @Test func parsesEveryFlag() throws {
        let parsed = try #require(try ServeOptions.parse([
            "--id", "2", "--peers", peers, "--client", "localhost:7002", "--data", "d", "--cluster-id", "c1",
            "--mode", "per-slot", "--rejoin", "--heartbeat-ms", "10", "--leader-timeout-ms", "100",
            "--client-timeout-ms", "250", "--max-request-bytes", "4096", "--max-clients", "7", "--quiet", "--reads", "log",
            "--log-time", "--max-log-bytes", "2097152"]))
        let c = parsed.configuration
        #expect(c.id == NodeID(2) && c.peers.count == 3 && c.peers[1] == PeerAddress(host: "127.0.0.1", port: 7101))
        #expect(c.client == PeerAddress(host: "127.0.0.1", port: 7002))
        #expect(c.dataDirectory == "d" && c.clusterID == "c1" && c.mode == .perSlot && c.rejoin)
        #expect(c.timing.heartbeatInterval == 10_000 && c.timing.leaderTimeout == 100_000)
        #expect(c.clientTimeout == .milliseconds(250) && c.limits.maxRequestBytes == 4096 && c.limits.maxClients == 7)
        #expect(parsed.quiet && parsed.logTime && c.reads == .log && c.maxLogBytes == 2 << 20)
        #expect(throws: OptionsError.self) { try ServeOptions.parse(["--id", "0", "--peers", peers, "--max-request-bytes", "\(16 << 20)"]) }
        #expect(throws: OptionsError.self) { try ServeOptions.parse(["--id", "0", "--peers", peers, "--max-log-bytes", "1000"]) }
        #expect(ServeConfiguration(id: NodeID(0), peers: c.peers, client: c.client).reads == .readIndex)
        #expect(try ServeOptions.parse(["--help"]) == nil)
    }

    /// Protected mode looks at every address that takes connections from others, not only `--peers` and
    /// `--client`: a peer listener on 0.0.0.0 took peers from anywhere with no cluster key.
    @Test func protectedModeCoversThePeerListenerAndTheMetricsEndpoint() throws {
        let loopback = { (port: UInt16) in PeerAddress(host: "127.0.0.1", port: port) }
        var c = ServeConfiguration(id: NodeID(0), peers: [loopback(1)], client: loopback(2))
        func refusal() -> String? {
            do {
                _ = try ServedNode(c, log: { _ in })
                return nil
            } catch {
                return "\(error)"
            }
        }
        c.peerListen = PeerAddress(host: "0.0.0.0", port: 3)
        let listen = refusal()
        #expect(listen?.hasPrefix("protected mode: --listen-peers 0.0.0.0:3 is not a loopback address") == true, "\(listen ?? "accepted")")
        c.peerListen = nil
        c.metrics = PeerAddress(host: "0.0.0.0", port: 4)
        let metrics = refusal()
        #expect(metrics?.contains("--metrics 0.0.0.0:4 is not a loopback address") == true && metrics?.contains("--metrics-public") == true,
                "\(metrics ?? "accepted")")
        // The flags that allow them.
        let parsed = try #require(try ServeOptions.parse(["--id", "0", "--peers", peers, "--client", "127.0.0.1:7000", "--in-memory",
                                                          "--listen-peers", "0.0.0.0:7100", "--no-peer-auth",
                                                          "--metrics", "0.0.0.0:9100", "--metrics-public"]))
        #expect(parsed.configuration.allowUnauthenticatedPeers && parsed.configuration.allowPublicMetrics)
        #expect(parsed.configuration.peerListen == PeerAddress(host: "0.0.0.0", port: 7100))
    }

    /// The client limit fits the descriptors beside peers and files: the default is lowered (said in a line), a
    /// given one that does not fit is refused naming what to change.
    @Test func theClientLimitFitsTheDescriptorLimit() throws {
        let limits = TransportLimits()  // 10,000 clients, 64 peer connections waiting to authenticate
        let needed = 10_000 + 64 + 2 * 3 + DescriptorLimit.reserved
        #expect(try DescriptorLimit.fit(limits, peers: 3, available: needed, hard: needed, explicit: true).note == nil)
        let lowered = try DescriptorLimit.fit(limits, peers: 3, available: 1_024, hard: 4_096, explicit: false)
        #expect(lowered.limits.maxClients == 1_024 - (needed - 10_000))
        #expect(lowered.note == "at most 890 clients (not 10000): \(needed) file descriptors are needed for 10000 and this "
                + "process may open 1024 (ulimit -n; the hard limit is 4096); raise it, or give --max-clients")
        do {
            _ = try DescriptorLimit.fit(limits, peers: 3, available: 1_024, hard: 4_096, explicit: true)
            Issue.record("a --max-clients that cannot fit was accepted")
        } catch {
            #expect("\(error)" == "--max-clients 10000 needs about \(needed) file descriptors and this process may open 1024 "
                    + "(ulimit -n; the hard limit is 4096): lower --max-clients or raise the limit")
        }
        #expect(throws: ServeError.self) { try DescriptorLimit.fit(limits, peers: 3, available: 100, hard: 100, explicit: false) }
        // Raising toward what is needed never goes past the hard limit, and leaves a higher soft limit alone.
        let (soft, hard) = DescriptorLimit.raise(toward: 16)
        #expect(soft >= 16 || soft == hard)
        #expect(try ServeOptions.parse(["--id", "0", "--peers", peers, "--client", "127.0.0.1:7000", "--in-memory",
                                        "--max-clients", "5"])?.configuration.maxClientsGiven == true)
    }

    @Test(arguments: [
        ([String](), "missing --id"),
        (["--id", "0", "--peers", "127.0.0.1:1", "--client", "127.0.0.1:2"], "missing --data"),
        (["--id", "3", "--peers", "127.0.0.1:1", "--client", "127.0.0.1:2", "--data", "d"], "--id 3 is not an index"),
        (["--id", "x"], "--id 'x'"),
        (["--id", "0", "--peers", "127.0.0.1:99999"], "'127.0.0.1:99999': the port"),
        (["--id", "0", "--peers", "host:1"], "'host' is not an IPv4 address"),
        (["--id", "0", "--peers", "127.0.0.1"], "expected HOST:PORT"),
        (["--id", "0", "--peers", "127.0.0.1:1,127.0.0.1:1"], "lists an address twice"),
        (["--id", "0", "--peers", "127.0.0.1:1,"], "address ''"),
        (["--mode", "fast"], "--mode 'fast'"),
        (["--data", ""], "--data '' is empty"),
        (["--cluster-id", ""], "--cluster-id ''"),
        (["--heartbeat-ms", "0"], "--heartbeat-ms '0'"),
        (["--bogus"], "unknown option '--bogus'"),
        (["--id", "0", "--peers", "127.0.0.1:1", "--client", "127.0.0.1:1", "--data", "d"], "is also a peer address"),
        (["--id", "0", "--peers", "127.0.0.1:1", "--client", "127.0.0.1:2", "--data", "d", "--in-memory"], "exclude each other"),
        (["--id", "0", "--peers", "127.0.0.1:1", "--client", "127.0.0.1:2", "--data", "d",
          "--heartbeat-ms", "500", "--leader-timeout-ms", "400"], "must exceed --heartbeat-ms"),
    ])
    func badFlagsNameTheBadValue(args: [String], fragment: String) {
        do {
            _ = try ServeOptions.parse(args)
            Issue.record("\(args) was accepted")
        } catch {
            #expect(error.message.contains(fragment), "\(error.message)")
            #expect(!error.message.contains("\n"))
        }
    }

    @Test func metricsTakesAPortOnLoopbackOrAnAddress() throws {
        let base = ["--id", "0", "--peers", "127.0.0.1:1", "--client", "127.0.0.1:2", "--data", "d"]
        #expect(try ServeOptions.parse(base)?.configuration.metrics == nil, "no listener unless asked")
        #expect(try ServeOptions.parse(base + ["--metrics", "9100"])?.configuration.metrics == PeerAddress(host: "127.0.0.1", port: 9100))
        #expect(try ServeOptions.parse(base + ["--metrics", "0.0.0.0:9100"])?.configuration.metrics == PeerAddress(host: "0.0.0.0", port: 9100))
        for (value, fragment) in [("x", "--metrics: address '127.0.0.1:x'"), ("host:9", "'host' is not an IPv4 address"),
                                  ("127.0.0.1:2", "--metrics 127.0.0.1:2 is also a client or peer address"),
                                  ("127.0.0.1:1", "is also a client or peer address")] {
            do {
                _ = try ServeOptions.parse(base + ["--metrics", value])
                Issue.record("--metrics \(value) was accepted")
            } catch {
                #expect(error.message.contains(fragment) && !error.message.contains("\n"), "\(error.message)")
            }
        }
        let cluster = try #require(try ClusterOptions.parse(["--base-port", "9000", "--metrics-base-port", "9300"]))
        #expect(cluster.serveArguments(node: 2).joined(separator: " ").contains("--metrics 127.0.0.1:9302"))
        #expect(try ClusterOptions.parse([])?.serveArguments(node: 0).contains("--metrics") == false)
    }

    @Test func clusterGivesEachNodeItsOwnPortsAndDirectory() throws {
        let options = try #require(try ClusterOptions.parse(["--nodes", "3", "--base-port", "9000", "--data", "x",
                                                              "--heartbeat-ms", "20"]))
        let args = options.serveArguments(node: 1)
        #expect(args.starts(with: ["serve", "--id", "1", "--peers", "127.0.0.1:9100,127.0.0.1:9101,127.0.0.1:9102",
                                   "--client", "127.0.0.1:9001"]))
        #expect(args.contains("x/node-1") && args.suffix(2) == ["--heartbeat-ms", "20"])
        #expect(args.contains("x/cluster.key"), "nodes authenticate each other with the cluster's key")
        var withoutKey = Array(args.dropFirst())
        withoutKey.removeSubrange(withoutKey.firstIndex(of: "--cluster-key-file")!...withoutKey.firstIndex(of: "--cluster-key-file")! + 1)
        let parsed = try #require(try ServeOptions.parse(withoutKey))
        #expect(parsed.configuration.id == NodeID(1))
        for (bad, fragment) in [(["--nodes", "0"], "--nodes '0'"), (["--base-port", "70000"], "--base-port '70000'"),
                                (["--oops"], "unknown option '--oops'"), (["--batch", "0"], "--batch '0'"),
                                (["--window", "x"], "--window 'x'"), (["--reads", "fast"], "--reads 'fast'")] {
            #expect(throws: OptionsError.self) { try ClusterOptions.parse(bad) }
            do { _ = try ClusterOptions.parse(bad) } catch { #expect(error.message.contains(fragment)) }
        }
    }

    @Test func loadNeedsItsNodesAndChecksRanges() throws {
        let parsed = try #require(try LoadOptions.parse(["--resp", "127.0.0.1:1,127.0.0.1:2", "--clients", "64",
                                                         "--seconds", "2.5", "--get-ratio", "0.5", "--value-bytes", "100"]))
        #expect(parsed.addresses.count == 2 && parsed.clients == 64 && parsed.seconds == 2.5 && parsed.getRatio == 0.5)
        for (bad, fragment) in [([String](), "missing --resp"), (["--resp", "x"], "--resp"),
                                (["--resp", "127.0.0.1:1", "--seconds", "-1"], "--seconds '-1'"),
                                (["--resp", "127.0.0.1:1", "--get-ratio", "2"], "--get-ratio '2'")] {
            do {
                _ = try LoadOptions.parse(bad)
                Issue.record("\(bad) was accepted")
            } catch {
                #expect(error.message.contains(fragment), "\(error.message)")
            }
        }
    }

    @Test func secretFilesOthersMayReadAreRefusedAtStart() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("secrets-\(UInt64.random(in: 1...UInt64.max))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let key = dir + "/cluster.key"
        try ClusterKeys.generate(path: key)
        #expect(throws: KeyFileError.self) { try ClusterKeys.generate(path: key) }  // never overwritten
        let base = ["--id", "0", "--peers", "127.0.0.1:1", "--client", "127.0.0.1:2", "--data", "d"]
        #expect(try ServeOptions.parse(base + ["--cluster-key-file", key])?.configuration.clusterKeys != nil)
        chmod(key, 0o640)
        do {
            _ = try ServeOptions.parse(base + ["--cluster-key-file", key])
            Issue.record("a group-readable key file was accepted")
        } catch {
            #expect(error.message.contains(key) && error.message.contains("0640"), "\(error.message)")
        }
        let password = dir + "/password"
        #expect(FileManager.default.createFile(atPath: password, contents: Data("pw\n".utf8), attributes: [.posixPermissions: 0o644]))
        do {
            _ = try ServeOptions.parse(base + ["--password-file", password])
            Issue.record("a world-readable password file was accepted")
        } catch {
            #expect(error.message.contains(password), "\(error.message)")
        }
    }

    @Test(arguments: FuzzTarget.allCases)
    func fuzzTargetsRunTheirBoundedCountsClean(target: FuzzTarget) {
        let report = Fuzzer.run(target, seed: 1, count: target == .storage ? 300 : 3000,
                                scratchDirectory: FileManager.default.temporaryDirectory.path)
        #expect(report.failure == nil, "\(report)")
        #expect(report.accepted > 0 && report.refused > 0, "both valid and refused inputs were fed: \(report)")
    }
}
