/// Liveness during faults: whenever a majority of voting nodes is up and mutually connected, and a client on
/// one of them is waiting, some request must complete within a bound. The watch is told the cluster's state
/// whenever it may have changed (a cut opens or heals, a node crashes, pauses, restarts or rejoins, a request
/// completes) and measures, for every such majority, how long it has gone without progress.
///
/// It follows every set of exactly a quorum of nodes (any connected majority contains one), or, while a change
/// of voters is decided but not in force, every minimal set holding a majority of the old voters and of the new;
/// so a window is always one fixed set that stays up and connected: partitions that keep moving start new ones.
struct ProgressWatch {
    /// Above this many nodes the watch is off (it follows every quorum-sized set of nodes).
    static let maximumNodes = 12

    /// A stall longer than this, with a connected majority and a waiting client, fails the run.
    let bound: Microseconds
    /// The sets it follows: every set of exactly a quorum of members, or the minimal sets described above.
    private let quorums: [NodeSet]
    /// Since when each quorum has been up, connected and had a waiting client (only those that are now).
    private var liveSince: [UInt64: Microseconds] = [:]
    /// When the last request completed (or the run started).
    private var lastProgress: Microseconds = 0
    /// The longest stall seen: a live quorum and no completion.
    private(set) var longestStall: Microseconds = 0
    /// When the longest stall started, and the quorum it concerned.
    private(set) var longestStallStart: Microseconds = 0
    private(set) var longestStallNodes = NodeSet()
    /// Whether a stall over the bound was already reported (once per run).
    private var reported = false

    /// A watch over `members` with a majority of `quorum`, or nil when the cluster is too large to follow.
    init?(members: [NodeID], quorum: Int, bound: Microseconds) {
        guard members.count <= Self.maximumNodes, !members.isEmpty else { return nil }
        self.bound = bound
        var sets: [NodeSet] = []
        func choose(_ from: Int, _ chosen: NodeSet) {
            if chosen.count == quorum {
                sets.append(chosen)
                return
            }
            guard from < members.count, members.count - from >= quorum - chosen.count else { return }
            var with = chosen
            with.insert(members[from])
            choose(from + 1, with)
            choose(from + 1, chosen)
        }
        choose(0, NodeSet())
        quorums = sets
    }

    /// A watch over the sets that hold a majority of every one of `configurations` (while a change is decided
    /// but not yet in force, slots on either side of it need their own voters), each set minimal; nil when
    /// their nodes are too many to follow.
    init?(configurations: [VoterConfiguration], bound: Microseconds) {
        let members = Array(configurations.voters)
        guard members.count <= Self.maximumNodes, !members.isEmpty else { return nil }
        self.bound = bound
        func holds(_ set: NodeSet) -> Bool {
            configurations.allSatisfy { NodeSet.intersect(set, $0.voters).count >= $0.quorum }
        }
        var sets: [NodeSet] = []
        for mask in 1..<(1 << members.count) {
            let set = NodeSet(members.indices.filter { mask & (1 << $0) != 0 }.map { members[$0] })
            // Minimal: no node of it can go.
            guard holds(set), set.allSatisfy({ node in !holds(set.subtracting(NodeSet([node]))) }) else { continue }
            sets.append(set)
        }
        quorums = sets
    }

    /// The state now: the voting nodes that are up (`up`), for each node the nodes it can exchange messages
    /// with both ways (`reaches`, by node number), the nodes with a waiting client, and whether a request
    /// just completed. Returns a failure line the first time a stall exceeds the bound.
    mutating func observe(now: Microseconds, up: NodeSet, reaches: [NodeSet], waiting: NodeSet,
                          completed: Bool) -> String? {
        var failure: String?
        for quorum in quorums {
            guard let since = liveSince[quorum.bits] else { continue }
            let start = max(since, lastProgress)
            let stall = now - start
            if stall > longestStall {
                longestStall = stall
                longestStallStart = start
                longestStallNodes = quorum
            }
            if stall > bound, !reported {
                reported = true
                failure = "liveness during faults: \(quorum) were up and connected with clients waiting, and no request "
                    + "completed from \(formatSeconds(start)) s to \(formatSeconds(now)) s (bound \(formatSeconds(bound)) s)"
            }
        }
        if completed { lastProgress = now }
        var live: [UInt64: Microseconds] = [:]
        for quorum in quorums where quorum.subtracting(up).isEmpty && !NodeSet.intersect(quorum, waiting).isEmpty {
            guard quorum.allSatisfy({ quorum.subtracting(reaches[$0.value]).isEmpty }) else { continue }
            live[quorum.bits] = liveSince[quorum.bits] ?? now
        }
        liveSince = live
        return failure
    }
}
