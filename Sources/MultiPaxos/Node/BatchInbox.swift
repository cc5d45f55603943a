import Synchronization

/// Where senders leave a real-time node loop's inputs: they append under a lock and wake the loop, which takes
/// everything that arrived since its last turn as one batch. The loop then pays one hop onto the node's executor
/// and one sync per batch (group commit) rather than per input. The served node and `LocalCluster` each use
/// one (`Inbox`, `NodeInbox`).
final class BatchInbox<Element: Sendable>: Sendable {
    private let pending = Mutex<(inputs: [Element], open: Bool)>(([], true))
    /// One element per wake-up, at most one buffered; ends when the inbox is closed.
    let signals: AsyncStream<Void>
    private let signal: AsyncStream<Void>.Continuation

    init() {
        (signals, signal) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Leaves `inputs` for the loop and wakes it (an empty list only wakes it); false once closed.
    @discardableResult
    func post(_ inputs: [Element]) -> Bool {
        let open = pending.withLock { box -> Bool in
            guard box.open else { return false }
            box.inputs += inputs
            return true
        }
        if open { signal.yield(()) }
        return open
    }

    /// Leaves one input for the loop and wakes it; false once closed.
    @discardableResult
    func post(_ input: Element) -> Bool {
        let open = pending.withLock { box -> Bool in
            guard box.open else { return false }
            box.inputs.append(input)
            return true
        }
        if open { signal.yield(()) }
        return open
    }

    /// Inputs posted and not yet taken.
    var queuedCount: Int { pending.withLock { $0.inputs.count } }

    /// Everything posted since the last take, in order.
    func take() -> [Element] {
        pending.withLock { box in
            defer { box.inputs = [] }
            return box.inputs
        }
    }

    /// Takes no more inputs and ends the loop's wait; `discardingPending` drops what was not taken yet (a stopped
    /// node forgets it, as a crash would), otherwise the loop's last turn may still take it.
    func close(discardingPending: Bool) {
        pending.withLock { box in
            box.open = false
            if discardingPending { box.inputs = [] }
        }
        signal.finish()
    }
}

/// A `LocalCluster` node's inbox.
typealias NodeInbox = BatchInbox<Input>
