/// What a node is doing in the protocol, as its roles know it.
public enum NodeRole: String, Sendable, CaseIterable, CustomStringConvertible {
    /// It leads: Phase 1 done for its ballot (stable-leader mode) or leadership claimed (per-slot mode).
    case leader
    /// It competes for leadership: its Scout is running Phase 1.
    case candidate
    /// A voting member that follows a leader (or waits to hear one).
    case follower
    /// It lost its storage and runs only a replica until its rejoin finishes; it does not vote.
    case learner
    /// It has not joined the cluster yet.
    case joining

    public var description: String { rawValue }
}

/// Message counts by kind, indexed by ``MessageKind``: a fixed array, so that counting costs no allocation.
public struct MessageCounts: Sendable, Equatable, CustomStringConvertible {
    /// One count per kind, in `MessageKind.allCases` order.
    public private(set) var counts: [UInt64]

    /// All zero.
    public init() { counts = Array(repeating: 0, count: MessageKind.caseCount) }

    /// The count of one kind.
    public subscript(kind: MessageKind) -> UInt64 { counts[kind.rawValue] }

    /// The sum over every kind.
    public var total: UInt64 { counts.reduce(0, +) }

    /// Adds one to `kind`'s count (in place: no allocation once the counts exist).
    mutating func add(_ kind: MessageKind, _ amount: UInt64 = 1) { counts[kind.rawValue] &+= amount }

    /// Adds every count of `other`.
    mutating func add(_ other: MessageCounts) {
        for i in counts.indices { counts[i] &+= other.counts[i] }
    }

    /// `Kind=count` pairs of the kinds counted at least once, in kind order.
    public var description: String {
        MessageKind.allCases.filter { self[$0] > 0 }.map { "\($0)=\(self[$0])" }.joined(separator: ",")
    }
}

extension MessageKind {
    /// How many kinds there are (without building `allCases`).
    static let caseCount = MessageKind.allCases.count
}

/// Percentiles of how long commands took, from a client's submit to its reply, in microseconds. Computed from
/// a histogram whose buckets are at most 12.5% wide, so each percentile is within 12.5% above the true value
/// (and never above `maxMicroseconds`).
public struct LatencySummary: Sendable, Equatable {
    /// Commands measured since the node (or the cluster) started.
    public var count: Int
    /// Half of the commands took at most this long.
    public var p50Microseconds: Microseconds
    /// 90% took at most this long.
    public var p90Microseconds: Microseconds
    /// 99% took at most this long.
    public var p99Microseconds: Microseconds
    /// The longest.
    public var maxMicroseconds: Microseconds
    /// The sum of every measured latency (with `count`, the mean).
    public var sumMicroseconds: Microseconds

    /// No commands measured.
    public static let empty = LatencySummary(count: 0, p50Microseconds: 0, p90Microseconds: 0, p99Microseconds: 0,
                                             maxMicroseconds: 0, sumMicroseconds: 0)
}

/// A snapshot of one node's state and counters, for dashboards and tests: `LocalCluster.metrics(of:)`, and a
/// served node's `INFO multipaxos` section and Prometheus endpoint. Counters count from the moment the node's
/// shell started (a `serve` process; a `LocalCluster`, across its nodes' restarts); gauges are read at the
/// moment of the snapshot.
public struct NodeMetrics: Sendable, Equatable {
    /// The node.
    public var node: NodeID
    /// What it does in the protocol now.
    public var role: NodeRole
    /// This node's own latest ballot (`Ballot.initial` if it never competed).
    public var ballot: Ballot
    /// The highest ballot its acceptor promised (`Ballot.initial` for a learner or a joining node).
    public var promisedBallot: Ballot
    /// The node it believes leads, if it has heard of one.
    public var knownLeader: NodeID?
    /// That leader's ballot.
    public var knownLeaderBallot: Ballot?
    /// Slots whose value this node's replica knows is chosen: applied ones, and decided ones waiting for an
    /// earlier slot.
    public var decidedSlots: Int64
    /// Slots its replica has applied (by executing them, or by installing a snapshot that covers them).
    public var appliedSlots: Int64
    /// Slots its leader has proposed (Phase 2 under way) and not yet seen decided.
    public var inFlightSlots: Int
    /// Inputs (messages, timers, client commands) waiting in the node's inbox for its loop.
    public var inboxInputs: Int
    /// Bytes queued for peers and not yet written to their sockets (0 where there is no outbox: `LocalCluster`).
    public var outboxBytes: Int
    /// Client connections open (`serve`; 0 in a `LocalCluster`).
    public var clientConnections: Int
    /// Messages this node's roles sent, by kind: to peers, to itself, and replies to clients (a broadcast
    /// counts once per destination).
    public var sentMessages: MessageCounts
    /// Messages handed to this node's roles, by kind: from peers, from itself, and client requests.
    public var receivedMessages: MessageCounts
    /// Messages this node sent that were lost before leaving it, by kind: to a stopped node, or to a peer
    /// whose queue was full or whose link was down.
    public var droppedMessages: MessageCounts
    /// fsync calls on its durable state (0 without storage).
    public var storageFsyncs: Int
    /// Bytes written to its durable state (0 without storage).
    public var storageWrittenBytes: Int
    /// Commit latency of client commands this node answered.
    public var commitLatency: LatencySummary

    /// A snapshot with every count zero, for `node` in `role`.
    public init(node: NodeID, role: NodeRole) {
        self.node = node
        self.role = role
        ballot = .initial
        promisedBallot = .initial
        decidedSlots = 0
        appliedSlots = 0
        inFlightSlots = 0
        inboxInputs = 0
        outboxBytes = 0
        clientConnections = 0
        sentMessages = MessageCounts()
        receivedMessages = MessageCounts()
        droppedMessages = MessageCounts()
        storageFsyncs = 0
        storageWrittenBytes = 0
        commitLatency = .empty
    }
}
