/// One simulated client's script: where it runs, what it asks, and what each answer must be.
public struct ClientScript: Sendable {
    /// The client.
    public let client: ClientID
    /// The node whose replica it talks to.
    public let node: NodeID
    /// Its operations, in order.
    public let operations: [KeyValueOperation]
    /// The result each operation must give; nil for operations on keys other clients share, whose answers
    /// only the linearizability check can judge.
    public let expected: [KeyValueResult?]
    /// The token each operation appended to the shared key, if it did.
    public let sharedTokens: [String?]
}

/// Builds the demo's scripted clients from the run's generator: each client works on keys of its own, so the
/// right answer to every request is known in advance, and appends a unique token to one shared key, which must
/// end up holding each completed token exactly once.
enum Workload {
    /// The key every client appends to.
    static let sharedKey = "journal"
    /// The register every client reads, writes and compare-and-sets.
    static let registerKey = "register"

    static func make(placements: [NodeID], requestsPerClient: Int, random: inout SeededGenerator) -> [ClientScript] {
        placements.enumerated().map { index, node in
            let client = ClientID(UInt64(index + 1))
            var model = KeyValueStore()
            var operations: [KeyValueOperation] = []
            var expected: [KeyValueResult?] = []
            var tokens: [String?] = []
            for i in 0..<requestsPerClient {
                let key = "\(client).k\(random.upTo(2))"
                let value = "v\(random.upTo(99))"
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
                    op = .append(sharedKey, token!)
                case 7:
                    shared = true
                    op = random.upTo(1) == 0 ? .get(registerKey) : .put(registerKey, value)
                default:
                    shared = true
                    op = random.upTo(1) == 0 ? .get(sharedKey) : .compareAndSet(registerKey, expected: value, new: "v\(random.upTo(99))")
                }
                operations.append(op)
                tokens.append(token)
                expected.append(shared ? nil : token == nil ? model.apply(op) : .ok)
            }
            return ClientScript(client: client, node: node, operations: operations, expected: expected,
                                sharedTokens: tokens)
        }
    }
}
