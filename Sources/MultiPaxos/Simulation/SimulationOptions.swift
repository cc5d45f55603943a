/// A window of simulated time during which every message to or from a node is lost.
public struct Isolation: Sendable {
    /// The cut-off node.
    public var node: NodeID
    /// When the cut starts.
    public var start: Microseconds
    /// When it heals.
    public var end: Microseconds
    /// Makes an isolation window.
    public init(node: NodeID, start: Microseconds, end: Microseconds) {
        self.node = node
        self.start = start
        self.end = end
    }
}

/// Everything a simulated run depends on. The same options give a byte-identical trace.
public struct SimulationOptions: Sendable {
    /// The seed of the run's only random number generator.
    public var seed: UInt64 = 42
    /// The Phase-1 mode.
    public var mode: Mode = .stableLeader
    /// How many members the cluster has (1...64).
    public var nodes = 5
    /// How many clients run; client i (from 1) sits on node i mod `nodes` unless `placements` says otherwise.
    public var clients = 4
    /// Explicit client placement: the node of each client, in client order.
    public var placements: [NodeID]?
    /// How many requests each client sends.
    public var requestsPerClient = 10
    /// The probability that a network message is lost.
    public var dropRate = 0.05
    /// The probability that a network message is delivered twice.
    public var duplicateRate = 0.0
    /// The smallest one-way network delay.
    public var networkDelay: Microseconds = 1_000
    /// The largest random extra delay on top (so messages reorder).
    public var networkJitter: Microseconds = 4_000
    /// The shortest time a node's disk takes to sync; a message that depends on a write waits for it.
    public var syncLatency: Microseconds = 100
    /// The largest random extra time a sync takes on top.
    public var syncJitter: Microseconds = 400
    /// Crash the node that leads at this simulated time.
    public var crashLeaderAt: Microseconds?
    /// Windows during which nodes are cut off.
    public var isolations: [Isolation] = []
    /// Cut links, crashes, pauses, replays and long delays, and when the network heals.
    public var faults = FaultPlan()
    /// The run fails if it has not finished by then (a plan that heals sets its own, tighter bound).
    public var timeLimit: Microseconds = 600_000_000
    /// Deliberate protocol bugs, for tests that show the checkers catch them.
    var flaws: Flaws = []
    /// Crash the node that leads once this many requests have completed.
    public var crashLeaderAfterRequests: Int?
    /// Nodes whose leaders never defer to another: each proposes its own clients' commands (contention).
    public var contenders: [NodeID] = []
    /// Generated clients (benchmarks: operations made on demand, no shared keys) instead of scripted ones.
    public var generatedWorkload = false
    /// Generated clients follow each put with this many gets of its key (1: half the requests are reads).
    public var generatedReadsPerWrite = 1
    /// Full checks record every client operation and decision for the end-of-run checks (linearizability,
    /// at-most-once, validity); light checks keep agreement, answers and convergence with bounded memory.
    public var fullChecks = true
    /// The limits of the end-of-run linearizability check (counted, never timed, so a seed's outcome is the
    /// same every run); past them the run reports "linearizability not decided within budget", not a failure.
    public var linearizabilityBudget = Linearizability.Budget.simulation
    /// The protocol's timing.
    public var timing = Timing()
    /// How many applied slots replicas keep below the trim watermark for lagging peers (see
    /// `ClusterConfiguration.retainedSlots`); a small window makes lagging replicas catch up from snapshots.
    public var retainedSlots: Int64 = 1024
    /// The bound on the accepted values one Promise carries (see `ClusterConfiguration.promiseBytes`).
    public var promiseBytes = 4 << 20
    /// The largest message a node may send, as a peer frame bounds it on the network: a Promise past it is a
    /// failed check (the network would drop it, and a Phase 1 waiting for it would never end).
    public var frameBytes = 16 << 20
    /// The scripted clients' values are padded to this many bytes (with bytes that are not UTF-8): a sixth of
    /// the seeds take values of a good part of a frame, so that their states are many frames large and a message
    /// that grows with the state or with a value would be past the frame limit. 0: values as they are (a few bytes).
    public var valueBytes = 0
    /// Snapshots sent to lagging replicas travel in chunks of this many bytes (see
    /// `ClusterConfiguration.snapshotChunkBytes`): small, so that the simulation's small states still cross the
    /// network in several chunks, each exposed to drops, duplicates, delays and crashes.
    public var snapshotChunkBytes = 64
    /// Replicas snapshot (and let the cluster trim) once they applied this many slots past their last snapshot
    /// (see `ClusterConfiguration.snapshotIntervalSlots`): 1 trims about every heartbeat; more keeps more
    /// accepted values for a new leader's Phase 1 to gather, as the real-time shells (512) do.
    public var snapshotIntervalSlots: Int64 = 1
    /// How leaders batch and pipeline (off by default: one command per slot, as the demo's trace shows).
    public var batching = Batching.off
    /// How the clients' gets are served: through the log (the default), by read index, or by leader lease
    /// (which turns the cluster's leases on, with `maxClockDrift`).
    public var reads = ReadConsistency.log
    /// With lease reads: the clock-drift bound the cluster's configuration states (`Leases.maxClockDrift`).
    public var maxClockDrift = 0.01
    /// With lease reads: how far each node's clock actually drifts (nil: as far as `maxClockDrift` allows).
    /// Each node's rate is drawn from the seed within ± this, apart from every other draw; a value beyond the
    /// bound shows that the checker catches a lease that outlives its grants.
    public var actualClockDrift: Double?
    /// With lease reads: each node's drift, in node order, instead of drawn ones (a test that needs the leader's
    /// clock slow and the others' fast sets it); nodes past the list keep a drawn drift.
    public var clockDrifts: [Double]?
    /// Clients' scripts given outright instead of drawn (tests that need, say, readers on one node and writers
    /// on the others); their placements and counts replace `clients`, `placements` and `requestsPerClient`.
    var scripts: [ClientScript]?
    /// The family of faults the sweep seed added to its mixed faults (nil outside sweeps).
    public var schedule: FaultSchedule?
    /// Liveness during faults: while a majority of voting nodes is up and mutually connected and a client
    /// there waits, some request completes at least this often (checked with full checks, up to 12 nodes).
    public var stallBound: Microseconds = 3_000_000
    /// Changes of voters to ask for, one after another (each adds a spare node or removes a member); nodes
    /// numbered from `nodes` on are spares that join as non-voters at the start.
    public var reconfigurations: [VoterChange] = []
    /// When the first change of voters is asked for.
    public var reconfigureAt: Microseconds = 500_000
    /// How long after one change of voters is in force the next is asked for (0: at once, back to back).
    public var changePause: Microseconds = VoterChanges.pause
    /// Whether a node a change removed keeps running, as a `serve` process does until its operator stops it,
    /// instead of being shut down once the change is in force.
    public var removedNodesKeepRunning = false
    /// Messages reach a node in batches, as the real-time shells' loops take their inboxes: each message waits up
    /// to this long for others to the same node, and the leader holds the batch's commands until its end
    /// (`Node.beginBatch`/`endBatch`). nil: one at a time.
    public var batchedDelivery: Microseconds?

    /// Every node the run starts: the members and the spares the changes add.
    public var universe: Int {
        reconfigurations.reduce(nodes) { count, change in
            if case .add(let n) = change { return max(count, n.value + 1) }
            return count
        }
    }

    /// Replaces `victim` with a new node, as an operator replaces a machine: adds node `nodes + spare`, then
    /// removes `victim`.
    public mutating func replace(_ victim: NodeID, spare: Int = 0) {
        reconfigurations += [.add(NodeID(nodes + spare)), .remove(victim)]
    }

    /// The defaults of `swift run multipaxos <seed>`.
    public init() {}

    /// The node of each client.
    public var clientPlacements: [NodeID] {
        placements ?? (0..<clients).map { NodeID(($0 + 1) % nodes) }
    }

    /// The options of one seed of a sweep: loss, duplication, jitter and a fault plan all drawn from the seed.
    /// `schedule` picks the family of faults added to the mixed ones; nil lets the seed draw it. `transfers`
    /// adds leadership transfers, drawn from the seed apart from the rest, so the plan is otherwise the same.
    public static func sweep(seed: UInt64, mode: Mode, nodes: Int, clients: Int, requestsPerClient: Int,
                             faultDuration: Microseconds = 3_000_000, schedule: FaultSchedule? = nil,
                             transfers: Bool = false, reconfigure: Bool = false) -> SimulationOptions {
        var options = SimulationOptions()
        options.seed = seed
        options.mode = mode
        options.nodes = nodes
        options.clients = clients
        options.requestsPerClient = requestsPerClient
        var random = SeededGenerator(seed: seed ^ 0xFA17_5EED_0000_0001)
        options.dropRate = Double(random.upTo(300)) / 1000
        options.duplicateRate = Double(random.upTo(100)) / 1000
        options.networkJitter = 1_000 + Microseconds(random.upTo(9_000))
        options.faults = FaultPlan.random(&random, nodes: nodes, duration: faultDuration)
        // Disks from fast to slow: a slow sync keeps writes unsynced long enough for crashes to land on them.
        options.syncLatency = 50 + Microseconds(random.upTo(950))
        options.syncJitter = Microseconds(random.upTo(4_000))
        let family = schedule ?? FaultSchedule.drawn(&random)
        options.schedule = family
        let settings = options.faults.add(family, &random, nodes: nodes)
        if let retained = settings.retainedSlots { options.retainedSlots = retained }
        options.contenders = settings.contenders
        if transfers {
            var draws = SeededGenerator(seed: seed ^ 0x7A4E_5FE4_0000_0002)
            options.faults.addTransfers(&draws, nodes: nodes)
        }
        // A third of the seeds bound messages tightly (small Promises, a small frame) and snapshot every 8-127
        // slots rather than every heartbeat, drawn apart from the rest so the plan is otherwise the same: acceptors
        // then keep many values between trims, and a new leader's Phase 1 or a fence read gathers them in parts.
        var sizes = SeededGenerator(seed: seed ^ 0x512E_B0DE_0000_0004)
        if sizes.upTo(2) == 0 {
            options.promiseBytes = 128 + Int(sizes.upTo(896))
            options.frameBytes = 8 * options.promiseBytes
            options.snapshotIntervalSlots = 8 + Int64(sizes.upTo(120))
            options.snapshotChunkBytes = 1 + Int(sizes.upTo(254))
            // Half of them pad values too, drawn apart again, so that a seed's plan is otherwise the same.
            var values = SeededGenerator(seed: seed ^ 0x7A1E_B17E_0000_0005)
            if values.upTo(1) == 0 {
                options.valueBytes = 64 + Int(values.upTo(UInt64(options.promiseBytes)))
                // Chunks as large as a value, as in serve (1 MiB chunks, requests of at most 1.5 MiB): a state of a
                // few hundred values then crosses in a few hundred chunks, not in tens of thousands.
                options.snapshotChunkBytes = max(options.snapshotChunkBytes, options.valueBytes)
            }
        }
        if reconfigure {
            // Changes of voters, from a time drawn apart from the rest, so the plan is otherwise the same.
            var draws = SeededGenerator(seed: seed ^ 0x4EC0_F16E_0000_0003)
            options.reconfigureAt = 200_000 + Microseconds(draws.upTo(UInt64(max(faultDuration, 400_000) - 200_000)))
            options.drawReconfiguration(&draws)
        }
        return options
    }

    /// Draws a run's changes of voters and the conditions around them (Simulation/SimulationReconfiguration.swift):
    /// a third of the seeds replace one or two members (add a spare, remove the member); the others draw any
    /// sequence of two to five single-node changes, removals before additions too, down to one voter and up to
    /// seven. Apart from those: changes back to back, removed nodes left running, a voter cut off through the
    /// changes (its view lags), snapshots at the real-time shells' interval, and batched delivery.
    mutating func drawReconfiguration(_ draws: inout SeededGenerator) {
        if draws.upTo(2) == 0 {
            if nodes > 1 {
                let first = NodeID(Int(draws.upTo(UInt64(nodes - 1))))
                replace(first)
                if draws.upTo(1) == 1 {
                    replace(NodeID((first.value + 1 + Int(draws.upTo(UInt64(max(0, nodes - 2))))) % nodes), spare: 1)
                }
            }
        } else {
            // Never fewer voters than the plan's lasting faults allow a majority to survive: every node that
            // crashes for good or loses its disk may be among the voters left.
            let lasting = faults.nodeFaults.filter {
                switch $0.kind {
                case .crash(let restart): restart == nil
                case .wipe: true
                case .pause, .transfer: false
                }
            }.count + (crashLeaderAt == nil ? 0 : 1)
            reconfigurations = VoterChange.drawn(&draws, nodes: nodes, count: 2 + Int(draws.upTo(3)),
                                                 fewest: min(nodes, 2 * lasting + 1))
        }
        if draws.upTo(1) == 1 { changePause = 0 }
        removedNodesKeepRunning = draws.upTo(1) == 1
        if draws.upTo(2) == 0 { snapshotIntervalSlots = 512 }
        if draws.upTo(1) == 1 { batchedDelivery = 100 + Microseconds(draws.upTo(1_900)) }
        if nodes > 2, draws.upTo(2) == 0 {
            // A voter cut off while the changes are made, then healed: its view lags them all.
            let lagging = NodeID(Int(draws.upTo(UInt64(nodes - 1))))
            let end = reconfigureAt + 1_000_000 + Microseconds(draws.upTo(2_000_000))
            faults.windows.append(.init(cut: .isolate(lagging), start: reconfigureAt, end: end))
            faults.healAt = max(faults.healAt, end)
        }
    }

    /// The options a run used, on one line: what a seed chose.
    public var summary: String {
        var text = "seed \(seed) \(mode.rawValue), \(nodes) nodes, \(clientPlacements.count)×\(requestsPerClient) requests, "
            + "drop \(dropRate), duplicate \(duplicateRate), delay \(networkDelay)+\(networkJitter) µs, "
            + "sync \(syncLatency)+\(syncJitter) µs"
        if let t = crashLeaderAt { text += ", crash the leader at \(formatSeconds(t)) s" }
        if let schedule { text += ", schedule \(schedule)" }
        if !contenders.isEmpty { text += ", contenders \(NodeSet(contenders))" }
        if retainedSlots != 1024 { text += ", \(retainedSlots) slots retained" }
        if promiseBytes != 4 << 20 || frameBytes != 16 << 20 { text += ", promises of \(promiseBytes) B in frames of \(frameBytes) B" }
        if snapshotIntervalSlots != 1 { text += ", snapshots every \(snapshotIntervalSlots) slots" }
        if snapshotChunkBytes != 64 { text += ", snapshot chunks of \(snapshotChunkBytes) B" }
        if valueBytes > 0 { text += ", values of \(valueBytes) B" }
        if batching != .off { text += ", \(batching)" }
        if reads != .log { text += ", reads by \(reads)" }
        if reads == .lease {
            text += ", clock drift \(actualClockDrift ?? maxClockDrift) (bound \(maxClockDrift))"
        }
        if !reconfigurations.isEmpty {
            text += ", from \(formatSeconds(reconfigureAt)) s " + reconfigurations.map(\.description).joined(separator: ", then ")
            if changePause != VoterChanges.pause { text += " (\(changePause) µs apart)" }
            if removedNodesKeepRunning { text += ", removed nodes keep running" }
        }
        if let batchedDelivery { text += ", delivery in batches of \(batchedDelivery) µs" }
        if faults.healAt > 0 || !faults.windows.isEmpty || !faults.nodeFaults.isEmpty { text += "; \(faults)" }
        return text
    }

    /// Checks the options, naming the first bad value.
    public func validate() throws(OptionsError) {
        guard (1...NodeSet.capacity).contains(nodes) else { throw OptionsError("--nodes \(nodes) is not in 1...64") }
        if let problem = batching.problem { throw OptionsError(problem) }
        guard clients >= 0 else { throw OptionsError("--clients \(clients) is negative") }
        guard requestsPerClient >= 0 else { throw OptionsError("--requests \(requestsPerClient) is negative") }
        guard (0...1).contains(dropRate) else { throw OptionsError("--drop \(dropRate) is not in 0...1") }
        guard (0...1).contains(duplicateRate) else { throw OptionsError("--duplicate \(duplicateRate) is not in 0...1") }
        if let p = placements, let bad = p.first(where: { $0.value >= nodes }) {
            throw OptionsError("client placement \(bad) is not a member of a \(nodes)-node cluster")
        }
        guard syncLatency >= 0, syncJitter >= 0 else { throw OptionsError("sync latency \(syncLatency)+\(syncJitter) µs is negative") }
        if let t = crashLeaderAt, t < 0 { throw OptionsError("--crash-leader-at \(t) is negative") }
        if let problem = timing.problem { throw OptionsError(problem) }
        if reads == .lease, let problem = Leases(maxClockDrift: maxClockDrift).problem(timing) { throw OptionsError(problem) }
        if let drift = actualClockDrift, !(drift.isFinite && drift >= 0 && drift < 1) {
            throw OptionsError("actual clock drift \(drift) is not in 0..<1")
        }
        guard retainedSlots >= 0 else { throw OptionsError("retained slots \(retainedSlots) is negative") }
        guard universe <= NodeSet.capacity else { throw OptionsError("\(universe) nodes with spares is more than 64") }
        var voters = NodeSet((0..<nodes).map { NodeID($0) })
        for change in reconfigurations {
            let next = change.applied(to: voters)
            guard next != voters, !next.isEmpty else {
                throw OptionsError("change '\(change)' does nothing to voters {\(voters)} or leaves none")
            }
            voters = next
        }
    }
}

/// Bad simulation options, with a one-line message naming the bad value.
public struct OptionsError: Error, Equatable, CustomStringConvertible {
    /// The message.
    public let message: String
    /// Makes an error.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
