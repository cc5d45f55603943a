/// What a node is in its cluster, as its durable state records it.
public enum Membership: UInt8, Sendable, CustomStringConvertible {
    /// Provisioned but never joined: it has never voted, so it may join as a voting member.
    case new = 0
    /// A voting member (Acceptor, Scout, Leader, Replica).
    case member = 1
    /// A node whose storage was lost after it may have voted: it runs only a Replica and never votes again,
    /// since a forgotten promise could let two different values be chosen for one slot.
    case learner = 2

    public var description: String {
        switch self {
        case .new: "new"
        case .member: "member"
        case .learner: "learner"
        }
    }
}

/// An acceptor's durable state.
public struct AcceptorRecord: Sendable {
    /// The ballot promised for every slot.
    public internal(set) var promised = Ballot.initial
    /// Per-slot promises (per-slot mode), only where above `promised`.
    public internal(set) var slotPromised: [Slot: Ballot] = [:]
    /// The value accepted at the highest ballot, per slot.
    public internal(set) var accepted: [Slot: PValue] = [:]
    /// Slots below this are decided and applied by a majority.
    public internal(set) var trimmedBelow = Slot.zero
    /// One past the highest slot with an accepted value.
    public internal(set) var slotsEnd = Slot.zero
    /// The highest ballot promised for any slot: a leader below it is stale.
    public internal(set) var highestPromised = Ballot.initial

    /// The ballot promised for `slot`.
    public func promised(for slot: Slot) -> Ballot {
        guard let own = slotPromised[slot] else { return promised }
        return max(own, promised)
    }
}

/// What a node's durable state belongs to: the cluster's name, its members in id order (their addresses, or
/// names), this node's id and the mode. Majorities are counted over the members, so state written under one
/// membership must never be used under another.
public struct ClusterIdentity: Equatable, Sendable, CustomStringConvertible {
    /// The cluster's name, the same on every member.
    public let clusterID: String
    /// One entry per member, in id order: its peer address, or a name.
    public let members: [String]
    /// This node.
    public let node: NodeID
    /// The Phase-1 mode.
    public let mode: Mode
    /// The members that voted when the cluster began, when not all of them (the others joined as spares, to be
    /// added through the log); nil: every member. Later changes are in the log, not here.
    public let initialVoters: NodeSet?

    /// Makes an identity; `node` must be one of the members, and `initialVoters` (if any) some of them.
    public init(clusterID: String, members: [String], node: NodeID, mode: Mode, initialVoters: NodeSet? = nil) {
        precondition(node.value < members.count, "node \(node) is not one of \(members.count) members")
        precondition(initialVoters.map { !$0.isEmpty && $0.allSatisfy { $0.value < members.count } } ?? true,
                     "initial voters \(initialVoters.map(\.description) ?? "") are not among \(members.count) members")
        self.clusterID = clusterID
        self.members = members
        self.node = node
        self.mode = mode
        self.initialVoters = initialVoters == NodeSet((0..<members.count).map { NodeID($0) }) ? nil : initialVoters
    }

    public var description: String {
        let count = members.count == 1 ? "1 member" : "\(members.count) members"
        let voters = initialVoters.map { ", initial voters {\($0)}" } ?? ""
        return "node \(node) of cluster '\(clusterID)' with \(count) (\(members.joined(separator: ","))), \(mode.rawValue)\(voters)"
    }

    func write(_ w: inout ByteWriter) {
        w.string(clusterID)
        w.uint32(UInt32(members.count))
        for member in members { w.string(member) }
        w.uint32(UInt32(node.value))
        w.string(mode.rawValue)
        if let initialVoters { w.uint64(initialVoters.bits) }  // only in the encodings that carry it (11, 12)
    }

    static func read(_ r: inout ByteReader, withVoters: Bool = false) throws -> ClusterIdentity {
        let cluster = try r.string()
        let count = Int(try r.uint32())
        guard (1...NodeSet.capacity).contains(count) else { throw ByteDecodingError("member count \(count) is not in 1...64") }
        var members: [String] = []
        for _ in 0..<count { members.append(try r.string()) }
        let node = Int(try r.uint32())
        guard node < count else { throw ByteDecodingError("node id \(node) is not one of \(count) members") }
        let modeName = try r.string()
        guard let mode = Mode(rawValue: modeName) else { throw ByteDecodingError("mode '\(modeName)' is unknown") }
        var voters: NodeSet?
        if withVoters {
            let at = r.offset
            let bits = try r.uint64()
            guard bits != 0, bits >> UInt64(count) == 0 || count == NodeSet.capacity else {
                throw ByteDecodingError("initial voters \(String(bits, radix: 2)) at offset \(at) are not among \(count) members")
            }
            voters = NodeSet(bits: bits)
        }
        return ClusterIdentity(clusterID: cluster, members: members, node: NodeID(node), mode: mode, initialVoters: voters)
    }
}
