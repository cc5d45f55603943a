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
