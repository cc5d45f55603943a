/// Brings a node into an existing cluster: asks one peer after another to let it join until a Welcome comes,
/// then installs the member roles (Acceptor, Scout, Leader, Replica) starting from the Welcome's snapshot, and
/// removes itself.
///
/// A node whose storage was lost (`Membership.learner`) may have promised something it no longer remembers, so
/// it rejoins as a fresh member in three steps before it votes again. It installs only a Replica and asks,
/// through the log, to rejoin (`Rejoin`): the decision gives it a membership epoch that no ballot its former
/// self promised can belong to. It then asks the other nodes to promise the epoch's fence ballot
/// (`Ballot.fence`) and to report what they accepted; once enough have (every quorum that its former self
/// could have been part of includes one of them), it takes the highest report per slot as its accepted values,
/// the highest ballot read as its promise, and installs Acceptor, Scout and Leader.
public actor Initializer: Role {
    public nonisolated let kind = RoleKind.initializer
    nonisolated let executor: QueueExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    let node: NodeID
    let config: ClusterConfiguration
    let makeMachine: @Sendable () -> any StateMachine
    /// What the node kept from before a crash (empty for a new node).
    let storage: DurableState
    /// This rejoin attempt's identity in the log; the shell draws it at random.
    let nonce: UInt64
    private var cursor = 0
    /// A node whose heartbeat reached this one while it asked to join: a leader alive then, asked on every other
    /// retry, where the members it knows may all have been removed and stopped (`--nodes 3 --reconfigure` seed
    /// 1452 per-slot: a wiped n1 asked only n0 and n2, both gone, for 30 s).
    private var heardLeader: NodeID?
    /// Welcomes from replicas that did not know the founders (see `welcomed`).
    private var unknowingWelcomes = 0

    private enum Stage {
        case joining
        case askingToRejoin
        case fencing(Ballot, epoch: UInt64)
    }
    /// One `joinRetry` timer is always pending (timers cannot be cancelled): each firing sets the next, and
    /// moving to the next stage sets none, so retries never double up.
    private var stage = Stage.joining
    /// Granted reads during the fence, by node.
    private var reads: [NodeID: Promise] = [:]
    /// Reads that came in part (`Promise.more`): how far each reaches, and its ballot and values so far.
    private var parts = PromiseParts()
    private var partialReads: [NodeID: (ballot: Ballot, accepted: [PValue])] = [:]
    /// Where the fence's reads start: the voting floor when the fence began (its snapshot on disk, which a node
    /// applying its own rejoin asks for at once). The rejoined acceptor keeps no value below its floor, which only grows,
    /// so reading below it would only cost parts: under ballots that keep moving (contenders, duels) a read in
    /// a hundred parts began again at every new promise and never ended (seed 1582: 169-byte values, 280-byte
    /// Promises).
    private var readFrom = Slot.zero

    /// Makes the initializer of `node`; a restarted node passes the durable state it kept, and a node that
    /// lost its storage a random `nonce` for its rejoin.
    public init(node: NodeID, config: ClusterConfiguration, executor: QueueExecutor,
                makeMachine: @escaping @Sendable () -> any StateMachine, storage: DurableState = DurableState(),
                nonce: UInt64 = 0) {
        self.node = node
        self.config = config
        self.executor = executor
        self.makeMachine = makeMachine
        self.storage = storage
        self.nonce = nonce
    }

    /// The roles every member runs, built on `executor`. `founders` (on the node that founded the cluster) are
    /// the Joins its Seed answered, so that its replica welcomes a founder whose Welcome was lost as the Seed did.
    public static func memberRoles(node: NodeID, config: ClusterConfiguration, executor: QueueExecutor,
                                   machine: any StateMachine, snapshot: Snapshot, leader: Ballot,
                                   eager: Bool, storage: DurableState = DurableState(),
                                   founders: [NodeID: UInt64] = [:]) throws -> [any Role] {
        precondition(storage.membership != .learner, "node \(node) lost its storage and may not become a voting member")
        let roles = votingRoles(node: node, config: config, executor: executor, leader: leader, eager: eager,
                                storage: storage)
            + [try Replica(node: node, config: config, executor: executor, machine: machine, snapshot: snapshot,
                           leader: leader, storage: storage, founders: founders)]
        storage.membership = .member
        return roles
    }

    /// The roles that vote and lead.
    static func votingRoles(node: NodeID, config: ClusterConfiguration, executor: QueueExecutor, leader: Ballot,
                            eager: Bool, storage: DurableState) -> [any Role] {
        [
            Acceptor(node: node, config: config, executor: executor, storage: storage),
            Scout(node: node, config: config, executor: executor, storage: storage),
            Leader(node: node, config: config, executor: executor, eager: eager, knownLeader: leader, storage: storage),
        ]
    }

    /// The roles of a learner: a Replica only, which catches up from peers and serves its node's clients.
    public static func learnerRoles(node: NodeID, config: ClusterConfiguration, executor: QueueExecutor,
                                    machine: any StateMachine, snapshot: Snapshot, leader: Ballot,
                                    storage: DurableState) throws -> [any Role] {
        precondition(storage.membership == .learner, "node \(node) is a \(storage.membership), not a learner")
        return [try Replica(node: node, config: config, executor: executor, machine: machine, snapshot: snapshot,
                            leader: leader, storage: storage)]
    }

    /// The roles of a member restarting after a crash: rebuilt only from its durable state (its acceptor's
    /// promises and accepted values, its ballot round, its last persisted snapshot), then caught up by peers.
    /// (A learner restarts through an Initializer, which fetches a snapshot and installs its Replica.)
    public static func restartedMemberRoles(node: NodeID, config: ClusterConfiguration, executor: QueueExecutor,
                                            makeMachine: @Sendable () -> any StateMachine,
                                            storage: DurableState) throws -> [any Role] {
        precondition(storage.isMember, "node \(node) restarts as a member but its durable state says it is a \(storage.membership)")
        let initial = Snapshot(nextSlot: .zero, machine: makeMachine().snapshot(), replies: [])
        return try memberRoles(node: node, config: config, executor: executor, machine: makeMachine(),
                               snapshot: initial, leader: .initial, eager: false, storage: storage)
    }

    /// The roles a node starts with, whatever shell runs it: a member resumes from its durable state, the first
    /// member of a new cluster seeds it, and any other node asks to join (one that lost its storage, as a
    /// learner that rejoins before it votes). `nonce` identifies a rejoin attempt; the shell draws it at random.
    public static func bootstrapRoles(node: NodeID, config: ClusterConfiguration, executor: QueueExecutor,
                                      makeMachine: @escaping @Sendable () -> any StateMachine, storage: DurableState,
                                      nonce: UInt64) -> [any Role] {
        if storage.isMember, let member = try? restartedMemberRoles(
            node: node, config: config, executor: executor, makeMachine: makeMachine, storage: storage) {
            return member
        }
        if node == config.members[0] && storage.membership == .new {
            return [Seed(node: node, config: config, executor: executor, makeMachine: makeMachine, storage: storage,
                         nonce: nonce)]
        }
        return [Initializer(node: node, config: config, executor: executor, makeMachine: makeMachine, storage: storage,
                            nonce: nonce)]
    }

    /// How many other nodes must promise the fence: enough that every quorum containing this node's former
    /// self contains one of them, and that its former votes plus the rest can never make a quorum again.
    public var fenceReadsNeeded: Int {
        let voters = storage.voters.latest(initial: config.memberSet)
        return voters.voters.count - voters.quorum + (config.flaws.contains(.rejoinFenceReadsOneFewer) ? 0 : 1)
    }

    /// Whether the fence has been read widely enough: for every configuration this node knows of (the one
    /// governing its snapshot, the one before and any later one) that counts it as a voter, as many of its other
    /// voters as `fenceReadsNeeded` counts for the latest, so that every quorum of any of them that its former
    /// self could have completed contains a node it read.
    func fenceIsRead(by readers: NodeSet) -> Bool {
        let view = storage.voters
        // Those governing the slots from its latest snapshot on (which its acceptor will vote in) too; `rejoined`
        // waits until that snapshot is on disk, so that these are the configurations from its voting floor on.
        var configurations = view.history.isEmpty ? [view.latest(initial: config.memberSet)] : view.history
        for c in storage.replicaSnapshot?.voters ?? [] where !configurations.contains(where: { $0.number == c.number }) {
            configurations.append(c)
        }
        // A configuration whose slots all lie below what the replica applied durably needs no fence: the rejoined
        // acceptor never votes there (see `rejoined`). Its members may all be removed and stopped by now, and a
        // node that waited for them would never vote again (seed 4598 of `--nodes 5 --reconfigure`: a wiped n3
        // applied four changes while rejoining and waited for ever on a read from n2, removed at s197).
        let floor = votingFloor
        let fewer = config.flaws.contains(.rejoinFenceReadsOneFewer) ? 0 : 1
        return configurations.allSatisfy { c in
            if let next = configurations.first(where: { $0.number == c.number + 1 }), next.from <= floor { return true }
            return !c.voters.contains(node) || NodeSet(readers.filter(c.voters.contains)).count >= c.voters.count - c.quorum + fewer
        }
    }

    /// The slot below which the rejoined acceptor will never vote: what its replica applied durably (a crash takes
    /// the replica back to its persisted snapshot; past it, slots may exist only in acceptors' records). Its
    /// snapshot on disk, not the one in memory, which a shell may still be writing.
    private var votingFloor: Slot {
        config.flaws.contains(.rejoinVotesBelowApplied) ? .zero
            : min(config.flaws.contains(.rejoinTrimsPastOwnSnapshot) ? storage.replicaSnapshot?.nextSlot ?? .zero
                    : storage.ownSnapshotOnDisk, storage.voters.applied)
    }

    public func start() -> [Effect] { askNext() }

    public func handle(_ input: Input) -> [Effect] {
        switch (stage, input) {
        case (.joining, .timer(.joinRetry)):
            cursor += 1
            return askNext()
        case (.joining, .message(.welcome(let w), let from)) where config.memberSet.contains(from) || from == heardLeader:
            return welcomed(w)
        case (.joining, .message(.heartbeat, let from)) where from != node:
            heardLeader = from
            return []
        case (.joining, .message(.join, let from)) where from == config.members[0] && from != node:
            // The seed asks whether a cluster exists: tell it who this node is, and whether it is new.
            return [.send(.join(join), to: from)]
        case (.askingToRejoin, .timer(.joinRetry)):
            return askToRejoin()
        case (.askingToRejoin, .message(.reply(let r), let from)) where from == node && r.key == rejoinKey:
            guard let epoch = Rejoin.epoch(fromResult: r.result) else { return [] }
            let fence = Ballot.fence(epoch: epoch, node: node)
            stage = .fencing(fence, epoch: epoch)
            readFrom = votingFloor
            // With the test-only flaw it reads no one; and a node that votes in no configuration it keeps (a
            // spare an operator will add) has no quorum to fence: its former self, if any, voted only in slots
            // that are decided, and no leader still counts those votes (see `fenceIsRead`).
            if config.flaws.contains(.rejoinsWithoutReading) || fenceIsRead(by: NodeSet()) {
                // Nothing to read (no fence goes out, which would preempt the leader that adds a spare); it may
                // still wait for its snapshot to be on disk, which the pending `joinRetry` looks at again.
                return rejoined(fence: fence, epoch: epoch) ?? []
            }
            return [.broadcast(.prepare(Prepare(ballot: fence, scope: .from(.zero), reportFrom: readFrom)), to: others)]
        case (.fencing(let fence, let epoch), .timer(.joinRetry)):
            // The replica applies on while the fence is read: configurations it has passed durably need no read,
            // so the reads in hand may be enough now though no promise came since.
            if fenceIsRead(by: NodeSet(reads.keys)) {
                // Read, but perhaps waiting for its own snapshot to reach the readers' trim: look again later.
                return rejoined(fence: fence, epoch: epoch) ?? [.setTimer(.joinRetry, after: config.timing.joinRetryInterval, jitter: 0)]
            }
            let unread = others.subtracting(NodeSet(reads.keys))
            var effects: [Effect] = []
            for (reader, reached) in parts.reached.sorted(by: { $0.key < $1.key }) where unread.contains(reader) {
                let ballot = partialReads[reader]?.ballot ?? fence
                effects.append(.send(.prepare(Prepare(ballot: ballot, scope: .from(.zero), reportFrom: reached)), to: reader))
            }
            // The fence goes to every reader not yet read, those part-way through too: a reader whose promise
            // moved above the ballot of its partial read drops the rest of that read while it grants a lease to
            // the higher ballot (a fence it always admits), and names its new promise in answer to the fence.
            return effects + [
                .broadcast(.prepare(Prepare(ballot: fence, scope: .from(.zero), reportFrom: readFrom)), to: unread),
                .setTimer(.joinRetry, after: config.timing.joinRetryInterval, jitter: 0),
            ]
        case (.fencing(let fence, let epoch), .message(.promise(let p), let from)) where others.contains(from):
            guard p.ballot >= fence, case .from(.zero) = p.scope else { return [] }
            if p.promised > p.ballot {
                // It promised a higher ballot already (which blocks the old epochs just as well): read at that one,
                // unless a read at that one is already under way.
                guard reads[from] == nil, partialReads[from]?.ballot != p.promised else { return [] }
                return [.send(.prepare(Prepare(ballot: p.promised, scope: .from(.zero), reportFrom: readFrom)), to: from)]
            }
            guard reads[from] == nil else { return [] }
            if partialReads[from].map({ $0.ballot != p.ballot }) ?? false {
                parts.reset(from)  // a read at another ballot begins again
                partialReads[from] = nil
            }
            let outcome = parts.add(p, from: from, first: readFrom)
            guard outcome != .stale else { return [] }
            var read = partialReads[from] ?? (p.ballot, [])
            read.accepted += p.accepted
            guard outcome == .whole else {
                partialReads[from] = read
                return outcome.askFrom.map { [.send(.prepare(Prepare(ballot: p.ballot, scope: .from(.zero), reportFrom: $0)), to: from)] } ?? []
            }
            partialReads[from] = nil
            reads[from] = Promise(ballot: p.ballot, promised: p.promised, scope: p.scope, accepted: read.accepted,
                                  trimmedBelow: p.trimmedBelow, slotsEnd: p.slotsEnd)
            return fenceIsRead(by: NodeSet(reads.keys)) ? rejoined(fence: fence, epoch: epoch) ?? [] : []
        case (_, .message), (_, .timer):
            return []
        }
    }

    private var others: NodeSet { storage.voters.everyone(initial: config.memberSet).subtracting(NodeSet([node])) }
    private var rejoinKey: RequestKey { Rejoin.command(node: node, nonce: nonce).key }

    private func askNext() -> [Effect] {
        let peers = config.members.filter { $0 != node }
        guard !peers.isEmpty else { return [] }
        let asked = heardLeader.map { cursor % 2 == 1 ? $0 : peers[(cursor / 2) % peers.count] } ?? peers[cursor % peers.count]
        return [
            .send(.join(join), to: asked),
            .setTimer(.joinRetry, after: config.timing.joinRetryInterval, jitter: config.timing.joinRetryInterval / 4),
        ]
    }

    private var join: Join { Join(nonce: nonce, isNew: storage.membership == .new) }

    private func welcomed(_ w: Welcome) -> [Effect] {
        let snapshot = w.snapshot ?? Snapshot(nextSlot: .zero, machine: makeMachine().snapshot(), replies: [])
        var mustRejoin: [Effect] = []
        if storage.membership == .new && w.founders.isEmpty && config.memberSet.contains(node)
            && unknowingWelcomes < config.members.count - 1 {
            // A replica that does not know the founders (it restarted, or joined later) cannot say whether this
            // initial voter is one whose Welcome was lost: ask the others first.
            unknowingWelcomes += 1
            cursor += 1
            return []
        }
        if storage.membership == .new && w.founders[node] != nonce && !config.flaws.contains(.amnesiacVotes) {
            // The cluster runs, and this start of the node did not found it: it may have voted in it before it lost
            // its disk, so it rejoins as a learner (with the test-only flaw, it votes at once as if new).
            storage.membership = .learner
            mustRejoin = [.event(.mustRejoin("the cluster runs and this node did not found it"))]
        }
        guard storage.membership == .learner else {
            guard let roles = try? Self.memberRoles(node: node, config: config, executor: executor, machine: makeMachine(),
                                                    snapshot: snapshot, leader: w.leader, eager: false, storage: storage,
                                                    founders: w.founders)
            else { return [] }  // a snapshot this machine cannot read: wait for another peer's Welcome
            return [.install(roles), .event(.joined(snapshot.nextSlot)), .uninstall(.initializer)]
        }
        guard let roles = try? Self.learnerRoles(node: node, config: config, executor: executor, machine: makeMachine(),
                                                 snapshot: snapshot, leader: w.leader, storage: storage)
        else { return [] }
        stage = .askingToRejoin
        return mustRejoin + [.install(roles), .event(.joined(snapshot.nextSlot)), rejoinRequest]
    }

    private var rejoinRequest: Effect {
        .send(.request(Request(command: Rejoin.command(node: node, nonce: nonce))), to: node)
    }

    private func askToRejoin() -> [Effect] {
        [rejoinRequest, .setTimer(.joinRetry, after: 4 * config.timing.joinRetryInterval, jitter: 0)]
    }

    /// Enough nodes promised the fence: become a voting member with what they reported; nil while this node's
    /// snapshot on disk does not yet reach the slot below which it will never vote (its fence's `joinRetry`
    /// timer looks again).
    private func rejoined(fence: Ballot, epoch: UInt64) -> [Effect]? {
        // Below what a reader trimmed, its former self's votes cannot be read back: the rejoined acceptor never
        // votes there, and says so to every Prepare (a per-slot leader takes such a slot for decided and leaves
        // it to catch-up). That claim stands only for slots this node can serve itself: it waits until its
        // replica holds them in a snapshot on disk. (Taking the readers' trim on trust, a node wiped while its
        // snapshot was still being written claimed slots no node held in a snapshot: per-slot torture seed 3402
        // ended with every replica at s13669 and the leader settling s13669...s13755 as trimmed.)
        // It also waits while its replica's latest snapshot is not on disk yet: the configurations the fence read
        // covered are the ones its view keeps from that snapshot on, and slots between the snapshot on disk and
        // it may be governed by one the view has forgotten (two changes passed meanwhile), whose voters it never
        // read.
        let trimmed = reads.values.map(\.trimmedBelow).max() ?? .zero
        let onDisk = storage.ownSnapshotOnDisk
        if !config.flaws.contains(.rejoinTrimsPastOwnSnapshot),
           trimmed > onDisk || storage.replicaSnapshot?.nextSlot ?? .zero > onDisk {
            storage.snapshotWanted = max(storage.snapshotWanted, trimmed)
            return nil
        }
        var record = AcceptorRecord()
        // A node that votes in no configuration it knows (a spare about to be added) has no former promise that
        // any quorum still counts: it promises nothing yet, so that the leader adding it is not preempted by a
        // fence it never needed.
        let unfenced = fenceIsRead(by: NodeSet())
        let promised = unfenced ? .initial : reads.values.map(\.ballot).reduce(fence, max)
        record.promised = promised
        record.highestPromised = promised
        // Below what its replica applied, every slot is decided and its value known here: this acceptor never
        // votes there again. Its fence read covered only the configurations this node still keeps, which govern
        // the slots from its applied point on; below it, a leader that lags several changes could still drive a
        // slot of a configuration this node forgot, and count this node's new vote with the one it lost.
        // Only what it applied durably counts: a crash takes the replica back to its persisted snapshot, and the
        // slots past it may then exist nowhere else but in acceptors' records, which a leader must be let drive.
        record.trimmedBelow = reads.values.map(\.trimmedBelow).reduce(votingFloor, max)
        for read in reads.keys.sorted() {
            for pv in reads[read]!.accepted where pv.slot >= record.trimmedBelow {
                if pv.ballot > record.accepted[pv.slot]?.ballot ?? .initial { record.accepted[pv.slot] = pv }
            }
            record.slotsEnd = max(record.slotsEnd, reads[read]!.slotsEnd)
        }
        // In per-slot mode a reader may have accepted above its promise for every slot, under a promise for that
        // slot alone: keep that slot's promise too, so the record never holds a value above its promise.
        for pv in record.accepted.values where pv.ballot > promised {
            record.slotPromised[pv.slot] = pv.ballot
            record.highestPromised = max(record.highestPromised, pv.ballot)
        }
        precondition(record.accepted.values.allSatisfy { $0.ballot <= record.promised(for: $0.slot) },
                     "node \(node): rejoining with a value accepted above its promise: \(record.accepted.values.map(\.ballot))")
        precondition(unfenced || promised >= fence, "node \(node): rejoining with promise \(promised) below its fence \(fence)")
        storage.acceptor = record
        storage.ballotRound = max(storage.ballotRound, record.highestPromised.round)
        storage.membership = .member
        let roles = Self.votingRoles(node: node, config: config, executor: executor, leader: .initial, eager: false,
                                     storage: storage)
        return [.install(roles), .event(.rejoined(epoch: epoch, fence: unfenced ? .initial : fence)), .uninstall(.initializer)]
    }
}
