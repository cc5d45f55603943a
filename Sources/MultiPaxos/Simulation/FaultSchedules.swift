/// A family of faults a sweep seed adds to the mixed faults every seed draws, each aimed at a kind of bug.
public enum FaultSchedule: String, CaseIterable, Sendable, CustomStringConvertible {
    /// Nothing beyond the mixed faults.
    case mixed
    /// Partitions that move every few hundred milliseconds, cutting off a minority or the leader in turn, so
    /// that leadership changes often and slots are left with values of several ballots.
    case movingPartitions = "moving-partitions"
    /// A node that reaches only one peer, which reaches everyone.
    case bridges
    /// Links that work one way only: a deaf leader (it sends but hears nothing), deaf followers, one-way cuts.
    case asymmetricLinks = "asymmetric-links"
    /// Crash-restarts of several nodes in quick succession, a majority at times, many on unsynced writes.
    case crashStorms = "crash-storms"
    /// A node cut off (or down) long enough, with a retained window of a few slots, that it catches up from a
    /// snapshot rather than from its peers' logs.
    case laggingReplicas = "lagging-replicas"
    /// Crash-restarts after which old messages, to and from the restarted node's former self, arrive again.
    case restartReplays = "restart-replays"
    /// Disks lost while a minority is cut off, so that a rejoining node reads the nodes that missed the latest
    /// choices.
    case diskWipes = "disk-wipes"
    /// Two or three nodes whose leaders never defer (dueling proposers): slots end up with values of several
    /// ballots, which every Phase 1 must sort out.
    case contention
    /// The leader is cut off for a second or two while its links keep what it sends (as a connection's
    /// buffers do): its stale Accepts and Decisions arrive when the cut heals, long after the majority elected
    /// another leader, decided those slots and trimmed them.
    case lateDelivery = "late-delivery"

    public var description: String { rawValue }

    /// The schedule a sweep seed adds, drawn from `random` among all of them.
    static func drawn(_ random: inout SeededGenerator) -> FaultSchedule {
        allCases[Int(random.upTo(UInt64(allCases.count - 1)))]
    }
}

extension FaultPlan {
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

    /// How many nodes the plan takes down for good or whose disks it wipes (they do not vote again soon).
    var permanentFaults: Int {
        nodeFaults.filter {
            switch $0.kind {
            case .crash(nil), .wipe: true
            case .crash, .pause, .transfer: false
            }
        }.count
    }

    /// Adds one to three leadership transfers, drawn from `random`, during the fault phase: each asks whichever
    /// node leads then to hand leadership to a member drawn here (the one after it, if it drew the leader).
    mutating func addTransfers(_ random: inout SeededGenerator, nodes: Int) {
        guard nodes > 1, healAt > 300_000 else { return }
        for _ in 0...random.upTo(2) {
            let at = 300_000 + Microseconds(random.upTo(UInt64(healAt - 300_000)))
            nodeFaults.append(NodeFault(node: nil, kind: .transfer(to: NodeID(Int(random.upTo(UInt64(nodes - 1))))), at: at))
        }
    }

    /// What a schedule asks of the run beyond its faults.
    struct ScheduleSettings {
        /// A small retained window for replicas, so that lagging ones need snapshots.
        var retainedSlots: Int64?
        /// Nodes whose leaders never defer.
        var contenders: [NodeID] = []
    }

    /// Adds the faults of `schedule`, drawn from `random`, to the plan's fault phase; returns what else the
    /// schedule asks of the run.
    mutating func add(_ schedule: FaultSchedule, _ random: inout SeededGenerator, nodes: Int) -> ScheduleSettings {
        var settings = ScheduleSettings()
        guard nodes > 1, healAt > 0 else { return settings }
        let duration = healAt
        func node() -> NodeID { NodeID(Int(random.upTo(UInt64(nodes - 1)))) }
        func other(than n: NodeID) -> NodeID { NodeID((n.value + 1 + Int(random.upTo(UInt64(nodes - 2)))) % nodes) }
        func between(_ low: Microseconds, _ high: Microseconds) -> Microseconds {
            low + Microseconds(random.upTo(UInt64(high - low)))
        }
        func minority() -> NodeSet {
            var side = NodeSet()
            let size = 1 + Int(random.upTo(UInt64(max(0, (nodes - 1) / 2 - 1))))
            while side.count < size { side.insert(node()) }
            return side
        }
        switch schedule {
        case .mixed:
            break
        case .movingPartitions:
            var at = between(300_000, duration / 3)
            for _ in 0..<(3 + random.upTo(3)) {
                let end = at + between(150_000, 1_500_000)
                let cut: Cut = random.upTo(2) == 0 ? .isolateLeader : .split(minority())
                windows.append(Window(cut: cut, start: at, end: end, holds: random.upTo(1) == 0))
                at = end + Microseconds(random.upTo(100_000))
            }
        case .bridges:
            let start = between(300_000, duration / 2)
            let bridged = node()
            windows.append(Window(cut: .bridge(bridged, through: other(than: bridged)), start: start,
                                  end: start + between(duration / 4, duration)))
            if nodes > 3, random.upTo(2) == 0 {
                let second = other(than: bridged)
                windows.append(Window(cut: .bridge(second, through: other(than: second)), start: start + between(0, 500_000),
                                      end: start + between(duration / 4, duration)))
            }
        case .asymmetricLinks:
            for _ in 0..<(1 + random.upTo(2)) {
                let start = between(300_000, duration * 2 / 3)
                let end = start + between(300_000, duration - start)
                switch random.upTo(3) {
                case 0, 1: windows.append(Window(cut: .deafLeader, start: start, end: end))
                case 2: windows.append(Window(cut: .deaf(node()), start: start, end: end))
                default:
                    let a = node()
                    windows.append(Window(cut: .oneWay(from: a, to: other(than: a)), start: start, end: end))
                }
            }
        case .crashStorms:
            var at = between(300_000, duration / 2)
            for _ in 0..<(3 + random.upTo(4)) {
                let target: NodeID? = random.upTo(2) == 0 ? nil : node()
                nodeFaults.append(NodeFault(node: target, kind: .crash(restartAfter: between(30_000, 400_000)), at: at))
                at += between(20_000, 300_000)
            }
        case .laggingReplicas:
            settings.retainedSlots = 2 + Int64(random.upTo(14))
            let start = between(300_000, duration / 3)
            let lagging = node()
            if random.upTo(2) == 0 {
                windows.append(Window(cut: .isolate(lagging), start: start, end: start + between(500_000, duration)))
            } else {
                nodeFaults.append(NodeFault(node: lagging, kind: .crash(restartAfter: between(500_000, duration)), at: start))
            }
        case .restartReplays:
            restartReplays = 4 + Int(random.upTo(12))
            var at = between(300_000, duration / 2)
            for _ in 0..<(2 + random.upTo(2)) {
                let target: NodeID? = random.upTo(1) == 0 ? nil : node()
                nodeFaults.append(NodeFault(node: target, kind: .crash(restartAfter: between(50_000, 300_000)), at: at))
                at += between(200_000, 800_000)
            }
        case .diskWipes:
            guard permanentFaults < (nodes - 1) / 2 else { break }
            // A minority misses the latest choices; a node of the majority loses its disk; then the cut moves, so
            // that the wiped node reads the nodes that missed them.
            let start = between(300_000, duration / 2)
            let behind = minority()
            let ahead = (0..<nodes).map(NodeID.init).filter { !behind.contains($0) }
            let wiped = ahead[Int(random.upTo(UInt64(ahead.count - 1)))]
            let rest = ahead.filter { $0 != wiped }
            let flip = start + between(300_000, 900_000)
            windows.append(Window(cut: .split(behind), start: start, end: flip))
            nodeFaults.append(NodeFault(node: wiped, kind: .wipe(restartAfter: between(50_000, 300_000)), at: flip - 20_000))
            if rest.count >= 2 {
                let cutOff = rest[Int(random.upTo(UInt64(rest.count - 1)))]
                windows.append(Window(cut: .isolate(cutOff), start: flip, end: flip + between(300_000, 1_000_000)))
            }
        case .lateDelivery:
            var at = between(300_000, duration / 4)
            for _ in 0..<(1 + random.upTo(1)) {
                let end = at + between(1_200_000, 2_500_000)
                windows.append(Window(cut: .isolateLeader, start: at, end: end, holds: true))
                at = end + between(200_000, 1_000_000)
            }
        case .contention:
            var chosen = NodeSet()
            let count = nodes >= 4 ? 3 : 2
            while chosen.count < count { chosen.insert(node()) }
            settings.contenders = Array(chosen)
        }
        windows = windows.map { var w = $0; w.end = min(w.end, duration); return w }
        return settings
    }
}
