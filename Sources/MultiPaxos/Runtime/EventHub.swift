import Synchronization

/// Where a `LocalCluster`'s node loops publish events, and where `events()` and `leaderChanges()` streams
/// subscribe. Streams buffer a bounded number of elements (newest kept), so a consumer that never reads can
/// never block a node loop: a yield to them returns at once.
final class EventHub: Sendable {
    private struct State {
        /// The leader with the highest ballot among those elected and not known to have lost it.
        var leader: (node: NodeID, ballot: Ballot)?
        var leaderSubscribers: [Int: AsyncStream<NodeID?>.Continuation] = [:]
        var eventSubscribers: [Int: AsyncStream<ClusterEvent>.Continuation] = [:]
        var nextSubscriber = 0
        var droppedEvents = 0
        var closed = false
    }
    private let state = Mutex(State())
    let logger: (any MultiPaxosLogger)?
    /// The leader's node index as `leaderChanges()` last reported it (-1: none known), read without the lock by
    /// clients choosing where to send a request.
    private let leaderHint = Atomic<Int>(-1)

    /// The node that leads, as far as the events tell (nil: none known); a hint, possibly a moment stale.
    var leader: NodeID? {
        let value = leaderHint.load(ordering: .relaxed)
        return value >= 0 ? NodeID(value) : nil
    }

    init(logger: (any MultiPaxosLogger)?) { self.logger = logger }

    /// Delivers `event` to every `events()` stream, logs it at debug level, and follows leadership.
    func publish(_ event: ClusterEvent) {
        logger.log(.debug, event.node, "\(event)")
        state.withLock { s in
            guard !s.closed else { return }
            for subscriber in s.eventSubscribers.values {
                if case .dropped = subscriber.yield(event) { s.droppedEvents += 1 }
            }
            let before = s.leader?.node
            switch event.kind {
            case .elected(let ballot) where s.leader.map({ ballot > $0.ballot }) ?? true:
                s.leader = (event.node, ballot)
            case .preempted(let ballot, _) where s.leader?.ballot == ballot,
                 .steppedDown(let ballot, _) where s.leader?.ballot == ballot:
                s.leader = nil
            case .stopped where s.leader?.node == event.node:
                s.leader = nil
            default:
                break
            }
            if s.leader?.node != before {
                leaderHint.store(s.leader?.node.value ?? -1, ordering: .relaxed)
                for subscriber in s.leaderSubscribers.values { subscriber.yield(s.leader?.node) }
            }
        }
    }

    /// A stream of the leader: the current one (nil: none known) first, then each change.
    func leaderChanges() -> AsyncStream<NodeID?> {
        let (stream, continuation) = AsyncStream<NodeID?>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { s -> Int? in
            guard !s.closed else { return nil }
            defer { s.nextSubscriber += 1 }
            continuation.yield(s.leader?.node)  // under the lock: no change can slip in before it
            s.leaderSubscribers[s.nextSubscriber] = continuation
            return s.nextSubscriber
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in self?.state.withLock { _ = $0.leaderSubscribers.removeValue(forKey: id) } }
        return stream
    }

    /// A stream of the events from now on, keeping the newest `buffer` that were not read yet.
    func events(buffer: Int) -> AsyncStream<ClusterEvent> {
        let (stream, continuation) = AsyncStream<ClusterEvent>.makeStream(bufferingPolicy: .bufferingNewest(max(buffer, 1)))
        let id = state.withLock { s -> Int? in
            guard !s.closed else { return nil }
            defer { s.nextSubscriber += 1 }
            s.eventSubscribers[s.nextSubscriber] = continuation
            return s.nextSubscriber
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in self?.state.withLock { _ = $0.eventSubscribers.removeValue(forKey: id) } }
        return stream
    }

    /// Events that a full `events()` stream dropped (the oldest unread one each time), over every stream.
    var droppedEvents: Int { state.withLock { $0.droppedEvents } }

    /// Ends every stream.
    func close() {
        let (leaders, events) = state.withLock { s in
            defer { s.leaderSubscribers = [:]; s.eventSubscribers = [:]; s.closed = true }
            return (Array(s.leaderSubscribers.values), Array(s.eventSubscribers.values))
        }
        for subscriber in leaders { subscriber.finish() }
        for subscriber in events { subscriber.finish() }
    }
}
