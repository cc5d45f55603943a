/// What the network hands a served node: peers' messages and clients' commands, batched per pass of the
/// I/O loop so that the node pays one hop per batch rather than one per message.
enum ServerInput: Sendable {
    /// A message from a peer (authenticated by its connection's handshake).
    case message(Message, from: NodeID)
    /// A client's command, to run once through the log and answer on `connection`.
    case call(connection: UInt64, Command)
    /// A client's admin request (`MPX.TRANSFER`, `MPX.VOTERS`, ...); the answer carries `key`.
    case admin(connection: UInt64, key: RequestKey, request: AdminRequest)
    /// A client connection closed: forget what it was waiting for.
    case gone(connection: UInt64)
    /// A timer a role set.
    case timer(ProtocolTimer)
    /// Stop serving (SIGTERM): a leader first hands leadership to its most up-to-date voter (bounded), so
    /// that the cluster does not wait out a leader timeout.
    case stop
}

/// Where the network and the timers leave inputs for a served node's loop (see `BatchInbox`): the inputs that
/// came in while it was syncing share the next sync (group commit).
typealias Inbox = BatchInbox<ServerInput>

/// How a client call ended, as the node reports it back to the connection.
enum CallOutcome: Sendable {
    /// The command was committed and applied; its result.
    case result([UInt8])
    /// No answer within the client deadline; the command may still take effect.
    case unavailable(String)
}
