/// A client: sends its operations one at a time to the replica on its node, each as a request numbered one
/// above the last, and sends the same request again until the answer comes. Retries keep their number, so the
/// replicas run each request at most once.
public actor Requester: Role {
    public nonisolated let kind = RoleKind.requester
    nonisolated let executor: QueueExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// The client this requester speaks for.
    public nonisolated let client: ClientID
    let node: NodeID
    let requestTimeout: Microseconds
    /// How many operations the client sends, and operation `i` (from 0) in the state machine's encoding.
    let count: Int
    let operation: @Sendable (Int) -> [UInt8]
    private var issued = 0
    private var outstanding: Command?
    /// The results received so far, in request order.
    public private(set) var results: [[UInt8]] = []

    /// Makes a client on `node` that will run `operations` in order.
    public init(client: ClientID, node: NodeID, operations: [[UInt8]], requestTimeout: Microseconds,
                executor: QueueExecutor) {
        self.init(client: client, node: node, count: operations.count, operation: { operations[$0] },
                  requestTimeout: requestTimeout, executor: executor)
    }

    /// Makes a client on `node` that will send `count` operations, asking `operation` for each when it is due.
    public init(client: ClientID, node: NodeID, count: Int, operation: @escaping @Sendable (Int) -> [UInt8],
                requestTimeout: Microseconds, executor: QueueExecutor) {
        self.client = client
        self.node = node
        self.count = count
        self.operation = operation
        self.requestTimeout = requestTimeout
        self.executor = executor
    }

    /// Whether every operation has been answered.
    public var isDone: Bool { issued == count && outstanding == nil }

    public func start() -> [Effect] { issueNext() }

    public func handle(_ input: Input) -> [Effect] {
        switch input {
        case .message(.reply(let r), _):
            guard let command = outstanding, command.key == r.key else { return [] }
            outstanding = nil
            results.append(r.result)
            return [.event(.completed(r.key, result: r.result))] + issueNext()
        case .timer(.requestRetry(let key)):
            guard let command = outstanding, command.key == key else { return [] }
            return send(command)
        case .message, .timer:
            return []
        }
    }

    private func issueNext() -> [Effect] {
        guard issued < count else { return [] }
        issued += 1
        let key = RequestKey(client: client, request: RequestNumber(UInt64(issued)))
        let command = Command(key: key, operation: operation(issued - 1))
        outstanding = command
        return [.event(.invoked(key, operation: command.operation))] + send(command)
    }

    private func send(_ command: Command) -> [Effect] {
        [
            .send(.request(Request(command: command)), to: node),
            .setTimer(.requestRetry(command.key), after: requestTimeout, jitter: requestTimeout / 4),
        ]
    }
}
