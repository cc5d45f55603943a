import Foundation
import Testing
@testable import MultiPaxos

/// The README's `multipaxos cluster` command as a new user runs it, and the repository's secrets: none.
extension ProcessTests {
    @Suite struct ClusterCommandTests {
        static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        static let git: String? = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map { "\($0)/git" }.first { FileManager.default.isExecutableFile(atPath: $0) }

        /// Runs `tool args` in `directory`; returns its status and its output (both streams).
        static func run(_ tool: String, _ args: [String], in directory: String) throws -> (status: Int32, output: String) {
            let run = try ChildProcess.run(URL(fileURLWithPath: tool), args, directory: directory, timeout: .seconds(60))
            return (run.status, run.output + run.errors)
        }

        /// Six free loopback ports P, P+1, P+2, P+100, P+101, P+102 (drawn, then checked by binding; bounded tries).
        static func freeBase() throws -> UInt16 {
            for _ in 0..<50 {
                let base = UInt16.random(in: 20_000...40_000)
                let ports = [0, 1, 2, 100, 101, 102].map { base + $0 }
                var fds: [Int32] = []
                defer { for fd in fds { close(fd) } }
                for port in ports {
                    guard let fd = try? Sockets.listen(on: PeerAddress(host: "127.0.0.1", port: port)) else { break }
                    fds.append(fd)
                }
                if fds.count == ports.count { return base }
            }
            throw RESPConnection.Failure.timedOut
        }

        @Test(.enabled(if: git != nil, "git is not installed"))
        func theRepositoryTracksNoKeyFile() throws {
            guard FileManager.default.fileExists(atPath: Self.repository.appendingPathComponent(".git").path) else { return }
            let listed = try Self.run(Self.git!, ["ls-files", "--", "*.key", "multipaxos-cluster"], in: Self.repository.path)
            #expect(listed.status == 0 && listed.output.isEmpty, "tracked secrets: \(listed.output)")
        }

        /// `load` against what `cluster` serves, as the README's benchmark does: throughput and latency, exit 0.
        @Test func loadDrivesTheClusterCommandsNodes() throws {
            let directory = try scratchDirectory("cluster-load").path
            let base = try Self.freeBase()
            let cluster = try ChildProcess(try multipaxosExecutable(),
                                           ["cluster", "--nodes", "3", "--base-port", "\(base)", "--quiet"],
                                           directory: directory, output: .discard, errors: .discard)
            defer { #expect(cluster.stop(SIGTERM, grace: .seconds(30)) && cluster.status == 0, "cluster: \(cluster.status)") }
            let deadline = ContinuousClock.now + .seconds(30)
            var reply = RESPValue.null
            while reply != .ok, ContinuousClock.now < deadline {
                if let connection = try? RESPConnection(to: PeerAddress(host: "127.0.0.1", port: base), deadline: deadline) {
                    reply = (try? connection.call(["SET", "ready", "yes"], deadline: deadline)) ?? .null
                }
                if reply != .ok { usleep(100_000) }
            }
            try #require(reply == .ok, "the cluster never served")
            let nodes = (0..<3).map { "127.0.0.1:\(base + UInt16($0))" }.joined(separator: ",")
            let load = try ChildProcess.run(try multipaxosExecutable(),
                                            ["load", "--resp", nodes, "--seconds", "1", "--clients", "6", "--get-ratio", "0.5"],
                                            timeout: .seconds(60))
            #expect(load.status == 0, "\(load.output) \(load.errors)")
            #expect(load.output.contains("/s") && load.output.contains("p99"), "\(load.output)")
        }

        @Test func clusterInAnEmptyDirectoryServesSetAndGet() throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-\(UInt64.random(in: 1...UInt64.max))").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let base = try Self.freeBase()
            let cluster = try ChildProcess(try multipaxosExecutable(),
                                           ["cluster", "--nodes", "3", "--base-port", "\(base)", "--quiet"],
                                           directory: directory, output: .discard, errors: .discard)
            defer {
                // The cluster stops its nodes by their PIDs on SIGTERM.
                #expect(cluster.stop(SIGTERM, grace: .seconds(30)) && cluster.status == 0, "cluster: \(cluster.status)")
            }
            let deadline = ContinuousClock.now + .seconds(30)
            var reply = RESPValue.null
            while reply != .ok, ContinuousClock.now < deadline {
                if let connection = try? RESPConnection(to: PeerAddress(host: "127.0.0.1", port: base + 1), deadline: deadline) {
                    reply = (try? connection.call(["SET", "greeting", "hello"], deadline: deadline)) ?? .null
                }
                if reply != .ok { usleep(100_000) }
            }
            #expect(reply == .ok)
            let reader = try RESPConnection(to: PeerAddress(host: "127.0.0.1", port: base + 2), deadline: deadline)
            #expect(try reader.call(["GET", "greeting"], deadline: deadline) == .bulk("hello"))
            // The key was made in the data folder, readable by its owner alone.
            let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/multipaxos-cluster/cluster.key")
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
        }

        @Test(.enabled(if: git != nil, "git is not installed"))
        func clusterRefusesAKeyFileThatGitTracks() throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tracked-\(UInt64.random(in: 1...UInt64.max))").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let binary = try multipaxosExecutable().path
            #expect(try Self.run(Self.git!, ["init", "-q", "."], in: directory).status == 0)
            #expect(try Self.run(binary, ["keygen", "shared.key"], in: directory).status == 0)
            #expect(try Self.run(Self.git!, ["add", "-f", "shared.key"], in: directory).status == 0)
            let refused = try Self.run(binary, ["cluster", "--nodes", "1", "--base-port", "\(try Self.freeBase())",
                                                "--cluster-key-file", "shared.key", "--in-memory"], in: directory)
            #expect(refused.status == 1 && refused.output.contains("shared.key is tracked by git"), "\(refused)")
        }
    }
}
