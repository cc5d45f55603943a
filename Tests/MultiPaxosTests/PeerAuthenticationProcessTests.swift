import Foundation
import Testing
@testable import MultiPaxos

/// Served clusters with a cluster key: peers that cannot prove the key are refused and never count; frames
/// that were tampered with, replayed or reordered close the connection; a key rotates node by node.
extension ProcessTests {
@Suite struct PeerAuthenticationProcessTests {
    func keyFile(_ cluster: ServedProcesses, _ name: String, keys: [[UInt8]]) throws -> String {
        let path = "\(cluster.root)/\(name)"
        let text = keys.map { $0.map { String(format: "%02x", $0) }.joined() }.joined(separator: "\n") + "\n"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]))
        return path
    }

    func randomKey() -> [UInt8] { (0..<32).map { _ in UInt8.random(in: 0...255) } }

    func start(_ cluster: ServedProcesses, _ i: Int, keyFile: String) throws {
        try cluster.start(i, arguments: cluster.arguments(i) + ["--cluster-key-file", keyFile])
    }

    @Test func aPeerWithAnotherKeyIsRefusedAndNeverCounts() throws {
        let cluster = try ServedProcesses(nodes: 3)
        defer { cluster.stopAll() }
        let good = try keyFile(cluster, "good.key", keys: [randomKey()])
        let bad = try keyFile(cluster, "bad.key", keys: [randomKey()])
        // The cluster forms with every initial voter (see Seed); then node 2 is started again with another key.
        for i in 0..<3 { try start(cluster, i, keyFile: good) }
        try cluster.waitUntilServing(0)
        cluster.kill(2)
        let before = cluster.log(0).utf8.count
        try start(cluster, 2, keyFile: bad)
        #expect(try cluster.call(1, ["SET", "k", "v"]) == .ok)
        let deadline = ContinuousClock.now + .seconds(10)
        let refusal = "peer n2 at 127.0.0.1:\(cluster.peerPorts[2]): authentication failed: the peer's proof matches no cluster key"
        while !cluster.log(0).contains(refusal), ContinuousClock.now < deadline { usleep(50_000) }
        #expect(cluster.log(0).contains(refusal), "\(cluster.log(0))")
        let since = String(decoding: cluster.log(0).utf8.dropFirst(before), as: UTF8.self)
        // The link's lines (a replica asking n2 for the log it missed is not about the link).
        let lines = since.split(separator: "\n").filter { $0.contains("n2") && !$0.contains("catching up") }
        #expect(lines.count <= 4, "one line per change, not one per retry: \(lines)")
        #expect(cluster.log(2).contains("authentication failed"), "the impostor is refused by the others too")
        // Node 2 never counts: with node 1 stopped, node 0 and the impostor cannot commit.
        cluster.kill(1, signal: SIGTERM)
        guard case .error(let message) = try cluster.call(0, ["SET", "x", "1"]) else {
            Issue.record("a write committed with one real member of three")
            return
        }
        #expect(message.hasPrefix("TRYAGAIN"))
    }

    /// Before a peer has proved the key it may send only its small nonce and proof frames, and only so many
    /// connections may wait to authenticate at once: an unauthenticated peer could make the node buffer 16 MiB
    /// per connection, with any number of connections.
    @Test func beforeAuthenticatingAPeerMaySendOnlySmallFramesAndFewMayWait() throws {
        let cluster = try ServedProcesses(nodes: 3)
        defer { cluster.stopAll() }
        try start(cluster, 0, keyFile: try keyFile(cluster, "cluster.key", keys: [randomKey()]))
        let listening = ContinuousClock.now + .seconds(20)
        while !cluster.log(0).contains("listening for peers"), ContinuousClock.now < listening { usleep(20_000) }
        let address = PeerAddress(host: "127.0.0.1", port: cluster.peerPorts[0])
        func closedAtOnce(_ connection: RESPConnection) -> Bool {
            do {
                _ = try connection.readFrame(deadline: .now + .seconds(3))
                return false
            } catch {
                return (error as? RESPConnection.Failure) != .timedOut  // closed, not merely quiet
            }
        }
        // A hello, then a frame of 300 bytes where a nonce belongs: closed at its header.
        let big = try RESPConnection(to: address, deadline: .now + .seconds(5))
        try big.send(try Handshake(clusterID: "multipaxos", node: NodeID(1)).encoded() + Frame.frame([UInt8](repeating: 7, count: 300)),
                     deadline: .now + .seconds(5))
        #expect(closedAtOnce(big))
        #expect(cluster.log(0).contains("frame of 300 bytes is over the limit of 256 bytes"), "\(cluster.log(0))")
        // 64 connections that say nothing wait for their handshake timeout; more are closed at once, said once.
        let waiting = try (0..<64).map { _ in try RESPConnection(to: address, deadline: .now + .seconds(5)) }
        let more = try (0..<6).map { _ in try RESPConnection(to: address, deadline: .now + .seconds(5)) }
        #expect(more.allSatisfy(closedAtOnce))
        #expect(cluster.log(0).components(separatedBy: "have not finished their handshake (limit 64)").count == 2, "\(cluster.log(0))")
        withExtendedLifetime(waiting) {}
    }

    /// Dials node 0's peer port as node 2 with the right key, completes the challenge–response, and returns the
    /// socket with the session, ready for frames.
    func impersonate(_ cluster: ServedProcesses, key: [UInt8]) throws -> (RESPConnection, PeerSession) {
        let deadline = ContinuousClock.now + .seconds(10)
        let connection = try RESPConnection(to: PeerAddress(host: "127.0.0.1", port: cluster.peerPorts[0]), deadline: deadline)
        var rng = SystemRandomNumberGenerator()
        let handshake = PeerHandshake(role: .dialer, keys: try #require(ClusterKeys(keys: [key])),
                                      binding: PeerBinding(clusterID: "multipaxos", dialer: NodeID(2), acceptor: NodeID(0)),
                                      ownNonce: PeerNonce.random(using: &rng))
        try connection.send(try Handshake(clusterID: "multipaxos", node: NodeID(2)).encoded() + Frame.frame(handshake.ownNonce.bytes),
                            deadline: deadline)
        let reply = try connection.readFrame(deadline: deadline)
        let nonce = try PeerNonce(bytes: Array(reply.prefix(PeerNonce.byteCount)))
        let session = try handshake.verify(peerProof: Array(reply.dropFirst(PeerNonce.byteCount)), peerNonce: nonce)
        try connection.send(Frame.frame(handshake.proof(peerNonce: nonce)), deadline: deadline)
        return (connection, session)
    }

    @Test func tamperedReplayedAndReorderedFramesCloseTheConnection() throws {
        let cluster = try ServedProcesses(nodes: 3)
        defer { cluster.stopAll() }
        let key = randomKey()
        let file = try keyFile(cluster, "cluster.key", keys: [key])
        for i in 0..<3 { try start(cluster, i, keyFile: file) }
        try cluster.waitUntilServing(0)
        let heartbeat = WireCodec.encode(.heartbeatReply(HeartbeatReply(ballot: .initial, applied: .zero, acceptedEnd: .zero)))
        let cases: [(String, (inout PeerSession) -> [UInt8])] = [
            ("tampered", { s in var f = s.outgoing.seal(heartbeat); f[0] ^= 1; return Frame.frame(f) }),
            ("replayed", { s in let f = s.outgoing.seal(heartbeat); return Frame.frame(f) + Frame.frame(f) }),
            ("reordered", { s in let a = s.outgoing.seal(heartbeat), b = s.outgoing.seal(heartbeat); return Frame.frame(b) + Frame.frame(a) }),
        ]
        for (name, frames) in cases {
            let before = cluster.log(0).components(separatedBy: "failed its MAC").count
            var (connection, session) = try impersonate(cluster, key: key)
            try connection.send(frames(&session), deadline: .now + .seconds(5))
            #expect(throws: RESPConnection.Failure.self, "\(name): the node closes the connection") {
                _ = try connection.readFrame(deadline: .now + .seconds(5))
            }
            #expect(cluster.log(0).components(separatedBy: "failed its MAC").count == before + 1, "\(name): \(cluster.log(0))")
        }
        #expect(try cluster.call(0, ["SET", "after", "attacks"]) == .ok)
    }

    @Test func aKeyRotatesNodeByNodeWhileWritesGoOn() async throws {
        let cluster = try ServedProcesses(nodes: 3)
        defer { cluster.stopAll() }
        let old = randomKey(), new = randomKey()
        let steps = [try keyFile(cluster, "old.key", keys: [old]), try keyFile(cluster, "both.key", keys: [old, new]),
                     try keyFile(cluster, "swapped.key", keys: [new, old]), try keyFile(cluster, "new.key", keys: [new])]
        for i in 0..<3 { try start(cluster, i, keyFile: steps[0]) }
        let client = try RemoteClient(nodes: cluster.clientAddresses, requestTimeout: .milliseconds(700), giveUpAfter: .seconds(20))
        var written = 0
        for step in steps.dropFirst() {
            for i in 0..<3 {
                cluster.kill(i, signal: SIGTERM)
                try start(cluster, i, keyFile: step)
                _ = try await client.run(.append("log", "\(written);"))
                written += 1
            }
        }
        let expected = (0..<written).map { "\($0);" }.joined()
        #expect(try await client.run(.get("log")) == .value(ByteString(expected)))
        #expect(!cluster.log(0).contains("failed authentication"), "\(cluster.log(0))")
    }
}
}

extension RESPConnection {
    /// Reads one peer frame's payload (the tests speak the peer protocol through this socket too).
    func readFrame(deadline: ContinuousClock.Instant) throws -> [UInt8] {
        var decoder = FrameDecoder(maxFrameBytes: 4096)
        while true {
            if let frame = try decoder.next() { return frame }
            decoder.append(try readSome(deadline: deadline))
        }
    }
}
