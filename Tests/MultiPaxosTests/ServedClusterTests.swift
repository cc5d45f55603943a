import Foundation
import Testing
@testable import MultiPaxos

/// Clusters of `multipaxos serve` processes on loopback: each test starts its own, on ephemeral ports, and
/// stops every process by its PID when it ends.
extension ProcessTests {
@Suite struct ServedClusterTests {
    @Test func aClusterOfProcessesSurvivesTheLeadersKillAndLosesNoAcknowledgedWrite() async throws {
        let cluster = try ServedProcesses(nodes: 3)
        defer { cluster.stopAll() }
        try cluster.startAll()
        for i in 0..<3 { try cluster.waitUntilServing(i) }

        // Through RESP, on every node: a reply means committed and applied.
        #expect(try cluster.call(1, ["SET", "greeting", "hello"]) == .ok)
        #expect(try cluster.call(2, ["GET", "greeting"]) == .bulkString(Array("hello".utf8)))
        #expect(try cluster.call(0, ["APPEND", "greeting", "!"]) == .integer(6))
        // A transaction through one node, its writes read through the others; keys and values that are not UTF-8.
        let tx = try cluster.connect(2)
        let deadline = ContinuousClock.now + .seconds(10)
        let key: [UInt8] = [0xFF, 0x00, 0x6B], value: [UInt8] = [0xC3, 0x28, 0xFE]
        #expect(try tx.call(["MULTI"], deadline: deadline) == .ok)
        #expect(try tx.call([Array("SET".utf8), key, value], deadline: deadline) == .simpleString("QUEUED"))
        #expect(try tx.call(["INCRBY", "counter", "41"], deadline: deadline) == .simpleString("QUEUED"))
        #expect(try tx.call(["INCR", "counter"], deadline: deadline) == .simpleString("QUEUED"))
        #expect(try tx.call(["EXEC"], deadline: deadline) == .array([.ok, .integer(41), .integer(42)]))
        #expect(try cluster.connect(1).call([Array("MGET".utf8), key, Array("counter".utf8), [0x80]], deadline: deadline)
                == .array([.bulkString(value), .bulk("42"), .null]))
        #expect(try cluster.call(0, ["KEYS", "c*"]) == .array([.bulk("counter")]))
        #expect(try cluster.call(1, ["DEL", "counter", "nope"]) == .integer(1))

        // Through RemoteClient: appends, acknowledged one by one.
        let client = try RemoteClient(nodes: cluster.clientAddresses, requestTimeout: .milliseconds(700), giveUpAfter: .seconds(20))
        var acknowledged = 0
        for i in 0..<15 {
            _ = try await client.run(.append("log", "\(i);"))
            acknowledged += 1
        }
        guard let leader = cluster.leader() else {
            Issue.record("no node logged its election")
            return
        }
        func elected(_ i: Int) -> [String] {  // the ballots node i logged winning, in order
            cluster.log(i).split(separator: "\n").filter { $0.contains("leader elected") }.map { String($0.split(separator: " ").last ?? "") }
        }
        let killedBallot = elected(leader).last ?? ""
        cluster.kill(leader)  // kill -9
        for i in 15..<30 {
            _ = try await client.run(.append("log", "\(i);"))
            acknowledged += 1
        }
        let survivors = (0..<3).filter { $0 != leader }
        #expect(survivors.contains { elected($0).contains { $0.compare(killedBallot, options: .numeric) == .orderedDescending } },
                "a survivor was elected with a ballot above the killed leader's \(killedBallot)")

        // The killed node comes back on its data directory and catches up.
        try cluster.start(leader)
        try cluster.waitUntilServing(leader)
        let expected = (0..<acknowledged).map { "\($0);" }.joined()
        for i in 0..<3 {
            let reply = try cluster.call(i, ["GET", "log"])
            #expect(reply == .bulkString(Array(expected.utf8)), "node \(i): \(reply)")
        }
        // Stopped with SIGTERM, every node exits 0.
        for i in 0..<3 {
            guard let process = cluster.processes[i] else {
                Issue.record("node \(i) is not running")
                continue
            }
            cluster.kill(i, signal: SIGTERM)
            #expect(process.terminationStatus == 0, "node \(i): \(cluster.log(i))")
        }
    }

    @Test func aDataDirectoryRefusesOtherPeersAndForeignPeersAreRefused() async throws {
        let cluster = try ServedProcesses(nodes: 3)
        defer { cluster.stopAll() }
        try cluster.startAll()
        try cluster.waitUntilServing(0)
        cluster.kill(2, signal: SIGTERM)

        // Node 2's directory belongs to this cluster: other members, or another mode, are refused at start.
        let spare = try reservePorts(1)
        defer { withExtendedLifetime(spare) {} }
        for change in [["--peers", cluster.peers + ",127.0.0.1:1"], ["--mode", "per-slot"], ["--cluster-id", "other"]] {
            var args = cluster.arguments(2)
            if let at = args.firstIndex(of: change[0]) { args[at + 1] = change[1] } else { args += change }
            if change[0] == "--peers" { args[args.firstIndex(of: "--client")! + 1] = "127.0.0.1:\(spare.ports[0])" }
            let (status, _, text) = try ChildProcess.run(cluster.binary, args, timeout: .seconds(30))
            #expect(status == 1, "\(change): \(text)")
            #expect(text.contains("holds node n2 of cluster 'multipaxos'") && text.contains("asked to start"), "\(text)")
            #expect(text.split(separator: "\n").count == 1, "one line: \(text)")
        }

        // A process of another cluster that dials the peers is refused, with a line naming why.
        var foreign = cluster.arguments(2)
        foreign[foreign.firstIndex(of: "--data")! + 1] = cluster.root + "/foreign"
        foreign += ["--cluster-id", "other"]
        try cluster.start(2, arguments: foreign)
        let deadline = ContinuousClock.now + .seconds(10)
        while !cluster.log(0).contains("cluster 'other'"), ContinuousClock.now < deadline { usleep(50_000) }
        #expect(cluster.log(0).contains("closed: it belongs to cluster 'other', not 'multipaxos'"), "\(cluster.log(0))")
        // The foreign node never counts: with node 1 stopped, node 0 alone cannot commit.
        cluster.kill(1, signal: SIGTERM)
        let reply = try cluster.call(0, ["SET", "x", "1"], seconds: 10)
        guard case .error(let message) = reply else {
            Issue.record("a write committed with one real member of three: \(reply)")
            return
        }
        #expect(message.hasPrefix("TRYAGAIN"))
    }

    @Test func randomBytesOnEitherPortNeitherCrashANodeNorStopItServing() async throws {
        let cluster = try ServedProcesses(nodes: 3)
        defer { cluster.stopAll() }
        try cluster.startAll()
        try cluster.waitUntilServing(0)
        var rng = SystemRandomNumberGenerator()
        var delivered = 0
        for round in 0..<20 {
            for port in [cluster.peerPorts[0], cluster.clientPorts[0]] {
                let deadline = ContinuousClock.now + .seconds(5)
                // Every connection is accepted: junk on earlier ones must not stop the node listening.
                let connection = try RESPConnection(to: PeerAddress(host: "127.0.0.1", port: port), deadline: deadline)
                var junk = (0..<(1 + round * 50)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                if round % 4 == 0 { junk = Array("*1\r\n$999999999999\r\n".utf8) + junk }
                do {
                    try connection.send(junk, deadline: deadline)
                    delivered += 1
                } catch {
                    // The node may close a connection at its first bad byte, before the rest is sent.
                }
            }
        }
        #expect(delivered >= 20, "only \(delivered) of 40 junk sends went through: the test would prove nothing")
        #expect(try cluster.call(0, ["SET", "after", "junk"]) == .ok)
        #expect(try cluster.call(1, ["GET", "after"]) == .bulkString(Array("junk".utf8)))
        #expect(cluster.processes[0]?.isRunning == true)
        // A malformed request gets an error reply, and its connection is closed.
        let connection = try RESPConnection(to: cluster.clientAddress(0), deadline: .now + .seconds(5))
        try connection.send(Array("*2\r\n$3\r\nGET\r\n$x\r\n".utf8), deadline: .now + .seconds(5))
        guard case .error(let message) = try connection.reply(deadline: .now + .seconds(5)) else {
            Issue.record("no error reply to malformed RESP")
            return
        }
        #expect(message.contains("Protocol error"), "\(message)")
        #expect(throws: RESPConnection.Failure.self) { try connection.reply(deadline: .now + .seconds(5)) }
    }

    @Test func aPasswordProtectedClusterAnswersAsRedisDoes() async throws {
        let cluster = try ServedProcesses(nodes: 3)
        defer { cluster.stopAll() }
        let passwordFile = cluster.root + "/password"
        #expect(FileManager.default.createFile(atPath: passwordFile, contents: Data("s3cret\n".utf8), attributes: [.posixPermissions: 0o600]))
        cluster.extraArguments += ["--password-file", passwordFile]
        try cluster.startAll()
        let deadline = ContinuousClock.now + .seconds(20)
        let connection = try cluster.connect(1)
        #expect(try connection.call(["PING"], deadline: deadline) == RESPCommands.noAuthentication)
        #expect(try connection.call(["SET", "k", "v"], deadline: deadline) == RESPCommands.noAuthentication)
        #expect(try connection.call(["AUTH", "nope"], deadline: deadline) == RESPCommands.wrongPassword)
        #expect(try connection.call(["AUTH", "s3cret"], deadline: deadline) == .ok)
        var reply = RESPValue.null
        while ContinuousClock.now < deadline {  // the cluster may still be electing its leader
            reply = try connection.call(["SET", "k", "v"], deadline: deadline)
            if reply == .ok { break }
        }
        #expect(reply == .ok)
        let hello = try cluster.connect(2)
        #expect(try hello.call(["HELLO", "3"], deadline: deadline) == RESPCommands.helloNeedsAuthentication)
        guard case .map = try hello.call(["HELLO", "3", "AUTH", "default", "s3cret"], deadline: deadline) else {
            Issue.record("HELLO 3 AUTH did not answer with a map")
            return
        }
        #expect(try hello.call(["GET", "k"], deadline: deadline) == .bulk("v"))
        let client = try RemoteClient(nodes: cluster.clientAddresses, password: "s3cret", giveUpAfter: .seconds(20))
        #expect(try await client.run(.get("k")) == .value("v"))
        let wrong = try RemoteClient(nodes: cluster.clientAddresses, password: "x", giveUpAfter: .seconds(5))
        await #expect(throws: RemoteClientError.self) { try await wrong.run(.get("k")) }
    }

    @Test func protectedModeRefusesAnOpenClientListenerWithoutAPassword() throws {
        let cluster = try ServedProcesses(nodes: 1)
        defer { cluster.stopAll() }
        var args = cluster.arguments(0)
        args[args.firstIndex(of: "--client")! + 1] = "0.0.0.0:\(cluster.clientPorts[0])"
        let (status, _, text) = try ChildProcess.run(cluster.binary, args, timeout: .seconds(30))
        #expect(status == 1)
        #expect(text.contains("protected mode") && text.contains("--password-file") && text.contains("--no-auth"), "\(text)")
    }

    /// The node's resident memory in KiB, from /proc.
    func residentKiB(_ process: Process) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    @Test func limitsHoldAgainstAbusiveClients() throws {
        let cluster = try ServedProcesses(nodes: 1)
        defer { cluster.stopAll() }
        cluster.extraArguments += ["--max-request-bytes", "1024", "--max-clients", "3"]
        try cluster.startAll()
        try cluster.waitUntilServing(0)
        let deadline = ContinuousClock.now + .seconds(20)

        // An oversized request: an error reply, the connection closed, its body never buffered.
        let big = try cluster.connect(0)
        try big.send(Array("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000000\r\n".utf8), deadline: deadline)
        guard case .error(let message) = try big.reply(deadline: deadline) else {
            Issue.record("no error for an oversized request")
            return
        }
        #expect(message.contains("1024"), "\(message)")
        #expect(throws: RESPConnection.Failure.self) { try big.reply(deadline: deadline) }

        // A client that pipelines without reading its replies: the node stops reading from it, its memory stays
        // bounded, and it goes on serving others.
        let flood = try cluster.connect(0)
        let ping = Array("*1\r\n$4\r\nPING\r\n".utf8)
        var chunk: [UInt8] = []
        for _ in 0..<10_000 { chunk += ping }
        var sent = 0
        while sent < 100, (try? flood.send(chunk, deadline: .now + .milliseconds(200))) != nil { sent += 1 }
        #expect(sent < 100, "the node kept reading from a client that never reads")
        #expect(try cluster.call(0, ["SET", "still", "serving"]) == .ok)
        let rss = residentKiB(try #require(cluster.processes[0]))
        #expect(rss > 0 && rss < 200_000, "resident memory \(rss) KiB")

        // The client-count limit (3, and the flood holds one): the fourth connection is told and closed.
        let second = try cluster.connect(0)
        #expect(try second.call(["PING"], deadline: deadline) == .simpleString("PONG"))
        let third = try cluster.connect(0)
        #expect(try third.call(["PING"], deadline: deadline) == .simpleString("PONG"))
        let fourth = try cluster.connect(0)
        #expect(try fourth.reply(deadline: deadline) == RESPCommands.tooManyClients)
    }
}
}
