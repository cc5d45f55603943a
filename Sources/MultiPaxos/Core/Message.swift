/// Which slots a Phase-1 round covers: every slot from one on (stable-leader mode) or a single slot (per-slot mode).
public enum PrepareScope: Hashable, Sendable, CustomStringConvertible {
    /// Every slot at or above the given one.
    case from(Slot)
    /// Just this slot.
    case only(Slot)

    /// Whether `slot` is covered by the scope.
    public func covers(_ slot: Slot) -> Bool {
        switch self {
        case .from(let first): slot >= first
        case .only(let only): slot == only
        }
    }
    public var description: String {
        switch self {
        case .from(let s): "≥\(s)"
        case .only(let s): "=\(s)"
        }
    }
}

/// The replies a replica remembers per client so that a retried request gets the same answer and runs once.
public struct ReplyCacheEntry: Hashable, Sendable {
    /// The client.
    public let client: ClientID
    /// The latest request of that client that was applied.
    public let request: RequestNumber
    /// Its result.
    public let result: [UInt8]
}

/// A replica's state at a slot boundary: enough to start a replica without the history before it.
public struct Snapshot: Hashable, Sendable {
    /// The first slot not reflected in the snapshot.
    public let nextSlot: Slot
    /// The state machine's own encoding of its state (made now if it was deferred: see `machineBytes`).
    public var machine: [UInt8] { machineBytes.bytes }
    /// The same, possibly not encoded yet: a shell that writes snapshots off the node loop encodes them there.
    public let machineBytes: SnapshotBytes
    /// The reply cache, sorted by client so that equal states encode equally.
    public let replies: [ReplyCacheEntry]
    /// How many rejoins the log up to `nextSlot` holds: a node that rejoins fences with this epoch.
    public let membershipEpoch: UInt64
    /// Every rejoin attempt decided so far, sorted by node and nonce, so that a retried one is counted once.
    public let rejoins: [RejoinEntry]
    /// The voter configurations the log up to `nextSlot` set (the one governing `nextSlot`, the one before it and
    /// any later one); empty while the cluster's initial members govern every slot.
    public let voters: [VoterConfiguration]

    /// Makes a snapshot.
    public init(nextSlot: Slot, machine: [UInt8], replies: [ReplyCacheEntry], membershipEpoch: UInt64 = 0,
                rejoins: [RejoinEntry] = [], voters: [VoterConfiguration] = []) {
        self.init(nextSlot: nextSlot, machineBytes: SnapshotBytes(machine), replies: replies,
                  membershipEpoch: membershipEpoch, rejoins: rejoins, voters: voters)
    }

    /// Makes a snapshot whose state machine may not be encoded yet.
    public init(nextSlot: Slot, machineBytes: SnapshotBytes, replies: [ReplyCacheEntry], membershipEpoch: UInt64 = 0,
                rejoins: [RejoinEntry] = [], voters: [VoterConfiguration] = []) {
        self.nextSlot = nextSlot
        self.machineBytes = machineBytes
        self.replies = replies
        self.membershipEpoch = membershipEpoch
        self.rejoins = rejoins
        self.voters = voters
    }
}

/// A node's latest rejoin as the log recorded it: the attempt's nonce and the epoch it was given.
public struct RejoinEntry: Hashable, Sendable {
    /// The node that rejoined.
    public let node: NodeID
    /// The attempt, chosen at random by the rejoining node (it remembers nothing else across a wipe).
    public let nonce: UInt64
    /// The membership epoch the rejoin started.
    public let epoch: UInt64
    /// The rejoin command's request key.
    var key: RequestKey { RequestKey(client: .membership, request: RequestNumber(nonce)) }
}

/// A client asks a replica to run a command. Requester → Replica.
public struct Request: Sendable, Equatable {
    /// The client's command.
    public let command: Command
    /// How the command is read if it is a read; nil: as the cluster's configuration says (`ClusterConfiguration.reads`).
    public var consistency: ReadConsistency? = nil
}
/// A replica answers a client with the command's result. Replica → Requester.
public struct Reply: Sendable, Equatable { public let key: RequestKey; public let result: [UInt8] }
/// A replica forwards a client's command to the node it believes leads. Replica → Leader.
public struct Propose: Sendable, Equatable {
    public let command: Command
    /// Set by a leader that passed the proposal on, so that two stale leaders never bounce it back and forth.
    public let forwarded: Bool
}
/// A replica that cannot learn a slot from its peers asks the leader to settle it (a no-op if nothing was chosen).
public struct FillHole: Sendable, Equatable { public let slot: Slot }
/// A slot's value is chosen. Leader → Replica.
public struct Decision: Sendable, Equatable { public let ballot: Ballot; public let slot: Slot; public let value: Value }
/// A lagging replica asks a peer for the decisions from `from` on, or for the next chunk of a snapshot it is
/// receiving from that peer. Replica → Replica.
public struct CatchUpRequest: Sendable, Equatable {
    public let from: Slot
    /// Go on with the snapshot up to this cursor's slot from its byte offset (nil: send decisions, or start a
    /// snapshot if they were trimmed).
    public var resume: SnapshotCursor? = nil
}
/// Where a snapshot transfer stands: the snapshot (named by its `nextSlot`) and how many of its state machine's
/// bytes the receiver holds.
public struct SnapshotCursor: Sendable, Equatable {
    public let nextSlot: Slot
    public let offset: Int64
}
/// One chunk of a snapshot's state-machine bytes, sent because the slots asked for were trimmed. A snapshot of
/// any size travels as chunks of bounded size, one at a time as the receiver asks for them (so that neither side
/// holds more than a chunk in flight); the first chunk carries everything else the snapshot holds.
public struct SnapshotChunk: Sendable, Equatable {
    /// The snapshot's `nextSlot`: which snapshot this is a chunk of.
    public let nextSlot: Slot
    /// The total length of the state machine's encoding.
    public let total: Int64
    /// Where in it `bytes` start.
    public let offset: Int64
    /// The bytes.
    public let bytes: [UInt8]
    /// With the first chunk (offset 0): the snapshot without its state machine's bytes.
    public let header: Snapshot?
}
/// Decided values starting at `first`, or a snapshot when the asked-for slots were already trimmed. Replica → Replica.
public struct CatchUpReply: Sendable, Equatable {
    /// The sender's state, whole, when it has trimmed the slots asked for (earlier versions; now sent as `chunk`s).
    public let snapshot: Snapshot?
    /// The slot of the first value.
    public let first: Slot
    /// Decided values of consecutive slots from `first`.
    public let values: [Value]
    /// A chunk of the sender's snapshot, when it has trimmed the slots asked for.
    public var chunk: SnapshotChunk? = nil
}
/// A leader asks its own node's Scout to run Phase 1. Leader → Scout, always local.
public struct StartPhase1: Sendable, Equatable { public let ballot: Ballot; public let scope: PrepareScope }
/// Phase 1a: promise to ignore ballots below `ballot` for the slots in `scope`. Scout → Acceptor.
public struct Prepare: Sendable, Equatable {
    public let ballot: Ballot
    public let scope: PrepareScope
    /// Report accepted values from this slot on (nil: from the scope's first): a Scout asks again from where an
    /// acceptor's size-bounded Promise stopped (`Promise.more`).
    public var reportFrom: Slot? = nil
}
/// Phase 1b: the acceptor's promised ballot (equal to the asked one when granted) and what it accepted in scope.
/// Acceptor → Scout.
public struct Promise: Sendable, Equatable {
    /// The ballot the Prepare asked for.
    public let ballot: Ballot
    /// The acceptor's promise now: equal to `ballot` when granted, higher when refused.
    public let promised: Ballot
    /// The slots the Prepare covered.
    public let scope: PrepareScope
    /// What the acceptor accepted in scope (when granted).
    public let accepted: [PValue]
    /// Slots below this are decided and applied by a majority; no leader may propose there.
    public let trimmedBelow: Slot
    /// One past the highest slot this acceptor has accepted anything in.
    public let slotsEnd: Slot
    /// The slot from which `accepted` was reported (the Prepare's `reportFrom`, or the scope's first).
    public var reportFrom: Slot? = nil
    /// nil when `accepted` holds every value in scope from `reportFrom` on; otherwise the first slot it left out
    /// to keep the message within `ClusterConfiguration.promiseBytes`: the Scout asks again from there, and
    /// counts the acceptor only once its report is whole.
    public var more: Slot? = nil
}
/// Phase 1 succeeded: a majority promised. Scout → Leader, always local.
public struct Adopted: Sendable, Equatable {
    /// The ballot a majority promised.
    public let ballot: Ballot
    /// The slots it covers.
    public let scope: PrepareScope
    /// For each slot, the value accepted at the highest ballot, sorted by slot.
    public let accepted: [PValue]
    /// The highest trim watermark among the promises: no leader proposes below it.
    public let trimmedBelow: Slot
    /// One past the highest slot any promising acceptor accepted in.
    public let slotsEnd: Slot
}
/// A higher ballot was seen: the leader's ballot is dead. Scout → Leader, always local.
public struct Preempted: Sendable, Equatable { public let ballot: Ballot; public let by: Ballot }
/// Phase 2a: accept `value` in `slot` at `ballot`. Leader → Acceptor.
public struct Accept: Sendable, Equatable { public let ballot: Ballot; public let slot: Slot; public let value: Value }
/// Phase 2b: the acceptor's promised ballot for the slot (equal to the asked one when accepted). Acceptor → Leader.
public struct Accepted: Sendable, Equatable { public let ballot: Ballot; public let promised: Ballot; public let slot: Slot }
/// The leader is alive: slots below `nextSlot` are assigned, slots below `trimBelow` are applied by a majority.
/// Leader → every node.
public struct Heartbeat: Sendable, Equatable { public let ballot: Ballot; public let nextSlot: Slot; public let trimBelow: Slot }
/// A replica tells the leader how far it has applied and persisted a snapshot. Replica → Leader.
public struct HeartbeatReply: Sendable, Equatable {
    /// The heartbeat's ballot.
    public let ballot: Ballot
    /// The first slot not in the replica's persisted snapshot.
    public let applied: Slot
    /// One past the highest slot this node's acceptor accepted in: a per-slot leader, which runs no Phase 1
    /// when it takes over, learns from it which slots exist.
    public let acceptedEnd: Slot
}
/// A follower that stopped hearing its leader asks whether it may compete with `ballot`, before raising any
/// promise: a node that cannot reach a majority (cut off, deaf, behind a bridge) then never disrupts one that
/// can. `applied` is how far the candidate's replica has applied: a node whose log starts past it refuses, so
/// that a node needing a whole snapshot before it could serve is not elected over one that could serve at once
/// (as Raft's vote goes only to a candidate whose log is up to date). Leader → Leader.
public struct PreVote: Sendable, Equatable {
    /// The ballot the candidate would compete with.
    public let ballot: Ballot
    /// The next slot the candidate's replica will apply.
    public let applied: Slot
}
/// A node that has not heard from a leader for a leader timeout supports a pre-vote; `highest` is the highest
/// ballot it knows of, for the candidate to outbid. Leader → Leader.
public struct PreVoteGrant: Sendable, Equatable { public let ballot: Ballot; public let highest: Ballot }
/// An operator asks the leader to hand leadership to `target` (a shell's own input, or a follower passing the
/// request on to the leader it knows, once). Shell or Leader → Leader.
public struct TransferLeadership: Sendable, Equatable {
    /// The member that should lead next.
    public let target: NodeID
    /// Set by a node that passed the request on, so that two stale nodes never bounce it back and forth.
    public let forwarded: Bool
    /// Makes a request to hand leadership to `target`.
    public init(target: NodeID, forwarded: Bool = false) {
        self.target = target
        self.forwarded = forwarded
    }
}
/// The leader of `ballot` paused its proposals and found the receiver caught up: compete now, above `ballot`,
/// without waiting a leader timeout or asking for a pre-vote. `nextSlot` is the first slot the old leader never
/// assigned. Leader → Leader.
public struct TimeoutNow: Sendable, Equatable { public let ballot: Ballot; public let nextSlot: Slot }
/// A node asks to be let into the cluster, or a Seed asks whether one exists already. Initializer or Seed → Seed
/// or Replica (and Seed → Initializer, which answers with its own Join).
public struct Join: Sendable, Equatable {
    /// This start of the asking node, drawn when it starts: a Welcome that lets a new node vote at once names
    /// it, so a node that lost its disk since never takes that Welcome for its own.
    public var nonce: UInt64
    /// Whether the asker's storage never recorded a membership. A node that lost its disk is new too; a cluster
    /// is founded only when every initial voter asks as new (see Seed).
    public var isNew: Bool
    /// Makes a Join.
    public init(nonce: UInt64 = 0, isNew: Bool = true) {
        self.nonce = nonce
        self.isNew = isNew
    }
}
/// The answer to a Join: the state to start from and the leader to ask. Seed or Replica → Initializer or Seed.
public struct Welcome: Sendable, Equatable {
    /// The state to start from; nil: the empty state, from which the node catches up (in chunks when the
    /// others have trimmed their logs), so that a Welcome stays small whatever the state's size.
    public let snapshot: Snapshot?
    /// The leader the sender knows of.
    public let leader: Ballot
    /// The cluster's founders as the sender knows them: the nonce of each initial voter's Join that the Seed
    /// answered as it founded the cluster (empty if the sender does not know). A node with empty storage votes at
    /// once only if its own Join is there; otherwise the cluster runs without it having founded it, and it
    /// rejoins (through the log and a fence) before it votes, since it cannot tell whether it lost a disk it had
    /// voted with.
    public let founders: [NodeID: UInt64]
    /// Makes a Welcome.
    public init(snapshot: Snapshot?, leader: Ballot, founders: [NodeID: UInt64] = [:]) {
        self.snapshot = snapshot
        self.leader = leader
        self.founders = founders
    }
}

/// Every message nodes exchange, one case per kind; roles handle them with exhaustive switches. Equatable field by
/// field, so that what the wire format (``WireCodec``) decodes can be compared with what was sent.
public enum Message: Sendable, Equatable, CustomStringConvertible {
    /// A ``Request``.
    case request(Request)
    /// A ``Reply``.
    case reply(Reply)
    /// A ``Propose``.
    case propose(Propose)
    /// A ``FillHole``.
    case fillHole(FillHole)
    /// A ``Decision``.
    case decision(Decision)
    /// A ``CatchUpRequest``.
    case catchUpRequest(CatchUpRequest)
    /// A ``CatchUpReply``.
    case catchUpReply(CatchUpReply)
    /// A ``StartPhase1``.
    case startPhase1(StartPhase1)
    /// A ``Prepare``.
    case prepare(Prepare)
    /// A ``Promise``.
    case promise(Promise)
    /// A ``Adopted``.
    case adopted(Adopted)
    /// A ``Preempted``.
    case preempted(Preempted)
    /// A ``Accept``.
    case accept(Accept)
    /// A ``Accepted``.
    case accepted(Accepted)
    /// A ``Heartbeat``.
    case heartbeat(Heartbeat)
    /// A ``HeartbeatReply``.
    case heartbeatReply(HeartbeatReply)
    /// A ``Join``.
    case join(Join)
    /// A ``Welcome``.
    case welcome(Welcome)
    /// A ``PreVote``.
    case preVote(PreVote)
    /// A ``PreVoteGrant``.
    case preVoteGrant(PreVoteGrant)
    /// A ``TransferLeadership``.
    case transferLeadership(TransferLeadership)
    /// A ``TimeoutNow``.
    case timeoutNow(TimeoutNow)
    /// A ``ReadIndexRequest``.
    case readIndexRequest(ReadIndexRequest)
    /// A ``ReadIndexReply``.
    case readIndexReply(ReadIndexReply)
    /// A ``ReadConfirm``.
    case readConfirm(ReadConfirm)
    /// A ``ReadConfirmReply``.
    case readConfirmReply(ReadConfirmReply)

    /// The message's kind, for routing, counting and traces.
    public var kind: MessageKind {
        switch self {
        case .request: .request
        case .reply: .reply
        case .propose: .propose
        case .fillHole: .fillHole
        case .decision: .decision
        case .catchUpRequest: .catchUpRequest
        case .catchUpReply: .catchUpReply
        case .startPhase1: .startPhase1
        case .prepare: .prepare
        case .promise: .promise
        case .adopted: .adopted
        case .preempted: .preempted
        case .accept: .accept
        case .accepted: .accepted
        case .heartbeat: .heartbeat
        case .heartbeatReply: .heartbeatReply
        case .join: .join
        case .welcome: .welcome
        case .preVote: .preVote
        case .preVoteGrant: .preVoteGrant
        case .transferLeadership: .transferLeadership
        case .timeoutNow: .timeoutNow
        case .readIndexRequest: .readIndexRequest
        case .readIndexReply: .readIndexReply
        case .readConfirm: .readConfirm
        case .readConfirmReply: .readConfirmReply
        }
    }

    public var description: String {
        switch self {
        case .request(let m): "Request(\(m.command))"
        case .reply(let m): "Reply(\(m.key))"
        case .propose(let m): "Propose(\(m.command))"
        case .fillHole(let m): "FillHole(\(m.slot))"
        case .decision(let m): "Decision(\(m.slot)=\(m.value) b=\(m.ballot))"
        case .catchUpRequest(let m):
            m.resume.map { "CatchUpRequest(from \(m.from), snapshot to \($0.nextSlot) from byte \($0.offset))" }
                ?? "CatchUpRequest(from \(m.from))"
        case .catchUpReply(let m):
            m.chunk.map { "CatchUpReply(snapshot to \($0.nextSlot), bytes \($0.offset)+\($0.bytes.count) of \($0.total))" }
                ?? m.snapshot.map { "CatchUpReply(snapshot to \($0.nextSlot), \(m.values.count) more)" }
                ?? "CatchUpReply(\(m.first)+\(m.values.count))"
        case .startPhase1(let m): "StartPhase1(b=\(m.ballot) \(m.scope))"
        case .prepare(let m): "Prepare(b=\(m.ballot) \(m.scope))"
        case .promise(let m):
            m.promised == m.ballot
                ? "Promise(b=\(m.ballot) \(m.accepted.count) accepted)" : "Promise(refused: promised \(m.promised))"
        case .adopted(let m): "Adopted(b=\(m.ballot) \(m.accepted.count) accepted)"
        case .preempted(let m): "Preempted(b=\(m.ballot) by \(m.by))"
        case .accept(let m): "Accept(b=\(m.ballot) \(m.slot)=\(m.value))"
        case .accepted(let m):
            m.promised == m.ballot ? "Accepted(b=\(m.ballot) \(m.slot))" : "Accepted(refused \(m.slot): promised \(m.promised))"
        case .heartbeat(let m): "Heartbeat(b=\(m.ballot) next \(m.nextSlot))"
        case .heartbeatReply(let m): "HeartbeatReply(applied to \(m.applied))"
        case .join: "Join"
        case .welcome(let m): "Welcome(from \(m.snapshot?.nextSlot ?? .zero)\(m.founders.isEmpty ? "" : ", founders \(NodeSet(m.founders.keys))"))"
        case .preVote(let m): "PreVote(b=\(m.ballot))"
        case .preVoteGrant(let m): "PreVoteGrant(b=\(m.ballot) highest \(m.highest))"
        case .transferLeadership(let m): "TransferLeadership(to \(m.target)\(m.forwarded ? ", forwarded" : ""))"
        case .timeoutNow(let m): "TimeoutNow(above b=\(m.ballot) next \(m.nextSlot))"
        case .readIndexRequest(let m): m.lease ? "ReadIndexRequest(\(m.key) lease)" : "ReadIndexRequest(\(m.key))"
        case .readIndexReply(let m):
            m.index.map { "ReadIndexReply(\(m.key) index \($0))" } ?? "ReadIndexReply(\(m.key) not leader; leader \(m.leader))"
        case .readConfirm(let m): "ReadConfirm(b=\(m.ballot) \(m.round))"
        case .readConfirmReply(let m):
            m.promised <= m.ballot ? "ReadConfirmReply(b=\(m.ballot) \(m.round) accepted end \(m.acceptedEnd))"
                : "ReadConfirmReply(refused \(m.round): promised \(m.promised))"
        }
    }
}

/// The kinds of message, in a fixed order for summaries.
public enum MessageKind: Int, CaseIterable, Sendable, CustomStringConvertible {
    case request, reply, propose, fillHole, decision, catchUpRequest, catchUpReply, startPhase1, prepare, promise
    case adopted, preempted, accept, accepted, heartbeat, heartbeatReply, join, welcome, preVote, preVoteGrant
    case transferLeadership, timeoutNow
    case readIndexRequest, readIndexReply, readConfirm, readConfirmReply

    public var description: String {
        switch self {
        case .request: "Request"
        case .reply: "Reply"
        case .propose: "Propose"
        case .fillHole: "FillHole"
        case .decision: "Decision"
        case .catchUpRequest: "CatchUpRequest"
        case .catchUpReply: "CatchUpReply"
        case .startPhase1: "StartPhase1"
        case .prepare: "Prepare"
        case .promise: "Promise"
        case .adopted: "Adopted"
        case .preempted: "Preempted"
        case .accept: "Accept"
        case .accepted: "Accepted"
        case .heartbeat: "Heartbeat"
        case .heartbeatReply: "HeartbeatReply"
        case .join: "Join"
        case .welcome: "Welcome"
        case .preVote: "PreVote"
        case .preVoteGrant: "PreVoteGrant"
        case .transferLeadership: "TransferLeadership"
        case .timeoutNow: "TimeoutNow"
        case .readIndexRequest: "ReadIndexRequest"
        case .readIndexReply: "ReadIndexReply"
        case .readConfirm: "ReadConfirm"
        case .readConfirmReply: "ReadConfirmReply"
        }
    }
}
