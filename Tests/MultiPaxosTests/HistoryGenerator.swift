@testable import MultiPaxos

/// Makes large key-value histories like porcupine's `c50` ones, deterministically from a seed: each client
/// runs gets, appends and puts on random keys one after another; each operation takes effect at a random
/// instant between its call and its completion, and reads see exactly what the operations before them wrote.
/// So the history is linearizable by construction, and changing one read's result breaks it.
struct HistoryGenerator {
    /// One operation: its key, what it does, and when it is called, takes effect and completes.
    private struct Op {
        let client: Int
        let function: HistoryEvent.Function
        let key: ByteString
        let value: ByteString?
        let call: UInt64, effect: UInt64, completion: UInt64
        var read: ByteString?
    }

    private var ops: [Op] = []

    /// Generates the operations of `clients` clients, `perClient` each, over `keys` keys.
    init(seed: UInt64, clients: Int = 50, keys: Int = 10, perClient: Int = 40) {
        var random = SeededGenerator(seed: seed)
        for client in 0..<clients {
            var t = random.upTo(2_000)
            for i in 0..<perClient {
                let roll = random.upTo(9)
                let function: HistoryEvent.Function = roll < 5 ? .get : roll < 9 ? .append : .put
                let effect = t + 1 + random.upTo(2_000)
                let completion = effect + 1 + random.upTo(2_000)
                ops.append(Op(client: client, function: function, key: "\(random.upTo(UInt64(keys - 1)))",
                              value: function == .get ? nil : "x \(client) \(i) y", call: t, effect: effect,
                              completion: completion))
                t = completion + 1 + random.upTo(1_000)
            }
        }
        // Apply in the order the operations take effect; ties cannot matter, as no two share an instant below.
        var state: [ByteString: ByteString] = [:]
        for i in ops.indices.sorted(by: { (ops[$0].effect, $0) < (ops[$1].effect, $1) }) {
            let op = ops[i]
            switch op.function {
            case .get: ops[i].read = state[op.key]
            case .put: state[op.key] = op.value
            default: state[op.key] = (state[op.key] ?? "") + (op.value ?? "")
            }
        }
    }

    /// The history, events in time order (calls before completions at the same instant, so that operations
    /// that touch are concurrent and the history stays linearizable).
    var history: History {
        var timed: [(time: UInt64, order: Int, event: HistoryEvent)] = []
        for (i, op) in ops.enumerated() {
            timed.append((op.call, 2 * i, HistoryEvent(process: op.client, kind: .invoke, function: op.function,
                                                       key: op.key, value: op.value)))
            var done = HistoryEvent(process: op.client, kind: .ok, function: op.function, key: op.key)
            if op.function == .get { done.value = op.read }
            timed.append((op.completion, 2 * i + 1, done))
        }
        timed.sort { ($0.time, $0.event.kind == .invoke ? 0 : 1, $0.order) < ($1.time, $1.event.kind == .invoke ? 0 : 1, $1.order) }
        return History(events: timed.map(\.event))
    }

    /// Changes the result of a read about three quarters of the way through to a stale value: one that an
    /// earlier read R saw before a write W that completed before this read was called. Every write is unique, so
    /// once W is placed (after R, before this read, by real time) the key never holds that value again, and the
    /// history is not linearizable. Returns the read's key.
    mutating func breakARead() -> ByteString {
        let reads = ops.indices.filter { ops[$0].function == .get && ops[$0].read != nil }
            .sorted { ops[$0].completion < ops[$1].completion }
        for target in reads[(reads.count * 3 / 4)...] {
            let key = ops[target].key
            let writes = ops.filter { $0.key == key && $0.function != .get && $0.completion < ops[target].call }
            guard let w = writes.max(by: { $0.completion < $1.completion }) else { continue }
            let earlier = ops.filter { $0.key == key && $0.function == .get && $0.read != nil && $0.completion < w.call }
            guard let r = earlier.max(by: { $0.completion < $1.completion }) else { continue }
            ops[target].read = r.read
            return key
        }
        return ""
    }
}
