import Foundation

/// Decides whether a key-value client history is linearizable: Wing and Gong's search with Lowe's memoisation
/// (as in porcupine). Keys are independent, so each has its own search; the searches take turns, a bounded
/// number of steps each, and the first key that fails decides, so an intractable key never hides a failing one.
/// An append-only key (only appends of distinct, prefix-free values, and gets) needs no search: its reads reveal
/// the order of its appends, and `ListAppend` decides it in one pass, however long the history.
public enum Linearizability {
    /// The verdict on a history.
    public enum Verdict: Sendable, Equatable {
        /// Every key's operations admit a linearization.
        case linearizable
        /// `key`'s operations admit none; `explanation` says how far a linearization got and what stopped it.
        case notLinearizable(key: ByteString, explanation: Explanation)
        /// The budget ran out first; `reason` says which limit.
        case unknown(reason: String)

        /// Whether the history was found linearizable (false also when undecided).
        public var isLinearizable: Bool { if case .linearizable = self { true } else { false } }
        /// The key that fails, if one was found.
        public var failingKey: ByteString? { if case .notLinearizable(let key, _) = self { key } else { nil } }
        /// Whether the search finished within its budget.
        public var isDecided: Bool { if case .unknown = self { false } else { true } }
    }

    /// Limits after which the verdict is `unknown` rather than the process running out of memory or time.
    /// Entries, memory and steps are counted, so a budget without `timeout` gives the same verdict every run.
    public struct Budget: Sendable, Equatable {
        /// At most this many cached configurations, over all keys.
        public var maxCacheEntries: Int?
        /// At most about this many bytes held by the searches at their peak, estimated from their caches and values
        /// (and the room the largest of them needs to grow).
        public var maxMemoryBytes: Int?
        /// At most this many search steps, over all keys.
        public var maxSteps: Int?
        /// At most this much time, as the caller's `elapsed` counts it (`check(_:budget:elapsed:)`).
        public var timeout: Duration?

        /// Makes a budget; nil means no limit.
        public init(maxCacheEntries: Int? = nil, maxMemoryBytes: Int? = nil, maxSteps: Int? = nil, timeout: Duration? = nil) {
            self.maxCacheEntries = maxCacheEntries
            self.maxMemoryBytes = maxMemoryBytes
            self.maxSteps = maxSteps
            self.timeout = timeout
        }

        /// No limit at all.
        public static let unlimited = Budget()
        /// The end-of-run check of a simulation: deterministic (no clock), at most about 512 MB and 100 million
        /// steps (a few seconds).
        public static let simulation = Budget(maxMemoryBytes: 512 << 20, maxSteps: 100_000_000)
    }

    /// Steps each key's search takes per turn.
    static let stepsPerTurn = 4_096

    /// Checks `history` within `budget`. `elapsed` tells the time spent since the check began, for
    /// `budget.timeout`: the checker reads no clock itself (a simulation never passes one, so its verdicts stay
    /// deterministic); without it a timeout is never reached.
    public static func check(_ history: History, budget: Budget = .unlimited, elapsed: (() -> Duration)? = nil) -> Verdict {
        let allKeys = KeyOperation.partition(history)
        // Operation and entry indices are 32-bit in the search.
        if let huge = allKeys.first(where: { $0.operations.count > 1 << 28 }) {
            return .unknown(reason: "key \"\(huge.key)\" has \(huge.operations.count) operations, more than one search can index")
        }
        // Append-only keys are checked as lists, in one pass each (see `ListAppend`); the rest are searched.
        let failed = ListAppend.failedAppends(history)
        var searched: [(key: ByteString, operations: [KeyOperation])] = []
        for key in allKeys {
            guard ListAppend.applies(to: key.operations) else {
                searched.append(key)
                continue
            }
            if let explanation = ListAppend.check(key.operations, failed: failed[key.key] ?? []) {
                return .notLinearizable(key: key.key, explanation: explanation)
            }
        }
        let keys = searched
        var searches = keys.map { KeySearch(operations: $0.operations) }
        var open = Array(searches.indices)
        var steps = 0
        while !open.isEmpty {
            var stillOpen: [Int] = []
            for index in open {
                // A step budget smaller than a turn is honoured too.
                let allowed = min(stepsPerTurn, max(0, (budget.maxSteps ?? .max) - steps))
                guard allowed > 0 else {
                    stillOpen.append(index)
                    continue
                }
                let before = searches[index].steps
                let status = searches[index].run(steps: allowed)
                steps += searches[index].steps - before
                switch status {
                case .searching: stillOpen.append(index)
                case .linearizable: searches[index].release()
                case .notLinearizable:
                    return .notLinearizable(key: keys[index].key, explanation: Explanation(search: searches[index]))
                }
            }
            open = stillOpen
            guard !open.isEmpty else { break }
            let entries = open.reduce(0) { $0 + searches[$1].cache.count }
            var memory = MemoryEstimate()
            for index in open { memory.add(searches[index].memory) }
            let bytes = memory.peak
            var undecided: String {
                let names = open.prefix(5).map { "\"\(keys[$0].key)\"" }.joined(separator: ", ")
                return "undecided: key\(open.count == 1 ? "" : "s") \(names)" + (open.count > 5 ? " and \(open.count - 5) more" : "")
            }
            if let limit = budget.maxSteps, steps >= limit {
                return .unknown(reason: "reached the limit of \(limit) search steps (\(undecided))")
            }
            if let limit = budget.maxCacheEntries, entries >= limit {
                return .unknown(reason: "reached the limit of \(limit) cached configurations (\(undecided))")
            }
            if let limit = budget.maxMemoryBytes, bytes >= limit {
                let size = limit % (1 << 20) == 0 ? "\(limit >> 20) MB" : "\(limit) bytes"
                return .unknown(reason: "reached the memory limit of \(size) (\(undecided))")
            }
            if open.contains(where: { searches[$0].cache.count > ConfigurationCache.capacityLimit - stepsPerTurn }) {
                return .unknown(reason: "a cache reached \(ConfigurationCache.capacityLimit) entries (\(undecided))")
            }
            if let timeout = budget.timeout, let elapsed, elapsed() >= timeout {
                return .unknown(reason: "reached the time limit of \(timeout) (\(undecided))")
            }
        }
        return .linearizable
    }
}
