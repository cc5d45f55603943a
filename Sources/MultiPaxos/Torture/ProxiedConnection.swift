#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One peer connection through the fault proxy: the dialer's socket, the proxy's own connection to the target,
/// and the messages between them. The dialer is known from its handshake; every message is one frame, so faults
/// act on whole messages, never on part of one.
struct ProxiedConnection {
    /// The most bytes held for one connection (delayed, stalled or unwritten) before the dialer is not read.
    static let maxHeldBytes = 4 << 20

    /// The node this connection's messages go to (the proxy listener it came in on).
    let target: Int
    /// The sending node, once its handshake is in.
    var dialer: Int?
    /// The dialer's socket.
    let inFD: Int32
    /// The connection to the target's real peer port, opened once the dialer is known.
    var outFD: Int32 = -1
    /// The connection to the target is still being made.
    var connecting = false
    /// The dialer closed: deliver what is queued, then close.
    var dialerClosed = false
    /// Splits the dialer's bytes into its handshake and messages.
    var decoder = FrameDecoder()

    /// Messages waiting for their release time (delay, jitter, stall), oldest first.
    private var queue: [(release: ContinuousClock.Instant, bytes: [UInt8])] = []
    private var queueHead = 0
    private var queuedBytes = 0
    /// Bytes released and not yet written to the target.
    private var out: [UInt8] = []
    private var outStart = 0
    private var lastRelease = ContinuousClock.now
    /// Bytes a slow link may still write now.
    private var allowance = 0.0
    private var refilledAt = ContinuousClock.now

    init(target: Int, inFD: Int32) {
        self.target = target
        self.inFD = inFD
    }

    /// Bytes held in the proxy for this connection.
    var heldBytes: Int { queuedBytes + (out.count - outStart) }

    /// Whether everything read from the dialer was written to the target.
    var isDrained: Bool { queueHead == queue.count && outStart == out.count }

    /// Whether there are released bytes to write.
    var hasOutput: Bool { outStart < out.count }

    /// The release time of the next queued message, if one waits.
    var nextRelease: ContinuousClock.Instant? { queueHead < queue.count ? queue[queueHead].release : nil }

    /// Queues a message (the handshake or a frame) under `fault`, keeping the order the dialer sent them in.
    mutating func enqueue(_ bytes: [UInt8], fault: LinkFault, now: ContinuousClock.Instant) {
        var release = now + fault.delay
        if fault.jitter > .zero {
            let span = fault.jitter.components.seconds * 1_000_000 + fault.jitter.components.attoseconds / 1_000_000_000_000
            release += .microseconds(Int64.random(in: 0...max(span, 0)))
        }
        release = max(release, lastRelease)
        lastRelease = release
        queue.append((release, bytes))
        queuedBytes += bytes.count
    }

    /// Moves messages whose time has come into the output, unless the link is stalled.
    mutating func release(now: ContinuousClock.Instant, fault: LinkFault) {
        guard fault.mode != .stall else { return }
        while queueHead < queue.count, queue[queueHead].release <= now {
            out.append(contentsOf: queue[queueHead].bytes)
            queuedBytes -= queue[queueHead].bytes.count
            queueHead += 1
        }
        if queueHead == queue.count {
            queue.removeAll(keepingCapacity: true)
            queueHead = 0
        } else if queueHead > 1024 {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
    }

    /// Writes released bytes to the target, at most at a slow link's rate; false when the target's socket broke.
    mutating func write(now: ContinuousClock.Instant, fault: LinkFault) -> Bool {
        guard outFD >= 0, !connecting, hasOutput else { return true }
        var limit = out.count - outStart
        if let rate = fault.bytesPerSecond {
            let elapsed = now - refilledAt
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            allowance = min(allowance + seconds * Double(rate), max(Double(rate) / 10, 512))
            limit = min(limit, Int(allowance))
        }
        refilledAt = now
        guard limit > 0 else { return true }
        let n = out.withUnsafeBytes { Sockets.write(outFD, UnsafeRawBufferPointer(rebasing: $0[outStart..<(outStart + limit)])) }
        if n < 0 { return false }
        outStart += n
        if fault.bytesPerSecond != nil { allowance -= Double(n) }
        if outStart == out.count {
            out.removeAll(keepingCapacity: out.capacity <= 1 << 20)
            outStart = 0
        } else if outStart > 1 << 16 && outStart * 2 > out.count {
            out.removeFirst(outStart)
            outStart = 0
        }
        return true
    }

    /// Closes both sockets.
    func close() {
        Glibc.close(inFD)
        if outFD >= 0 { Glibc.close(outFD) }
    }
}
