/// Virtual or real time in microseconds; the type carries the unit.
public typealias Microseconds = Int64

/// A timer a role sets through the bus; it comes back as `Input.timer` on the same node. (Named so that it never
/// collides with Foundation's `Timer` in a program that imports both.)
public enum ProtocolTimer: Hashable, Sendable, CustomStringConvertible {
    /// The leader's period: heartbeats, and Accepts still waiting for a majority sent again.
    case heartbeat
    /// A follower checks whether it heard the leader; `generation` discards checks armed before a reset.
    case leaderCheck(generation: UInt64)
    /// A follower asking for a pre-vote asks again the nodes that have not granted it.
    case preVoteRetry
    /// The scout resends Prepares that are still waiting for a majority.
    case scoutRetransmit
    /// A replica checks whether it is lagging and asks a peer for what it missed.
    case catchUp
    /// A client resends a request that has not been answered.
    case requestRetry(RequestKey)
    /// A joining node asks the next peer.
    case joinRetry
    /// A leader's lease counted from the start of this round of read confirmations ends (Roles/Lease.swift).
    case leaseExpiry(ReadRound)
    /// An acceptor's lease grant ends, unless a later grant (a higher generation) renewed it.
    case leaseGrant(generation: UInt64)

    /// The role that owns the timer.
    public var role: RoleKind {
        switch self {
        case .heartbeat, .leaderCheck, .preVoteRetry, .leaseExpiry: .leader
        case .leaseGrant: .acceptor
        case .scoutRetransmit: .scout
        case .catchUp: .replica
        case .requestRetry: .requester
        case .joinRetry: .initializer
        }
    }
    public var description: String {
        switch self {
        case .heartbeat: "heartbeat"
        case .leaderCheck(let g): "leader-check(\(g))"
        case .preVoteRetry: "pre-vote-retry"
        case .scoutRetransmit: "scout-retransmit"
        case .catchUp: "catch-up"
        case .requestRetry(let k): "request-retry(\(k))"
        case .joinRetry: "join-retry"
        case .leaseExpiry(let r): "lease-expiry(\(r))"
        case .leaseGrant(let g): "lease-grant(\(g))"
        }
    }
}

/// What a role is handed: a message from a node, or one of its own timers.
public enum Input: Sendable {
    /// A message and the node that sent it.
    case message(Message, from: NodeID)
    /// A timer the role set earlier.
    case timer(ProtocolTimer)
}

/// Something that happened inside a role, reported for the trace, the summary and the checkers.
public enum Event: Sendable, CustomStringConvertible {
    /// A Scout began Phase 1.
    case phase1Started(Ballot, PrepareScope)
    /// A Scout's Phase 1 went a retransmit interval without a majority: who promised, whom it still waits for,
    /// and how far the reports that come in parts have reached (said once per round).
    case phase1Waiting(Ballot, PrepareScope, promised: NodeSet, waitingFor: NodeSet, partsReached: [(NodeID, Slot)])
    /// A leader holds a majority of promises for its ballot (stable-leader mode) or claimed leadership (per-slot mode).
    case elected(Ballot)
    /// A leader's ballot was beaten by a higher one.
    case preempted(Ballot, by: Ballot)
    /// A follower stopped hearing its leader and asks the others whether it may compete (a pre-vote).
    case leaderSuspected(Ballot)
    /// A node refused `candidate`'s pre-vote: the candidate has applied up to `applied` only, and this node's log
    /// starts at `logStart`, so the candidate would need a whole snapshot before it could serve (said once per
    /// ballot asked for).
    case preVoteRefused(NodeID, applied: Slot, logStart: Slot)
    /// A follower that stopped hearing its leader does not compete while a snapshot up to `Slot` arrives.
    case awaitsSnapshot(Slot)
    /// A leader heard from fewer than a majority (itself included) for a whole leader timeout and stopped
    /// leading, so that a majority that can hear each other elects a leader (CheckQuorum).
    case steppedDown(Ballot, heard: Int)
    /// A leader learned that a majority accepted `value` in `slot`.
    case decided(Slot, Value)
    /// A replica applied a slot; `duplicate` when the command had already run in an earlier slot. `result` is
    /// what the command returned (the cached result for a duplicate, nil for a no-op).
    case applied(Slot, Value, duplicate: Bool, result: [UInt8]?)
    /// A replica took a snapshot from a peer instead of the slots before `Slot`.
    case installedSnapshot(Slot)
    /// A client sent a new request.
    case invoked(RequestKey, operation: [UInt8])
    /// A client got the answer to a request.
    case completed(RequestKey, result: [UInt8])
    /// The seed let these nodes in.
    case welcomed(NodeSet)
    /// The seed has not heard these initial voters ask as new yet, and founds the cluster only once it has.
    case waitingToFound(missing: NodeSet)
    /// This node became a member, starting at the given slot.
    case joined(Slot)
    /// A node with no record of a membership found the cluster running (or was told to rejoin): it may have
    /// voted before it lost its storage, so it rejoins before it votes; the text says how it knows.
    case mustRejoin(String)
    /// A node that lost its storage became a voting member again, in `epoch`, after a quorum promised `fence`.
    case rejoined(epoch: UInt64, fence: Ballot)
    /// The leader of `Ballot` stopped assigning slots to hand leadership to a member (see Roles/Transfer.swift).
    case transferStarted(Ballot, to: NodeID)
    /// The leader of `Ballot` gave up handing leadership to a member within a leader timeout, and assigns again.
    case transferAbandoned(Ballot, to: NodeID)
    /// The leader of `Ballot` asked this node to take over (TimeoutNow): it competes at once, without a pre-vote.
    case toldToCompete(by: Ballot)
    /// A replica applied a change of voters: they govern from the configuration's first slot on.
    case reconfigured(VoterConfiguration)

    public var description: String {
        switch self {
        case .phase1Started(let b, let s): "starts Phase 1 for ballot \(b), slots \(s)"
        case .phase1Waiting(let b, let s, let promised, let waiting, let parts):
            "Phase 1 for ballot \(b), slots \(s), waits for \(Event.waitingText(promised: promised, waitingFor: waiting, partsReached: parts))"
        case .elected(let b): "leads with ballot \(b)"
        case .preempted(let b, let by): "ballot \(b) preempted by \(by)"
        case .leaderSuspected(let b): "suspects leader of ballot \(b) is gone"
        case .preVoteRefused(let c, let applied, let start):
            "refuses \(c)'s pre-vote: it applied only up to \(applied), and this node's log starts at \(start)"
        case .awaitsSnapshot(let s): "does not compete while a snapshot up to \(s) arrives"
        case .steppedDown(let b, let heard): "steps down from ballot \(b): heard from only \(heard) node(s) in a leader timeout"
        case .decided(let s, let v): "decided \(s) = \(v)"
        case .applied(let s, let v, let dup, _): dup ? "skips \(s) = \(v) (already applied)" : "applies \(s) = \(v)"
        case .installedSnapshot(let s): "installs a snapshot up to \(s)"
        case .invoked(let k, _): "invokes \(k)"
        case .completed(let k, _): "completes \(k)"
        case .welcomed(let n): "welcomes \(n)"
        case .waitingToFound(let missing): "waits for \(missing) to start before it founds the cluster"
        case .mustRejoin(let why): "must rejoin before it votes: \(why)"
        case .rejoined(let e, let f) where f == .initial: "rejoins as a voting member in epoch \(e) (no fence: it votes in no configuration it knows)"
        case .rejoined(let e, let f): "rejoins as a voting member in epoch \(e) (fence \(f) promised)"
        case .joined(let s): "joins the cluster at \(s)"
        case .transferStarted(let b, let to): "pauses ballot \(b)'s proposals to hand leadership to \(to)"
        case .transferAbandoned(let b, let to): "abandons the transfer to \(to) and resumes proposing with ballot \(b)"
        case .toldToCompete(let b): "competes at once: the leader of ballot \(b) hands over (TimeoutNow)"
        case .reconfigured(let c): "voters become {\(c.voters)} from \(c.from) (configuration #\(c.number))"
        }
    }
}

/// What a role asks its node and the bus to do after handling one input. Roles never do I/O themselves.
public enum Effect: Sendable {
    /// Send a message to one node (possibly this one).
    case send(Message, to: NodeID)
    /// Send the same message to every node of a set.
    case broadcast(Message, to: NodeSet)
    /// Fire `timer` after `after` plus a random extra of up to `jitter`, drawn by the bus.
    case setTimer(ProtocolTimer, after: Microseconds, jitter: Microseconds)
    /// Install these roles on this node.
    case install([any Role])
    /// Remove this node's role of the given kind.
    case uninstall(RoleKind)
    /// Report an event.
    case event(Event)
}

extension Event {
    /// What a waiting Phase 1 lacks, in words: the acceptors not heard, those whose report is partly in, and who promised.
    static func waitingText(promised: NodeSet, waitingFor: NodeSet, partsReached: [(NodeID, Slot)]) -> String {
        let parts = partsReached.map { "\($0.0)'s report (in parts, up to \($0.1))" }
        let whole = waitingFor.filter { id in !partsReached.contains { $0.0 == id } }
        var text = (whole.map { "\($0)" } + parts).joined(separator: ", ")
        if text.isEmpty { text = "nothing" }
        return text + "; promised by " + (promised.isEmpty ? "none" : "\(promised)")
    }
}
