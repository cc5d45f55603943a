#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a peer connection proves who is at the other end: with a cluster key, a challenge–response over fresh
/// nonces from both sides and a MAC on every frame after it; without one, the handshake's cluster id and node id.
struct PeerSecurity: Sendable {
    let clusterID: String
    let me: NodeID
    let keys: ClusterKeys?

    func handshake(role: PeerRole, dialer: NodeID, acceptor: NodeID) -> PeerHandshake? {
        guard let keys else { return nil }
        var rng = SystemRandomNumberGenerator()
        return PeerHandshake(role: role, keys: keys, binding: PeerBinding(clusterID: clusterID, dialer: dialer, acceptor: acceptor),
                             ownNonce: PeerNonce.random(using: &rng))
    }
}

/// A connection a peer opened to this node, for that peer's messages: after the handshake (and, with a cluster
/// key, the challenge–response) its frames are opened and decoded; this end writes only the challenge reply.
struct InboundPeer {
    let address: String
    let acceptedAt = ContinuousClock.now
    var decoder: FrameDecoder
    var node: NodeID?
    var out = OutputBuffer()
    private var handshake: PeerHandshake?
    private var dialerNonce: PeerNonce?
    private var session: PeerSession?
    /// Whether messages may flow: the peer proved its key, or no key is configured and it said hello.
    private(set) var established = false
    /// The largest frame a peer may send before it is established (its nonce, then its proof, are far smaller):
    /// a connection that has not authenticated cannot make this node buffer a large frame.
    static let authenticationFrameBytes = 256

    init(address: String, maxFrameBytes: Int) {
        self.address = address
        decoder = FrameDecoder(maxFrameBytes: maxFrameBytes)
    }

    /// Takes the decoded handshake; returns whether authentication frames follow.
    mutating func greeted(by node: NodeID, security: PeerSecurity) {
        self.node = node
        handshake = security.handshake(role: .acceptor, dialer: node, acceptor: security.me)
        established = handshake == nil
    }

    /// Handles one frame before the connection is established (the dialer's nonce, then its proof).
    mutating func authenticate(_ payload: [UInt8]) throws(PeerAuthError) {
        guard let handshake else { return }
        if let dialerNonce {
            session = try handshake.verify(peerProof: payload, peerNonce: dialerNonce)
            established = true
        } else {
            let nonce = try PeerNonce(bytes: payload)
            dialerNonce = nonce
            out.append(Frame.frame(handshake.ownNonce.bytes + handshake.proof(peerNonce: nonce)))
        }
    }

    /// The message payload inside an established connection's frame.
    mutating func open(_ frame: [UInt8]) throws(PeerAuthError) -> [UInt8] {
        guard session != nil else { return frame }
        return try session!.incoming.open(frame)
    }
}

/// This node's connection to one peer, for its messages to that peer: connected on demand, again after a
/// failure with jittered exponential backoff, authenticated when a cluster key is set, and bounded in what it
/// queues.
struct OutboundLink {
    let peer: NodeID
    let address: PeerAddress
    var fd: Int32 = -1
    var connecting = false
    var out = OutputBuffer()
    var backoff: Duration = .milliseconds(50)
    var nextAttempt = ContinuousClock.now
    var lastError = "never connected"
    private var decoder = FrameDecoder(maxFrameBytes: 4096)
    private var handshake: PeerHandshake?
    private var session: PeerSession?
    /// Payloads waiting for the challenge–response to finish (bounded like the queue).
    private var waiting: [[UInt8]] = []
    private var waitingBytes = 0
    private var established = false

    init(peer: NodeID, address: PeerAddress) {
        self.peer = peer
        self.address = address
    }

    var wantsWrite: Bool { connecting || !out.isEmpty }

    /// Connects when due.
    mutating func maintain(now: ContinuousClock.Instant, hello: [UInt8], security: PeerSecurity, log: (String) -> Void) {
        guard fd < 0, now >= nextAttempt else { return }
        do {
            fd = try Sockets.connect(to: address)
            connecting = true
            out = OutputBuffer()
            out.append(hello)
            decoder = FrameDecoder(maxFrameBytes: 4096)
            session = nil
            handshake = security.handshake(role: .dialer, dialer: security.me, acceptor: peer)
            established = handshake == nil
            if let handshake { out.append(Frame.frame(handshake.ownNonce.bytes)) }
        } catch {
            fail("\(error)", log: log)
        }
    }

    /// Queues a message payload; false (dropped) when the link is down or its queue is full.
    mutating func enqueue(_ payload: [UInt8], limit: Int) -> Bool {
        guard fd >= 0, out.count + waitingBytes + payload.count <= limit else { return false }
        if established {
            out.append(Frame.frame(session == nil ? payload : session!.outgoing.seal(payload)))
        } else {
            waiting.append(payload)
            waitingBytes += payload.count
        }
        return true
    }

    mutating func service(revents: Int32, log: (String) -> Void) {
        if connecting {
            guard revents & Int32(POLLOUT | POLLERR | POLLHUP) != 0 else { return }
            let error = Sockets.pendingError(fd)
            guard error == 0 else { return fail(String(cString: strerror(error)), log: log) }
            connecting = false
            if established { connected(log: log) }
        }
        if revents & Int32(POLLIN | POLLHUP | POLLERR) != 0 {
            var scratch = [UInt8](repeating: 0, count: 4096)
            let n = scratch.withUnsafeMutableBytes { Sockets.read(fd, into: $0) }
            if n == 0 || n == -2 { return fail("the peer closed the connection", log: log) }
            if n > 0 {
                decoder.append(Array(scratch[0..<n]))
                do {
                    while let reply = try decoder.next() { try challenged(reply, log: log) }
                } catch {
                    return fail("authentication failed: \(error)", log: log)
                }
            }
        }
        flush(log: log)
    }

    /// The acceptor's nonce and proof: check the proof, answer with ours, and release the waiting messages.
    private mutating func challenged(_ payload: [UInt8], log: (String) -> Void) throws {
        guard let handshake, !established else { throw PeerRefusal("the peer wrote \(payload.count) unexpected bytes") }
        guard payload.count == PeerNonce.byteCount + PeerHandshake.proofBytes else {
            throw PeerRefusal("its challenge reply is \(payload.count) bytes")
        }
        let nonce = try PeerNonce(bytes: Array(payload.prefix(PeerNonce.byteCount)))
        session = try handshake.verify(peerProof: Array(payload.dropFirst(PeerNonce.byteCount)), peerNonce: nonce)
        out.append(Frame.frame(handshake.proof(peerNonce: nonce)))
        established = true
        connected(log: log, how: " (it proved the cluster key)")
        for message in waiting { out.append(Frame.frame(session!.outgoing.seal(message))) }
        waiting = []
        waitingBytes = 0
    }

    /// The link carries messages now: say so once after each failure, and reset the backoff.
    private mutating func connected(log: (String) -> Void, how: String = "") {
        backoff = .milliseconds(50)
        if !lastError.isEmpty { log("connected to peer \(peer) at \(address)\(how)") }
        lastError = ""
    }

    mutating func flush(log: (String) -> Void) {
        guard fd >= 0, !connecting else { return }
        if !out.flush(to: fd) { fail("write failed: \(String(cString: strerror(errno)))", log: log) }
    }

    private mutating func fail(_ reason: String, log: (String) -> Void) {
        let wasConnected = fd >= 0 && !connecting
        if fd >= 0 { close(fd) }
        fd = -1
        connecting = false
        out = OutputBuffer()
        waiting = []
        waitingBytes = 0
        // One line per change of state, not one per retry.
        if wasConnected && lastError.isEmpty {
            log("link to peer \(peer) at \(address) lost: \(reason); reconnecting")
        } else if reason != lastError {
            log("cannot reach peer \(peer) at \(address): \(reason); retrying")
        }
        lastError = reason
        let jitter = Double.random(in: 0.5...1.5)
        nextAttempt = ContinuousClock.now + backoff * jitter
        backoff = min(backoff * 2, .seconds(2))
    }
}
