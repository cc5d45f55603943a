/// An acceptor's Phase-1 report arrives in parts when it would not fit one message (`Promise.more`). This keeps,
/// per acceptor, how far its parts reach without a gap, for the Scout and for a rejoining node's fence read:
/// an acceptor's report counts once its parts reach the end.
struct PromiseParts {
    /// Per acceptor whose report is partly in: the slot its parts reach (from the scope's first slot).
    private(set) var reached: [NodeID: Slot] = [:]

    /// What a part means for `from`'s report.
    enum Outcome: Equatable {
        /// The report is whole now.
        case whole
        /// Ask `from` for the rest, from this slot.
        case askFrom(Slot)
        /// A stale or reordered part (it starts past what the earlier ones reached): it extends nothing.
        case stale

        /// The slot to ask from, for `.askFrom`.
        var askFrom: Slot? { if case .askFrom(let slot) = self { slot } else { nil } }
    }

    /// Takes part `p` of `from`'s report of a scope starting at `first`.
    mutating func add(_ p: Promise, from: NodeID, first: Slot) -> Outcome {
        let start = p.reportFrom ?? first
        let sofar = reached[from] ?? first
        guard start <= sofar else { return .stale }
        guard let more = p.more else {
            reached[from] = nil
            return .whole
        }
        guard more > sofar else { return .stale }
        reached[from] = more
        return .askFrom(more)
    }

    /// Forgets `from`'s parts (its report begins again).
    mutating func reset(_ from: NodeID) { reached[from] = nil }
}
