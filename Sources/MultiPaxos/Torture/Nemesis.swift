#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// Carries out a ``NemesisSchedule`` against the running cluster, one fault at a time: it resolves "the leader"
/// when each fault begins, applies the fault through the processes and the fault proxy, heals it when its time is
/// up, and logs both, with the time since the clients started.
final class Nemesis: Sendable {
    /// The kinds of fault, in the order the summary lists them.
    static let kinds = ["kill -9 leader", "kill -9 other", "wipe", "pause leader", "pause other", "partition minority",
                        "partition leader isolated", "partition bridge", "partition one-way", "delay", "slow", "cut"]

    private let nodes: Int
    private let processes: NodeProcesses
    private let proxy: FaultProxy
    private let log: @Sendable (String) -> Void
    private let counts = Mutex<[String: Int]>([:])
    private let stopping = Atomic<Bool>(false)
    private let rng: Mutex<SeededGenerator>
    /// Lines for restarts that failed (any is a failed check).
    let problems = Lines()

    /// What undoes the fault under way.
    private enum Undo {
        case restart(Int, rejoin: Bool)
        case resume(Int)
        case links([(Int, Int)])
        case nothing
    }

    init(nodes: Int, processes: NodeProcesses, proxy: FaultProxy, seed: UInt64, log: @escaping @Sendable (String) -> Void) {
        self.nodes = nodes
        self.processes = processes
        self.proxy = proxy
        self.log = log
        rng = Mutex(SeededGenerator(seed: seed ^ 0x5441_5247_4554))  // "TARGET"
    }

    /// Faults injected so far, by kind.
    var injected: [String: Int] { counts.withLock { $0 } }

    /// Makes `run` heal the fault under way and return.
    func stop() { stopping.store(true, ordering: .releasing) }

    /// Runs `steps`, timed from `start`, until they are done or `stop()`; the last fault is healed on return.
    func run(_ steps: [NemesisStep], from start: ContinuousClock.Instant) {
        for step in steps {
            guard sleep(until: start + step.at) else { return }
            let undo = apply(step.fault, at: ContinuousClock.now - start)
            _ = sleep(until: ContinuousClock.now + step.length)
            heal(undo, at: ContinuousClock.now - start)
            if stopping.load(ordering: .acquiring) { return }
        }
    }

    /// Sleeps until `instant`; false when stopped first.
    private func sleep(until instant: ContinuousClock.Instant) -> Bool {
        while ContinuousClock.now < instant {
            if stopping.load(ordering: .acquiring) { return false }
            usleep(UInt32(min(max((instant - .now).seconds, 0), 0.01) * 1_000_000) + 1)
        }
        return !stopping.load(ordering: .acquiring)
    }

    private func count(_ kind: String) { counts.withLock { $0[kind, default: 0] += 1 } }

    private func note(_ at: Duration, _ text: String) {
        log(String(format: "%8.3f s  ", at.seconds) + text)
    }

    /// The node `target` names now, and whether it leads.
    private func resolve(_ target: NemesisTarget) -> (node: Int, isLeader: Bool, how: String) {
        let leader = processes.leader()
        switch target {
        case .node(let node):
            let i = node.value
            return (i, i == leader, i == leader ? " (the leader)" : "")
        case .leader:
            if let leader { return (leader, true, " (the leader)") }
            let i = rng.withLock { Int($0.upTo(UInt64(nodes - 1))) }
            return (i, false, " (no leader known: drawn)")
        }
    }

    private func apply(_ fault: NemesisFault, at: Duration) -> Undo {
        switch fault {
        case .kill(let target), .wipe(let target):
            let (i, isLeader, how) = resolve(target)
            var wipe = false
            if case .wipe = fault {
                wipe = !(0..<nodes).contains { processes.isRejoining($0) }
                if !wipe { note(at, "(a wiped node has not rejoined yet: a kill instead of a wipe)") }
            }
            processes.kill(i)
            if wipe {
                try? FileManager.default.removeItem(atPath: processes.spec.dataPath(i))
                count("wipe")
                note(at, "kill -9 n\(i)\(how), data directory wiped")
            } else {
                count(isLeader ? "kill -9 leader" : "kill -9 other")
                note(at, "kill -9 n\(i)\(how)")
            }
            return .restart(i, rejoin: wipe)
        case .pause(let target):
            let (i, isLeader, how) = resolve(target)
            guard processes.isRunning(i) else { return .nothing }
            processes.pause(i)
            count(isLeader ? "pause leader" : "pause other")
            note(at, "SIGSTOP n\(i)\(how)")
            return .resume(i)
        case .partition(let shape, let mode):
            let sides: [[Int]]  // every link between the two sides is cut; a bridge node is on neither
            let kind: String
            var how = ""
            switch shape {
            case .minority(let side):
                sides = [side.map(\.value), (0..<nodes).filter { !side.contains(NodeID($0)) }]
                kind = "partition minority"
            case .isolateLeader:
                let (i, _, resolved) = resolve(.leader)
                how = " n\(i)\(resolved)"
                sides = [[i], (0..<nodes).filter { $0 != i }]
                kind = "partition leader isolated"
            case .bridge(_, let left, let right):
                sides = [left.map(\.value), right.map(\.value)]
                kind = "partition bridge"
            case .oneWay(let node, let inbound):
                let n = node.value
                let pairs = (0..<nodes).filter { $0 != n }.map { inbound ? ($0, n) : (n, $0) }
                block(pairs, mode: mode)
                count("partition one-way")
                note(at, "partition: \(shape) (\(mode.rawValue))")
                return .links(pairs)
            }
            var pairs: [(Int, Int)] = []
            for a in sides[0] { for b in sides[1] { pairs += [(a, b), (b, a)] } }
            block(pairs, mode: mode)
            count(kind)
            note(at, "partition: \(shape)\(how) (\(mode.rawValue))")
            return .links(pairs)
        case .delay(let delay, let jitter):
            let pairs = allPairs()
            for (a, b) in pairs { proxy.set(LinkFault(delay: delay, jitter: jitter), from: NodeID(a), to: NodeID(b)) }
            count("delay")
            note(at, "\(fault)")
            return .links(pairs)
        case .slow(let target, let rate):
            let (i, _, how) = resolve(target)
            let pairs = (0..<nodes).filter { $0 != i }.map { (i, $0) }
            for (a, b) in pairs { proxy.set(LinkFault(bytesPerSecond: rate), from: NodeID(a), to: NodeID(b)) }
            count("slow")
            note(at, "slow links out of n\(i)\(how) to \(rate / 1024) KiB/s")
            return .links(pairs)
        case .cut:
            proxy.cut(from: nil, to: nil)
            count("cut")
            note(at, "cut every peer connection")
            return .nothing
        }
    }

    private func allPairs() -> [(Int, Int)] {
        (0..<nodes).flatMap { a in (0..<nodes).filter { $0 != a }.map { (a, $0) } }
    }

    private func block(_ pairs: [(Int, Int)], mode: LinkFault.Mode) {
        for (a, b) in pairs { proxy.set(LinkFault(mode: mode), from: NodeID(a), to: NodeID(b)) }
    }

    private func heal(_ undo: Undo, at: Duration) {
        switch undo {
        case .restart(let i, let rejoin):
            do {
                try processes.start(i, rejoin: rejoin)
                note(at, "restart n\(i)" + (rejoin ? " on an empty data directory, with its usual flags" : "") + " (pid=\(processes.pid(i)))")
            } catch {
                problems.append("n\(i) could not be restarted: \(error)")
                note(at, "restart n\(i) FAILED: \(error)")
            }
        case .resume(let i):
            processes.resume(i)
            note(at, "SIGCONT n\(i)")
        case .links(let pairs):
            for (a, b) in pairs { proxy.set(.healthy, from: NodeID(a), to: NodeID(b)) }
            note(at, "links healed")
        case .nothing:
            break
        }
    }
}
