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

        public var description: String {
            switch self {
            case .isolate(let n): "isolate \(n)"
            case .isolateLeader: "isolate the leader"
            case .split(let side): "split {\(side)} from the rest"
            case .oneWay(let a, let b): "cut \(a)→\(b)"
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
    }

    /// Something that happens to a node.
    public enum NodeFaultKind: Sendable {
        /// The node stops for good (crash-stop), or comes back after the given time with only its durable state.
        case crash(restartAfter: Microseconds?)
        /// The node stops and its disk is lost; it comes back after the given time with nothing, knowing only
        /// that it was provisioned for this cluster, and must rejoin as a learner that never votes.
        case wipe(restartAfter: Microseconds)
        /// The node processes nothing for the given time, then resumes with its state intact.
        case pause(for: Microseconds)
    }

    /// A node fault at a time; a nil node means whichever node leads then.
    public struct NodeFault: Sendable {
        /// The node; nil means whichever node leads at that time.
        public var node: NodeID?
        /// Crash or pause.
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

    /// No faults.
    public init() {}

    /// A plan drawn from `random` for a cluster of `nodes`, with faults during the first `duration`.
    /// At most a minority of nodes crash for good or lose their disks (and with them their vote), so a majority
    /// of voters is up once the network heals.
    public static func random(_ random: inout SeededGenerator, nodes: Int, duration: Microseconds) -> FaultPlan {
        var plan = FaultPlan()
        plan.healAt = duration
        plan.replayRate = Double(random.upTo(50)) / 1000
        plan.longTailRate = Double(random.upTo(50)) / 1000
        func node() -> NodeID { NodeID(Int(random.upTo(UInt64(nodes - 1)))) }
        // Faults start once the cluster has formed: a seed that dies before welcoming anyone leaves no cluster.
        func time() -> Microseconds { 200_000 + Microseconds(random.upTo(UInt64(duration * 3 / 4))) }
        func length() -> Microseconds { 100_000 + Microseconds(random.upTo(UInt64(duration / 3))) }
        if nodes > 1 {
            for _ in 0..<random.upTo(3) {
                let start = time()
                switch random.upTo(4) {
                case 0: plan.windows.append(Window(cut: .isolate(node()), start: start, end: start + length()))
                case 1: plan.windows.append(Window(cut: .isolateLeader, start: start, end: start + length()))
                case 2:
                    let a = node(), b = node()
                    if a != b { plan.windows.append(Window(cut: .oneWay(from: a, to: b), start: start, end: start + length())) }
                default:
                    // A partition that moves: two or three splits back to back, each with another minority.
                    var at = start
                    for _ in 0...random.upTo(1) + 1 {
                        var side = NodeSet()
                        for _ in 0..<max(1, (nodes - 1) / 2) { side.insert(node()) }
                        let end = at + length() / 2
                        plan.windows.append(Window(cut: .split(side), start: at, end: end))
                        at = end
                    }
                }
            }
            var permanent = 0
            for _ in 0..<random.upTo(2) {
                let at = time()
                let target: NodeID? = random.upTo(1) == 0 ? nil : node()
                if random.upTo(3) == 0 {
                    plan.nodeFaults.append(NodeFault(node: target, kind: .pause(for: length()), at: at))
                } else if permanent < (nodes - 1) / 2 && random.upTo(2) == 0 {
                    permanent += 1
                    plan.nodeFaults.append(NodeFault(node: target, kind: .crash(restartAfter: nil), at: at))
                } else if permanent < (nodes - 1) / 2 && random.upTo(4) == 0 {
                    permanent += 1
                    plan.nodeFaults.append(NodeFault(node: target, kind: .wipe(restartAfter: length()), at: at))
                } else {
                    plan.nodeFaults.append(NodeFault(node: target, kind: .crash(restartAfter: length()), at: at))
                }
            }
        }
        plan.windows = plan.windows.map { var w = $0; w.end = min(w.end, duration); return w }
        return plan
    }

    public var description: String {
        var parts = ["replay \(replayRate)", "long tail \(longTailRate)", "heal at \(formatSeconds(healAt)) s"]
        for w in windows { parts.append("\(w.cut) \(formatSeconds(w.start))–\(formatSeconds(w.end)) s") }
        for f in nodeFaults {
            let who = f.node?.description ?? "the leader"
            switch f.kind {
            case .crash(nil): parts.append("crash-stop \(who) at \(formatSeconds(f.at)) s")
            case .crash(let back?): parts.append("crash \(who) at \(formatSeconds(f.at)) s, restart \(formatSeconds(back)) s later")
            case .wipe(let back): parts.append("wipe \(who)'s disk at \(formatSeconds(f.at)) s, restart \(formatSeconds(back)) s later")
            case .pause(let d): parts.append("pause \(who) at \(formatSeconds(f.at)) s for \(formatSeconds(d)) s")
            }
        }
        return parts.joined(separator: "; ")
    }
}
