/// The faults of one simulated run beyond plain loss and duplication: cut links, crashes, pauses, replays and
/// long delays, all during a fault phase that ends when the network heals. After that every cut is gone, no
/// message is lost, crashed nodes that restart are back, and every request must complete within a bound.
public struct FaultPlan: Sendable, CustomStringConvertible {
    /// A way the network is cut.
    public enum Cut: Sendable, CustomStringConvertible {
        /// One node hears nothing and is heard by no one.
        case isolate(NodeID)
        /// Whichever node leads when the window opens is isolated.
        case isolateLeader
        /// The nodes of the set and the others cannot reach each other.
        case split(NodeSet)
        /// Messages from the first node to the second are lost; the other way works.
        case oneWay(from: NodeID, to: NodeID)
        /// The node hears nothing but can still send (a deaf node: its incoming links are cut).
        case deaf(NodeID)
        /// Whichever node leads when the window opens becomes deaf.
        case deafLeader
        /// The first node reaches, and is reached by, only the second (a bridge); every other link of it is cut.
        case bridge(NodeID, through: NodeID)

        public var description: String {
            switch self {
            case .isolate(let n): "isolate \(n)"
            case .isolateLeader: "isolate the leader"
            case .split(let side): "split {\(side)} from the rest"
            case .oneWay(let a, let b): "cut \(a)→\(b)"
            case .deaf(let n): "cut every link into \(n)"
            case .deafLeader: "cut every link into the leader"
            case .bridge(let n, let via): "\(n) reaches only \(via)"
            }
        }

        /// Whether the cut loses a message from `from` to `to` (a cut naming the leader must be resolved first).
        func cuts(_ from: NodeID, _ to: NodeID) -> Bool {
            switch self {
            case .isolate(let n): from == n || to == n
            case .split(let side): side.contains(from) != side.contains(to)
            case .oneWay(let a, let b): from == a && to == b
            case .deaf(let n): to == n
            case .bridge(let n, let via): (from == n && to != via) || (to == n && from != via)
            case .isolateLeader, .deafLeader: false
            }
        }
    }

    /// A cut that holds from `start` until `end`.
    public struct Window: Sendable {
        /// What is cut.
        public var cut: Cut
        /// When the cut starts.
        public var start: Microseconds
        /// When it heals.
        public var end: Microseconds
        /// Whether the cut links keep what they cannot deliver and deliver it all when the cut heals (as a
        /// connection's buffers do), instead of losing it: stale messages then arrive long after they were sent.
        public var holds = false

        /// A window of `cut` from `start` to `end`; `holds` keeps messages for when it heals.
        public init(cut: Cut, start: Microseconds, end: Microseconds, holds: Bool = false) {
            self.cut = cut
            self.start = start
            self.end = end
            self.holds = holds
        }
    }

    /// Something that happens to a node.
    public enum NodeFaultKind: Sendable {
        /// The node stops for good (crash-stop), or comes back after the given time with only its durable state.
        case crash(restartAfter: Microseconds?)
        /// The node stops and its disk is lost; it comes back after the given time with empty storage, as a new
        /// node would, and must find out from the cluster that it has to rejoin before it votes.
        case wipe(restartAfter: Microseconds)
        /// The node processes nothing for the given time, then resumes with its state intact.
        case pause(for: Microseconds)
        /// The node is asked to hand leadership to the given member (a leadership transfer; a node that does not
        /// lead passes the request on to its leader). A target that already leads is replaced by the member after it.
        case transfer(to: NodeID)
    }

    /// A node fault at a time; a nil node means whichever node leads then.
    public struct NodeFault: Sendable {
        /// The node; nil means whichever node leads at that time.
        public var node: NodeID?
        /// Crash, wipe, pause or transfer.
        public var kind: NodeFaultKind
        /// When it happens.
        public var at: Microseconds
    }

    /// The probability that a network send also re-delivers an old message, later.
    public var replayRate = 0.0
    /// The probability that a message takes 10 to 50 times the usual delay.
    public var longTailRate = 0.0
    /// Cut links.
    public var windows: [Window] = []
    /// Crashes and pauses.
    public var nodeFaults: [NodeFault] = []
    /// When the fault phase ends and the network heals.
    public var healAt: Microseconds = 0
    /// How long after healing every pending request must complete.
    public var livenessBound: Microseconds = 30_000_000
    /// How many old messages (sent to or by a node before it crashed) the bus delivers again after the node
    /// restarts: stale messages of its former incarnation, and stale answers to it.
    public var restartReplays = 0

    /// No faults.
    public init() {}

    public var description: String {
        var parts = ["replay \(replayRate)", "long tail \(longTailRate)", "heal at \(formatSeconds(healAt)) s"]
        if restartReplays > 0 { parts.append("\(restartReplays) old messages replayed after each restart") }
        for w in windows {
            parts.append("\(w.cut) \(formatSeconds(w.start))–\(formatSeconds(w.end)) s" + (w.holds ? ", delivered late" : ""))
        }
        for f in nodeFaults {
            let who = f.node?.description ?? "the leader"
            switch f.kind {
            case .crash(nil): parts.append("crash-stop \(who) at \(formatSeconds(f.at)) s")
            case .crash(let back?): parts.append("crash \(who) at \(formatSeconds(f.at)) s, restart \(formatSeconds(back)) s later")
            case .wipe(let back): parts.append("wipe \(who)'s disk at \(formatSeconds(f.at)) s, restart \(formatSeconds(back)) s later")
            case .pause(let d): parts.append("pause \(who) at \(formatSeconds(f.at)) s for \(formatSeconds(d)) s")
            case .transfer(let to): parts.append("ask \(who) to hand leadership to \(to) at \(formatSeconds(f.at)) s")
            }
        }
        return parts.joined(separator: "; ")
    }
}
