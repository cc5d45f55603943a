/// A node a fault is aimed at: whichever node leads when the fault begins, or one drawn from the seed.
public enum NemesisTarget: Sendable, Equatable, CustomStringConvertible {
    /// The node that leads when the fault begins (a node drawn at that moment when none is known).
    case leader
    /// That node.
    case node(NodeID)

    public var description: String {
        switch self {
        case .leader: "the leader"
        case .node(let node): "\(node)"
        }
    }
}

/// How a partition splits the cluster; every shape leaves a majority connected.
public enum PartitionShape: Sendable, Equatable, CustomStringConvertible {
    /// These nodes (a minority) and the rest cannot reach each other.
    case minority([NodeID])
    /// The leader (when the fault begins) can reach no one and no one can reach it.
    case isolateLeader
    /// The first node reaches everyone; `left` and `right` reach only it and their own side.
    case bridge(NodeID, left: [NodeID], right: [NodeID])
    /// The node hears nothing from the others (`inbound`), or the others hear nothing from it.
    case oneWay(NodeID, inbound: Bool)

    public var description: String {
        func set(_ s: [NodeID]) -> String { "{" + s.map(\.description).joined(separator: ",") + "}" }
        switch self {
        case .minority(let side): return "minority \(set(side)) cut off"
        case .isolateLeader: return "the leader isolated"
        case .bridge(let b, let l, let r): return "bridge \(b) between \(set(l)) and \(set(r))"
        case .oneWay(let n, let inbound): return inbound ? "\(n) hears no one" : "no one hears \(n)"
        }
    }
}

/// One fault of the nemesis; it lasts the step's `length`, then heals.
public enum NemesisFault: Sendable, Equatable, CustomStringConvertible {
    /// kill -9, restarted on its data directory after the step's length.
    case kill(NemesisTarget)
    /// kill -9, its data directory removed, restarted with its usual flags after the step's length (no `--rejoin`:
    /// the node must find out from the cluster that it has to rejoin).
    case wipe(NemesisTarget)
    /// SIGSTOP, then SIGCONT after the step's length.
    case pause(NemesisTarget)
    /// Peer links cut as `shape` says, in the blackhole style `mode` (`drop`, `stall` or `refuse`).
    case partition(PartitionShape, LinkFault.Mode)
    /// Every peer link delayed by `delay` plus up to `jitter`.
    case delay(Duration, jitter: Duration)
    /// The links out of `target` limited to `bytesPerSecond`.
    case slow(NemesisTarget, bytesPerSecond: Int)
    /// Every peer connection closed once (the nodes reconnect).
    case cut

    public var description: String {
        switch self {
        case .kill(let t): "kill -9 \(t)"
        case .wipe(let t): "kill -9 \(t) and wipe its data"
        case .pause(let t): "pause \(t)"
        case .partition(let shape, let mode): "partition: \(shape) (\(mode.rawValue))"
        case .delay(let d, let j): "delay every link \(LinkFault.milliseconds(d))+\(LinkFault.milliseconds(j)) ms"
        case .slow(let t, let rate): "slow links out of \(t) to \(rate / 1024) KiB/s"
        case .cut: "cut every peer connection"
        }
    }
}

/// A fault at a time: `at` after the clients start, lasting `length`.
public struct NemesisStep: Sendable, Equatable, CustomStringConvertible {
    /// When it begins, from the start of the clients.
    public let at: Duration
    /// How long it lasts before it heals (zero for a cut).
    public let length: Duration
    /// The fault.
    public let fault: NemesisFault

    public var description: String {
        "at \(Self.seconds(at)) s for \(Self.seconds(length)) s: \(fault)"
    }

    static func seconds(_ d: Duration) -> String {
        let ms = LinkFault.milliseconds(d)
        return "\(ms / 1000).\(String(ms % 1000 / 10 + 100).dropFirst())"
    }
}

/// The nemesis's plan, drawn from the seed alone: the same seed gives the same faults at the same times (the
/// leader a fault aims at is whichever node leads at that moment). It begins with one kill -9 of the leader, one
/// pause and one partition, in an order of the seed's, so that even a short run has each; then it draws freely,
/// the leader more often than the others. One fault at a time, so a majority is always up and connected.
public enum NemesisSchedule {
    /// The steps for a run of `seconds` on `nodes` nodes; `wipe` adds data-directory wipes.
    public static func draw(seed: UInt64, nodes: Int, seconds: Double, wipe: Bool) -> [NemesisStep] {
        var rng = SeededGenerator(seed: seed ^ 0x4E45_4D45_5349_5321)  // "NEMESIS!"
        func ms(_ range: ClosedRange<Int>) -> Duration {
            .milliseconds(range.lowerBound + Int(rng.upTo(UInt64(range.upperBound - range.lowerBound))))
        }
        func node() -> NodeID { NodeID(Int(rng.upTo(UInt64(nodes - 1)))) }
        func target() -> NemesisTarget { rng.chance(0.5) ? .leader : .node(node()) }
        func shuffled(_ xs: [Int]) -> [Int] {
            var xs = xs
            for i in xs.indices.reversed() where i > 0 { xs.swapAt(i, Int(rng.upTo(UInt64(i)))) }
            return xs
        }
        func blackhole() -> LinkFault.Mode { [.drop, .drop, .stall, .refuse][Int(rng.upTo(3))] }
        func partition() -> NemesisFault {
            switch rng.upTo(3) {
            case 0:
                let order = shuffled(Array(0..<nodes))
                let size = 1 + Int(rng.upTo(UInt64((nodes - 1) / 2 - 1)))
                return .partition(.minority(order.prefix(size).sorted().map(NodeID.init)), blackhole())
            case 1: return .partition(.isolateLeader, blackhole())
            case 2:
                let order = shuffled(Array(0..<nodes))
                let half = (nodes - 1) / 2
                return .partition(.bridge(NodeID(order[0]), left: order[1...half].sorted().map(NodeID.init),
                                          right: order[(half + 1)...].sorted().map(NodeID.init)), blackhole())
            default: return .partition(.oneWay(node(), inbound: rng.chance(0.5)), blackhole())
            }
        }
        let first = shuffled([0, 1, 2]).map { choice -> NemesisFault in
            switch choice {
            case 0: .kill(.leader)
            case 1: .pause(target())
            default: partition()
            }
        }
        var steps: [NemesisStep] = []
        var at = ms(300...800)
        let end = Duration.milliseconds(Int64(max(seconds - 0.5, 0) * 1000))
        while true {
            let fault: NemesisFault
            if steps.count < first.count {
                fault = first[steps.count]
            } else {
                let weights: [(Int, Int)] = [(0, 3), (1, 1), (2, 3), (3, 4), (4, 1), (5, 1), (6, 1), (7, wipe ? 2 : 0)]
                var pick = Int(rng.upTo(UInt64(weights.reduce(0) { $0 + $1.1 } - 1)))
                let kind = weights.first { pick -= $0.1; return pick < 0 }!.0
                switch kind {
                case 0: fault = .kill(.leader)
                case 1: fault = .kill(.node(node()))
                case 2: fault = .pause(target())
                case 3: fault = partition()
                case 4: fault = .delay(ms(5...80), jitter: ms(0...60))
                case 5: fault = .slow(target(), bytesPerSecond: 1024 * Int(8 + rng.upTo(56)))
                case 6: fault = .cut
                default: fault = .wipe(target())
                }
            }
            let length: Duration
            switch fault {
            case .kill, .wipe, .pause: length = ms(500...1500)
            case .partition: length = ms(1000...2500)
            case .delay, .slow: length = ms(1000...3000)
            case .cut: length = .zero
            }
            guard at + length <= end else { break }
            steps.append(NemesisStep(at: at, length: length, fault: fault))
            at += length + ms(300...1200)
        }
        return steps
    }
}
