/// Metrics and event streams of a `LocalCluster` (see Docs/Observability.md).
extension LocalCluster {
    /// A snapshot of `node`'s state and counters; nil when `node` is not a member or is stopped. Counters
    /// (messages, fsyncs, bytes, latencies) count from the cluster's start, across the node's restarts; commit
    /// latencies are those of the client calls this node answered, from `submit` to the reply.
    public func metrics(of node: NodeID) async -> NodeMetrics? {
        guard configuration.memberSet.contains(node), let running = nodes[node.value] else { return nil }
        var metrics = await running.protocolState()
        let counters = router.counters[node.value]
        counters.fill(&metrics)
        metrics.inboxInputs = max(0, counters.inboxInputs.load(ordering: .relaxed))
        if let file = files[node.value] {
            metrics.storageFsyncs = file.fsyncCount
            metrics.storageWrittenBytes = file.bytesWritten
        }
        return metrics
    }

    /// The leader as it changes: first the current one (nil when none is known), then each new value: a node
    /// elected with a higher ballot, or nil when the leader lost its ballot or was stopped. Only the newest
    /// value waits for a slow reader (`bufferingNewest(1)`), so reading late never blocks a node and always
    /// gives the latest leader. The stream ends at `shutdown()`.
    public nonisolated func leaderChanges() -> AsyncStream<NodeID?> { hub.leaderChanges() }

    /// The cluster's events from now on (elections, lost leadership, joins and rejoins, catch-up, snapshots,
    /// nodes stopped and restarted), in the order nodes published them. Up to `bufferSize` unread events wait;
    /// past that the oldest unread one is dropped (and counted in `droppedEventCount`), so a reader that falls
    /// behind or never reads never blocks a node. The stream ends at `shutdown()`.
    public nonisolated func events(bufferSize: Int = 1024) -> AsyncStream<ClusterEvent> { hub.events(buffer: bufferSize) }

    /// How many events full `events()` streams have dropped, over every stream.
    public nonisolated var droppedEventCount: Int { hub.droppedEvents }
}
