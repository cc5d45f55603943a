/// Holds a copy of the state machine. It forwards clients' commands to the leader, applies decisions strictly in
/// slot order, runs each (client, request) at most once and answers a retry from its reply cache. A replica that
/// missed decisions asks its peers (a snapshot when they trimmed them); one that cannot learn a slot from anyone
/// asks the leader to settle it. It also welcomes a joining node, which then catches up as a lagging one does.
public actor Replica: Role {
    public nonisolated let kind = RoleKind.replica
    nonisolated let executor: QueueExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    let node: NodeID
    let config: ClusterConfiguration
    var machine: any StateMachine
    /// The next slot to apply.
    public internal(set) var nextSlot: Slot
    /// Decided values of slots not applied yet.
    var pending: [Slot: Value] = [:]
    /// Applied values of slots from `logStart` on, kept to help lagging peers.
    var log: [Value] = []
    /// The first slot `log` holds (kept in the shared view: a node refuses a pre-vote from a candidate behind it).
    var logStart: Slot {
        get { view.logStart }
        set { view.logStart = newValue }
    }
    /// Per client: the latest applied request and its result.
    var replies: [ClientID: (request: RequestNumber, result: [UInt8])] = [:]
    /// How many rejoins the applied log holds, and the epoch each attempt (node, nonce) was given: a retried
    /// attempt decided again, even after a later one, counts once. One entry per attempt the cluster ever saw.
    public internal(set) var membershipEpoch: UInt64
    var rejoins: [RequestKey: RejoinEntry] = [:]
    /// On the cluster's founders, until they restart: the Joins the Seed answered, by node (`Welcome.founders`).
    /// Every Welcome carries them, so that a founder whose Welcome was lost is let in as the Seed let it in.
    let founders: [NodeID: UInt64]
    /// Requests from clients on this node that are not applied yet, with the node to answer.
    var waiting: [RequestKey: (command: Command, origin: NodeID)] = [:]
    /// The ballot of the leader this replica believes in.
    public private(set) var leaderHint: Ballot
    /// One past the highest slot known to be assigned.
    var knownEnd: Slot
    private var lastCheckedSlot: Slot
    private var stalledChecks = 0
    private var peerCursor = 0
    /// How many proposals this replica made as a learner: it sends each to the next member.
    private var learnerProposals = 0
    /// Operation bytes applied since the last persisted snapshot, and that snapshot's size (the last one known:
    /// a snapshot encoded off the node loop is counted once it has been, never by encoding it here).
    private var bytesSinceSnapshot = 0
    private var lastSnapshotBytesKnown = 0
    private var lastSnapshotMachine: SnapshotBytes?
    private var lastSnapshotBytes: Int {
        get {
            if let count = lastSnapshotMachine?.encodedCount {
                lastSnapshotBytesKnown = count
                lastSnapshotMachine = nil
            }
            return lastSnapshotBytesKnown
        }
    }
    /// The test-only flaw `trimsOnUndurableProgress`: the snapshot to persist at the next heartbeat.
    private var lateSnapshot: Snapshot?
    /// Reads served by read index, waiting for their index or for this replica to apply that far.
    private var reads = PendingReads()
    /// The snapshot this replica sends lagging peers in chunks (see `ReplicaSnapshotTransfer.swift`), and the one
    /// it receives from a peer.
    var outgoing: OutgoingSnapshot?
    var incoming: IncomingSnapshot? {
        get { storage.incomingSnapshot }
        set { storage.incomingSnapshot = newValue }
    }
    /// A change of voters (or this node's own rejoin) was applied: the snapshot is persisted at once, not at the
    /// next interval, so that a node that restarts knows the voters (a restart with none of the old ones up could
    /// elect no one), and a rejoining node's applied point is durable before its acceptor relies on it.
    var votersChanged = false
    /// Progress checks that found a spare (or a rejoining learner) with nothing new to apply.
    private var idleChecks = 0
    /// The node whose heartbeat of the highest ballot this replica heard last: a leader alive then, which holds
    /// the log, where the voters its view names may all have been removed and stopped.
    private var heartbeatSender: NodeID?

    /// Where the replica persists its snapshot; it survives a crash of the node.
    let storage: DurableState

    /// Makes a replica that starts from `snapshot` (the initial state of a new cluster; a Welcome carries none,
    /// so a joining node starts there too and catches up), or from the snapshot it persisted before a crash if
    /// that one is newer.
    public init(node: NodeID, config: ClusterConfiguration, executor: QueueExecutor, machine: any StateMachine,
                snapshot offered: Snapshot, leader: Ballot, storage: DurableState = DurableState(),
                founders: [NodeID: UInt64] = [:]) throws {
        let snapshot = storage.replicaSnapshot.map { $0.nextSlot > offered.nextSlot ? $0 : offered } ?? offered
        self.storage = storage
        self.node = node
        self.config = config
        self.executor = executor
        self.founders = founders
        var machine = machine
        try machine.restore(from: snapshot.machine)
        self.machine = machine
        nextSlot = snapshot.nextSlot
        storage.voters.logStart = snapshot.nextSlot
        knownEnd = snapshot.nextSlot
        lastCheckedSlot = snapshot.nextSlot
        leaderHint = leader
        membershipEpoch = snapshot.membershipEpoch
        for entry in snapshot.replies { replies[entry.client] = (entry.request, entry.result) }
        for entry in snapshot.rejoins { rejoins[entry.key] = entry }
        storage.voters.history = snapshot.voters
        storage.voters.applied = snapshot.nextSlot
        // A transfer a restart interrupted goes on where it stopped, unless the state has caught up past it.
        if let transfer = storage.incomingSnapshot, transfer.header.nextSlot <= snapshot.nextSlot { storage.incomingSnapshot = nil }
    }

    /// The voters as this replica applied them.
    var view: VoterView { storage.voters }
    /// Every node that votes in a configuration this replica retains: where it looks for peers.
    var peers: [NodeID] { view.everyone(initial: config.memberSet).filter { $0 != node } }

    /// The replica's state at `nextSlot`: what a catch-up snapshot carries. Its state machine is encoded later,
    /// where storage writes it, when the configuration defers encoding and `encodingNow` is false.
    public func snapshot(encodingNow: Bool = false) -> Snapshot {
        let cache = config.flaws.contains(.snapshotWithoutReplyCache) ? [] : replies.keys.sorted().map {
            ReplyCacheEntry(client: $0, request: replies[$0]!.request, result: replies[$0]!.result)
        }
        // Storage that writes snapshots in the background (`snapshotWrittenThrough` set, as `serve` does) encodes
        // them there; elsewhere nothing would encode one early, and it would keep a copy of the state's table.
        let deferred = storage.snapshotWrittenThrough != nil && !encodingNow
        let machineBytes = deferred ? SnapshotBytes(encoding: machine.snapshotEncoder())
            : SnapshotBytes(machine.snapshot())
        return Snapshot(nextSlot: nextSlot, machineBytes: machineBytes, replies: cache, membershipEpoch: membershipEpoch,
                        rejoins: rejoins.values.sorted { ($0.node, $0.nonce) < ($1.node, $1.nonce) }, voters: view.history)
    }

    /// How many applied values are kept for peers.
    public var retainedLogCount: Int { log.count }
    /// Decided slots after `nextSlot` that wait for an earlier slot before they can be applied.
    public var decidedAheadCount: Int { pending.count }

    public func start() -> [Effect] {
        // A snapshot transfer that a restart interrupted is asked for again where its file stopped.
        let resume = incoming.map { [resumeRequest($0)] } ?? []
        return resume + [.setTimer(.catchUp, after: config.timing.catchUpInterval, jitter: config.timing.catchUpInterval / 4)]
    }

    public func handle(_ input: Input) -> [Effect] {
        switch input {
        case .timer(.catchUp): return checkProgress()
        case .timer: return []
        case .message(let message, let from):
            switch message {
            case .request(let r): return request(r.command, reads: r.consistency ?? config.reads, from: from)
            case .decision(let d):
                let effects = learnLeader(d.ballot)
                knownEnd = max(knownEnd, d.slot.next)
                if d.slot >= nextSlot, pending[d.slot] == nil { pending[d.slot] = d.value }
                return effects + applyReady()
            case .heartbeat(let h):
                if h.ballot >= leaderHint { heartbeatSender = from }
                knownEnd = max(knownEnd, h.nextSlot)
                trim(below: h.trimBelow)
                let durable: Slot
                if config.flaws.contains(.trimsOnUndurableProgress) {
                    // Reports what it applied; persists the snapshot it reported last time (a heartbeat late).
                    if let late = lateSnapshot, late.nextSlot > storage.replicaSnapshot?.nextSlot ?? .zero {
                        storage.replicaSnapshot = late
                    }
                    lateSnapshot = snapshot()
                    durable = nextSlot
                } else {
                    let last = storage.replicaSnapshot?.nextSlot ?? .zero
                    let interval = max(1, config.snapshotIntervalSlots), since = nextSlot.index - last.index
                    let bySlots = since >= interval
                    let byBytes = config.snapshotIntervalBytes.map { bytesSinceSnapshot >= max($0, lastSnapshotBytes) } ?? false
                    let grown = config.snapshotGrowth.map { bytesSinceSnapshot >= $0 * lastSnapshotBytes } ?? true
                    let logFull = config.maxLogBytes.map { bytesSinceSnapshot >= $0 } ?? false
                    if nextSlot > last, (bySlots || byBytes) && grown || since >= 64 * interval || logFull {
                        keepSnapshot(snapshot())
                    }
                    durable = storage.durableSnapshotSlot
                }
                let reply = Effect.send(.heartbeatReply(HeartbeatReply(ballot: h.ballot, applied: durable,
                                                                         acceptedEnd: storage.acceptor.slotsEnd)), to: from)
                return [reply] + learnLeader(h.ballot)
            case .catchUpRequest(let c):
                return catchUpRequest(c, from: from)
            case .catchUpReply(let r):
                if let chunk = r.chunk { return receive(chunk, from: from) }
                return catchUpReply(r, from: from)
            case .join where from != node:
                // No state travels in a Welcome: the node catches up as any lagging one does (in chunks).
                return [.send(.welcome(Welcome(snapshot: nil, leader: leaderHint, founders: founders)), to: from)]
            case .readIndexReply(let r):
                return readIndexReply(r, from: from)
            case .join, .reply, .propose, .fillHole,
                 .startPhase1, .prepare, .promise, .adopted, .preempted, .accept, .accepted, .heartbeatReply, .welcome, .preVote, .preVoteGrant,
                 .transferLeadership, .timeoutNow,
                 .readIndexRequest, .readConfirm, .readConfirmReply:
                return []
            }
        }
    }

    private var leaderNode: NodeID {
        // A contender's own Leader proposes its clients' commands; a learner has no Leader (so is no contender).
        let learner = storage.membership == .learner
        let target = leaderHint == .initial || (config.contenders.contains(node) && !learner) ? node : leaderHint.leader
        // A learner asks the other voters' Leaders in turn, one per proposal, whatever its hint says (its former
        // self may be the stale hint, and a hint from its Welcome may name a leader since removed and shut down):
        // a member that is down is not asked forever, and any Leader passes a proposal on to the leader it knows.
        guard learner else { return target }
        // Every other proposal goes to the leader it hears, when it hears one.
        if learnerProposals % 2 == 0, let heard = heartbeatSender, heard != node { return heard }
        let others = view.latest(initial: config.memberSet).voters.filter { $0 != node }
        return others.isEmpty ? node : others[(learnerProposals / 2) % others.count]
    }

    private func request(_ command: Command, reads consistency: ReadConsistency, from origin: NodeID) -> [Effect] {
        if command.key.client == .membership {
            // The cluster's own commands, asked only by the node itself (its rejoin, or a change of voters an
            // operator asked it for); each attempt has its own nonce, so the reply cache does not apply.
            guard origin == node, Rejoin.node(of: command) == node || Reconfiguration.change(of: command) != nil else { return [] }
        } else {
            if let done = replies[command.key.client], done.request >= command.key.request {
                guard done.request == command.key.request else { return [] }  // the client has moved on
                return [.send(.reply(Reply(key: command.key, result: done.result)), to: origin)]
            }
            if config.flaws.contains(.replicaReadsLocally), case .get? = try? KeyValueOperation(decoding: command.operation) {
                var copy = machine
                return [.send(.reply(Reply(key: command.key, result: copy.apply(command.operation))), to: origin)]
            }
            // A read by read index, unless it already waits in the log; a learner (which may be the stale
            // leader its hint names) and a replica that knows no leader use the log.
            if consistency != .log, waiting[command.key] == nil, storage.membership != .learner,
               leaderHint != .initial || config.contenders.contains(node), machine.query(command.operation) != nil,
               reads.asked(command, from: origin, lease: consistency == .lease) {
                return [.send(.readIndexRequest(ReadIndexRequest(key: command.key, lease: consistency == .lease)), to: leaderNode)]
            }
        }
        waiting[command.key] = (command, origin)
        if storage.membership == .learner { learnerProposals += 1 }
        return [.send(.propose(Propose(command: command, forwarded: false)), to: leaderNode)]
    }

    /// The leader's answer to a read index request: wait until applied that far, then answer; a refusal sends
    /// the read to the leader the refuser names, or through the log when that is the refuser or it was asked
    /// often enough.
    private func readIndexReply(_ r: ReadIndexReply, from: NodeID) -> [Effect] {
        guard let index = r.index else {
            var effects = learnLeader(r.leader)
            guard let read = reads.read(r.key) else { return effects }
            if leaderNode != from, reads.asked(read.command, from: read.origin, lease: read.lease) {
                return effects + [.send(.readIndexRequest(ReadIndexRequest(key: r.key, lease: read.lease)), to: leaderNode)]
            }
            _ = reads.remove(r.key)
            waiting[r.key] = (read.command, read.origin)
            effects.append(.send(.propose(Propose(command: read.command, forwarded: false)), to: leaderNode))
            return effects
        }
        guard reads.indexed(r.key, at: index) else { return [] }
        // Every slot below the index may be decided: a replica that lacks them catches up (or has them settled).
        knownEnd = max(knownEnd, index)
        // The test-only flaw answers at once, whatever the replica has applied.
        return answerReads(upTo: config.flaws.contains(.replicaAnswersBeforeApplied) ? index : nextSlot)
    }

    /// Answers the reads whose read index is at most `applied`, each from the state machine as it is now. A
    /// read the machine no longer answers without the log (what it reads changed meanwhile: a key came due by
    /// the read's time) goes through the log instead.
    private func answerReads(upTo applied: Slot) -> [Effect] {
        guard reads.count > 0 else { return [] }
        return reads.ready(upTo: applied).map { read in
            guard let result = machine.query(read.command.operation) else {
                waiting[read.command.key] = (read.command, read.origin)
                return .send(.propose(Propose(command: read.command, forwarded: false)), to: leaderNode)
            }
            return .send(.reply(Reply(key: read.command.key, result: result)), to: read.origin)
        }
    }

    /// Adopts a newer leader; the requests still waiting go to it.
    private func learnLeader(_ ballot: Ballot) -> [Effect] {
        guard ballot > leaderHint else { return [] }
        leaderHint = ballot
        return waiting.keys.sorted { ($0.client, $0.request) < ($1.client, $1.request) }.map {
            .send(.propose(Propose(command: waiting[$0]!.command, forwarded: false)), to: leaderNode)
        }
    }

    func applyReady() -> [Effect] {
        var effects: [Effect] = []
        if config.flaws.contains(.replicaSkipsHoles), pending[nextSlot] == nil, let next = pending.keys.min() {
            // Takes the slots it has not learned for no-ops.
            while nextSlot < next {
                log.append(.noop)
                nextSlot = nextSlot.next
            }
        }
        let appliedBefore = nextSlot
        while let value = pending.removeValue(forKey: nextSlot) {
            let slot = nextSlot
            log.append(value)
            nextSlot = slot.next
            let commands = value.commands
            if commands.isEmpty { effects.append(.event(.applied(slot, value, duplicate: false, result: nil))) }
            for c in commands { apply(c, in: slot, into: &effects) }  // a batch's commands in order, each at most once
            view.applied = nextSlot
        }
        // Applying up to a configuration's first slot puts it in force here: every slot the voters before it
        // govern is then durable at this node, so that once a majority of the new voters say so, a removed
        // node can go (a crash here must not leave those slots known only to acceptors it is needed to read).
        if nextSlot > appliedBefore, view.history.startsOne(after: appliedBefore, through: nextSlot) { votersChanged = true }
        view.prune()
        if votersChanged || wantsSnapshot {
            votersChanged = false
            keepSnapshot(snapshot())
        }
        return effects + answerReads(upTo: nextSlot)
    }

    /// Runs one command of `slot`, unless its client's reply cache shows it ran already, and answers its client;
    /// appends what that asks for to `effects` (one buffer for a whole batch of slots: no array per command).
    private func apply(_ c: Command, in slot: Slot, into effects: inout [Effect]) {
        if c.key.client == .membership { return effects += applyMembership(c, in: slot) }
        let cached = replies[c.key.client]
        let duplicate = (cached?.request ?? RequestNumber(0)) >= c.key.request
            && !config.flaws.contains(.replicaReappliesRetries)
        let result = duplicate ? cached?.result : machine.apply(c.operation)
        if !duplicate, let result { replies[c.key.client] = (c.key.request, result) }
        bytesSinceSnapshot += c.operation.count
        effects.append(.event(.applied(slot, .command(c), duplicate: duplicate, result: result)))
        // As `answer(_:)`: only when the reply cache now holds this very request's result.
        guard !duplicate || cached?.request == c.key.request, let result,
              let waiter = waiting.removeValue(forKey: c.key) else { return }
        effects.append(.send(.reply(Reply(key: c.key, result: result)), to: waiter.origin))
    }

    /// Answers a waiting client whose request has been applied.
    func answer(_ key: RequestKey) -> [Effect] {
        if key.client == .membership {
            guard let entry = rejoins[key],
                  let waiter = waiting.removeValue(forKey: key) else { return [] }
            return [.send(.reply(Reply(key: key, result: Rejoin.result(epoch: entry.epoch))), to: waiter.origin)]
        }
        guard let done = replies[key.client], done.request == key.request,
              let waiter = waiting.removeValue(forKey: key) else { return [] }
        return [.send(.reply(Reply(key: key, result: done.result)), to: waiter.origin)]
    }

    private func trim(below watermark: Slot) {
        let drop = min(watermark.index - config.retainedSlots, nextSlot.index) - logStart.index
        guard drop > 0 else { return }
        log.removeFirst(Int(drop))
        logStart = Slot(logStart.index + drop)
        if let out = outgoing, out.snapshot.nextSlot < logStart { outgoing = nil }  // too old to serve: a peer would need trimmed slots
    }

    private func catchUpRequest(_ c: CatchUpRequest, from: NodeID) -> [Effect] {
        if let cursor = c.resume, let chunk = chunk(resuming: cursor) {
            return [.send(.catchUpReply(CatchUpReply(snapshot: nil, first: nextSlot, values: [], chunk: chunk)), to: from)]
        }
        guard c.from < nextSlot else { return [] }
        if c.from < logStart {
            guard let chunk = firstChunk(after: c.from) else { return [] }
            return [.send(.catchUpReply(CatchUpReply(snapshot: nil, first: nextSlot, values: [], chunk: chunk)), to: from)]
        }
        let offset = Int(c.from.index - logStart.index)
        // At most catchUpBatch values and catchUpBytes of them (at least one): batches can be large, a frame is not.
        var end = offset, bytes = 0
        while end < min(log.count, offset + config.catchUpBatch) {
            let size = log[end].catchUpSizeEstimate
            guard end == offset || bytes + size <= config.catchUpBytes else { break }
            bytes += size
            end += 1
        }
        let values = Array(log[offset..<end])
        return [.send(.catchUpReply(CatchUpReply(snapshot: nil, first: c.from, values: values)), to: from)]
    }

    private func catchUpReply(_ r: CatchUpReply, from: NodeID) -> [Effect] {
        var effects: [Effect] = []
        let before = nextSlot
        if let snap = r.snapshot, snap.nextSlot > nextSlot {
            guard let installed = install(snap) else { return [] }
            effects = installed
        }
        for (i, value) in r.values.enumerated() {
            let slot = Slot(r.first.index + Int64(i))
            if slot >= nextSlot, pending[slot] == nil { pending[slot] = value }
        }
        knownEnd = max(knownEnd, Slot(r.first.index + Int64(r.values.count)))
        effects += applyReady()
        // A full reply (as many values or about as many bytes as a reply holds) that moved this replica on brings
        // the next one at once, from the same peer, as snapshot chunks do: a replica far behind catches up at the
        // network's pace, not one reply per catch-up interval (a spare, which hears of no end to reach, then
        // keeps up before the members it knows are removed). A duplicate or stale reply moves nothing and a
        // short one ended the peer's log, so neither asks again (no chain of requests forms behind the decisions
        // in flight to a replica that merely trails).
        let bytes = r.values.reduce(0) { $0 + $1.catchUpSizeEstimate }
        let full = r.values.count >= config.catchUpBatch || 2 * bytes >= config.catchUpBytes
        if full, nextSlot > before, from != node {
            effects.append(.send(.catchUpRequest(CatchUpRequest(from: nextSlot)), to: from))
        }
        return effects
    }

    /// Keeps `snap` as the snapshot the shell persists with this step; the log since it starts anew.
    func keepSnapshot(_ snap: Snapshot) {
        storage.replicaSnapshot = snap
        bytesSinceSnapshot = 0
        lastSnapshotMachine = snap.machineBytes
    }

    /// Whether this node's rejoin waits for a snapshot this replica could make now (`DurableState.snapshotWanted`).
    private var wantsSnapshot: Bool {
        let wanted = storage.snapshotWanted
        return wanted > .zero && nextSlot >= wanted && storage.replicaSnapshot?.nextSlot ?? .zero < wanted
    }

    /// Whom a catch-up request goes to: on the leader's turn (every other request), the leader this replica
    /// hears, which holds the log where the peers a stale view names may all be removed and stopped (seeds 416
    /// and 1452 of `--nodes 3 --reconfigure` asked only those for 30 s); else the next of `peers` in turn.
    private func catchUpPeer(_ peers: [NodeID], leaderTurn: Bool) -> NodeID {
        let leader = heartbeatSender ?? (storage.membership == .learner ? nil : leaderNode)
        if leaderTurn, let leader, leader != node { return leader }
        peerCursor += 1
        return peers[peerCursor % peers.count]
    }

    /// Every catch-up interval: if behind and nothing was applied since the last check, ask a peer (the leader
    /// it hears, then the others in turn); after a few fruitless tries, ask the leader to settle the slot.
    private func checkProgress() -> [Effect] {
        var effects: [Effect] = [.setTimer(.catchUp, after: config.timing.catchUpInterval, jitter: 0)]
        if wantsSnapshot { keepSnapshot(snapshot()) }
        // A rejoin waits for this replica to reach its readers' trim: past what it applied, that is a slot to
        // catch up to, even when no heartbeat or decision said so (a learner cut off from the leader).
        knownEnd = max(knownEnd, storage.snapshotWanted)
        if let resume = checkIncomingSnapshot() { return effects + resume }
        let behind = nextSlot < knownEnd || !pending.isEmpty
        defer { lastCheckedSlot = nextSlot }
        // A learner hears no heartbeats until a change makes it a voter, yet must apply its own rejoin to vote:
        // while it waits for one, it asks a peer (rotating) for what the log holds past its applied point. A
        // spare (a voter in no configuration it keeps) hears neither heartbeats nor decisions: it asks too, every
        // fourth check, so that it keeps up with the log before an operator adds it.
        let idle = !behind && nextSlot == lastCheckedSlot
        let rejoining = idle && storage.membership == .learner && waiting.keys.contains(where: { $0.client == .membership })
        if idle, rejoining || !view.everyone(initial: config.memberSet).contains(node), case let peers = self.peers, !peers.isEmpty {
            idleChecks += 1
            guard rejoining || idleChecks % 4 == 0 else { return effects }
            let turn = rejoining ? idleChecks : idleChecks / 4
            return effects + [.send(.catchUpRequest(CatchUpRequest(from: nextSlot)), to: catchUpPeer(peers, leaderTurn: turn % 2 == 1))]
        }
        guard behind, nextSlot == lastCheckedSlot else {
            stalledChecks = 0
            return effects
        }
        stalledChecks += 1
        let peers = self.peers
        if !peers.isEmpty {
            effects.append(.send(.catchUpRequest(CatchUpRequest(from: nextSlot)), to: catchUpPeer(peers, leaderTurn: stalledChecks % 2 == 1)))
        }
        if stalledChecks >= 3 {
            effects.append(.send(.fillHole(FillHole(slot: nextSlot)), to: leaderNode))
        }
        return effects
    }
}
