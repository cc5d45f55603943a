/// A set of voting members and the first slot it governs. The cluster's voters change only through the log
/// (`Reconfiguration`): a change decided in slot s governs the slots from s + α on (α is
/// `Reconfiguration.delaySlots`), so every leader that may propose in a slot knows which voters decide it.
public struct VoterConfiguration: Hashable, Sendable, CustomStringConvertible {
    /// How many changes the log held before this configuration (0: the cluster's initial members).
    public let number: UInt64
    /// The first slot these voters decide.
    public let from: Slot
    /// The voting members: acceptors whose majority decides a slot, and the nodes that may lead.
    public let voters: NodeSet

    /// Makes a configuration.
    public init(number: UInt64, from: Slot, voters: NodeSet) {
        self.number = number
        self.from = from
        self.voters = voters
    }

    /// A majority of the voters: ⌊n/2⌋+1.
    public var quorum: Int { voters.count / 2 + 1 }

    public var description: String { "#\(number) {\(voters)} from \(from)" }
}

/// The cluster's own command that changes the voters: it names the configuration it changes (so that a retry or
/// a stale request decided after another change does nothing) and the voters it asks for, which must differ from
/// that configuration's by exactly one node. One node at a time keeps every majority of the old voters
/// overlapping every majority of the new ones, which is what lets a leader's Phase 1 with the newer voters see
/// every value the older ones may have chosen (see Docs/Protocol.md, "Membership change").
public enum Reconfiguration {
    static let tag: UInt8 = 2
    /// α: a change decided in slot s takes effect at slot s + α. A leader assigns a slot only while it is
    /// below its own replica's applied point plus α, so it always knows the voters of the slots it proposes in.
    public static let delaySlots: Int64 = 32

    /// The command asking that configuration `base` be followed by `voters`; `nonce` tells attempts apart.
    public static func command(base: UInt64, voters: NodeSet, nonce: UInt64) -> Command {
        var w = ByteWriter()
        w.byte(tag)
        w.uint64(base)
        w.uint64(voters.bits)
        return Command(key: RequestKey(client: .membership, request: RequestNumber(nonce)), operation: w.bytes)
    }

    /// The change a membership command asks for, or nil if the bytes are not a reconfiguration.
    public static func change(of command: Command) -> (base: UInt64, voters: NodeSet)? {
        guard command.key.client == .membership else { return nil }
        var r = ByteReader(command.operation)
        guard (try? r.byte()) == tag, let base = try? r.uint64(), let bits = try? r.uint64(), r.isAtEnd else { return nil }
        return (base, NodeSet(bits: bits))
    }

    /// What applying a change returned: the configuration now in force or pending, or why nothing changed.
    public enum Outcome: Equatable, Sendable, CustomStringConvertible {
        /// The change was made (or had been made by an earlier attempt): these voters govern from its slot on.
        case changed(VoterConfiguration)
        /// Nothing changed; the reason names the value that stood in the way.
        case refused(String)

        public var description: String {
            switch self {
            case .changed(let c): "changed: \(c)"
            case .refused(let why): "refused: \(why)"
            }
        }

        var bytes: [UInt8] {
            var w = ByteWriter()
            switch self {
            case .changed(let c):
                w.byte(0)
                w.uint64(c.number)
                w.slot(c.from)
                w.uint64(c.voters.bits)
            case .refused(let why):
                w.byte(1)
                w.string(why)
            }
            return w.bytes
        }

        /// Decodes a result a replica returned, or nil if the bytes are not one.
        public init?(result bytes: [UInt8]) {
            var r = ByteReader(bytes)
            switch try? r.byte() {
            case 0:
                guard let number = try? r.uint64(), let from = try? r.slot(), let bits = try? r.uint64(), r.isAtEnd
                else { return nil }
                self = .changed(VoterConfiguration(number: number, from: from, voters: NodeSet(bits: bits)))
            case 1:
                guard let why = try? r.string(), r.isAtEnd else { return nil }
                self = .refused(why)
            default:
                return nil
            }
        }
    }
}

extension NodeSet {
    /// The set whose mask is `bits`.
    init(bits: UInt64) {
        self.init()
        for i in 0..<NodeSet.capacity where bits & (UInt64(1) << UInt64(i)) != 0 { insert(NodeID(i)) }
    }
}

/// The voters as this node's replica has applied them: the configurations that govern slots from its applied
/// point on (and the one before, for Phase 1), shared by the node's roles. Only the Replica changes it, as it
/// applies the log; the Leader, Scout and Acceptor read it. Empty history means the cluster's initial members
/// govern every slot (a cluster that never changed its voters).
///
/// A class shared by one node's roles, which all run on the node's one serial executor.
public final class VoterView: @unchecked Sendable {
    /// The retained configurations, oldest first; empty until the first change.
    public internal(set) var history: [VoterConfiguration] = []
    /// The next slot the node's replica will apply: every slot below it is decided and known to this node.
    public internal(set) var applied = Slot.zero
    /// The first slot the node's replica still holds in its log: a peer that has applied less than this needs a
    /// snapshot from it (so this node grants such a peer no pre-vote).
    public internal(set) var logStart = Slot.zero

    /// Makes an empty view: the initial members govern.
    public init() {}

    /// The configuration governing `slot`; `initial` stands for the cluster's initial members.
    public func configuration(at slot: Slot, initial: NodeSet) -> VoterConfiguration {
        history.last { $0.from <= slot } ?? VoterConfiguration(number: 0, from: .zero, voters: initial)
    }

    /// Whether the configuration governing `slot` is still kept (false for a slot below the oldest one kept,
    /// which this node applied and whose voters it may have forgotten).
    public func retains(_ slot: Slot) -> Bool {
        history.first.map { $0.from <= slot } ?? true
    }

    /// The latest configuration applied (it may govern only slots to come).
    public func latest(initial: NodeSet) -> VoterConfiguration {
        history.last ?? VoterConfiguration(number: 0, from: .zero, voters: initial)
    }

    /// Every node that votes in a retained configuration: who hears decisions and heartbeats.
    public func everyone(initial: NodeSet) -> NodeSet {
        history.isEmpty ? initial : NodeSet(bits: history.reduce(0) { $0 | $1.voters.bits })
    }

    /// The lowest slot a leader's Phase 1 may cover: where the configuration before the latest starts. Slots
    /// below it are decided (this node applied them) and were decided by voters that a majority of the latest
    /// ones need not overlap, so a leader must never drive them again.
    public var phase1Floor: Slot {
        history.count >= 2 ? history[history.count - 2].from : .zero
    }

    /// The outcome of applying, in `slot`, a change from configuration `base` to `voters`.
    func outcome(base: UInt64, voters: NodeSet, at slot: Slot, initial: NodeSet) -> Reconfiguration.Outcome {
        let latest = latest(initial: initial)
        if base != latest.number {
            if base + 1 == latest.number, latest.voters == voters { return .changed(latest) }  // a retry
            return .refused("configuration #\(base) is not the latest (#\(latest.number))")
        }
        guard slot >= latest.from else {
            return .refused("configuration #\(latest.number) takes effect only at \(latest.from); one change at a time")
        }
        let added = voters.subtracting(latest.voters), removed = latest.voters.subtracting(voters)
        guard added.count + removed.count == 1 else {
            return .refused("voters {\(voters)} differ from {\(latest.voters)} by \(added.count + removed.count) nodes, not one")
        }
        let next = VoterConfiguration(number: latest.number + 1, from: Slot(slot.index + Reconfiguration.delaySlots),
                                      voters: voters)
        return .changed(next)
    }

    /// Records a change applied in the log, and forgets configurations no slot from `applied` on needs.
    func append(_ configuration: VoterConfiguration, initial: NodeSet) {
        if history.isEmpty { history = [VoterConfiguration(number: 0, from: .zero, voters: initial)] }
        precondition(configuration.number == history.last!.number + 1,
                     "configuration \(configuration) does not follow \(history.last!)")
        history.append(configuration)
        prune()
    }

    /// Keeps the configuration governing `applied`, the one before it and every later one.
    func prune() {
        guard let governing = history.lastIndex(where: { $0.from <= applied }), governing >= 2 else { return }
        history.removeFirst(governing - 1)
    }
}

extension Sequence where Element == VoterConfiguration {
    /// Whether a change's configuration starts in `after + 1 ... through`: a replica that applies from `after`
    /// up to `through` puts it in force there (and persists its snapshot at once).
    func startsOne(after: Slot, through: Slot) -> Bool {
        contains { $0.number > 0 && $0.from > after && $0.from <= through }
    }

    /// Every node that votes in one of them.
    var voters: NodeSet { reduce(NodeSet()) { NodeSet.union($0, $1.voters) } }
}
