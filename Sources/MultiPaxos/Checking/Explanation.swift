extension Linearizability {
    /// Why a key's operations are not linearizable: the longest linearization the search found of some of them,
    /// and the operations that cannot come next after it (each observed something the key cannot hold there).
    public struct Explanation: Sendable, Equatable, CustomStringConvertible {
        /// The key's operations, in call order.
        public let operations: [KeyOperation]
        /// The longest linearizable prefix found: indices into `operations`, in the order they take effect.
        public let linearized: [Int]
        /// Indices into `operations` of those that could come next in real time but contradict the key's value (for
        /// a check that names the operations that contradict each other, those).
        public let unplaceable: [Int]
        /// The key's value after the prefix (nil: absent).
        public let valueAfterPrefix: ByteString?
        /// What contradicts itself, in one sentence, when a check found it directly (the list-append check names
        /// the two operations); nil for the search, whose prefix and stuck operations say it.
        public let headline: String?

        /// Explains a failed search.
        init(search: KeySearch) {
            self.init(operations: search.operations, linearized: search.longestPrefix)
        }

        /// Explains why `operations` stop after `linearized`: replays the prefix and tries every operation that
        /// could come next in real time (called before any remaining operation completed).
        init(operations: [KeyOperation], linearized: [Int]) {
            var value: ByteString? = nil
            for i in linearized { value = Self.apply(value, operations[i]) ?? value }
            var placed = [Bool](repeating: false, count: operations.count)
            for i in linearized { placed[i] = true }
            let remaining = operations.indices.filter { !placed[$0] }
            let firstReturn = remaining.map { Self.returnTime(operations[$0]) }.min() ?? Int.max
            let candidates = remaining.filter { operations[$0].callEvent < firstReturn }
            let rejected = candidates.filter { Self.apply(value, operations[$0]) == nil }
            self.init(operations: operations, linearized: linearized, valueAfterPrefix: value,
                      unplaceable: rejected.isEmpty ? candidates : rejected, headline: nil)
        }

        /// An explanation whose parts a check found directly: no replay (a list check's prefix can be long).
        init(operations: [KeyOperation], linearized: [Int], valueAfterPrefix: ByteString?, unplaceable: [Int],
             headline: String?) {
            self.operations = operations
            self.linearized = linearized
            self.valueAfterPrefix = valueAfterPrefix
            self.unplaceable = unplaceable
            self.headline = headline
        }

        /// When an operation must have taken effect by: its completion, or never for an unknown outcome.
        static func returnTime(_ op: KeyOperation) -> Int {
            op.isUnknown ? Int.max : (op.returnEvent ?? Int.max)
        }

        /// The model: the key's value after `op` from `value`; nil when the observed outcome is impossible there.
        static func apply(_ value: ByteString?, _ op: KeyOperation) -> ByteString?? {
            switch op.function {
            case .get: return op.isUnknown || op.output == value ? .some(value) : nil
            case .put: return .some(op.value)
            case .delete: return .some(nil)
            case .append: return .some((value ?? ByteString()) + (op.value ?? ByteString()))
            case .cas:
                switch op.outcome {
                case .ok: return value == op.expected ? .some(op.value) : nil
                case .fail: return value != op.expected ? .some(value) : nil
                case .info, .invoke: return .some(value == op.expected ? op.value : value)
                }
            }
        }

        /// Where an operation sits in the history, e.g. `events 4-9` or `event 4-(never completed)`.
        static func span(_ op: KeyOperation) -> String {
            "events \(op.callEvent)-\(op.returnEvent.map(String.init) ?? "(never completed)")"
        }

        /// Why `op` cannot follow a prefix that leaves the key at `value`.
        static func conflict(_ op: KeyOperation, _ value: ByteString?) -> String {
            switch (op.function, op.outcome) {
            case (.cas, .ok): "\(holds(value)), not the expected value"
            case (.cas, .fail): "the key holds the expected value, so the cas would have applied"
            default: holds(value)
            }
        }

        /// `the key holds "v"`, or `the key is absent`.
        static func holds(_ value: ByteString?) -> String {
            value == nil ? "the key is absent" : "the key holds \(KeyOperation.show(value))"
        }

        /// Several lines: the prefix, numbered, then each operation that cannot come next and why.
        public var description: String {
            var lines: [String]
            if let headline {
                lines = [headline]
                if !linearized.isEmpty {
                    lines.append("a linearization of \(linearized.count) of its \(operations.count) operations goes as far as:")
                    for (n, i) in linearized.enumerated().suffix(5) {
                        let op = operations[i]
                        lines.append("  \(n + 1). process \(op.process): \(op) (\(Self.span(op)))")
                    }
                }
                return lines.joined(separator: "\n")
            }
            if linearized.isEmpty {
                lines = ["none of its \(operations.count) operations can come first:"]
            } else {
                lines = ["a linearization of \(linearized.count) of its \(operations.count) operations, in order:"]
                for (n, i) in linearized.enumerated() {
                    let op = operations[i]
                    lines.append("  \(n + 1). process \(op.process): \(op) (\(Self.span(op)))")
                }
                lines.append("after which \(Self.holds(valueAfterPrefix)), and none of these can come next:")
            }
            for i in unplaceable {
                let op = operations[i]
                lines.append("  process \(op.process): \(op) (\(Self.span(op))): \(Self.conflict(op, valueAfterPrefix))")
            }
            return lines.joined(separator: "\n")
        }
    }
}
