/// A deterministic simulated cluster: the message bus with its virtual clock, event queue, network faults and
/// the run's only random number generator, plus the scripted clients and the checks. Every actor of every node
/// runs on one serial executor, so a run is one job at a time in FIFO order: the same options give the same
/// trace, byte for byte, in any process on any machine.
public actor Simulation {
    nonisolated let executor: QueueExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private enum Scheduled {
        case deliver(Message, from: NodeID, to: NodeID)
        case timer(Timer, node: NodeID)
        case crashLeader
    }

    /// The options of the run.
    public nonisolated let options: SimulationOptions
    /// The cluster's configuration.
    public nonisolated let config: ClusterConfiguration
    private let trace: (@Sendable (String) -> Void)?
    private let colors: Bool
    private var random: SeededGenerator
    private var queue = EventQueue<Scheduled>()
    private var now: Microseconds = 0
    private var nodes: [Node] = []
    private var alive: [Bool]
    private var report: SimulationReport
    private let scripts: [ClientScript]

    // What the checks watch.
    private var decided: [Slot: Value] = [:]
    private var committed: Set<RequestKey> = []
    private var decidedEnd = Slot.zero
    private var appliedEnd: [Slot?]
    private var invokedAt: [RequestKey: Microseconds] = [:]
    private var resultsSeen: [ClientID: Int] = [:]
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
        config = ClusterConfiguration(members: (0..<options.nodes).map { NodeID($0) }, mode: options.mode,
                                      timing: options.timing)
        random = SeededGenerator(seed: options.seed)
        scripts = Workload.make(placements: options.clientPlacements, requestsPerClient: options.requestsPerClient,
                                random: &random)
        alive = Array(repeating: true, count: options.nodes)
        appliedEnd = Array(repeating: nil, count: options.nodes)
        report = SimulationReport(options: options)
    }

    /// Runs the cluster until every client is answered and every live replica has applied every decided slot,
    /// or until the time limit; then checks the outcome.
    public func run() async -> SimulationReport {
        let makeMachine: @Sendable () -> any StateMachine = { KeyValueStore() }
        for id in config.members {
            nodes.append(Node(id: id, executor: executor))
        }
        for node in nodes {
            let bootstrap: any Role = node.id == config.members[0]
                ? Seed(node: node.id, config: config, executor: executor, makeMachine: makeMachine)
                : Initializer(node: node.id, config: config, executor: executor, makeMachine: makeMachine)
            process(await node.install(bootstrap), at: node.id)
        }
        for script in scripts {
            remaining += script.operations.count
            let requester = Requester(client: script.client, node: script.node,
                                      operations: script.operations.map(\.encoded),
                                      requestTimeout: config.timing.requestTimeout, executor: executor)
            process(await nodes[script.node.value].install(requester), at: script.node)
        }
        report.requestsExpected = remaining
        if let t = options.crashLeaderAt { queue.push(.crashLeader, at: t) }

        while !finished, let (time, item) = queue.pop() {
            guard time <= options.timeLimit else { break }
            now = time
            switch item {
            case .deliver(let message, let from, let to):
                guard alive[to.value] else { continue }
                if isCut(to) || isCut(from) {
                    report.droppedMessages[message.kind.rawValue] += 1
                    continue
                }
                process(await nodes[to.value].deliver(.message(message, from: from)), at: to)
            case .timer(let timer, let node):
                guard alive[node.value] else { continue }
                process(await nodes[node.value].deliver(.timer(timer)), at: node)
            case .crashLeader:
                crashLeader()
            }
        }
        report.simulatedTime = now
        report.history = history
        await check()
        return report
    }

    private var finished: Bool {
        guard remaining == 0 else { return false }
        for i in appliedEnd.indices where alive[i] {
            guard let end = appliedEnd[i], end >= decidedEnd else { return false }
        }
        return true
    }

    private func isCut(_ node: NodeID) -> Bool {
        options.isolations.contains { $0.node == node && $0.start <= now && now < $0.end }
    }

    private func crashLeader() {
        guard let ballot = leader, alive[ballot.leader.value] else { return }
        let victim = ballot.leader
        alive[victim.value] = false
        report.crashedNodes.append(victim)
        for script in scripts where script.node == victim {
            remaining -= script.operations.count - (resultsSeen[script.client] ?? 0)
            report.requestsExpected -= script.operations.count - (resultsSeen[script.client] ?? 0)
        }
        emit(victim, "Bus", "crashes (it led ballot \(ballot))")
    }

    // MARK: The bus

    private func process(_ outputs: [Output], at node: NodeID) {
        for output in outputs {
            switch output.effect {
            case .send(let message, let to):
                transmit(message, from: node, to: CollectionOfOne(to), role: output.role)
            case .broadcast(let message, let to):
                transmit(message, from: node, to: to, role: output.role)
            case .setTimer(let timer, let after, let jitter):
                queue.push(.timer(timer, node: node), at: now + after + Microseconds(random.upTo(UInt64(max(0, jitter)))))
            case .event(let event):
                record(event, at: node, role: output.role)
            case .install, .uninstall:
                break  // the node carries these out itself
            }
        }
    }

    private func transmit<S: Sequence>(_ message: Message, from: NodeID, to destinations: S, role: RoleKind)
        where S.Element == NodeID {
        let kind = message.kind.rawValue
        var line = trace == nil ? nil : "\(message) →"
        for to in destinations {
            if to == from {
                report.localMessages[kind] += 1
                queue.push(.deliver(message, from: from, to: to), at: now)
                line? += " \(to)"
                continue
            }
            report.networkMessages[kind] += 1
            if random.chance(options.dropRate) {
                report.droppedMessages[kind] += 1
                line? += " \(to)✗"
                continue
            }
            line? += " \(to)"
            queue.push(.deliver(message, from: from, to: to), at: now + delay())
            if random.chance(options.duplicateRate) {
                report.duplicatedMessages += 1
                queue.push(.deliver(message, from: from, to: to), at: now + delay())
            }
        }
        if let line { emit(from, role.description, line) }
    }

    private func delay() -> Microseconds {
        options.networkDelay + Microseconds(random.upTo(UInt64(options.networkJitter)))
    }

    private func record(_ event: Event, at node: NodeID, role: RoleKind) {
        switch event {
        case .phase1Started:
            report.phase1Rounds += 1
        case .elected(let ballot):
            report.leaderChanges += 1
            if leader.map({ ballot > $0 }) ?? true { leader = ballot }
        case .decided(let slot, let value):
            if let earlier = decided[slot] {
                if earlier != value {
                    report.failures.append("agreement: \(slot) decided as \(earlier) and as \(value) (by \(node))")
                }
            } else {
                decided[slot] = value
                report.slotsDecided += 1
                decidedEnd = max(decidedEnd, slot.next)
                if case .command(let c) = value, committed.insert(c.key).inserted { report.commandsCommitted += 1 }
            }
        case .applied(let slot, _, _):
            appliedEnd[node.value] = slot.next
            decidedEnd = max(decidedEnd, slot.next)
        case .installedSnapshot(let slot), .joined(let slot):
            appliedEnd[node.value] = max(appliedEnd[node.value] ?? .zero, slot)
        case .invoked(let key, _):
            invokedAt[key] = now
            let op = scripts[Int(key.client.value) - 1].operations[Int(key.request.value) - 1]
            history.events.append(Self.invocation(of: op, client: key.client))
        case .completed(let key, let result):
            complete(key, result)
        case .preempted, .leaderSuspected, .welcomed:
            break
        }
        if trace != nil { emit(node, role.description, event.description) }
    }

    private func complete(_ key: RequestKey, _ result: [UInt8]) {
        remaining -= 1
        report.requestsCompleted += 1
        resultsSeen[key.client, default: 0] += 1
        if let start = invokedAt.removeValue(forKey: key) { report.latencies.append(now - start) }
        let script = scripts[Int(key.client.value) - 1]
        let index = Int(key.request.value) - 1
        let decoded = try? KeyValueResult(decoding: result)
        history.events.append(Self.completion(of: script.operations[index], result: decoded, client: key.client))
        guard let expected = script.expected[index] else { return }
        let got = decoded.map(\.description) ?? "undecodable \(result)"
        if got != expected.description {
            report.failures.append("client \(key.client) request \(key.request) (\(script.operations[index])): "
                                   + "expected \(expected), got \(got)")
        }
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
        event.expected = nil
        switch result {
        case .value(let v)?: event.kind = .ok; event.value = v
        case .ok?: event.kind = .ok; event.value = nil
        case .mismatch?: event.kind = .fail; event.value = nil
        case nil: event.kind = .info; event.value = nil
        }
        return event
    }

    // MARK: Checks at the end

    private func check() async {
        let verdict = Linearizability.check(history)
        if !verdict.isLinearizable {
            report.failures.append("linearizability: the client history is not linearizable (key \"\(verdict.failingKey ?? "?")\")")
        }
        if !finished {
            report.failures.append("liveness: \(remaining) request(s) unanswered or replicas behind slot "
                                   + "\(decidedEnd.index) at the time limit \(formatSeconds(options.timeLimit)) s")
        }
        var snapshots: [(NodeID, Snapshot)] = []
        for node in nodes where alive[node.id.value] {
            if let replica = await node.replica { snapshots.append((node.id, await replica.snapshot())) }
        }
        report.replicasAgree = !snapshots.isEmpty && snapshots.allSatisfy { $0.1 == snapshots[0].1 }
        if !report.replicasAgree {
            let states = snapshots.map { "\($0.0) at \($0.1.nextSlot)" }.joined(separator: ", ")
            report.failures.append("replicas differ: \(states.isEmpty ? "no replica" : states)")
        }
        guard let (_, state) = snapshots.first else { return }
        var store = KeyValueStore()
        guard (try? store.restore(from: state.machine)) != nil else {
            report.failures.append("replica state does not decode as a key-value store")
            return
        }
        report.finalState = store.entries
        // Exactly once: each completed append to the shared key is there once; an unanswered one at most once.
        var counts: [Substring: Int] = [:]
        for entry in (store.entries[Workload.sharedKey] ?? "").split(separator: ";") { counts[entry, default: 0] += 1 }
        for script in scripts {
            let answered = resultsSeen[script.client] ?? 0
            for (i, token) in script.sharedTokens.enumerated() {
                guard let token else { continue }
                let occurrences = counts[Substring(token.dropLast()), default: 0]
                if i < answered ? occurrences != 1 : occurrences > 1 {
                    report.failures.append("exactly-once: token \(token) appears \(occurrences) times in \(Workload.sharedKey)")
                }
            }
        }
    }

    // MARK: Trace

    private func emit(_ node: NodeID, _ role: String, _ text: String) {
        guard let trace else { return }
        let time = formatSeconds(now)
        let padded = String(repeating: " ", count: max(0, 11 - time.count)) + time
        let name = role.padded(to: 11)
        let column = colors ? "\(Self.color(role))\(name)\u{1B}[0m" : name
        trace("\(padded)  \(node.description.padded(to: 3)) \(column) \(text)")
    }

    private static func color(_ role: String) -> String {
        switch role {
        case "Seed", "Initializer": "\u{1B}[37m"
        case "Acceptor": "\u{1B}[34m"
        case "Scout": "\u{1B}[36m"
        case "Leader": "\u{1B}[33m"
        case "Replica": "\u{1B}[32m"
        case "Requester": "\u{1B}[35m"
        default: "\u{1B}[31m"
        }
    }
}
