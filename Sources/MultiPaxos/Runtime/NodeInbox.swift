import Synchronization

/// A `LocalCluster` node's queue of inputs: senders append under a lock and wake the node's loop, which takes
/// everything that arrived since its last turn as one batch. The loop then pays one executor hop and one sync
/// per batch rather than per input (a hop between threads costs about as much as handling a message).
final class NodeInbox: Sendable {
    private let pending = Mutex<(inputs: [Input], open: Bool)>(([], true))
    /// One element per wake-up, at most one buffered; ends when the inbox is closed.
    let signals: AsyncStream<Void>
    private let signal: AsyncStream<Void>.Continuation

    init() {
        (signals, signal) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Leaves `input` for the loop and wakes it; false once the inbox is closed (the node is stopped).
    @discardableResult
    func post(_ input: Input) -> Bool {
        let open = pending.withLock { box -> Bool in
            guard box.open else { return false }
            box.inputs.append(input)
            return true
        }
        if open { signal.yield(()) }
        return open
    }

    /// Everything posted since the last take, in order.
    func take() -> [Input] {
        pending.withLock { box in
            defer { box.inputs = [] }
            return box.inputs
        }
    }

    /// Takes no more inputs and ends the loop's wait.
    func close() {
        pending.withLock { box in
            box.open = false
            box.inputs = []
        }
        signal.finish()
    }
}
