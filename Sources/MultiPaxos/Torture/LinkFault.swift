/// What the fault proxy does to one directed peer link: the messages one node sends to another, which travel on
/// a TCP connection of their own (the sender dials the receiver; see `Transport`).
public struct LinkFault: Sendable, Equatable, CustomStringConvertible {
    /// How the link carries messages.
    public enum Mode: String, Sendable, Equatable {
        /// Every message arrives.
        case pass
        /// Every message is lost, whole (frame by frame), while the connection stays up: a silent blackhole, as a
        /// router that drops packets looks to Paxos (which tolerates loss).
        case drop
        /// Every message is held, and all are delivered, late and in order, when the link heals: a frozen router.
        /// Past 4 MiB held the proxy stops reading the sender, whose own bounded queue then drops.
        case stall
        /// The link's connections are closed, and every new one right after its handshake: a refused link.
        case refuse
    }

    /// How the link carries messages.
    public var mode: Mode
    /// Added to every message's travel time.
    public var delay: Duration
    /// A further delay drawn uniformly from 0...jitter per message (order is kept: TCP does not reorder).
    public var jitter: Duration
    /// A bandwidth limit, or nil for none: a slow link.
    public var bytesPerSecond: Int?

    /// Makes a link fault; the defaults are a healthy link.
    public init(mode: Mode = .pass, delay: Duration = .zero, jitter: Duration = .zero, bytesPerSecond: Int? = nil) {
        self.mode = mode
        self.delay = delay
        self.jitter = jitter
        self.bytesPerSecond = bytesPerSecond
    }

    /// A link that carries every message at once.
    public static let healthy = LinkFault()

    /// Whether the link is untouched.
    public var isHealthy: Bool { self == .healthy }

    public var description: String {
        var parts: [String] = mode == .pass ? [] : [mode.rawValue]
        if delay > .zero || jitter > .zero { parts.append("delay \(Self.milliseconds(delay))+\(Self.milliseconds(jitter)) ms") }
        if let rate = bytesPerSecond { parts.append("\(rate) B/s") }
        return parts.isEmpty ? "healthy" : parts.joined(separator: ", ")
    }

    static func milliseconds(_ d: Duration) -> Int64 {
        d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
    }
}

/// What the fault proxy carried and did, since it started.
public struct ProxyStatistics: Sendable, Equatable {
    /// Peer connections accepted by the proxy.
    public var connections = 0
    /// Messages (frames) forwarded.
    public var framesForwarded = 0
    /// Messages lost on purpose (`drop` links).
    public var framesDropped = 0
    /// Connections closed by a cut.
    public var connectionsCut = 0
    /// Connections refused (`refuse` links).
    public var connectionsRefused = 0
    /// Connections closed because the target could not be reached or a side broke.
    public var connectionsFailed = 0
    /// Makes empty statistics.
    public init() {}
}

extension Duration {
    /// The duration in seconds, as a floating-point number (for reports).
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
