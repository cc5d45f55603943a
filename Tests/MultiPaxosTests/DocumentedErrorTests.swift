import Foundation
import Testing
@testable import MultiPaxos

extension ProcessTests {
/// Every error the API documents is one a caller can actually meet: each test makes the situation the
/// documentation describes and checks the typed error (or, for `serve`, the exit status and message).
@Suite struct DocumentedErrorTests {
    /// `ClusterError.clusterUnavailable`: no member of the cluster is running to take the request.
    @Test func aClusterWithEveryNodeStoppedIsUnavailable() async throws {
        try await withLocalCluster({ try await LocalCluster(nodes: 3) }) { cluster in
            let client = await cluster.makeClient(giveUpAfter: .seconds(30))
            for i in 0..<3 { try await cluster.stop(NodeID(i)) }
            await #expect(throws: ClusterError.clusterUnavailable) { _ = try await client.run(.get("k")) }
        }
    }

    /// `TransferError.timedOut`: the target does not lead within the time given. A spare (a member that votes in
    /// no configuration: `addNode` gave up before making it a voter) is one no leader hands over to.
    @Test func aTransferToASpareTimesOut() async throws {
        try await withLocalCluster({ try await LocalCluster(nodes: 3) }) { cluster in
            _ = try await Self.leader(of: cluster)
            await #expect(throws: ClusterError.timeout(after: .zero)) { _ = try await cluster.addNode(timeout: .zero) }
            let spare = NodeID(3)
            try await Self.eventually { try await cluster.membership(of: spare) == .member }
            #expect(await !cluster.voters().contains(spare))
            // A leader change meanwhile (a loaded machine) ends the call with `.abandoned`: try again, a few times.
            var outcome: TransferError?
            for _ in 0..<3 {
                do {
                    try await cluster.transferLeadership(to: spare, timeout: .seconds(1))
                    outcome = nil
                } catch let error as TransferError {
                    outcome = error
                }
                if case .abandoned = outcome { continue }
                break
            }
            #expect(outcome == .timedOut(to: spare, after: .seconds(1)))
        }
    }

    /// `TransferError.abandoned`: the target runs and votes but receives nothing (the router drops every input
    /// to it, its timers too), so it never catches up or competes; the leader gives the transfer up after a
    /// leader timeout and assigns slots again.
    @Test func aTransferToATargetThatNeverAnswersIsAbandoned() async throws {
        try await withLocalCluster({ try await LocalCluster(nodes: 3) }) { cluster in
            let from = try await Self.leader(of: cluster)
            let target = NodeID((from.value + 1) % 3)
            await cluster.router.setDeaf(target, true)
            var outcome: TransferError?
            do {
                try await cluster.transferLeadership(to: target, timeout: .seconds(30))
            } catch let error as TransferError {
                outcome = error
            }
            guard case .abandoned(to: target, _)? = outcome else {
                Issue.record("a transfer to deaf \(target) ended \(outcome.map { "\($0)" } ?? "with it leading")")
                return
            }
            // The two members that hear still commit (the transfer no longer holds commands back).
            let client = await cluster.makeClient(giveUpAfter: .seconds(30))
            #expect(try await client.run(.put("after", "abandoned")) == .ok)
            await cluster.router.setDeaf(target, false)
        }
    }

    /// `TransferError.targetNotVoting`: a node that has not joined (a spare started while every member is
    /// down, so no one welcomes it) does not vote.
    @Test func aTransferToANodeThatHasNotJoinedIsRefused() async throws {
        try await withLocalCluster({ try await LocalCluster(nodes: 3) }) { cluster in
            for i in 0..<3 { try await cluster.stop(NodeID(i)) }
            await #expect(throws: ClusterError.timeout(after: .zero)) { _ = try await cluster.addNode(timeout: .zero) }
            #expect(try await cluster.membership(of: NodeID(3)) == .new)
            await #expect(throws: TransferError.targetNotVoting(NodeID(3), .new)) {
                try await cluster.transferLeadership(to: NodeID(3))
            }
        }
    }

    /// `RemoteClientError.invalidConfiguration`: refused at once, before any connection.
    @Test func aRemoteClientWithNoNodesOrNoTimeIsRefused() throws {
        #expect(throws: RemoteClientError.invalidConfiguration("no node addresses")) { _ = try RemoteClient(nodes: []) }
        let node = PeerAddress(host: "127.0.0.1", port: 1)
        #expect(throws: RemoteClientError.self) { _ = try RemoteClient(nodes: [node], requestTimeout: .zero) }
        do {
            _ = try RemoteClient(nodes: [node], giveUpAfter: .zero)
            Issue.record("a zero give-up time was accepted")
        } catch {
            guard case .invalidConfiguration(let message) = error else { Issue.record("\(error)"); return }
            #expect(message.contains("timeouts must be positive"))
        }
    }

    /// `RemoteClientError.timeout`: no node answers (nothing listens at the address) within the give-up time.
    @Test func aRemoteClientThatReachesNoNodeTimesOut() async throws {
        let port = try PortReservation(count: 1)
        let client = try RemoteClient(nodes: [PeerAddress(host: "127.0.0.1", port: port.ports[0])],
                                      requestTimeout: .milliseconds(100), giveUpAfter: .seconds(1))
        await #expect(throws: RemoteClientError.timeout(after: .seconds(1))) { _ = try await client.run(.get("k")) }
    }

    /// `RemoteClientError.cancelled`: the calling task was cancelled.
    @Test func aCancelledRemoteCallSaysSo() async throws {
        let port = try PortReservation(count: 1)
        let client = try RemoteClient(nodes: [PeerAddress(host: "127.0.0.1", port: port.ports[0])], giveUpAfter: .seconds(30))
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await client.run(.get("k"))
        }
        await #expect(throws: RemoteClientError.cancelled) { _ = try await task.value }
    }

    /// `serve` refuses peers off this machine when no cluster key authenticates them (protected mode).
    @Test func servingPeersOffThisMachineWithoutAClusterKeyIsRefused() {
        let loopback = { (port: UInt16) in PeerAddress(host: "127.0.0.1", port: port) }
        let c = ServeConfiguration(id: NodeID(0), peers: [loopback(1), PeerAddress(host: "10.0.0.1", port: 2)],
                                   client: loopback(3))
        do {
            _ = try ServedNode(c, log: { _ in })
            Issue.record("a non-loopback peer was accepted without a cluster key")
        } catch {
            #expect("\(error)".hasPrefix("protected mode: peer 10.0.0.1:2 is not a loopback address and no cluster key is set"),
                    "\(error)")
        }
    }

    /// `serve` on a client port another process listens on exits 1, naming the address and the reason.
    @Test func serveOnAnAddressInUseExitsOneAndSaysWhich() throws {
        let taken = try Sockets.listen(on: PeerAddress(host: "127.0.0.1", port: 0))
        defer { close(taken) }
        let port = Sockets.localPort(taken)
        let peers = try PortReservation(count: 1)
        let serve = try ChildProcess.run(multipaxosExecutable(),
                                         ["serve", "--id", "0", "--peers", "127.0.0.1:\(peers.ports[0])",
                                          "--client", "127.0.0.1:\(port)", "--in-memory"], timeout: .seconds(60))
        #expect(serve.status == 1, "\(serve.errors)")
        #expect(serve.errors.contains("127.0.0.1:\(port)") && serve.errors.contains("Address already in use"), "\(serve.errors)")
    }

    /// Waits (bounded) until `condition` holds; throws a timeout if it never does.
    static func eventually(_ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw ClusterError.timeout(after: .seconds(30))
    }

    /// The leader as the cluster sees it, waiting for one to be elected (bounded).
    static func leader(of cluster: LocalCluster) async throws -> NodeID {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let leader = await cluster.leader() { return leader }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw ClusterError.timeout(after: .seconds(30))
    }
}
}
