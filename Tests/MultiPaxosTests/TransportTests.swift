import Foundation
import Synchronization
import Testing
@testable import MultiPaxos

extension ProcessTests {
/// The network shell's peer transport: a message that cannot be sent is said once, never dropped silently.
/// (Among the process tests: it listens on ports it reserved, as they do.)
@Suite struct TransportTests {
    @Test func aMessageTooLargeOrForAFullQueueIsLoggedOnceWithItsSizeAndTheLimit() throws {
        let lines = Mutex<[String]>([])
        var limits = TransportLimits()
        limits.maxFrameBytes = 1_000
        limits.peerQueueBytes = 2_000
        let reservation = try reservePorts(2)
        let ports = reservation.ports
        defer { withExtendedLifetime(reservation) {} }
        let transport = try Transport(me: NodeID(0), clusterID: "t",
                                      peers: [PeerAddress(host: "127.0.0.1", port: ports[0]), PeerAddress(host: "127.0.0.1", port: 9)],
                                      client: PeerAddress(host: "127.0.0.1", port: ports[1]), limits: limits,
                                      password: nil, keys: nil, log: { line in lines.withLock { $0.append(line) } },
                                      inputs: Inbox())
        // Not started yet: nothing leaves the queue, so what it holds is exact.
        let peer = NodeID(1)
        transport.send(Array(repeating: 1, count: 1_500), to: peer)
        transport.send(Array(repeating: 1, count: 1_200), to: peer)
        #expect(lines.withLock { $0 } == ["a message of 1500 bytes to n1 exceeds the frame limit of 1000 bytes: not sent"])
        for _ in 0..<2 { transport.send(Array(repeating: 2, count: 900), to: peer) }  // 1,800 of 2,000 bytes
        transport.send(Array(repeating: 3, count: 900), to: peer)
        transport.send(Array(repeating: 3, count: 900), to: peer)
        #expect(lines.withLock { $0.count } == 2)
        #expect(lines.withLock { $0.last } == "the queue to n1 is full (limit 2000 bytes): a message of 900 bytes was dropped, and more may be until it drains")
        #expect(transport.dropped.withLock { $0[1] } == 4)
        // An accept that found no descriptor left pauses accepting (the listener would wake every poll) and is
        // said once per spell; one that merely found no connection waiting changes nothing.
        let before = transport.acceptPausedUntil
        transport.pauseIfOutOfDescriptors(EAGAIN)
        #expect(transport.acceptPausedUntil == before && lines.withLock { $0.count } == 2)
        transport.pauseIfOutOfDescriptors(EMFILE)
        transport.pauseIfOutOfDescriptors(EMFILE)
        #expect(transport.acceptPausedUntil > ContinuousClock.now)
        #expect(lines.withLock { $0.count } == 3)
        #expect(lines.withLock { $0.last?.hasPrefix("no file descriptor left to accept a connection") } == true)
        transport.start()
        transport.stop()
    }
}
}
