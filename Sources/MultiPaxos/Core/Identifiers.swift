/// A cluster member or client host, numbered from 0. Members are at most 64 so that a set of them fits a bitmask.
public struct NodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The node's number.
    public let value: Int
    /// Makes the identifier of node `value` (0...63).
    public init(_ value: Int) {
        precondition((0..<NodeSet.capacity).contains(value), "node id \(value) outside 0..<\(NodeSet.capacity)")
        self.value = value
    }
    public static func < (a: NodeID, b: NodeID) -> Bool { a.value < b.value }
    public var description: String { "n\(value)" }
}

/// A position in the replicated log, counted from 0.
public struct Slot: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The slot's index in the log.
    public let index: Int64
    /// Makes slot `index`; a negative index is a programming error.
    public init(_ index: Int64) {
        precondition(index >= 0, "slot index \(index) is negative")
        self.index = index
    }
    /// The first slot of every log.
    public static let zero = Slot(0)
    /// The slot after this one; traps rather than wrapping on overflow.
    public var next: Slot { Slot(index + 1) }
    public static func < (a: Slot, b: Slot) -> Bool { a.index < b.index }
    public var description: String { "s\(index)" }
}

/// A Paxos ballot: a round number and the node that leads it, ordered as the pair (round, leader).
/// Two nodes never share a ballot because the leader is part of it.
public struct Ballot: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// How many times leadership has been contested; the major key of the order.
    public let round: UInt64
    /// The node that owns this ballot; breaks ties between equal rounds.
    public let leader: NodeID
    /// Makes the ballot (round, leader).
    public init(round: UInt64, leader: NodeID) {
        self.round = round
        self.leader = leader
    }
    /// The ballot below every real one: no acceptor has promised anything yet.
    public static let initial = Ballot(round: 0, leader: NodeID(0))
    /// The membership epoch: the high 32 bits of the round. Only a rejoining node starts an epoch (see
    /// `fence(epoch:node:)`); leaders move into it by outbidding the rounds they see.
    public var epoch: UInt64 { round >> 32 }
    /// The lowest ballot of `epoch`, which a node that lost its storage asks a quorum to promise before it votes
    /// again: every ballot its former self could have promised belongs to an earlier epoch.
    public static func fence(epoch: UInt64, node: NodeID) -> Ballot {
        precondition(epoch < 1 << 32, "membership epoch \(epoch) is out of range")
        return Ballot(round: epoch << 32, leader: node)
    }
    /// The smallest ballot owned by `node` that is above `self`.
    public func successor(for node: NodeID) -> Ballot {
        let (next, overflow) = round.addingReportingOverflow(1)
        // Only a decided rejoin may start an epoch: running out of rounds within one must not start the next.
        precondition(!overflow && next >> 32 == epoch, "ballot round overflow within epoch \(epoch) at \(self)")
        return Ballot(round: next, leader: node)
    }
    public static func < (a: Ballot, b: Ballot) -> Bool {
        a.round != b.round ? a.round < b.round : a.leader < b.leader
    }
    public var description: String {
        epoch == 0 ? "\(round).\(leader.value)" : "\(epoch):\(round & 0xFFFF_FFFF).\(leader.value)"
    }
}

/// A client of the replicated state machine; each client has at most one request outstanding.
public struct ClientID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The client's number.
    public let value: UInt64
    /// Makes the identifier of client `value`.
    public init(_ value: UInt64) { self.value = value }
    public static func < (a: ClientID, b: ClientID) -> Bool { a.value < b.value }
    public var description: String { "c\(value)" }
    /// Reserved for the cluster's own commands (a node's rejoin); no client is given it.
    public static let membership = ClientID(0)
}

/// A client's request counter: it starts at 1 and grows by one per new request, so a retry keeps its number.
public struct RequestNumber: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The counter's value.
    public let value: UInt64
    /// Makes request number `value`.
    public init(_ value: UInt64) { self.value = value }
    public static func < (a: RequestNumber, b: RequestNumber) -> Bool { a.value < b.value }
    public var description: String { "#\(value)" }
}

/// A set of member nodes as a 64-bit mask: cheap to copy, and iterated in ascending order so it never
/// brings hash order into a trace.
public struct NodeSet: Hashable, Sendable, Sequence, CustomStringConvertible {
    /// How many distinct nodes a set can hold.
    public static let capacity = 64
    /// One bit per node.
    public private(set) var bits: UInt64
    /// The empty set.
    public init() { bits = 0 }
    /// The set of the given nodes.
    public init<S: Sequence>(_ nodes: S) where S.Element == NodeID {
        bits = 0
        for n in nodes { insert(n) }
    }
    /// Adds `node`; returns whether it was new.
    @discardableResult
    public mutating func insert(_ node: NodeID) -> Bool {
        let mask = UInt64(1) << UInt64(node.value)
        defer { bits |= mask }
        return bits & mask == 0
    }
    /// Removes `node`.
    public mutating func remove(_ node: NodeID) { bits &= ~(UInt64(1) << UInt64(node.value)) }
    /// Whether `node` is in the set.
    public func contains(_ node: NodeID) -> Bool { bits & (UInt64(1) << UInt64(node.value)) != 0 }
    /// The number of nodes in the set.
    public var count: Int { bits.nonzeroBitCount }
    /// Whether the set is empty.
    public var isEmpty: Bool { bits == 0 }
    /// The nodes of `self` that are not in `other`.
    public func subtracting(_ other: NodeSet) -> NodeSet { var s = self; s.bits &= ~other.bits; return s }
    /// The nodes in both sets.
    static func intersect(_ a: NodeSet, _ b: NodeSet) -> NodeSet { var s = a; s.bits &= b.bits; return s }
    /// The nodes in either set.
    static func union(_ a: NodeSet, _ b: NodeSet) -> NodeSet { var s = a; s.bits |= b.bits; return s }
    public func makeIterator() -> AnyIterator<NodeID> {
        var rest = bits
        return AnyIterator {
            guard rest != 0 else { return nil }
            let i = rest.trailingZeroBitCount
            rest &= rest - 1
            return NodeID(i)
        }
    }
    public var description: String { map(\.description).joined(separator: ",") }
}
