/// Decides whether a key-value client history is linearizable: Wing and Gong's search with Lowe's memoisation
/// (as in porcupine), each key checked on its own since keys are independent.
public enum Linearizability {
    /// The verdict, and the first key whose operations admit no linearization.
    public struct Verdict: Sendable, Equatable {
        /// Makes a verdict.
        public init(isLinearizable: Bool, failingKey: String?) {
            self.isLinearizable = isLinearizable
            self.failingKey = failingKey
        }
        /// Whether the whole history is linearizable.
        public let isLinearizable: Bool
        /// A key that fails, if any.
        public let failingKey: String?
    }

    /// One operation of one key: its call and completion positions and what it did.
    struct Operation {
        let function: HistoryEvent.Function
        let value: String?
        let expected: String?
        /// `.ok`, `.fail` (cas found another value) or `.info` (unknown).
        let outcome: HistoryEvent.Kind
        let output: String?
    }

    /// Checks `history`.
    public static func check(_ history: History) -> Verdict {
        var perKey: [String: [(call: Int, ret: Int, op: Operation)]] = [:]
        var open: [Int: (index: Int, event: HistoryEvent)] = [:]
        let end = history.events.count
        for (index, event) in history.events.enumerated() {
            if event.kind == .invoke {
                open[event.process] = (index, event)
                continue
            }
            guard let (callIndex, call) = open.removeValue(forKey: event.process) else { continue }
            // A failed operation other than cas certainly did not take effect: leave it out.
            if event.kind == .fail && call.function != .cas { continue }
            let op = Operation(function: call.function, value: call.value, expected: call.expected,
                               outcome: event.kind, output: event.value)
            perKey[call.key, default: []].append((callIndex, event.kind == .info ? end : index, op))
        }
        // Calls never completed count as info: they may take effect at any time after their call.
        for (_, (callIndex, call)) in open {
            let op = Operation(function: call.function, value: call.value, expected: call.expected, outcome: .info, output: nil)
            perKey[call.key, default: []].append((callIndex, end, op))
        }
        for key in perKey.keys.sorted() where !linearizable(perKey[key]!) {
            return Verdict(isLinearizable: false, failingKey: key)
        }
        return Verdict(isLinearizable: true, failingKey: nil)
    }

    /// The model: applies `op` to `state`; nil when the observed outcome is impossible from `state`.
    static func step(_ state: String?, _ op: Operation) -> String?? {
        switch op.function {
        case .get:
            return op.outcome == .info || op.output == state ? .some(state) : nil
        case .put:
            return .some(op.value)
        case .delete:
            return .some(nil)
        case .append:
            return .some((state ?? "") + (op.value ?? ""))
        case .cas:
            switch op.outcome {
            case .ok: return state == op.expected ? .some(op.value) : nil
            case .fail: return state != op.expected ? .some(state) : nil
            case .info, .invoke: return .some(state == op.expected ? op.value : state)
            }
        }
    }

    private struct Bits: Hashable {
        var words: [UInt64]
        init(count: Int) { words = Array(repeating: 0, count: (count + 63) / 64) }
        mutating func set(_ i: Int) { words[i >> 6] |= 1 << UInt64(i & 63) }
        mutating func clear(_ i: Int) { words[i >> 6] &= ~(1 << UInt64(i & 63)) }
    }

    private struct Configuration: Hashable {
        let linearized: Bits
        let state: String?
    }

    /// The search over one key's operations.
    static func linearizable(_ ops: [(call: Int, ret: Int, op: Operation)]) -> Bool {
        // Entries: a call and a return per operation, in time order (calls before returns at equal times).
        struct Entry { let time: Int; let isCall: Bool; let id: Int }
        var entries: [Entry] = []
        for (id, o) in ops.enumerated() {
            entries.append(Entry(time: o.call, isCall: true, id: id))
            entries.append(Entry(time: o.ret, isCall: false, id: id))
        }
        entries.sort { $0.time != $1.time ? $0.time < $1.time : ($0.isCall && !$1.isCall) }
        // A doubly linked list over the entries, with a head sentinel at index n.
        let n = entries.count
        var next = Array(1...n) + [0]
        var prev = [n] + Array(0..<n)
        next[n] = n > 0 ? 0 : -1
        if n > 0 { next[n - 1] = -1 }
        prev[0] = n
        var returnIndex = Array(repeating: 0, count: ops.count)
        for (i, e) in entries.enumerated() where !e.isCall { returnIndex[e.id] = i }
        func lift(_ call: Int) {
            let ret = returnIndex[entries[call].id]
            next[prev[call]] = next[call]
            if next[call] >= 0 { prev[next[call]] = prev[call] }
            next[prev[ret]] = next[ret]
            if next[ret] >= 0 { prev[next[ret]] = prev[ret] }
        }
        func unlift(_ call: Int) {
            let ret = returnIndex[entries[call].id]
            next[prev[ret]] = ret
            if next[ret] >= 0 { prev[next[ret]] = ret }
            next[prev[call]] = call
            if next[call] >= 0 { prev[next[call]] = call }
        }

        var state: String? = nil
        var linearized = Bits(count: ops.count)
        var cache: Set<Configuration> = []
        var stack: [(entry: Int, state: String?)] = []
        var cursor = next[n]
        while next[n] >= 0 {
            // Only operations of unknown outcome left: they can all be placed at the end.
            if cursor >= 0, entries[cursor].isCall {
                let id = entries[cursor].id
                if let after = step(state, ops[id].op) {
                    var candidate = linearized
                    candidate.set(id)
                    if cache.insert(Configuration(linearized: candidate, state: after)).inserted {
                        stack.append((cursor, state))
                        state = after
                        linearized = candidate
                        lift(cursor)
                        cursor = next[n]
                        continue
                    }
                }
                cursor = next[cursor]
            } else {
                guard let (entry, saved) = stack.popLast() else { return false }
                linearized.clear(entries[entry].id)
                state = saved
                unlift(entry)
                cursor = next[entry]
            }
        }
        return true
    }
}
