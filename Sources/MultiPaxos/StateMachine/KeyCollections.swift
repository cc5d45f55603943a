/// What a key holds when it is not a string: one of Redis's collection types. A key holds a string or one
/// collection, never both; a collection that becomes empty is removed with its key, as Redis does.
enum KeyCollection: Equatable, Sendable {
    /// Fields and their values (HSET).
    case hash([ByteString: ByteString])
    /// A sequence, pushed and popped at both ends (LPUSH, RPOP).
    case list(ByteList)
    /// Distinct members (SADD).
    case set(Set<ByteString>)
    /// Distinct members ordered by score, then by bytes (ZADD).
    case sortedSet(ScoredSet)

    /// Whether it holds nothing (the store never keeps such a collection).
    var isEmpty: Bool {
        switch self {
        case .hash(let h): h.isEmpty
        case .list(let l): l.isEmpty
        case .set(let s): s.isEmpty
        case .sortedSet(let z): z.isEmpty
        }
    }

    /// The name TYPE answers.
    var typeName: String {
        switch self {
        case .hash: "hash"
        case .list: "list"
        case .set: "set"
        case .sortedSet: "zset"
        }
    }
}

/// Redis's reply to an operation on a key that holds another type.
let wrongTypeError = KeyValueResult.error("WRONGTYPE Operation against a key holding the wrong kind of value")

/// A list of byte strings, pushed and popped at both ends in amortized constant time: two arrays back to back,
/// the front one reversed (so both ends are an array's end). Equality is by elements, not by how they are split.
struct ByteList: Equatable, Sendable {
    /// Elements `0..<front.count`, last first: `front.last` is element 0.
    private var front: [ByteString] = []
    /// Elements `front.count...`, in order.
    private var back: [ByteString] = []

    /// An empty list.
    init() {}
    /// A list of `elements`, in order.
    init(_ elements: [ByteString]) { back = elements }

    var count: Int { front.count + back.count }
    var isEmpty: Bool { front.isEmpty && back.isEmpty }
    /// The elements in order.
    var elements: [ByteString] { front.reversed() + back }

    subscript(index: Int) -> ByteString {
        get { index < front.count ? front[front.count - 1 - index] : back[index - front.count] }
        set {
            if index < front.count { front[front.count - 1 - index] = newValue } else { back[index - front.count] = newValue }
        }
    }

    mutating func pushFront(_ element: ByteString) { front.append(element) }
    mutating func pushBack(_ element: ByteString) { back.append(element) }

    mutating func popFront() -> ByteString? {
        if front.isEmpty, !back.isEmpty {
            // Half of the other side moves over, so that alternating ends stays amortized constant time.
            let half = (back.count + 1) / 2
            front = back[..<half].reversed()
            back.removeFirst(half)
        }
        return front.popLast()
    }

    mutating func popBack() -> ByteString? {
        if back.isEmpty, !front.isEmpty {
            let half = (front.count + 1) / 2
            back = front[..<half].reversed()
            front.removeFirst(half)
        }
        return back.popLast()
    }

    /// Keeps only `range` (positions in the list).
    mutating func keep(_ range: Range<Int>) {
        let kept = Array(elements[range])
        self = ByteList(kept)
    }

    /// Replaces the elements with `elements`.
    mutating func replace(with elements: [ByteString]) { self = ByteList(elements) }

    static func == (lhs: ByteList, rhs: ByteList) -> Bool { lhs.count == rhs.count && lhs.elements == rhs.elements }
}

/// A member of a sorted set with its score.
public struct ScoredMember: Hashable, Sendable, Comparable {
    /// The score (never NaN).
    public let score: Double
    /// The member's bytes.
    public let member: ByteString
    /// Pairs `member` with `score`.
    public init(score: Double, member: ByteString) {
        self.score = score
        self.member = member
    }
    /// By score, then by the members' bytes, as Redis orders a sorted set.
    public static func < (lhs: ScoredMember, rhs: ScoredMember) -> Bool {
        lhs.score != rhs.score ? lhs.score < rhs.score : lhs.member < rhs.member
    }
}

/// A sorted set: each member's score, and the members in order (an array kept sorted: a change moves part of
/// it, which is cheap for the sets people keep under Redis keys; ranks and ranges are binary searches).
struct ScoredSet: Equatable, Sendable {
    private(set) var scores: [ByteString: Double] = [:]
    /// Every member, in order.
    private(set) var order: [ScoredMember] = []

    var count: Int { order.count }
    var isEmpty: Bool { order.isEmpty }

    /// Gives `member` `score`; answers whether the member is new.
    @discardableResult
    mutating func set(_ member: ByteString, _ score: Double) -> Bool {
        precondition(!score.isNaN, "a sorted set's score is never NaN (\(member))")
        let old = scores.updateValue(score, forKey: member)
        if let old {
            if old == score { return false }
            order.remove(at: position(of: ScoredMember(score: old, member: member)))
        }
        let entry = ScoredMember(score: score, member: member)
        order.insert(entry, at: position(of: entry))
        return old == nil
    }

    /// Removes `member`; answers whether it was there.
    @discardableResult
    mutating func remove(_ member: ByteString) -> Bool {
        guard let score = scores.removeValue(forKey: member) else { return false }
        order.remove(at: position(of: ScoredMember(score: score, member: member)))
        return true
    }

    /// `member`'s position in the order (0: lowest score), nil if it is not a member.
    func rank(of member: ByteString) -> Int? {
        scores[member].map { position(of: ScoredMember(score: $0, member: member)) }
    }

    /// The first position whose entry is not below `entry`.
    func position(of entry: ScoredMember) -> Int {
        var low = 0, high = order.count
        while low < high {
            let mid = (low + high) / 2
            if order[mid] < entry { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// The positions of the members whose scores lie within `min` and `max`.
    func positions(from min: ScoreBound, to max: ScoreBound) -> Range<Int> {
        let start = firstPosition { min.admitsFromBelow($0.score) }
        let end = firstPosition { !max.admitsFromAbove($0.score) }
        return start < end ? start..<end : start..<start
    }

    /// The first position whose entry satisfies `predicate` (which is false, then true, along the order).
    private func firstPosition(where predicate: (ScoredMember) -> Bool) -> Int {
        var low = 0, high = order.count
        while low < high {
            let mid = (low + high) / 2
            if predicate(order[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}

/// One end of a score range: `1.5`, `(1.5` (excluded), `-inf`, `+inf`.
public struct ScoreBound: Hashable, Sendable {
    /// The score.
    public let score: Double
    /// Whether the score itself is left out.
    public let exclusive: Bool
    /// A bound at `score`.
    public init(_ score: Double, exclusive: Bool = false) {
        self.score = score
        self.exclusive = exclusive
    }
    /// Whether `score` is at or above this lower bound.
    func admitsFromBelow(_ score: Double) -> Bool { exclusive ? score > self.score : score >= self.score }
    /// Whether `score` is at or below this upper bound.
    func admitsFromAbove(_ score: Double) -> Bool { exclusive ? score < self.score : score <= self.score }
}

/// Scores and floating-point values as Redis reads and writes them.
enum RedisNumber {
    /// A double as Redis's text: integers without a fraction (`3`), `inf` and `-inf`, else the shortest form
    /// that reads back the same.
    static func text(_ value: Double) -> String {
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        if value == value.rounded(), abs(value) < 9_007_199_254_740_992 { return String(Int64(value)) }
        return value.description
    }

    /// `text(value)` as bytes.
    static func bytes(_ value: Double) -> ByteString { ByteString(text(value)) }

    /// A double read as Redis does (`1.5`, `-3`, `1e3`, `inf`, `+inf`, `-inf`), nil for anything else, NaN included.
    static func double(_ bytes: [UInt8]) -> Double? {
        guard !bytes.isEmpty, bytes.count <= 256, let first = bytes.first, let last = bytes.last,
              first != 0x20, last != 0x20 else { return nil }
        let text = String(decoding: bytes, as: UTF8.self).lowercased()
        switch text {
        case "inf", "+inf", "infinity", "+infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        default:
            guard let value = Double(text), value.isFinite else { return nil }
            return value
        }
    }
}
