import Synchronization

/// The counters a shell keeps for one node: messages by kind and commit latencies. Fixed arrays, so that
/// counting a message or a latency allocates nothing.
struct TrafficCounters: Sendable {
    var sent = MessageCounts()
    var received = MessageCounts()
    var dropped = MessageCounts()
    var latency = LatencyHistogram()
}

/// One node's counters, shared between the thread or task that runs the node (which counts) and whoever asks
/// for a snapshot; a mutex per node, so that nodes of one process never contend.
final class NodeCounters: Sendable {
    let traffic = Mutex(TrafficCounters())
    /// Inputs handed to the node's inbox and not yet taken by its loop (where the inbox cannot count itself).
    let inboxInputs = Atomic<Int>(0)

    /// Counts messages of `kind` sent.
    func sent(_ kind: MessageKind, _ amount: UInt64 = 1) { traffic.withLock { $0.sent.add(kind, amount) } }
    /// Counts a message of `kind` received.
    func received(_ kind: MessageKind) { traffic.withLock { $0.received.add(kind) } }
    /// Counts a message lost before it left the node.
    func dropped(_ kind: MessageKind, _ amount: UInt64 = 1) { traffic.withLock { $0.dropped.add(kind, amount) } }
    /// Adds what a node loop counted over one batch, under one lock (a lock per message cost more than the count).
    func add(sent: MessageCounts? = nil, received: MessageCounts? = nil, dropped: MessageCounts? = nil) {
        traffic.withLock { t in
            if let sent { t.sent.add(sent) }
            if let received { t.received.add(received) }
            if let dropped { t.dropped.add(dropped) }
        }
    }
    /// Records one command's commit latency.
    func committed(after latency: Duration) { traffic.withLock { $0.latency.record(latency.microseconds) } }

    /// Copies the counters into `metrics`.
    func fill(_ metrics: inout NodeMetrics) {
        let (sent, received, dropped, latency) = traffic.withLock { ($0.sent, $0.received, $0.dropped, $0.latency.summary) }
        metrics.sentMessages = sent
        metrics.receivedMessages = received
        metrics.droppedMessages = dropped
        metrics.commitLatency = latency
    }
}

extension Duration {
    /// The duration in whole microseconds (rounded down), saturating at `Int64.max`.
    var microseconds: Microseconds {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000)
        return overflow ? .max : whole &+ attoseconds / 1_000_000_000_000
    }
}
