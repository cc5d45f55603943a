#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// One cluster member in its own process: the same `Node` and roles as the simulation and `LocalCluster`,
/// driven by a loop that takes the network's inputs in batches, makes the batch's state durable with one sync,
/// and only then sends what the batch produced.
public final class ServedNode: Sendable {
    /// The configuration it runs with.
    public let configuration: ServeConfiguration
    let cluster: ClusterConfiguration
    let transport: Transport
    private let storage: FileStorage?
    private let state: DurableState
    private let inbox = Inbox()
    private let log: @Sendable (String) -> Void
    private let leader = Mutex<Ballot?>(nil)
    /// Whether this node was told it must rejoin and has not yet: it joins as a learner, not as a voter.
    private let rejoining = Mutex(false)
    /// Whether `stop()` was called (a second call stops at once, without waiting for a hand-over).
    private let stopRequested = Mutex(false)
    private let lastCatchUpLine = Mutex<ContinuousClock.Instant?>(nil)
    let served: ServedMetrics
    private let metricsServer: MetricsServer?

    /// The port clients connect to (useful when `client` asked for port 0).
    public var clientPort: UInt16 { transport.clientPort }
    /// The port peers connect to.
    public var peerPort: UInt16 { transport.peerPort }
    /// The ballot this node last saw win, if any.
    public var leaderBallot: Ballot? { leader.withLock { $0 } }
    /// The port of the `--metrics` HTTP listener, if there is one (useful when it asked for port 0).
    public var metricsPort: UInt16? { metricsServer?.port }

    /// A snapshot of the node's state and counters (what `INFO multipaxos` and `GET /metrics` report). The
    /// roles' part (role, ballots, leader, slots) is as of the node loop's last batch (at most 60 ms old).
    public func metrics() -> NodeMetrics { served.snapshot() }

    /// Opens the data directory (refusing one that belongs to another cluster, member list, node or mode) and
    /// starts listening. Call `run()` to serve.
    public init(_ given: ServeConfiguration, log: @escaping @Sendable (String) -> Void) throws(ServeError) {
        var configuration = given
        self.log = log
        if configuration.password == nil && !configuration.allowUnauthenticatedClients && !configuration.client.isLoopback {
            throw .protectedMode("--client \(configuration.client) is not a loopback address and no password is set: "
                                 + "give --password-file FILE, or --no-auth to serve every client without one")
        }
        if configuration.clusterKeys == nil && !configuration.allowUnauthenticatedPeers {
            // The listener counts as much as the peers: `--listen-peers 0.0.0.0:P` takes peers from anywhere.
            if let open = configuration.peers.first(where: { !$0.isLoopback }) {
                throw .protectedMode("peer \(open) is not a loopback address and no cluster key is set: "
                                     + "give --cluster-key-file FILE (multipaxos keygen FILE makes one), or --no-peer-auth")
            }
            if let listen = configuration.peerListen, !listen.isLoopback {
                throw .protectedMode("--listen-peers \(listen) is not a loopback address and no cluster key is set: "
                                     + "give --cluster-key-file FILE (multipaxos keygen FILE makes one), or --no-peer-auth")
            }
        }
        if let metrics = configuration.metrics, !metrics.isLoopback, !configuration.allowPublicMetrics {
            throw .protectedMode("--metrics \(metrics) is not a loopback address: the metrics endpoint has no authentication "
                                 + "(it shows the node's role, leader, slots and traffic); give --metrics-public to serve it there")
        }
        // Room for every client beside the peers and the files: the soft descriptor limit is raised toward it.
        let wanted = configuration.limits.maxClients + configuration.limits.maxUnauthenticatedPeers
            + 2 * configuration.peers.count + DescriptorLimit.reserved
        let (available, hard) = DescriptorLimit.raise(toward: wanted)
        let fitted = try DescriptorLimit.fit(configuration.limits, peers: configuration.peers.count, available: available,
                                             hard: hard, explicit: configuration.maxClientsGiven)
        configuration.limits = fitted.limits
        if let note = fitted.note { log(note) }
        self.configuration = configuration
        let members = configuration.voters.map(Array.init) ?? configuration.peers.indices.map(NodeID.init)
        var cluster = ClusterConfiguration(members: members, mode: configuration.mode, timing: configuration.timing)
        cluster.batching = configuration.batching
        cluster.reads = configuration.reads
        if configuration.reads == .lease { cluster.leases = Leases(maxClockDrift: configuration.maxClockDrift) }
        cluster.snapshotIntervalSlots = LocalCluster.snapshotIntervalSlots
        cluster.snapshotIntervalBytes = LocalCluster.snapshotIntervalBytes
        cluster.snapshotGrowth = LocalCluster.snapshotGrowth
        cluster.snapshotChunkBytes = configuration.snapshotChunkBytes
        cluster.maxLogBytes = configuration.maxLogBytes
        self.cluster = cluster
        if let directory = configuration.dataDirectory {
            do {
                try makeDirectory(directory)
                let file = try FileStorage(path: "\(directory)/node.log")
                try file.claim(ClusterIdentity(clusterID: configuration.clusterID,
                                               members: configuration.peers.map(\.description),
                                               node: configuration.id, mode: configuration.mode,
                                               initialVoters: configuration.voters))
                if file.wasEmpty && configuration.rejoin { file.state.membership = .learner }
                try file.persist(always: file.wasEmpty)
                // Snapshots are written off the node loop: a large state must never hold up heartbeats.
                file.writesSnapshotsInBackground = true
                storage = file
                state = file.state
            } catch {
                throw .storage("\(error)".replacingOccurrences(of: "storage: ", with: ""))
            }
        } else {
            storage = nil
            state = configuration.rejoin ? DurableState.amnesiac() : DurableState()
        }
        let served = ServedMetrics(node: configuration.id, storage: storage, inbox: inbox)
        self.served = served
        var addresses = configuration.peers  // the transport listens on its own entry
        if let listen = configuration.peerListen { addresses[configuration.id.value] = listen }
        do {
            metricsServer = try configuration.metrics.map { address throws(NetworkError) in
                try MetricsServer(address: address, log: log) { served.snapshot().prometheusText }
            }
            transport = try Transport(me: configuration.id, clusterID: configuration.clusterID, peers: addresses,
                                      client: configuration.client, limits: configuration.limits,
                                      password: configuration.password, keys: configuration.clusterKeys, log: log,
                                      inputs: inbox, metrics: served)
        } catch {
            throw .network(error)
        }
    }

    /// This machine's clock, in milliseconds since 1970: the time a served node stamps on the entries it sends.
    static func wallClockMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    /// Stops serving: no more inputs are taken, the step under way finishes and is synced, sockets close. A node
    /// that leads first hands leadership to its most up-to-date live voter and stops once that one leads (or
    /// after a leader timeout, when the leader gives the transfer up), so that the cluster does not wait out a
    /// leader timeout; a second call stops at once.
    public func stop() {
        let again = stopRequested.withLock { requested in
            defer { requested = true }
            return requested
        }
        if again || !inbox.post([.stop]) { inbox.close(discardingPending: false) }
    }

    /// Serves until `stop()`; throws when storage fails (the node stops rather than send what it could not record).
    public func run() async throws(ServeError) {
        transport.start()
        metricsServer?.start()
        defer {
            metricsServer?.stop()
            transport.stop()
            storage?.finishSnapshots()
        }
        let me = configuration.id
        let executor = QueueExecutor(label: "multipaxos.node\(me.value)", runsTasks: true)
        let node = Node(id: me, executor: executor, clock: .monotonic)
        let roles = Initializer.bootstrapRoles(node: me, config: cluster, executor: executor,
                                               makeMachine: { KeyValueStore() }, storage: state,
                                               nonce: UInt64.random(in: 1...UInt64.max))
        log("node \(me) starting as \(state.membership) in \(configuration.mode.rawValue) mode, \(cluster.members.count) members")
        if let transfer = state.incomingSnapshot {
            log("resuming a snapshot transfer from n\(transfer.peer.value) at byte \(transfer.machine.count) of \(transfer.total) "
                + "(up to s\(transfer.header.nextSlot.index)), as written before the restart")
        }
        rejoining.withLock { $0 = state.membership == .learner }
        var calls = CallTable()
        var turns = LoopTurns()
        var transferWaits = TransferWaits()
        var voterWaits = VoterChangeWaits()
        /// Set by a stop while leading: when to stop even if the hand-over has not finished.
        var stopping: ContinuousClock.Instant?
        // The loop prefers the node's executor: it runs on the node's queue beside the roles, so delivering a
        // batch costs no thread hand-off (each one costs tens of microseconds; see Docs/Benchmarks.md).
        let result: ServeError? = await withTaskExecutorPreference(executor) { await withDiscardingTaskGroup { timers in
            do {
                for role in roles {
                    let outputs = await node.install(role)
                    countSent(outputs)
                    try storage?.persist()
                    carryOut(outputs, calls: &calls, timers: &timers)
                }
                timers.addTask { [inbox] in
                    while true {
                        do { try await Task.sleep(for: .milliseconds(50)) } catch { return }
                        if !inbox.post([]) { return }
                    }
                }
                while let batch = await inbox.next() {
                    let turnStart = ContinuousClock.now
                    var inputs: [Input] = []
                    inputs.reserveCapacity(batch.count)
                    for input in batch {
                        switch input {
                        case .message(let message, let from):
                            inputs.append(.message(message, from: from))
                        case .call(let connection, let unstamped):
                            if let early = configuration.flaw?.earlyAnswer(unstamped) {
                                transport.answer(connection, key: unstamped.key, .result(early))
                            }
                            // The store's time for deadlines (see `ExpiryTime`): this node's clock, in the entry.
                            let command = Command(key: unstamped.key,
                                                  operation: KeyValueStore.stamped(unstamped.operation, at: Self.wallClockMilliseconds()))
                            calls.register(command, connection: connection, deadline: .now + configuration.clientTimeout)
                            inputs.append(.message(.request(Request(command: command)), from: me))
                        case .admin(let connection, let key, .transfer(let target)):
                            if let ask = await startTransfer(connection, key: key, target: target, node: node,
                                                             waits: &transferWaits) {
                                inputs.append(ask)
                            }
                        case .admin(let connection, let key, let request):
                            if let ask = await startVoterChange(connection, key: key, request: request, node: node,
                                                                waits: &voterWaits) {
                                inputs.append(ask)
                            }
                        case .gone(let connection):
                            calls.forget(connection: connection)
                            transferWaits.forget(connection: connection)
                            voterWaits.forget(connection: connection)
                        case .timer(let timer):
                            inputs.append(.timer(timer))
                        case .stop:
                            guard stopping == nil else { break }
                            if let leader = await node.leader, let target = await leader.successor {
                                log("stopping: handing leadership to \(target) first")
                                inputs.append(.message(.transferLeadership(TransferLeadership(target: target)), from: me))
                                stopping = .now + .microseconds(cluster.timing.leaderTimeout)
                            } else {
                                inbox.close(discardingPending: false)
                            }
                        }
                    }
                    inputs += resendOrExpire(&calls)
                    var outputs = await deliver(all: inputs, to: node)
                    // Messages to the node itself are handled within the batch (bounded), so the batch costs
                    // one sync however many local hops it takes (a leader's Accept to its own acceptor, ...).
                    var local = outputs.takeMessages(to: me) { calls.isWaiting(for: $0.key) }
                    for _ in 0..<64 where !local.isEmpty {
                        var more = await deliver(all: local.map { .message($0, from: me) }, to: node)
                        local = more.takeMessages(to: me) { calls.isWaiting(for: $0.key) }
                        outputs += more
                    }
                    if !local.isEmpty { inbox.post(local.map { .message($0, from: me) }) }
                    let persistStart = ContinuousClock.now
                    try storage?.persist()  // one sync for the whole batch, before anything it produced is sent
                    let persistEnd = ContinuousClock.now
                    carryOut(outputs, calls: &calls, timers: &timers)
                    turns.record(total: persistEnd - turnStart, persist: persistEnd - persistStart, inputs: batch.count,
                                 wrote: storage?.lastWrite, at: persistEnd, log: log)
                    if !transferWaits.isEmpty { await checkTransfers(&transferWaits, node: node) }
                    if !voterWaits.isEmpty {
                        let again = await checkVoterChanges(&voterWaits, node: node)
                        if !again.isEmpty { inbox.post(again.map { .message($0, from: me) }) }
                    }
                    if let deadline = stopping {
                        let leads = await node.leader?.isActive ?? false
                        if !leads || ContinuousClock.now >= deadline {
                            log(leads ? "stopping: the hand-over did not finish within a leader timeout; stopping as leader"
                                      : "stopping: leadership handed over")
                            inbox.close(discardingPending: false)
                            stopping = nil
                        }
                    }
                    let now = ContinuousClock.now
                    if served.roleStateIsOlder(than: .milliseconds(5), now: now) { served.refresh(await node.protocolState(), at: now) }
                }
                timers.cancelAll()
                return nil
            } catch {
                timers.cancelAll()
                return .storage("\(error)")
            }
        } }
        if let result { throw result }
    }

    /// The calls to send again, having waited a request timeout (same key: the replica runs each once); answers
    /// those past their deadline with an error.
    private func resendOrExpire(_ calls: inout CallTable) -> [Input] {
        let now = ContinuousClock.now
        var inputs: [Input] = []
        for (key, connection) in calls.expired(at: now) {
            transport.answer(connection, key: key, .unavailable(
                "TRYAGAIN no answer from the cluster within \(configuration.clientTimeout) (the command may still take effect)"))
        }
        for command in calls.due(at: now, every: .microseconds(cluster.timing.requestTimeout)) {
            inputs.append(.message(.request(Request(command: command)), from: configuration.id))
        }
        return inputs
    }

    /// Hands `inputs` to the node's roles in one hop, counting the messages among them and those sent in answer.
    private func deliver(all inputs: [Input], to node: Node) async -> [Output] {
        for case .message(let message, _) in inputs { served.counters.received(message.kind) }
        let outputs = await node.deliver(all: inputs)
        countSent(outputs)
        return outputs
    }

    /// Counts the messages a step sent (a broadcast once per destination), wherever they go.
    private func countSent(_ outputs: [Output]) {
        for output in outputs {
            switch output.effect {
            case .send(let message, _): served.counters.sent(message.kind)
            case .broadcast(let message, let to): served.counters.sent(message.kind, UInt64(to.count))
            default: break
            }
        }
    }

    /// Does what the roles asked: frames to peers, local messages back into the loop, answers to clients.
    private func carryOut(_ outputs: [Output], calls: inout CallTable, timers: inout DiscardingTaskGroup) {
        let me = configuration.id
        var local: [ServerInput] = []
        for output in outputs {
            switch output.effect {
            case .send(let message, let to):
                if to == me {
                    if case .reply(let reply) = message, let connection = calls.complete(reply.key) {
                        transport.answer(connection, key: reply.key, .result(reply.result))
                    } else {
                        local.append(.message(message, from: me))
                    }
                } else {
                    note(message, to: to)
                    transport.send(WireCodec.encode(message), to: to)
                }
            case .broadcast(let message, let to):
                let bytes = WireCodec.encode(message)
                for destination in to {
                    if destination == me { local.append(.message(message, from: me)) } else { transport.send(bytes, to: destination) }
                }
            case .setTimer(let timer, let after, let jitter):
                let delay = after + (jitter > 0 ? Microseconds.random(in: 0...jitter) : 0)
                timers.addTask { [inbox] in
                    do { try await Task.sleep(for: .microseconds(delay)) } catch { return }
                    inbox.post([.timer(timer)])
                }
            case .event(let event):
                report(event)
            case .install, .uninstall:
                break
            }
        }
        if !local.isEmpty { inbox.post(local) }
        transport.wake()
    }

    /// Logs the messages that mark notable events: a snapshot sent to a lagging peer, and the start of a
    /// catch-up (at most one line a second, since a lagging replica asks every catch-up interval).
    private func note(_ message: Message, to peer: NodeID) {
        switch message {
        case .catchUpReply(let reply) where reply.chunk?.offset == 0:
            let chunk = reply.chunk!
            log("sending a snapshot up to \(chunk.nextSlot) (\(chunk.total) bytes, in chunks of at most \(chunk.bytes.count)) to \(peer), which asked for trimmed slots")
        case .catchUpRequest(let request):
            let now = ContinuousClock.now
            let due = lastCatchUpLine.withLock { last -> Bool in
                guard last.map({ now - $0 >= .seconds(1) }) ?? true else { return false }
                last = now
                return true
            }
            if due { log("behind: catching up from \(peer), from \(request.from)") }
        default:
            break
        }
    }

    private func report(_ event: Event) {
        switch event {
        case .elected(let ballot):
            leader.withLock { $0 = ballot }
            log("leader elected: this node, ballot \(ballot)")
        case .preempted(let ballot, let by):
            log("leadership of ballot \(ballot) lost to \(by)")
        case .leaderSuspected(let ballot):
            log("leader of ballot \(ballot) suspected gone")
        case .preVoteRefused(let candidate, let applied, let start):
            log("pre-vote of \(candidate) refused: it has applied up to \(applied) only, and this node's log starts at \(start) (it would need a snapshot before it could serve)")
        case .awaitsSnapshot(let slot):
            log("not competing for leadership while a snapshot up to \(slot) arrives")
        case .phase1Waiting(let ballot, let scope, let promised, let waiting, let parts):
            log("phase 1 of ballot \(ballot) (slots \(scope)) waits for "
                + Event.waitingText(promised: promised, waitingFor: waiting, partsReached: parts))
        case .steppedDown(let ballot, let heard):
            log("stepped down from ballot \(ballot): heard from only \(heard) node(s) in a leader timeout")
        case .installedSnapshot(let slot):
            log("caught up by snapshot to \(slot)")
        case .joined(let slot):
            log("joined the cluster at \(slot)" + (rejoining.withLock { $0 } ? " as a learner: it votes once it has rejoined" : ""))
        case .mustRejoin(let why):
            rejoining.withLock { $0 = true }
            log("must rejoin before voting: \(why); its storage holds no membership, and it may have voted before losing it")
        case .rejoined(let epoch, let fence):
            rejoining.withLock { $0 = false }
            log("rejoined as a voting member in epoch \(epoch) (\(fence == .initial ? "no fence: it votes in no configuration it knows" : "fence \(fence)"))")
        case .waitingToFound(let missing):
            log("waiting for \(missing) to start on an empty data directory: a new cluster is founded only once every initial voter has")
        case .welcomed(let nodes):
            log("welcomed \(nodes)")
        case .transferStarted(let ballot, let target):
            log("transferring leadership of ballot \(ballot) to \(target): proposals paused")
        case .transferAbandoned(let ballot, let target):
            log("transfer to \(target) abandoned after a leader timeout: leading ballot \(ballot) again")
        case .toldToCompete(let ballot):
            log("the leader of ballot \(ballot) hands over leadership: competing now")
        case .reconfigured(let configuration):
            log("voters become {\(configuration.voters)} from \(configuration.from) (configuration #\(configuration.number))")
        case .phase1Started, .decided, .applied, .invoked, .completed:
            break
        }
    }
}

/// Why a served node could not start or had to stop.
public enum ServeError: Error, CustomStringConvertible {
    /// The data directory could not be used: the message names the file and the reason.
    case storage(String)
    /// A socket could not be opened.
    case network(NetworkError)
    /// Protected mode (as Redis's): clients off loopback need a password, or an explicit `--no-auth`.
    case protectedMode(String)
    /// `--max-clients` does not fit the process's file descriptor limit.
    case descriptors(String)

    public var description: String {
        switch self {
        case .storage(let message): "storage: \(message)"
        case .network(let error): "\(error)"
        case .protectedMode(let message): "protected mode: \(message)"
        case .descriptors(let message): message
        }
    }
}

/// The client commands a served node is running, by request key, with the connection waiting for each.
struct CallTable {
    private struct Call {
        let command: Command
        let connection: UInt64
        let deadline: ContinuousClock.Instant
        var lastSent: ContinuousClock.Instant
    }
    private var calls: [RequestKey: Call] = [:]

    mutating func register(_ command: Command, connection: UInt64, deadline: ContinuousClock.Instant) {
        calls[command.key] = Call(command: command, connection: connection, deadline: deadline, lastSent: .now)
    }

    /// Whether a client connection waits for `key`.
    func isWaiting(for key: RequestKey) -> Bool { calls[key] != nil }

    /// The connection waiting for `key`, which stops waiting.
    mutating func complete(_ key: RequestKey) -> UInt64? { calls.removeValue(forKey: key)?.connection }

    mutating func forget(connection: UInt64) { calls = calls.filter { $0.value.connection != connection } }

    /// The calls past their deadline, removed.
    mutating func expired(at now: ContinuousClock.Instant) -> [(RequestKey, UInt64)] {
        let late = calls.filter { $0.value.deadline <= now }
        for key in late.keys { calls[key] = nil }
        return late.map { ($0.key, $0.value.connection) }
    }

    /// The calls not sent for `interval`, marked sent now.
    mutating func due(at now: ContinuousClock.Instant, every interval: Duration) -> [Command] {
        var due: [Command] = []
        for (key, call) in calls where now - call.lastSent >= interval {
            due.append(call.command)
            calls[key]!.lastSent = now
        }
        return due.sorted { ($0.key.client, $0.key.request) < ($1.key.client, $1.key.request) }
    }
}


/// How long the node loop's turns take: a turn that runs past a heartbeat interval delays heartbeats and their
/// replies, so a slow one is logged (at most once a second) with the longest so far.
struct LoopTurns {
    /// The longest turn so far.
    private(set) var longest: Duration = .zero
    private var lastLine: ContinuousClock.Instant?
    /// A turn longer than this is logged.
    static let slow: Duration = .milliseconds(100)

    mutating func record(total: Duration, persist: Duration, inputs: Int,
                         wrote: (appendedBytes: Int, compactedBytes: Int)? = nil, at now: ContinuousClock.Instant,
                         log: (String) -> Void) {
        longest = max(longest, total)
        guard total >= Self.slow, lastLine.map({ now - $0 >= .seconds(1) }) ?? true else { return }
        lastLine = now
        let what = wrote.map { w in
            w.compactedBytes > 0 ? ": the log compacted to \(Self.megabytes(w.compactedBytes))"
                : w.appendedBytes > 0 ? ": \(Self.megabytes(w.appendedBytes)) appended and synced" : ""
        } ?? ""
        log("slow node-loop turn: \(Self.ms(total)) ms (\(Self.ms(persist)) ms of it writing to disk\(what)) for \(inputs) "
            + "input(s); longest so far \(Self.ms(longest)) ms")
    }

    static func megabytes(_ bytes: Int) -> String {
        bytes >= 1 << 20 ? "\(bytes / (1 << 20)) MB" : "\(max(1, bytes / 1024)) KB"
    }

    static func ms(_ d: Duration) -> Int {
        Int(d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000)
    }
}
