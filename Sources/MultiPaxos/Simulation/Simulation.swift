/// A deterministic simulated cluster: the message bus with its virtual clock, event queue, network faults and
/// the run's only random number generator, plus the scripted clients and the checks. Every actor of every node
/// runs on one serial executor, so a run is one job at a time in FIFO order: the same options give the same
/// trace, byte for byte, in any process on any machine.
public actor Simulation {
    nonisolated let executor: QueueExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private enum Scheduled {
        case deliver(Message, from: NodeID, to: NodeID)
        case timer(ProtocolTimer, node: NodeID, incarnation: Int)
        case nodeFault(Int)
        case restart(NodeID)
        case windowOpens(Int)
        case syncDone(NodeID, incarnation: Int)
    }

    /// A message held until the write it depends on is synced.
    private struct HeldSend {
        let message: Message
        let to: NodeSet
        let role: RoleKind
        let afterWrite: Int
    }

    /// The options of the run.
    public nonisolated let options: SimulationOptions
    /// The cluster's configuration.
    public nonisolated let config: ClusterConfiguration
    private let trace: (@Sendable (String) -> Void)?
    private let colors: Bool
    private let plan: FaultPlan
    // The bus's mutable state is only ever touched by the actor's own serial steps, never through overlapping
    // inout accesses, so Swift's dynamic exclusivity checks on it are switched off: they cost 10-15% of a run's
    // CPU (measured with `multipaxos bench --scenarios n3-c64-throughput`, best of five).
    @exclusivity(unchecked) private var random: SeededGenerator
    @exclusivity(unchecked) private var queue = EventQueue<Scheduled>()
    @exclusivity(unchecked) private var now: Microseconds = 0
    @exclusivity(unchecked) private var report: SimulationReport
    private let scripts: [ClientScript]
    private let makeMachine: @Sendable () -> any StateMachine = { KeyValueStore() }

    // The nodes and what happens to them.
    @exclusivity(unchecked) private var nodes: [Node] = []
    @exclusivity(unchecked) private var storages: [DurableState]
    @exclusivity(unchecked) private var alive: [Bool]
    @exclusivity(unchecked) private var incarnation: [Int]
    @exclusivity(unchecked) private var pausedUntil: [Microseconds]
    @exclusivity(unchecked) private var openCuts: [Int: FaultPlan.Cut] = [:]
    @exclusivity(unchecked) private var recentMessages: [(Message, NodeID, NodeID)] = []
    private var stoppedClients: Set<ClientID> = []
    private var clusterFormed = false
    @exclusivity(unchecked) private var disks: [SimulatedDisk]
    @exclusivity(unchecked) private var held: [[HeldSend]]
    /// Per node, the last write whose state messages already sent depend on.
    @exclusivity(unchecked) private var exposedWrite: [Int]
    /// Per node, the state's change count as of its last write.
    @exclusivity(unchecked) private var writtenChanges: [UInt64]
    private let canCrash: Bool
    private var joinedNodes = NodeSet()
    /// Nodes whose disks were wiped and that have not rejoined: they must not vote.
    private var wiped = NodeSet()
    /// Per node, the highest ballot it promised before its disk was last wiped.
    @exclusivity(unchecked) private var promisedBeforeWipe: [Ballot]
    /// Per wiped node, what its acceptor held before the wipe, and the decisions made before it restarted.
    @exclusivity(unchecked) private var formerAccepted: [Int: [Slot: PValue]] = [:]
    @exclusivity(unchecked) private var decidedBeforeRestart: [Int: [Slot: Value]] = [:]
    private var welcomedMajority: Bool { joinedNodes.count >= config.quorum }

    // What the checks watch.
    @exclusivity(unchecked) private var decided: [Slot: Value] = [:]
    private var prunedBelow = Slot.zero
    @exclusivity(unchecked) private var submitted: [RequestKey: [UInt8]] = [:]
    @exclusivity(unchecked) private var executedAt: [[RequestKey: Slot]]
    @exclusivity(unchecked) private var highestPromise: [Ballot]
    private var decidedEnd = Slot.zero
    @exclusivity(unchecked) private var appliedEnd: [Slot?]
    @exclusivity(unchecked) private var invokedAt: [RequestKey: Microseconds] = [:]
    @exclusivity(unchecked) private var resultsSeen: [ClientID: Int] = [:]
    private var remaining = 0
    private var leader: Ballot?
    private var history = History()

    /// Makes a run; `trace` receives one line per protocol event, `colors` adds ANSI role colours to them.
    public init(options: SimulationOptions, trace: (@Sendable (String) -> Void)? = nil, colors: Bool = false) throws(OptionsError) {
        try options.validate()
        self.options = options
        self.trace = trace
        self.colors = colors
        executor = QueueExecutor(label: "multipaxos.simulation")
        var config = ClusterConfiguration(members: (0..<options.nodes).map { NodeID($0) }, mode: options.mode,
                                          timing: options.timing)
        config.flaws = options.flaws
        config.contenders = NodeSet(options.contenders)
        self.config = config
        var plan = options.faults
        if let t = options.crashLeaderAt {
            plan.nodeFaults.append(.init(node: nil, kind: .crash(restartAfter: nil), at: t))
        }
        for cut in options.isolations {
            plan.windows.append(.init(cut: .isolate(cut.node), start: cut.start, end: cut.end))
        }
        self.plan = plan
        random = SeededGenerator(seed: options.seed)
        scripts = options.generatedWorkload
            ? Workload.generated(placements: options.clientPlacements, requestsPerClient: options.requestsPerClient)
            : Workload.make(placements: options.clientPlacements, requestsPerClient: options.requestsPerClient,
                            random: &random)
        storages = (0..<options.nodes).map { _ in DurableState() }
        canCrash = options.crashLeaderAt != nil || options.crashLeaderAfterRequests != nil
            || plan.nodeFaults.contains { if case .pause = $0.kind { false } else { true } }
        disks = storages.map { [canCrash] in SimulatedDisk(state: $0, keepsImages: canCrash) }
        held = Array(repeating: [], count: options.nodes)
        exposedWrite = Array(repeating: 0, count: options.nodes)
        writtenChanges = storages.map(\.changes)
        alive = Array(repeating: true, count: options.nodes)
        incarnation = Array(repeating: 0, count: options.nodes)
        pausedUntil = Array(repeating: 0, count: options.nodes)
        appliedEnd = Array(repeating: nil, count: options.nodes)
        executedAt = Array(repeating: [:], count: options.nodes)
        highestPromise = Array(repeating: .initial, count: options.nodes)
        promisedBeforeWipe = Array(repeating: .initial, count: options.nodes)
        report = SimulationReport(options: options)
    }

    private var deadline: Microseconds {
        plan.healAt > 0 ? min(options.timeLimit, plan.healAt + plan.livenessBound) : options.timeLimit
    }

    /// Runs the cluster until every client is answered and every live replica has applied every decided slot,
    /// or until the time limit; then checks the outcome.
    public func run() async -> SimulationReport {
        for id in config.members {
            nodes.append(Node(id: id, executor: executor))
        }
        for node in nodes {
            let i = node.id.value
            let bootstrap: any Role = node.id == config.members[0]
                ? Seed(node: node.id, config: config, executor: executor, makeMachine: makeMachine, storage: storages[i])
                : Initializer(node: node.id, config: config, executor: executor, makeMachine: makeMachine, storage: storages[i])
            process(await node.install(bootstrap), at: node.id)
        }
        for script in scripts {
            remaining += script.count
            let requester = Requester(client: script.client, node: script.node, count: script.count,
                                      operation: { script.operation($0).encoded },
                                      requestTimeout: config.timing.requestTimeout, executor: executor)
            process(await nodes[script.node.value].install(requester), at: script.node)
        }
        report.requestsExpected = remaining
        for (i, fault) in plan.nodeFaults.enumerated() { queue.push(.nodeFault(i), at: fault.at) }
        for (i, window) in plan.windows.enumerated() { queue.push(.windowOpens(i), at: window.start) }

        while !finished, let (time, item) = queue.pop() {
            guard time <= deadline else { break }
            now = time
            switch item {
            case .deliver(let message, let from, let to):
                await deliver(message, from: from, to: to)
            case .timer(let timer, let node, let born):
                let i = node.value
                guard alive[i], born == incarnation[i] else { continue }
                if pausedUntil[i] > now {
                    queue.push(item, at: pausedUntil[i])
                    continue
                }
                process(await nodes[i].deliver(.timer(timer)), at: node)
            case .nodeFault(let index):
                // Crashes and pauses wait until the cluster has formed: a single seed that dies before
                // welcoming anyone leaves nothing to recover, by design.
                guard clusterFormed && welcomedMajority else {
                    queue.push(item, at: now + 50_000)
                    continue
                }
                await nodeFault(plan.nodeFaults[index])
            case .restart(let node):
                await restart(node)
            case .windowOpens(let index):
                openWindow(index)
            case .syncDone(let node, let born):
                guard born == incarnation[node.value] else { continue }
                syncCompleted(at: node.value)
            }
        }
        report.simulatedTime = now
        report.history = history
        await check()
        return report
    }

    /// Every client answered, every live replica caught up, and every live node that lost its disk rejoined.
    private var finished: Bool {
        guard remaining == 0 else { return false }
        for node in wiped where alive[node.value] { return false }
        for i in appliedEnd.indices where alive[i] {
            guard let end = appliedEnd[i], end >= decidedEnd else { return false }
        }
        return true
    }

    private func deliver(_ message: Message, from: NodeID, to: NodeID) async {
        let i = to.value
        guard alive[i] else { return }
        if pausedUntil[i] > now {
            queue.push(.deliver(message, from: from, to: to), at: pausedUntil[i])
            return
        }
        if from != to && isCut(from, to) {
            report.droppedMessages[message.kind.rawValue] += 1
            return
        }
        let watched: Slot? = switch message {
        case .accept(let a): a.slot
        case .prepare(let p): p.scope.firstSlot
        default: nil
        }
        guard let slot = watched, !wiped.contains(to) else {  // a wiped node has no acceptor to check
            process(await nodes[i].deliver(.message(message, from: from)), at: to)
            return
        }
        let before = storages[i].acceptor.promised(for: slot)
        let acceptedBefore = storages[i].acceptor.accepted[slot]
        process(await nodes[i].deliver(.message(message, from: from)), at: to)
        checkAcceptor(to, slot: slot, before: before, acceptedBefore: acceptedBefore, message: message)
    }

    // MARK: Faults

    private func isCut(_ from: NodeID, _ to: NodeID) -> Bool {
        for (index, cut) in openCuts {
            guard now < plan.windows[index].end else { continue }
            switch cut {
            case .isolate(let n): if from == n || to == n { return true }
            case .split(let side): if side.contains(from) != side.contains(to) { return true }
            case .oneWay(let a, let b): if from == a && to == b { return true }
            case .isolateLeader: break
            }
        }
        return false
    }

    private var faultPhase: Bool { plan.healAt == 0 || now < plan.healAt }

    private func openWindow(_ index: Int) {
        let window = plan.windows[index]
        var cut = window.cut
        if case .isolateLeader = cut {
            guard let ballot = leader, alive[ballot.leader.value] else { return }
            cut = .isolate(ballot.leader)
        }
        openCuts[index] = cut
        emit(nil, "Bus", "\(cut) until \(formatSeconds(window.end)) s")
    }

    private func nodeFault(_ fault: FaultPlan.NodeFault) async {
        guard let node = fault.node ?? leader.map(\.leader), alive[node.value] else { return }
        switch fault.kind {
        case .crash(let restartAfter):
            crash(node)
            if let delay = restartAfter { queue.push(.restart(node), at: now + delay) }
        case .wipe(let restartAfter):
            formerAccepted[node.value] = storages[node.value].acceptor.accepted
            crash(node)
            // The disk is gone. The node still knows it was provisioned for this cluster (a real deployment
            // knows from the other members' files or its operator), so it rejoins as a learner; with the
            // test-only flaw it rejoins as if new, and votes.
            let i = node.value
            promisedBeforeWipe[i] = max(promisedBeforeWipe[i], highestPromise[i], storages[i].acceptor.highestPromised)
            storages[i] = config.flaws.contains(.amnesiacVotes) ? DurableState() : .amnesiac()
            wiped.insert(node)
            report.diskCrashes.wipes += 1
            emit(node, "Bus", "loses its disk")
            queue.push(.restart(node), at: now + restartAfter)
        case .pause(let duration):
            pausedUntil[node.value] = max(pausedUntil[node.value], now + duration)
            emit(node, "Bus", "pauses until \(formatSeconds(pausedUntil[node.value])) s")
        }
    }

    /// A crash keeps what the node's disk synced, plus whatever of its unsynced writes the seed lets survive
    /// (see `SimulatedDisk`); messages still waiting for a sync are lost with it. A correct node sent nothing
    /// that depends on an unsynced write; with the test-only flaw `sendsBeforeSyncing` it did, and the
    /// durability check catches the loss.
    private func crash(_ victim: NodeID) {
        let i = victim.value
        let actedOn = disks[i].state(afterWrite: exposedWrite[i]) ?? storages[i].copy()
        do {
            let (recovered, tally) = try disks[i].afterCrash(&random, node: victim)
            storages[i] = recovered
            report.diskCrashes += tally
            if tally.withUnsyncedWrites > 0 {
                emit(victim, "Bus", "crash loses \(tally.writesLost) unsynced write(s)" + (tally.tornWrites > 0 ? ", one torn" : ""))
            }
        } catch {
            violation("recovery: \(error)")
        }
        checkDurable(victim, actedOn: actedOn, survives: storages[i])
        // A promise the crash took with an unsynced write was never sent: from now on the promise may not go
        // below what survived (and the check above made sure that holds everything the node acted on).
        highestPromise[i] = storages[i].acceptor.promised
        held[i] = []
        alive[i] = false
        incarnation[i] += 1
        report.crashedNodes.append(victim)
        for script in scripts where script.node == victim && stoppedClients.insert(script.client).inserted {
            let unanswered = script.count - (resultsSeen[script.client] ?? 0)
            remaining -= unanswered
            report.requestsExpected -= unanswered
        }
        emit(victim, "Bus", "crashes" + (leader?.leader == victim ? " (it led ballot \(leader!))" : ""))
    }

    private func restart(_ node: NodeID) async {
        let i = node.value
        guard !alive[i] else { return }
        if config.flaws.contains(.acceptorForgetsOnRestart) { storages[i] = DurableState() }
        if wiped.contains(node) { decidedBeforeRestart[i] = decided }
        alive[i] = true
        appliedEnd[i] = nil
        disks[i] = SimulatedDisk(state: storages[i], keepsImages: canCrash)
        writtenChanges[i] = storages[i].changes
        exposedWrite[i] = 0
        nodes[i] = Node(id: node, executor: executor)
        emit(node, "Bus", wiped.contains(node) ? "restarts with an empty disk"
                                               : "restarts with its durable state (promised \(storages[i].acceptor.promised))")
        // A member resumes from its durable state. A node that never joined starts over: the seed node runs its
        // Seed again if no cluster formed, any other node asks to join.
        var roles: [any Role]
        if storages[i].membership == .member, let member = try? Initializer.restartedMemberRoles(
            node: node, config: config, executor: executor, makeMachine: makeMachine, storage: storages[i]) {
            roles = member
            appliedEnd[i] = storages[i].replicaSnapshot?.nextSlot ?? .zero
        } else if node == config.members[0] && !clusterFormed && storages[i].membership == .new {
            roles = [Seed(node: node, config: config, executor: executor, makeMachine: makeMachine, storage: storages[i])]
        } else {
            let nonce = storages[i].membership == .learner ? random.next() : 0
            roles = [Initializer(node: node, config: config, executor: executor, makeMachine: makeMachine,
                                 storage: storages[i], nonce: nonce)]
        }
        for role in roles { process(await nodes[i].install(role), at: node) }
    }

    // MARK: The bus

    /// Carries out a step's effects. If the step changed the node's durable state, the state is written and a
    /// sync started; the step's messages (and those of any later step) wait until the write is synced, unless
    /// the test-only flaw says to send at once.
    private func process(_ outputs: [Output], at node: NodeID) {
        let i = node.value
        guard alive[i] else { return }
        if storages[i].changes != writtenChanges[i] {
            writtenChanges[i] = storages[i].changes
            disks[i].write(storages[i])
            startSync(at: i)
        }
        let hold = disks[i].hasUnsynced && !config.flaws.contains(.sendsBeforeSyncing)
        for output in outputs {
            switch output.effect {
            case .send(let message, let to):
                send(message, from: node, to: NodeSet([to]), role: output.role, hold: hold)
            case .broadcast(let message, let to):
                send(message, from: node, to: to, role: output.role, hold: hold)
            case .setTimer(let timer, let after, let jitter):
                let at = now + after + Microseconds(random.upTo(UInt64(max(0, jitter))))
                queue.push(.timer(timer, node: node, incarnation: incarnation[node.value]), at: at)
            case .event(let event):
                record(event, at: node, role: output.role)
            case .install, .uninstall:
                break  // the node carries these out itself
            }
        }
    }

    /// Sends now, or keeps the message back until the node's latest write is synced.
    private func send(_ message: Message, from node: NodeID, to: NodeSet, role: RoleKind, hold: Bool) {
        let i = node.value
        guard alive[i] else { return }  // an event of this very step crashed the node
        if hold {
            held[i].append(HeldSend(message: message, to: to, role: role, afterWrite: disks[i].written))
        } else {
            exposedWrite[i] = max(exposedWrite[i], disks[i].written)
            transmit(message, from: node, to: to, role: role)
        }
    }

    private func startSync(at i: Int) {
        guard disks[i].startSync() else { return }
        let takes = options.syncLatency + Microseconds(random.upTo(UInt64(options.syncJitter)))
        queue.push(.syncDone(NodeID(i), incarnation: incarnation[i]), at: now + takes)
    }

    /// A sync completed: send the messages that waited for it, in order, and sync what was written meanwhile.
    private func syncCompleted(at i: Int) {
        disks[i].completeSync()
        var released = 0
        for h in held[i] {
            guard h.afterWrite <= disks[i].synced else { break }
            exposedWrite[i] = max(exposedWrite[i], h.afterWrite)
            transmit(h.message, from: NodeID(i), to: h.to, role: h.role)
            released += 1
        }
        held[i].removeFirst(released)
        startSync(at: i)
    }

    private func transmit(_ message: Message, from: NodeID, to destinations: NodeSet, role: RoleKind) {
        let kind = message.kind.rawValue
        if wiped.contains(from), message.kind == .promise || message.kind == .accepted {
            violation("amnesia: \(from) sent \(message.kind) after its disk was wiped")
        }
        var line = trace == nil ? nil : "\(message) →"
        let faulty = faultPhase
        for to in destinations {
            if to == from {
                report.localMessages[kind] += 1
                queue.push(.deliver(message, from: from, to: to), at: now)
                line? += " \(to)"
                continue
            }
            report.networkMessages[kind] += 1
            if faulty && random.chance(options.dropRate) {
                report.droppedMessages[kind] += 1
                line? += " \(to)✗"
                continue
            }
            line? += " \(to)"
            queue.push(.deliver(message, from: from, to: to), at: now + delay(faulty))
            guard faulty else { continue }
            if random.chance(options.duplicateRate) {
                report.duplicatedMessages += 1
                queue.push(.deliver(message, from: from, to: to), at: now + delay(faulty))
            }
            if plan.replayRate > 0 {
                if recentMessages.count < 64 { recentMessages.append((message, from, to)) }
                else { recentMessages[Int(random.upTo(63))] = (message, from, to) }
                if random.chance(plan.replayRate) {
                    let (old, oldFrom, oldTo) = recentMessages[Int(random.upTo(UInt64(recentMessages.count - 1)))]
                    report.duplicatedMessages += 1
                    queue.push(.deliver(old, from: oldFrom, to: oldTo), at: now + Microseconds(random.upTo(500_000)))
                }
            }
        }
        if let line { emit(from, role.description, line) }
    }

    private func delay(_ faulty: Bool) -> Microseconds {
        let base = options.networkDelay + Microseconds(random.upTo(UInt64(options.networkJitter)))
        guard faulty, plan.longTailRate > 0, random.chance(plan.longTailRate) else { return base }
        return base * (10 + Microseconds(random.upTo(40)))
    }

    // MARK: Checks as the run goes

    private func violation(_ text: String) {
        if report.failures.count < 20 { report.failures.append(text) }
    }

    private func record(_ event: Event, at node: NodeID, role: RoleKind) {
        switch event {
        case .phase1Started:
            report.phase1Rounds += 1
        case .elected(let ballot):
            report.leaderChanges += 1
            if leader.map({ ballot > $0 }) ?? true { leader = ballot }
        case .decided(let slot, let value):
            if options.fullChecks, case .command(let c) = value, c.key.client != .membership, submitted[c.key] != c.operation {
                violation("validity: \(slot) decided \(c) which no client sent")
            }
            if let earlier = decided[slot] {
                if earlier != value { violation("agreement: \(slot) decided as \(earlier) and as \(value) (by \(node))") }
            } else {
                decided[slot] = value
                report.slotsDecided += 1
                if !options.fullChecks && decided.count > 50_000 { pruneDecided() }
                decidedEnd = max(decidedEnd, slot.next)
                if case .command = value { report.commandsCommitted += 1 }
            }
        case .applied(let slot, let value, let duplicate, _):
            appliedEnd[node.value] = slot.next
            if slot >= prunedBelow && decided[slot] != value {
                violation("replica \(node) applied \(slot) = \(value) but it was decided as \(decided[slot]?.description ?? "nothing")")
            }
            if options.fullChecks, !duplicate, case .command(let c) = value {
                if let first = executedAt[node.value][c.key], first != slot {
                    violation("at-most-once: \(node) executed \(c.key) in \(first) and again in \(slot)")
                } else {
                    executedAt[node.value][c.key] = slot
                }
            }
        case .installedSnapshot(let slot), .joined(let slot):
            appliedEnd[node.value] = max(appliedEnd[node.value] ?? .zero, slot)
            clusterFormed = true
            joinedNodes.insert(node)
        case .invoked(let key, let operation):
            invokedAt[key] = now
            guard options.fullChecks else { break }
            submitted[key] = operation
            let op = scripts[Int(key.client.value) - 1].operation(Int(key.request.value) - 1)
            history.events.append(Self.invocation(of: op, client: key.client))
        case .completed(let key, let result):
            complete(key, result)
        case .rejoined(_, let fence):
            let i = node.value
            let promised = storages[i].acceptor.promised
            if promised <= promisedBeforeWipe[i] || fence <= promisedBeforeWipe[i] {
                violation("amnesia: \(node) rejoined promising \(promised), not above \(promisedBeforeWipe[i]) that it promised before its disk was wiped")
            }
            // Every value chosen before it came back (so before it read anyone) that its former self had voted
            // for must be among its accepted values, or a quorum containing it could miss that choice.
            let record = storages[i].acceptor
            for (slot, pv) in (formerAccepted[i] ?? [:]).sorted(by: { $0.key < $1.key })
            where slot >= record.trimmedBelow && decidedBeforeRestart[i]?[slot] == pv.value && record.accepted[slot]?.value != pv.value {
                violation("amnesia: \(node) rejoined without \(pv.value) in \(slot), which its former self accepted and which was chosen")
                break
            }
            wiped.remove(node)
            highestPromise[i] = max(highestPromise[i], promised)
            report.diskCrashes.rejoins += 1
        case .preempted, .leaderSuspected, .welcomed:
            break
        }
        if trace != nil { emit(node, role.description, event.description) }
    }

    /// An acceptor's promise never goes backwards, even across a restart, and it never accepts below it.
    private func checkAcceptor(_ node: NodeID, slot: Slot, before: Ballot, acceptedBefore: PValue?, message: Message) {
        let record = storages[node.value].acceptor
        let i = node.value
        if before < highestPromise[i] {
            violation("acceptor \(node): promise went back from \(highestPromise[i]) to \(before)")
        }
        highestPromise[i] = max(highestPromise[i], record.promised)
        if case .accept(let a) = message, let pv = record.accepted[a.slot], pv != acceptedBefore, a.ballot < before {
            violation("acceptor \(node): accepted ballot \(a.ballot) in \(a.slot) below its promise \(before)")
        }
        if let pv = record.accepted[slot], pv.ballot > record.promised(for: slot) {
            violation("acceptor \(node): accepted \(pv.ballot) above its promise \(record.promised(for: slot)) in \(slot)")
        }
    }

    /// Durable before sending: what survives a crash holds every promise and accepted value the node had
    /// already acted on (and so may have told others about).
    private func checkDurable(_ node: NodeID, actedOn: DurableState, survives: DurableState) {
        let had = actedOn.acceptor, has = survives.acceptor
        if has.highestPromised < had.highestPromised {
            violation("durability: acceptor \(node) restarts having promised \(has.highestPromised), below the \(had.highestPromised) it had promised")
        }
        for slot in had.accepted.keys.sorted() where slot >= has.trimmedBelow {
            let pv = had.accepted[slot]!
            if (has.accepted[slot]?.ballot ?? .initial) < pv.ballot {
                violation("durability: acceptor \(node) lost the value it accepted in \(slot) at ballot \(pv.ballot)")
                break
            }
        }
    }

    private func complete(_ key: RequestKey, _ result: [UInt8]) {
        remaining -= 1
        report.requestsCompleted += 1
        resultsSeen[key.client, default: 0] += 1
        if let start = invokedAt.removeValue(forKey: key) { report.latencies.append(now - start) }
        let script = scripts[Int(key.client.value) - 1]
        let index = Int(key.request.value) - 1
        let decoded = try? KeyValueResult(decoding: result)
        if options.fullChecks {
            history.events.append(Self.completion(of: script.operation(index), result: decoded, client: key.client))
        }
        if let threshold = options.crashLeaderAfterRequests, report.requestsCompleted == threshold,
           let ballot = leader, alive[ballot.leader.value] {
            crash(ballot.leader)
        }
        guard let expected = script.expectedResult(index), decoded != expected else { return }
        let got = decoded.map(\.description) ?? "undecodable \(result)"
        violation("client \(key.client) request \(key.request) (\(script.operation(index))): expected \(expected), got \(got)")
    }

    static func invocation(of op: KeyValueOperation, client: ClientID) -> HistoryEvent {
        let process = Int(client.value)
        switch op {
        case .get(let k): return HistoryEvent(process: process, kind: .invoke, function: .get, key: k)
        case .put(let k, let v): return HistoryEvent(process: process, kind: .invoke, function: .put, key: k, value: v)
        case .delete(let k): return HistoryEvent(process: process, kind: .invoke, function: .delete, key: k)
        case .append(let k, let v): return HistoryEvent(process: process, kind: .invoke, function: .append, key: k, value: v)
        case .compareAndSet(let k, let e, let n):
            return HistoryEvent(process: process, kind: .invoke, function: .cas, key: k, value: n, expected: e)
        }
    }

    static func completion(of op: KeyValueOperation, result: KeyValueResult?, client: ClientID) -> HistoryEvent {
        var event = invocation(of: op, client: client)
        switch result {
        case .value(let v)?: event.kind = .ok; event.value = v
        case .ok?, .integer?: event.kind = .ok; event.value = nil
        case .mismatch?: event.kind = .fail; event.value = nil
        case nil: event.kind = .info; event.value = nil
        }
        return event
    }

    // MARK: Checks at the end

    /// Light checks keep memory bounded: forget decisions every live replica has applied.
    private func pruneDecided() {
        let applied = appliedEnd.indices.filter { alive[$0] }.compactMap { appliedEnd[$0] }.min() ?? .zero
        guard applied > prunedBelow else { return }
        prunedBelow = applied
        decided = decided.filter { $0.key >= applied }
    }

    private func check() async {
        switch options.fullChecks ? Linearizability.check(history, budget: options.linearizabilityBudget) : .linearizable {
        case .linearizable: break
        case .notLinearizable(let key, let explanation):
            violation("linearizability: the client history is not linearizable (key \"\(key)\": "
                      + "\(explanation.linearized.count) of its \(explanation.operations.count) operations linearize)")
        case .unknown(let reason): report.linearizabilityUndecided = reason
        }
        if !finished {
            let when = plan.healAt > 0
                ? "\(formatSeconds(plan.livenessBound)) s after the network healed at \(formatSeconds(plan.healAt)) s"
                : "at the time limit \(formatSeconds(options.timeLimit)) s"
            let learners = wiped.filter { alive[$0.value] }
            let rejoining = learners.isEmpty ? "" : ", or \(learners.map(\.description).joined(separator: " ")) not rejoined"
            violation("liveness: \(remaining) request(s) unanswered or replicas behind slot \(decidedEnd.index)\(rejoining) \(when)")
        }
        var snapshots: [(NodeID, Snapshot)] = []
        for node in nodes where alive[node.id.value] && wiped.contains(node.id) {
            let hasAcceptor = await node.acceptor != nil, hasReplica = await node.replica != nil
            if !hasAcceptor && hasReplica { report.learners.append(node.id) }
        }
        for node in nodes where alive[node.id.value] {
            if let replica = await node.replica { snapshots.append((node.id, await replica.snapshot())) }
        }
        report.replicasAgree = !snapshots.isEmpty && snapshots.allSatisfy { $0.1 == snapshots[0].1 }
        if !report.replicasAgree {
            let states = snapshots.map { "\($0.0) at \($0.1.nextSlot)" }.joined(separator: ", ")
            violation("replicas differ: \(states.isEmpty ? "no replica" : states)")
        }
        guard let (_, state) = snapshots.first else { return }
        var store = KeyValueStore()
        guard (try? store.restore(from: state.machine)) != nil else {
            violation("replica state does not decode as a key-value store")
            return
        }
        report.finalState = store.entries
        // Exactly once: each completed append to the shared key is there once; an unanswered one at most once.
        var counts: [Substring: Int] = [:]
        for entry in (store.entries[Workload.sharedKey] ?? "").split(separator: ";") { counts[entry, default: 0] += 1 }
        for script in scripts {
            let answered = resultsSeen[script.client] ?? 0
            for i in 0..<script.sharedTokens.count {
                guard let token = script.token(i) else { continue }
                let occurrences = counts[Substring(token.dropLast()), default: 0]
                if i < answered ? occurrences != 1 : occurrences > 1 {
                    violation("exactly-once: token \(token) appears \(occurrences) times in \(Workload.sharedKey)")
                }
            }
        }
    }

    // MARK: Trace

    private func emit(_ node: NodeID?, _ role: String, _ text: String) {
        guard let trace else { return }
        let time = formatSeconds(now)
        let padded = String(repeating: " ", count: max(0, 11 - time.count)) + time
        let name = role.padded(to: 11)
        let column = colors ? "\(Self.color(role))\(name)\u{1B}[0m" : name
        trace("\(padded)  \((node?.description ?? "--").padded(to: 3)) \(column) \(text)")
    }

    private static func color(_ role: String) -> String {
        switch role {
        case "Seed", "Initializer": "\u{1B}[1m"  // bold in the terminal's own colour: readable on dark and light
        case "Acceptor": "\u{1B}[34m"
        case "Scout": "\u{1B}[36m"
        case "Leader": "\u{1B}[33m"
        case "Replica": "\u{1B}[32m"
        case "Requester": "\u{1B}[35m"
        default: "\u{1B}[31m"
        }
    }
}
