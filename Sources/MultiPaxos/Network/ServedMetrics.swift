import Synchronization

/// A served node's metrics, written by the threads that see each part and read by whoever asks (`INFO` on the
/// I/O thread, the `--metrics` HTTP thread): the node loop counts messages and refreshes what the roles know
/// after its batches; the I/O thread counts drops, commit latencies, queued bytes and connections; storage and
/// the inbox are read when asked.
final class ServedMetrics: Sendable {
    let node: NodeID
    let counters = NodeCounters()
    /// What the roles knew at the node loop's last refresh.
    private let roleState: Mutex<(metrics: NodeMetrics, at: ContinuousClock.Instant?)>
    /// Bytes in the outbox and the links' buffers, as of the I/O thread's last pass.
    let outboxBytes = Atomic<Int>(0)
    /// Client connections open, as of the I/O thread's last pass.
    let clientConnections = Atomic<Int>(0)
    private let storage: FileStorage?
    private let inbox: Inbox?

    init(node: NodeID, storage: FileStorage?, inbox: Inbox?) {
        self.node = node
        self.storage = storage
        self.inbox = inbox
        roleState = Mutex((NodeMetrics(node: node, role: .joining), nil))
    }

    /// Whether the roles' state is older than `interval` (so the loop refreshes it at most that often).
    func roleStateIsOlder(than interval: Duration, now: ContinuousClock.Instant) -> Bool {
        roleState.withLock { $0.at.map { now - $0 >= interval } ?? true }
    }

    /// Records what the roles know now.
    func refresh(_ state: NodeMetrics, at now: ContinuousClock.Instant) { roleState.withLock { $0 = (state, now) } }

    /// Counts a message payload dropped before it left (its first byte is its kind's wire tag).
    func droppedPayload(_ payload: [UInt8]) {
        guard let tag = payload.first, let kind = WireCodec.kindsByTag[Int(tag)] else { return }
        counters.dropped(kind)
    }

    /// The snapshot: the roles' state as last refreshed, the counters and queues as they are now.
    func snapshot() -> NodeMetrics {
        var metrics = roleState.withLock { $0.metrics }
        counters.fill(&metrics)
        metrics.inboxInputs = inbox?.queuedCount ?? 0
        metrics.outboxBytes = outboxBytes.load(ordering: .relaxed)
        metrics.clientConnections = clientConnections.load(ordering: .relaxed)
        if let storage {
            metrics.storageFsyncs = storage.fsyncCount
            metrics.storageWrittenBytes = storage.bytesWritten
        }
        return metrics
    }

    /// The `INFO multipaxos` section.
    func infoSection() -> (name: String, lines: [String]) { (NodeMetrics.infoSectionName, snapshot().infoLines) }
}
