/// The key of a client request: which client, which of its requests. Exactly-once execution is keyed on it.
public struct RequestKey: Hashable, Sendable, CustomStringConvertible {
    /// The client that sent the request.
    public let client: ClientID
    /// The request's number in that client's sequence.
    public let request: RequestNumber
    /// Makes the key of request `request` of `client`.
    public init(client: ClientID, request: RequestNumber) {
        self.client = client
        self.request = request
    }
    public var description: String { "\(client)\(request)" }
}

/// A client's command for the state machine: who sent it and the opaque operation bytes the state machine reads.
public struct Command: Hashable, Sendable, CustomStringConvertible {
    /// The request this command belongs to.
    public let key: RequestKey
    /// The operation, encoded by the state machine's own format.
    public let operation: [UInt8]
    /// Makes a command.
    public init(key: RequestKey, operation: [UInt8]) {
        self.key = key
        self.operation = operation
    }
    public var description: String { key.description }
}

/// What a slot holds: a client command, or a no-op that fills a hole. A no-op is its own case, so no client
/// value can ever be mistaken for it (the toy Paxos of the blog post "Consensus Protocols: A Paxos
/// Implementation" used the value 0).
public enum Value: Hashable, Sendable, CustomStringConvertible {
    /// Fills a slot that no command needs; applying it changes nothing.
    case noop
    /// A client's command.
    case command(Command)
    /// Several clients' commands in one slot, applied in order (a leader with batching on packs the commands
    /// that wait while its window of slots is full); each still runs at most once. Never fewer than two.
    case batch([Command])

    /// The commands the value carries, in the order they are applied.
    public var commands: [Command] {
        switch self {
        case .noop: []
        case .command(let c): [c]
        case .batch(let cs): cs
        }
    }

    /// A slot's value for `commands`: a no-op for none, the command itself for one, a batch for more.
    public static func holding(_ commands: [Command]) -> Value {
        switch commands.count {
        case 0: .noop
        case 1: .command(commands[0])
        default: .batch(commands)
        }
    }

    /// About how many bytes the value takes in a message (its operations and 32 bytes a command besides): what
    /// size bounds on messages count, without encoding anything.
    public var encodedSizeEstimate: Int {
        switch self {
        case .noop: 1
        case .command(let c): c.operation.count + 32
        case .batch(let cs): cs.reduce(8) { $0 + $1.operation.count + 32 }
        }
    }

    /// Whether the value carries `command` (a batch carries several).
    public func carries(_ command: Command) -> Bool {
        switch self {
        case .noop: false
        case .command(let c): c == command
        case .batch(let cs): cs.contains(command)
        }
    }

    public var description: String {
        switch self {
        case .noop: "no-op"
        case .command(let c): c.description
        case .batch(let cs) where cs.count <= 4: "[" + cs.map(\.description).joined(separator: " ") + "]"
        case .batch(let cs): "[\(cs[0]) \(cs[1]) … \(cs[cs.count - 1]): \(cs.count) commands]"
        }
    }
}

/// A value accepted by an acceptor at a ballot for a slot (a "pvalue" in Paxos Made Moderately Complex).
public struct PValue: Hashable, Sendable {
    /// The ballot at which the value was accepted.
    public let ballot: Ballot
    /// The slot.
    public let slot: Slot
    /// The value.
    public let value: Value
    /// Makes a pvalue.
    public init(ballot: Ballot, slot: Slot, value: Value) {
        self.ballot = ballot
        self.slot = slot
        self.value = value
    }
}
