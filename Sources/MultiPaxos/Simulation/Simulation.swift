/// A deterministic simulated cluster: the message bus with its virtual clock, event queue, network faults and
/// the run's only random number generator, plus the scripted clients and the checks. Every actor of every node
/// runs on one serial executor, so a run is one job at a time in FIFO order: the same options give the same
/// trace, byte for byte, in any process on any machine.
public actor Simulation {
    nonisolated let executor: QueueExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    enum Scheduled {
        /// `id` numbers the message in the run's recording (nil when not recorded).
        case deliver(Message, from: NodeID, to: NodeID, id: Int?)
        case timer(ProtocolTimer, node: NodeID, incarnation: Int)
        case nodeFault(Int)
        case restart(NodeID)
        case windowOpens(Int)
        case syncDone(NodeID, incarnation: Int)
        /// A cut heals or a pause ends: the progress watch looks again.
        case faultEnds
        /// The next change of voters the run asks for is due, or its last attempt is checked.
        case reconfigure
        /// With batched delivery: the node takes the messages waiting in its inbox, as one batch.
        case drain(NodeID)
        /// A client that starts later than the others (`ClientScript.startAt`) starts.
        case startClient(Int)
    }

    /// Whether node `i` is up and still of the cluster (not a removed node left running), so that the run waits
    /// for it to catch up and compares its state at the end.
    func followed(_ i: Int) -> Bool { alive[i] && !changes.removedRunning.contains(NodeID(i)) }

    /// With batched delivery: per node, the messages that arrived and wait for the node's next batch.
    @exclusivity(unchecked) var inboxes: [[(message: Message, from: NodeID, id: Int?)]] = []

    /// A message held until the write it depends on is synced.
    struct HeldSend {
        let message: Message
        let to: NodeSet
        let role: RoleKind
        let afterWrite: Int
    }

    /// The options of the run.
    public nonisolated let options: SimulationOptions
    /// The cluster's configuration.
    public nonisolated let config: ClusterConfiguration
    let trace: (@Sendable (String) -> Void)?
    /// What the run did over time, when asked for (see `RunRecording`).
    @exclusivity(unchecked) var recording: RunRecording?
    let colors: Bool
    let plan: FaultPlan
    // The bus's mutable state is only ever touched by the actor's own serial steps, never through overlapping
    // inout accesses, so Swift's dynamic exclusivity checks on it are switched off: they cost 10-15% of a run's
    // CPU (measured with `multipaxos bench --scenarios n3-c64-throughput`, best of five).
    @exclusivity(unchecked) var random: SeededGenerator
    /// With leases: per node, how much longer (or shorter) its timers take than asked (Simulation/SimulationClocks.swift).
    let clockDrift: [Double]
    @exclusivity(unchecked) var queue = EventQueue<Scheduled>()
    @exclusivity(unchecked) var now: Microseconds = 0 {
        didSet { if !clockDrift.isEmpty { virtualTime.set(now) } }
    }
    /// `now`, for the nodes' clocks (read by a leader within a step; only with leases).
    let virtualTime = VirtualTime()
    @exclusivity(unchecked) var report: SimulationReport
    let scripts: [ClientScript]
    let makeMachine: @Sendable () -> any StateMachine = { KeyValueStore() }

    // The nodes and what happens to them.
    @exclusivity(unchecked) var nodes: [Node] = []
    @exclusivity(unchecked) var storages: [DurableState]
    @exclusivity(unchecked) var alive: [Bool]
    @exclusivity(unchecked) var incarnation: [Int]
    @exclusivity(unchecked) var pausedUntil: [Microseconds]
    /// The cuts of windows that opened, by window index in ascending order (a cut naming the leader resolved).
    @exclusivity(unchecked) var openCuts: [(index: Int, cut: FaultPlan.Cut)] = []
    @exclusivity(unchecked) var recentMessages: [(Message, NodeID, NodeID)] = []
    /// Per node, some network messages sent to it or by it, kept for replays after it restarts.
    @exclusivity(unchecked) var pastMessages: [[(Message, NodeID, NodeID)]]
    var stoppedClients: Set<ClientID> = []
    var clusterFormed = false
    @exclusivity(unchecked) var disks: [SimulatedDisk]
    @exclusivity(unchecked) var held: [[HeldSend]]
    /// Per node, the last write whose state messages already sent depend on.
    @exclusivity(unchecked) var exposedWrite: [Int]
    /// Per node, the state's change count as of its last write.
    @exclusivity(unchecked) var writtenChanges: [UInt64]
    let canCrash: Bool
    var joinedNodes = NodeSet()
    /// Nodes whose disks were wiped and that have not rejoined: they must not vote.
    var wiped = NodeSet()
    var foundersJoined: Bool { config.members.allSatisfy { joinedNodes.contains($0) } }

    // What the checks watch.
    @exclusivity(unchecked) var checker: SimulationChecker
    /// Liveness during faults (full checks, at most 12 nodes).
    @exclusivity(unchecked) var progress: ProgressWatch?
    /// Per node, how many of its clients still have requests to send.
    @exclusivity(unchecked) var busyClients: [Int]
    /// Per node, the ballot it last became leader with (decisions are made at it).
    @exclusivity(unchecked) var ledWith: [Ballot?]
    /// Per node, the highest slot its disk ever held a synced snapshot up to (a wipe does not lower it).
    @exclusivity(unchecked) var durablyApplied: [Slot]
    /// Per node, the slot its disk holds a synced snapshot up to now (a wipe takes it back to zero).
    @exclusivity(unchecked) var durableNow: [Slot]
    @exclusivity(unchecked) var appliedEnd: [Slot?]
    @exclusivity(unchecked) var invokedAt: [RequestKey: Microseconds] = [:]
    @exclusivity(unchecked) var resultsSeen: [ClientID: Int] = [:]
    var remaining = 0
    /// Restarts scheduled and not yet done: a run does not end before them.
    var pendingRestarts = 0
    var leader: Ballot?
    var history = History()
    /// The changes of voters asked for and how far they got (Simulation/SimulationReconfiguration.swift).
    var changes: VoterChanges
    /// The voters the progress watch follows: the latest ones a change put in force.
    var watchedVoters: [NodeID]
    /// The configurations the liveness watch holds to: the one in force, and any decided since.
    var watchedConfigurations: [VoterConfiguration] = []

    /// Makes a run; `trace` receives one line per protocol event, `colors` adds ANSI role colours to them, and
    /// `recordsRun` keeps every network message and fault for `SimulationReport.recording` (it changes nothing else).
    public init(options: SimulationOptions, trace: (@Sendable (String) -> Void)? = nil, colors: Bool = false,
                recordsRun: Bool = false) throws(OptionsError) {
        try options.validate()
        self.options = options
        recording = recordsRun ? RunRecording(nodes: options.universe, nominalDelay: options.networkDelay + options.networkJitter / 2) : nil
        self.trace = trace
        self.colors = colors
        executor = QueueExecutor(label: "multipaxos.simulation")
        var config = ClusterConfiguration(members: (0..<options.nodes).map { NodeID($0) }, mode: options.mode,
                                          timing: options.timing)
        config.flaws = options.flaws
        config.retainedSlots = options.retainedSlots
        config.promiseBytes = options.promiseBytes
        config.catchUpBytes = options.promiseBytes  // the same bound on a message's values as a Promise's
        config.snapshotChunkBytes = options.snapshotChunkBytes
        config.snapshotIntervalSlots = options.snapshotIntervalSlots
        config.batching = options.batching
        // A batch is one value in an Accept: it stays within what a message of values may carry, as in serve.
        config.batching.maxBytes = min(config.batching.maxBytes, options.promiseBytes)
        config.reads = options.reads
        config.contenders = NodeSet(options.contenders)
        if options.reads == .lease { config.leases = Leases(maxClockDrift: options.maxClockDrift) }
        self.config = config
        clockDrift = Self.drawClockDrift(options, leases: config.leases != nil)
        var plan = options.faults
        if let t = options.crashLeaderAt {
            plan.nodeFaults.append(.init(node: nil, kind: .crash(restartAfter: nil), at: t))
        }
        for cut in options.isolations {
            plan.windows.append(.init(cut: .isolate(cut.node), start: cut.start, end: cut.end))
        }
        self.plan = plan
        random = SeededGenerator(seed: options.seed)
        if let given = options.scripts {
            scripts = given
        } else if options.generatedWorkload {
            scripts = Workload.generated(placements: options.clientPlacements, requestsPerClient: options.requestsPerClient,
                                         readsPerWrite: options.generatedReadsPerWrite)
        } else {
            scripts = Workload.make(placements: options.clientPlacements, requestsPerClient: options.requestsPerClient,
                                    valueBytes: options.valueBytes, random: &random)
        }
        storages = (0..<options.universe).map { _ in
            let state = DurableState()
            state.syncedSnapshotSlot = .zero  // the disks sync after the step: what is on them is tracked
            return state
        }
        canCrash = options.crashLeaderAt != nil || options.crashLeaderAfterRequests != nil
            || plan.nodeFaults.contains {
                switch $0.kind {
                case .crash, .wipe: true
                case .pause, .transfer: false
                }
            }
        disks = storages.map { [canCrash] in SimulatedDisk(state: $0, keepsImages: canCrash) }
        held = Array(repeating: [], count: options.universe)
        inboxes = Array(repeating: [], count: options.universe)
        pastMessages = Array(repeating: [], count: options.universe)
        exposedWrite = Array(repeating: 0, count: options.universe)
        writtenChanges = storages.map(\.changes)
        alive = Array(repeating: true, count: options.universe)
        incarnation = Array(repeating: 0, count: options.universe)
        pausedUntil = Array(repeating: 0, count: options.universe)
        appliedEnd = Array(repeating: nil, count: options.universe)
        report = SimulationReport(options: options)
        checker = SimulationChecker(config: config, nodes: options.universe, fullChecks: options.fullChecks)
        changes = VoterChanges(steps: options.reconfigurations)
        watchedVoters = config.members
        watchedConfigurations = [VoterConfiguration(number: 0, from: .zero, voters: config.memberSet)]
        progress = options.fullChecks
            ? ProgressWatch(members: config.members, quorum: config.quorum, bound: options.stallBound) : nil
        busyClients = Array(repeating: 0, count: options.universe)
        ledWith = Array(repeating: nil, count: options.universe)
        durablyApplied = Array(repeating: .zero, count: options.universe)
        durableNow = Array(repeating: .zero, count: options.universe)
        for script in scripts where script.count > 0 { busyClients[script.node.value] += 1 }
    }

    /// Installs the Requester of script `index` on its node.
    func startClient(_ index: Int) async {
        let script = scripts[index]
        let requester = Requester(client: script.client, node: script.node, count: script.count,
                                  operation: { script.operation($0).encoded },
                                  requestTimeout: config.timing.requestTimeout, executor: executor)
        process(await nodes[script.node.value].install(requester), at: script.node)
    }

    /// The nonce of `node`'s current start: distinct per node and start, drawn from no randomness (so that
    /// the seeds' runs do not depend on how many nodes restart).
    func nonce(of node: NodeID) -> UInt64 {
        UInt64(incarnation[node.value] + 1) << 6 | UInt64(node.value)
    }

    var deadline: Microseconds {
        plan.healAt > 0 ? min(options.timeLimit, plan.healAt + plan.livenessBound) : options.timeLimit
    }

    /// Runs the cluster until every client is answered and every live replica has applied every decided slot,
    /// or until the time limit; then checks the outcome.
    public func run() async -> SimulationReport {
        for id in 0..<options.universe {
            nodes.append(Node(id: NodeID(id), executor: executor, clock: nodeClock(id)))
        }
        for node in nodes {
            let roles = Initializer.bootstrapRoles(node: node.id, config: config, executor: executor,
                                                   makeMachine: makeMachine, storage: storages[node.id.value],
                                                   nonce: nonce(of: node.id))
            for role in roles { process(await node.install(role), at: node.id) }
        }
        for (index, script) in scripts.enumerated() {
            remaining += script.count
            if script.startAt > 0 {
                queue.push(.startClient(index), at: script.startAt)
            } else {
                await startClient(index)
            }
        }
        report.requestsExpected = remaining
        for (i, fault) in plan.nodeFaults.enumerated() { queue.push(.nodeFault(i), at: fault.at) }
        for (i, window) in plan.windows.enumerated() {
            queue.push(.windowOpens(i), at: window.start)
            if progress != nil { queue.push(.faultEnds, at: window.end) }
        }
        if !changes.steps.isEmpty { queue.push(.reconfigure, at: options.reconfigureAt) }
        watchProgress()

        while !finished, let (time, item) = queue.pop() {
            guard time <= deadline else { break }
            now = time
            switch item {
            case .deliver(let message, let from, let to, let id):
                if let wait = options.batchedDelivery {
                    if inboxes[to.value].isEmpty { queue.push(.drain(to), at: now + wait) }
                    inboxes[to.value].append((message, from, id))
                } else {
                    await deliver(message, from: from, to: to, id: id)
                }
            case .drain(let node):
                await drain(node)
            case .timer(let timer, let node, let born):
                let i = node.value
                guard alive[i], born == incarnation[i] else { continue }
                if pausedUntil[i] > now {
                    queue.push(item, at: pausedUntil[i])
                    continue
                }
                process(await nodes[i].deliver(.timer(timer)), at: node)
            case .nodeFault(let index):
                // Crashes and pauses wait until the cluster has formed (every initial voter let in): a seed that
                // dies before welcoming anyone leaves nothing to recover, by design, and a founder whose Welcome
                // is lost is let in by the other founders, who know it only until they restart.
                guard clusterFormed && foundersJoined else {
                    queue.push(item, at: now + 50_000)
                    continue
                }
                await nodeFault(plan.nodeFaults[index])
            case .restart(let node):
                pendingRestarts -= 1
                await restart(node)
            case .windowOpens(let index):
                openWindow(index)
            case .syncDone(let node, let born):
                guard born == incarnation[node.value] else { continue }
                syncCompleted(at: node.value)
            case .faultEnds:
                watchProgress()
            case .reconfigure:
                await reconfigure()
            case .startClient(let index):
                await startClient(index)
            }
        }
        watchProgress()
        report.simulatedTime = now
        report.history = history
        recording?.end = now
        report.recording = recording
        await checkAtEnd()
        report.failures = checker.failures
        return report
    }

    /// Every client answered, every scheduled restart done, every live replica caught up, and every live node
    /// that lost its disk rejoined.
    var finished: Bool {
        guard remaining == 0, pendingRestarts == 0, changes.done else { return false }
        for node in wiped where followed(node.value) { return false }
        for i in appliedEnd.indices where followed(i) {
            guard let end = appliedEnd[i], end >= checker.decidedEnd else { return false }
        }
        return true
    }

    /// Hands node `node` the messages waiting in its inbox as one batch: each goes through `deliver` (and its
    /// checks) in turn, while the node's leader holds the batch's commands until the end, as in the real-time
    /// shells.
    func drain(_ node: NodeID) async {
        let batch = inboxes[node.value]
        inboxes[node.value] = []
        guard batch.count > 1, alive[node.value], pausedUntil[node.value] <= now else {
            for m in batch { await deliver(m.message, from: m.from, to: node, id: m.id) }
            return
        }
        report.membershipDraws.batches += 1
        await nodes[node.value].beginBatch()
        for m in batch { await deliver(m.message, from: m.from, to: node, id: m.id) }
        process(await nodes[node.value].endBatch(), at: node)
    }

    func deliver(_ message: Message, from: NodeID, to: NodeID, id: Int?) async {
        let i = to.value
        guard alive[i] else {
            recordFate(id, .dropped(at: now, why: "\(to) is down"))
            return
        }
        if pausedUntil[i] > now {
            queue.push(.deliver(message, from: from, to: to, id: id), at: pausedUntil[i])
            return
        }
        if from != to, let index = cutting(from, to) {
            if plan.windows[index].holds {
                // The link keeps what it could not deliver and delivers it when the cut heals.
                queue.push(.deliver(message, from: from, to: to, id: id), at: plan.windows[index].end + delay(true))
            } else {
                report.droppedMessages[message.kind.rawValue] += 1
                recordFate(id, .dropped(at: now, why: "cut"))
            }
            return
        }
        recordFate(id, .delivered(at: now))
        if case .heartbeat = message, options.fullChecks, !wiped.contains(to) {
            let before = storages[i].acceptor.trimmedBelow
            process(await nodes[i].deliver(.message(message, from: from)), at: to)
            let after = storages[i].acceptor.trimmedBelow
            if after > before { checker.trimmed(to, below: after, durable: durablyApplied, own: durableNow[to.value]) }
            return
        }
        let watched: Slot? = switch message {
        case .accept(let a): a.slot
        case .prepare(let p): p.scope.firstSlot
        default: nil
        }
        if wiped.contains(to) { checker.deliveredWhileWiped(message, from: from, to: to) }
        guard let slot = watched, !wiped.contains(to) else {  // a wiped node has no acceptor to check
            process(await nodes[i].deliver(.message(message, from: from)), at: to)
            return
        }
        let before = storages[i].acceptor.promised(for: slot)
        let acceptedBefore = storages[i].acceptor.accepted[slot]
        process(await nodes[i].deliver(.message(message, from: from)), at: to)
        checker.acceptorStep(to, record: storages[i].acceptor, slot: slot, before: before, acceptedBefore: acceptedBefore,
                             message: message)
    }
}
