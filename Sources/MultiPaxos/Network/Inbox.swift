import Synchronization

/// What the network hands a served node: peers' messages and clients' commands, batched per pass of the
/// I/O loop so that the node pays one hop per batch rather than one per message.
enum ServerInput: Sendable {
    /// A message from a peer (authenticated by its connection's handshake).
    case message(Message, from: NodeID)
    /// A client's command, to run once through the log and answer on `connection`.
    case call(connection: UInt64, Command)
    /// A client asked (`MPX.TRANSFER`) that leadership go to `target`; the answer carries `key`.
    case transfer(connection: UInt64, key: RequestKey, target: NodeID)
    /// A client connection closed: forget what it was waiting for.
    case gone(connection: UInt64)
    /// A timer a role set.
    case timer(ProtocolTimer)
}

/// Where the network and the timers leave inputs for a served node's loop. The loop takes everything that
/// arrived since its last turn at once, so the inputs that came in while it was syncing share the next sync
/// (group commit); a signal stream wakes it, holding at most one pending wake-up.
final class Inbox: Sendable {
    private let pending = Mutex<(inputs: [ServerInput], finished: Bool)>(([], false))
    /// One element per wake-up, at most one buffered.
    let signals: AsyncStream<Void>
    private let signal: AsyncStream<Void>.Continuation

    init() {
        (signals, signal) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Leaves inputs for the loop and wakes it (an empty list only wakes it); false once finished.
    @discardableResult
    func post(_ inputs: [ServerInput]) -> Bool {
        let open = pending.withLock { box -> Bool in
            guard !box.finished else { return false }
            box.inputs += inputs
            return true
        }
        if open { signal.yield(()) }
        return open
    }

    /// Inputs posted and not yet taken.
    var queuedCount: Int { pending.withLock { $0.inputs.count } }

    /// Everything posted since the last take.
    func take() -> [ServerInput] {
        pending.withLock { box in
            defer { box.inputs = [] }
            return box.inputs
        }
    }

    /// Takes no more inputs; the loop ends after its current turn.
    func finish() {
        pending.withLock { $0.finished = true }
        signal.finish()
    }
}

/// How a client call ended, as the node reports it back to the connection.
enum CallOutcome: Sendable {
    /// The command was committed and applied; its result.
    case result([UInt8])
    /// No answer within the client deadline; the command may still take effect.
    case unavailable(String)
}
