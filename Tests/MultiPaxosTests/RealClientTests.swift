import Foundation
import Testing
@testable import MultiPaxos

/// Real Redis clients against a served cluster with a password, when they are installed (they are measuring
/// sticks, never dependencies): `redis-cli` (Debian's redis-tools) and the PyPI `redis` package, whose version 8
/// opens every connection with `HELLO 3 AUTH`. Skipped, and reported as skipped, when absent.
extension ProcessTests {
    @Suite struct RealClientTests {
        static func installed(_ tool: String) -> String? {
            let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
            return path.split(separator: ":").map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
        }
        static let redisCLI = installed("redis-cli")
        static let pythonWithRedis: String? = {
            guard let python = installed("python3") else { return nil }
            return run(python, ["-c", "import redis"]).status == 0 ? python : nil
        }()

        static func run(_ tool: String, _ args: [String]) -> (status: Int32, output: String) {
            do {
                let run = try ChildProcess.run(URL(fileURLWithPath: tool), args, timeout: .seconds(120))
                return (run.status, run.output + run.errors)
            } catch {
                return (-1, "\(error)")
            }
        }

        func protectedCluster() throws -> ServedProcesses {
            let cluster = try ServedProcesses(nodes: 3)
            let passwordFile = cluster.root + "/password"
            #expect(FileManager.default.createFile(atPath: passwordFile, contents: Data("pw1\n".utf8), attributes: [.posixPermissions: 0o600]))
            cluster.extraArguments += ["--password-file", passwordFile]
            try cluster.startAll()
            let connection = try cluster.connect(0)
            #expect(try connection.call(["AUTH", "pw1"], deadline: .now + .seconds(5)) == .ok)
            var reply = RESPValue.null
            let deadline = ContinuousClock.now + .seconds(20)
            while reply != .ok, ContinuousClock.now < deadline { reply = try connection.call(["SET", "ready", "1"], deadline: deadline) }
            return cluster
        }

        @Test(.enabled(if: redisCLI != nil, "redis-cli is not installed (apt-get install redis-tools)"))
        func redisCliWorksThroughAFollowerAndTheLeader() throws {
            let cluster = try protectedCluster()
            defer { cluster.stopAll() }
            let cli = Self.redisCLI!
            for i in 0..<3 {
                let port = "\(cluster.clientPorts[i])"
                #expect(Self.run(cli, ["-p", port, "--no-auth-warning", "-a", "pw1", "SET", "k\(i)", "v\(i)"]).output == "OK\n")
                #expect(Self.run(cli, ["-p", port, "--no-auth-warning", "-a", "pw1", "GET", "k\(i)"]).output == "v\(i)\n")
                #expect(Self.run(cli, ["-p", port, "GET", "k\(i)"]).output.contains("NOAUTH"))
            }
        }

        /// Redis's documented bulk load: `redis-cli --pipe` writes 100,000 commands while it reads the replies.
        @Test(.enabled(if: redisCLI != nil, "redis-cli is not installed (apt-get install redis-tools)"))
        func redisCliPipeLoadsAHundredThousandCommandsInFull() throws {
            let cluster = try ServedProcesses(nodes: 3)
            defer { cluster.stopAll() }
            try cluster.startAll()
            try cluster.waitUntilServing(1)
            let file = cluster.root + "/bulk.resp"
            let bytes = (0..<100_000).flatMap { RESPConnection.encode([Array("SET".utf8), Array("bulk:\($0)".utf8), Array("v\($0)".utf8)]) }
            #expect(FileManager.default.createFile(atPath: file, contents: Data(bytes)))
            // redis-cli gives up by itself after 30 s without a reply; `timeout` bounds the whole run besides.
            let result = Self.run("/usr/bin/env", ["timeout", "120", "sh", "-c", "\(Self.redisCLI!) -p \(cluster.clientPorts[1]) --pipe < \(file)"])
            #expect(result.status == 0 && result.output.contains("errors: 0, replies: 100000"), "\(result.output)")
            #expect(try cluster.call(0, ["GET", "bulk:99999"]) == .bulk("v99999"))
        }

        /// redis-py's pipelines of 10,000 SETs and of 10,000 APPENDs complete in one attempt (a stall would make its
        /// default retry send them again: each APPEND must be applied exactly once).
        @Test(.enabled(if: pythonWithRedis != nil, "the PyPI redis package is not installed (pip install redis)"))
        func redisPyPipelinesOfTenThousandRunOnce() throws {
            let cluster = try protectedCluster()
            defer { cluster.stopAll() }
            let script = """
                import redis
                r = redis.Redis(port=\(cluster.clientPorts[2]), password="pw1", socket_timeout=60)
                p = r.pipeline(transaction=False)
                for i in range(10000): p.set(f"s{i}", i)
                assert p.execute() == [True] * 10000
                p = r.pipeline(transaction=False)
                for i in range(10000): p.append("log", "x")
                assert p.execute() == list(range(1, 10001))
                assert len(r.get("log")) == 10000, len(r.get("log"))
                print("ok")
                """
            let result = Self.run(Self.pythonWithRedis!, ["-c", script])
            #expect(result.status == 0 && result.output.hasSuffix("ok\n"), "\(result.output)")
        }

        @Test(.enabled(if: pythonWithRedis != nil, "the PyPI redis package is not installed (pip install redis)"))
        func redisPyWithItsDefaultsWorks() throws {
            let cluster = try protectedCluster()
            defer { cluster.stopAll() }
            let script = """
                import redis
                for port in (\(cluster.clientPorts.map(String.init).joined(separator: ", "))):
                    r = redis.Redis(port=port, password="pw1")
                    assert r.set("py", str(port)) is True
                    assert r.get("py") == str(port).encode()
                    assert r.append("py", "!") == len(str(port)) + 1
                    assert r.delete("py") == 1
                    p = r.pipeline(transaction=False)
                    for i in range(20): p.set(f"p{i}", i)
                    for i in range(20): p.get(f"p{i}")
                    out = p.execute()
                    assert out[20:] == [str(i).encode() for i in range(20)], out
                try:
                    redis.Redis(port=\(cluster.clientPorts[0]), password="wrong").ping()
                    raise SystemExit("a wrong password was accepted")
                except redis.exceptions.AuthenticationError:
                    pass
                print("ok")
                """
            let result = Self.run(Self.pythonWithRedis!, ["-c", script])
            #expect(result.status == 0 && result.output.hasSuffix("ok\n"), "\(result.output)")
        }
    }
}
