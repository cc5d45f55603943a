import Foundation
import Testing
@testable import MultiPaxos

/// The fault proxy on plain sockets: a dialer that speaks the peer handshake and frames, a listener standing in
/// for the target node, and each link fault seen from the target's side.
@Suite struct FaultProxyTests {
    /// A socket pair through the proxy: the dialer (node 0) and the target's accepted end (node 1).
    struct Link {
        let dialer: Int32
        let target: Int32
        var decoder = FrameDecoder()
        /// The handshake the target received, once it did.
        var handshake: Handshake?

        func send(_ payload: [UInt8]) {
            var out = OutputBuffer()
            out.append(Frame.frame(payload))
            while !out.isEmpty { _ = out.flush(to: dialer) }
        }

        /// The payloads the target receives within `window`, after the handshake, and whether it was closed; it
        /// returns early once `count` payloads are in (a condition, so that a slow machine only waits longer).
        mutating func receive(within window: Duration, count: Int = .max) -> (payloads: [[UInt8]], closed: Bool) {
            var payloads: [[UInt8]] = []
            var scratch = [UInt8](repeating: 0, count: 4096)
            let deadline = ContinuousClock.now + window
            while ContinuousClock.now < deadline, payloads.count < count {
                var p = pollfd(fd: target, events: Int16(POLLIN), revents: 0)
                guard poll(&p, 1, 10) > 0 else { continue }
                let n = scratch.withUnsafeMutableBytes { Sockets.read(target, into: $0) }
                if n == 0 || n == -2 { return (payloads, true) }
                if n > 0 { decoder.append(Array(scratch[0..<n])) }
                if handshake == nil { handshake = try? decoder.nextHandshake() }
                if handshake != nil { while let payload = try? decoder.next() { payloads.append(payload) } }
            }
            return (payloads, false)
        }

        func close() {
            Glibc.close(dialer)
            Glibc.close(target)
        }
    }

    static func accept(_ listener: Int32, within window: Duration) -> Int32? {
        let deadline = ContinuousClock.now + window
        while ContinuousClock.now < deadline {
            if let (fd, _) = Sockets.accept(listener) { return fd }
            usleep(5_000)
        }
        return nil
    }

    /// Whether `condition` holds within `patience`, looked at every few milliseconds.
    static func eventually(_ condition: () -> Bool) -> Bool {
        let deadline = ContinuousClock.now + patience
        while ContinuousClock.now < deadline {
            if condition() { return true }
            usleep(2_000)
        }
        return condition()
    }

    /// Whether the dialer's connection was closed by the proxy within `window`.
    static func closed(_ fd: Int32, within window: Duration) -> Bool {
        var scratch = [UInt8](repeating: 0, count: 64)
        let deadline = ContinuousClock.now + window
        while ContinuousClock.now < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 10) > 0 else { continue }
            let n = scratch.withUnsafeMutableBytes { Sockets.read(fd, into: $0) }
            if n == 0 || n == -2 { return true }
        }
        return false
    }

    /// How long a test waits for what must happen (it returns as soon as it does), and how long it watches for
    /// what must not: no real-clock window under a second decides a verdict.
    static let patience = Duration.seconds(10), watch = Duration.seconds(1)

    /// Connects to the proxy as `node` and waits up to `window` for the proxy to dial the target.
    static func dial(_ proxy: FaultProxy, target listener: Int32, from node: Int,
                     window: Duration = patience) throws -> (dialer: Int32, target: Int32?) {
        let dialer = try Sockets.connect(to: PeerAddress(host: "127.0.0.1", port: proxy.ports[1]))
        var out = OutputBuffer()
        out.append(try Handshake(clusterID: "torture-test", node: NodeID(node)).encoded())
        let deadline = ContinuousClock.now + .seconds(2)
        while !out.isEmpty && ContinuousClock.now < deadline {
            _ = out.flush(to: dialer)
            usleep(1_000)
        }
        return (dialer, accept(listener, within: window))
    }

    @Test func linksPassDropStallDelayAndAreCutOrRefusedWholeMessageByMessage() throws {
        let listener = try Sockets.listen(on: PeerAddress(host: "127.0.0.1", port: 0))
        defer { close(listener) }
        let targetAddress = PeerAddress(host: "127.0.0.1", port: Sockets.localPort(listener))
        let proxy = try FaultProxy(targets: [PeerAddress(host: "127.0.0.1", port: 1), targetAddress])
        proxy.start()
        defer { proxy.stop() }

        let (dialer, accepted) = try Self.dial(proxy, target: listener, from: 0)
        var link = Link(dialer: dialer, target: try #require(accepted, "the proxy dialed the target after the handshake"))
        defer { link.close() }

        // A healthy link carries the handshake unchanged (the target reads node 0) and every message.
        link.send([1])
        link.send([2, 2])
        #expect(link.receive(within: Self.patience, count: 2).payloads == [[1], [2, 2]])
        #expect(link.handshake?.node == NodeID(0) && link.handshake?.clusterID == "torture-test")

        // Drop: whole messages vanish while the connection stays up.
        proxy.set(LinkFault(mode: .drop), from: NodeID(0), to: NodeID(1))
        link.send([3])
        let dropped = link.receive(within: Self.watch)
        #expect(dropped.payloads.isEmpty && !dropped.closed)
        #expect(Self.eventually { proxy.statistics.framesDropped == 1 }, "\(proxy.statistics)")

        // Stall: messages are held, then delivered in order when the link heals.
        proxy.set(LinkFault(mode: .stall), from: NodeID(0), to: NodeID(1))
        link.send([4])
        link.send([5])
        #expect(link.receive(within: Self.watch).payloads.isEmpty)
        proxy.healAll()
        #expect(link.receive(within: Self.patience, count: 2).payloads == [[4], [5]])

        // Delay: a message arrives no sooner than the delay (longer than the watch, so that "not yet" is seen).
        proxy.set(LinkFault(delay: .milliseconds(1_500)), from: NodeID(0), to: NodeID(1))
        let sent = ContinuousClock.now
        link.send([6])
        #expect(link.receive(within: Self.watch).payloads.isEmpty)
        #expect(link.receive(within: Self.patience, count: 1).payloads == [[6]])
        #expect(ContinuousClock.now - sent >= .milliseconds(1_500))
        #expect(proxy.fault(from: NodeID(0), to: NodeID(1)).delay == .milliseconds(1_500))

        // A cut closes both ends.
        proxy.healAll()
        proxy.cut(from: nil, to: NodeID(1))
        #expect(link.receive(within: Self.patience).closed)
        #expect(Self.closed(dialer, within: Self.patience))
        #expect(Self.eventually { proxy.statistics.connectionsCut == 1 }, "\(proxy.statistics)")

        // Refuse: a new connection is closed after its handshake, and the target never hears of it.
        proxy.set(LinkFault(mode: .refuse), from: NodeID(0), to: NodeID(1))
        let (refused, reached) = try Self.dial(proxy, target: listener, from: 0, window: Self.watch)
        defer { close(refused) }
        #expect(reached == nil)
        #expect(Self.closed(refused, within: Self.patience))
        #expect(Self.eventually { proxy.statistics.connectionsRefused == 1 }, "\(proxy.statistics)")

        // A node id that is not another member (here the target itself) is closed at once.
        proxy.healAll()
        let (itself, reachedItself) = try Self.dial(proxy, target: listener, from: 1, window: Self.watch)
        defer { close(itself) }
        #expect(reachedItself == nil && Self.closed(itself, within: Self.patience))
    }

    @Test func aSlowLinkKeepsToItsRate() throws {
        let listener = try Sockets.listen(on: PeerAddress(host: "127.0.0.1", port: 0))
        defer { close(listener) }
        let proxy = try FaultProxy(targets: [PeerAddress(host: "127.0.0.1", port: 1),
                                             PeerAddress(host: "127.0.0.1", port: Sockets.localPort(listener))])
        proxy.start()
        defer { proxy.stop() }
        let (dialer, accepted) = try Self.dial(proxy, target: listener, from: 0)
        var link = Link(dialer: dialer, target: try #require(accepted))
        defer { link.close() }
        _ = link.receive(within: .milliseconds(100))  // the handshake (a slow one is read with the first message)

        // 20 KiB at 40 KiB/s: about half a second, not at once.
        proxy.set(LinkFault(bytesPerSecond: 40 << 10), from: NodeID(0), to: NodeID(1))
        let began = ContinuousClock.now
        for i in 0..<20 { link.send([UInt8](repeating: UInt8(i), count: 1024 - Frame.headerBytes)) }
        var received: [[UInt8]] = []
        while received.count < 20 && ContinuousClock.now - began < Self.patience {
            received += link.receive(within: .milliseconds(50)).payloads
        }
        let took = ContinuousClock.now - began
        #expect(received.count == 20)
        // The lower bound is the point (the rate held them back); the upper one only says they all came.
        #expect(took >= .milliseconds(350) && took < Self.patience, "took \(took)")
    }
}
