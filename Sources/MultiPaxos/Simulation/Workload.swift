/// One simulated client's script: where it runs, what it asks, and (for scripted clients) what each answer
/// must be. A generated script makes its operations on demand, so a million-command benchmark holds none.
public struct ClientScript: Sendable {
    /// The client.
    public let client: ClientID
    /// The node whose replica it talks to.
    public let node: NodeID
    /// How many operations it sends.
    public let count: Int
    let operations: [KeyValueOperation]
    let expected: [KeyValueResult?]
    let sharedTokens: [String?]
    /// A generated script's gets per put: each put is followed by this many gets of the same key.
    let readsPerWrite: Int
    /// When the client starts (simulated time); most start at once.
    var startAt: Microseconds = 0

    init(client: ClientID, node: NodeID, operations: [KeyValueOperation], expected: [KeyValueResult?],
         sharedTokens: [String?]) {
        self.client = client
        self.node = node
        self.count = operations.count
        self.operations = operations
        self.expected = expected
        self.sharedTokens = sharedTokens
        readsPerWrite = 1
    }

    init(generatedFor client: ClientID, node: NodeID, count: Int, readsPerWrite: Int = 1) {
        self.client = client
        self.node = node
        self.count = count
        self.readsPerWrite = max(0, readsPerWrite)
        operations = []
        expected = []
        sharedTokens = []
    }

    /// Operation `i` (from 0).
    public func operation(_ i: Int) -> KeyValueOperation {
        if !operations.isEmpty { return operations[i] }
        // A benchmark client writes and reads a few keys of its own: cheap, and every answer is checkable.
        let period = readsPerWrite + 1
        let key: ByteString = "\(client).k\((i / period) % 4)"
        return i % period == 0 ? .put(key, "v\(i)") : .get(key)
    }

    /// The result operation `i` must give, if known in advance.
    public func expectedResult(_ i: Int) -> KeyValueResult? {
        if !expected.isEmpty { return expected[i] }
        let period = readsPerWrite + 1
        return i % period == 0 ? .ok : .value("v\(i - i % period)")
    }

    /// The token operation `i` appends to the shared journal, if it does.
    func token(_ i: Int) -> String? { sharedTokens.isEmpty ? nil : sharedTokens[i] }
}

/// Builds the demo's scripted clients from the run's generator: each client works on keys of its own, so the
/// right answer to every request is known in advance, and appends a unique token to one shared key, which must
/// end up holding each completed token exactly once.
enum Workload {
    /// Generated clients for benchmarks: no scripts held in memory.
    static func generated(placements: [NodeID], requestsPerClient: Int, readsPerWrite: Int = 1) -> [ClientScript] {
        placements.enumerated().map { index, node in
            ClientScript(generatedFor: ClientID(UInt64(index + 1)), node: node, count: requestsPerClient,
                         readsPerWrite: readsPerWrite)
        }
    }

    /// The key every client appends to.
    static let sharedKey: ByteString = "journal"
    /// The register every client reads, writes and compare-and-sets.
    static let registerKey: ByteString = "register"

    /// Scripted clients; their values are padded to `valueBytes` (0: left as they are).
    static func make(placements: [NodeID], requestsPerClient: Int, valueBytes: Int = 0,
                     random: inout SeededGenerator) -> [ClientScript] {
        // Padding draws nothing, so a seed's script is otherwise the same with or without it.
        func padded(_ value: ByteString) -> ByteString {
            guard valueBytes > value.count else { return value }
            return value + ByteString((0..<(valueBytes - value.count)).map { [0xFF, 0x00, 0xFE, 0x80][$0 % 4] })
        }
        return placements.enumerated().map { index, node in
            let client = ClientID(UInt64(index + 1))
            var model = KeyValueStore()
            var operations: [KeyValueOperation] = []
            var expected: [KeyValueResult?] = []
            var tokens: [String?] = []
            for i in 0..<requestsPerClient {
                let key: ByteString = "\(client).k\(random.upTo(2))"
                let value = padded("v\(random.upTo(99))")
                let op: KeyValueOperation
                var token: String?
                var shared = false
                switch random.upTo(9) {
                case 0: op = .put(key, value)
                case 1: op = .get(key)
                case 2: op = .append(key, value)
                case 3: op = .delete(key)
                case 4: op = .compareAndSet(key, expected: model.entries[key], new: value)
                case 5: op = .compareAndSet(key, expected: "stale", new: value)
                case 6:
                    token = "\(client).\(i + 1);"
                    op = .append(sharedKey, ByteString(token!))
                case 7:
                    shared = true
                    op = random.upTo(1) == 0 ? .get(registerKey) : .put(registerKey, value)
                default:
                    shared = true
                    op = random.upTo(1) == 0 ? .get(sharedKey) : .compareAndSet(registerKey, expected: value, new: "v\(random.upTo(99))")
                }
                operations.append(op)
                tokens.append(token)
                // A shared append's result is the journal's new length, which depends on every other client.
                expected.append(shared || token != nil ? nil : model.apply(op))
            }
            return ClientScript(client: client, node: node, operations: operations, expected: expected,
                                sharedTokens: tokens)
        }
    }
}
