import Synchronization

/// The real-time bus of a `LocalCluster`: each node's inbox, the replies clients wait for, and the committed
/// log's subscribers. Node loops and clients call it from many tasks, so each of the three sits behind a mutex
/// of its own (one mutex for all three was contended: every message, request and reply took it).
final class Router: Sendable {
    private struct Waits {
        /// Each continuation is resumed exactly once, by whoever removes it from here under the lock (so an
        /// unchecked continuation does: a checked one cost a box and an atomic per request).
        var waiting: [RequestKey: (continuation: UnsafeContinuation<[UInt8]?, Never>, deadline: ContinuousClock.Instant)] = [:]
        /// Whether the task that expires overdue waits runs (it stops when nothing waits).
        var sweeping = false
        var closed = false
    }
    private struct Subscribers {
        var subscribers: [Int: AsyncStream<CommittedEntry>.Continuation] = [:]
        var nextSubscriber = 0
        var nextCommitted = Slot.zero
        var closed = false
    }
    private let inboxes: Mutex<[NodeInbox?]>
    private let state = Mutex(Waits())
    private let log = Mutex(Subscribers())
    /// Nodes that receive nothing (bit `i` for node `i`), though they run: a fault tests inject to make a node
    /// silent without stopping it (its timers are inputs too, so it stays still).
    private let deafNodes = Atomic<UInt64>(0)
    /// Each node's counters (messages by kind, inbox length, commit latencies), by node index.
    let counters: [NodeCounters]

    init(nodes: Int) {
        inboxes = Mutex(Array(repeating: nil, count: nodes))
        counters = (0..<nodes).map { _ in NodeCounters() }
    }

    /// Connects a node's inbox (nil disconnects and closes it: a stopped node receives nothing); a new inbox
    /// is empty.
    func connect(_ node: NodeID, _ inbox: NodeInbox?) {
        let old = inboxes.withLock { inboxes -> NodeInbox? in
            defer {
                inboxes[node.value] = inbox
                if inbox != nil { counters[node.value].inboxInputs.store(0, ordering: .relaxed) }
            }
            return inboxes[node.value]
        }
        if let old, old !== inbox { old.close(discardingPending: true) }
    }

    /// Delivers `input` to `node` if it is up; returns whether it was.
    @discardableResult
    func deliver(_ input: Input, to node: NodeID) -> Bool {
        if deafNodes.load(ordering: .relaxed) & (1 << UInt64(node.value & 63)) != 0 { return false }
        guard let inbox = inboxes.withLock({ $0[node.value] }) else { return false }
        // Counted before the post, so that the loop, which counts it out, never takes it below zero.
        counters[node.value].inboxInputs.add(1, ordering: .relaxed)
        if inbox.post(input) { return true }
        counters[node.value].inboxInputs.subtract(1, ordering: .relaxed)
        return false
    }

    /// Makes `node` receive nothing from now on (`deaf`), or receive again; for tests that need a member that
    /// runs and votes but cannot answer.
    func setDeaf(_ node: NodeID, _ deaf: Bool) {
        precondition((0..<64).contains(node.value), "only nodes 0...63 can be made deaf, not \(node)")
        let bit = UInt64(1) << UInt64(node.value)
        if deaf { deafNodes.bitwiseOr(bit, ordering: .relaxed) } else { deafNodes.bitwiseAnd(~bit, ordering: .relaxed) }
    }

    /// The nodes that are up.
    var liveNodes: [NodeID] {
        inboxes.withLock { inboxes in inboxes.indices.filter { inboxes[$0] != nil }.map { NodeID($0) } }
    }

    /// `preferred` if it is up, else the first node that is; nil when none is (one lock, no allocation: a
    /// client asks before every request).
    func gateway(preferring preferred: NodeID) -> NodeID? {
        inboxes.withLock { inboxes in
            if inboxes[preferred.value] != nil { return preferred }
            return inboxes.firstIndex { $0 != nil }.map { NodeID($0) }
        }
    }

    // MARK: Replies to clients

    /// Registers for the reply to `key`, then calls `send`, then waits: nil when `timeout` passed or `expire` came
    /// first, or when the waiting task is cancelled. Registering first means a reply cannot slip past before
    /// anyone waits for it. One sweeping task expires overdue waits for every client (a timer task per request
    /// cost more than the request itself under load).
    func reply(to key: RequestKey, timeout: Duration, after send: @Sendable () -> Void) async -> [UInt8]? {
        let deadline = ContinuousClock.now + timeout
        return await withTaskCancellationHandler {
            await withUnsafeContinuation { continuation in
                let (closed, startSweeper) = state.withLock { s -> (Bool, Bool) in
                    guard !s.closed else { return (true, false) }
                    s.waiting[key] = (continuation, deadline)
                    defer { s.sweeping = true }
                    return (false, !s.sweeping)
                }
                if closed { return continuation.resume(returning: nil) }
                if startSweeper { sweep() }
                // A cancellation that came before the registration found nothing to expire: expire now.
                if Task.isCancelled { expire(key) } else { send() }
            }
        } onCancel: {
            expire(key)
        }
    }

    /// Hands a reply to the client waiting for it; returns whether one was.
    func complete(_ reply: Reply) -> Bool {
        guard let waiter = state.withLock({ $0.waiting.removeValue(forKey: reply.key) }) else { return false }
        waiter.continuation.resume(returning: reply.result)
        return true
    }

    /// Gives up waiting for `key`.
    func expire(_ key: RequestKey) {
        state.withLock { $0.waiting.removeValue(forKey: key) }?.continuation.resume(returning: nil)
    }

    /// Every few milliseconds, answers nil to the waits past their deadline; stops once nothing waits (the next
    /// wait starts it again) or the router is closed.
    private func sweep() {
        Task { [weak self] in
            while let self {
                try? await Task.sleep(for: Self.sweepInterval)
                let (overdue, more) = self.state.withLock { s -> ([UnsafeContinuation<[UInt8]?, Never>], Bool) in
                    let now = ContinuousClock.now
                    let late = s.waiting.filter { $0.value.deadline <= now }
                    for key in late.keys { s.waiting[key] = nil }
                    if s.waiting.isEmpty || s.closed { s.sweeping = false }
                    return (late.values.map(\.continuation), s.sweeping)
                }
                for continuation in overdue { continuation.resume(returning: nil) }
                if !more { return }
            }
        }
    }

    /// How often overdue waits are looked for: a request's timeout is kept to within this.
    static let sweepInterval: Duration = .milliseconds(5)

    // MARK: The committed log

    /// A new stream of the entries committed from now on.
    func subscribe() -> AsyncStream<CommittedEntry> {
        let (stream, continuation) = AsyncStream<CommittedEntry>.makeStream(bufferingPolicy: .unbounded)
        let id = log.withLock { s -> Int? in
            guard !s.closed else { return nil }
            defer { s.nextSubscriber += 1 }
            s.subscribers[s.nextSubscriber] = continuation
            return s.nextSubscriber
        }
        guard let id else {  // after shutdown: a stream that is already over
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in self?.log.withLock { _ = $0.subscribers.removeValue(forKey: id) } }
        return stream
    }

    /// A replica applied `slot`, whose entries (one per command of a batch) are given together: the first replica
    /// to apply the next slot in order publishes them.
    func applied(_ slot: Slot, _ entries: [CommittedEntry]) {
        // Published under the lock: node loops run in parallel, and slot s+1 must never overtake slot s.
        // (Yielding to an unbounded stream never blocks.)
        log.withLock { s in
            guard slot == s.nextCommitted else { return }
            s.nextCommitted = slot.next
            for entry in entries {
                for subscriber in s.subscribers.values { subscriber.yield(entry) }
            }
        }
    }

    /// A replica jumped to `slot` by snapshot: entries before it were applied elsewhere and are not repeated.
    func skipped(to slot: Slot) {
        log.withLock { $0.nextCommitted = max($0.nextCommitted, slot) }
    }

    /// Whether `close()` was called: the cluster is shut down.
    var isClosed: Bool { state.withLock { $0.closed } }

    /// Ends every subscriber's stream and fails every waiting client.
    func close() {
        let subscribers = log.withLock { s in
            defer { s.subscribers = [:]; s.closed = true }
            return Array(s.subscribers.values)
        }
        let waiting = state.withLock { s in
            defer { s.waiting = [:]; s.closed = true }
            return Array(s.waiting.values)
        }
        for subscriber in subscribers { subscriber.finish() }
        for waiter in waiting { waiter.continuation.resume(returning: nil) }
    }
}
