/// The Leader's two guards against a node that cannot reach a majority, as in etcd's Raft:
///
/// - **CheckQuorum.** A leader counts the members it hears from (heartbeat replies and Accepted messages for its
///   ballot, itself included) over each leader timeout; hearing fewer than a majority, it steps down. A leader
///   that can send but not receive (deaf) would otherwise keep every follower quiet with its heartbeats while
///   nothing commits.
/// - **Pre-vote.** A follower that stopped hearing its leader competes only once a majority (itself included)
///   says it too has not heard from a leader for a leader timeout. Until then it raises no ballot, so a node
///   behind a bridge, deaf, or cut off never preempts a leader that a majority follows.
///
/// It is a value kept by the Leader; it counts only, and the Leader acts on what it says.
struct Election {
    let node: NodeID
    /// The latest voters: whom a pre-vote asks, and whose majority CheckQuorum and a pre-vote need.
    var voters: NodeSet
    var quorum: Int { voters.count / 2 + 1 }
    /// Heartbeat ticks per leader timeout: how often a leader checks what it heard.
    let ticksPerCheck: Int

    /// While leading: the members heard from since the last check.
    private(set) var heardFrom = NodeSet()
    private var ticks = 0

    /// A pre-vote in progress: the ballot asked for, who granted it, and the highest ballot a granter knew.
    private(set) var preVote: (ballot: Ballot, grants: NodeSet, highest: Ballot)?
    /// Whether a `preVoteRetry` timer is pending (timers cannot be cancelled: each firing sets the next).
    private var retryArmed = false

    init(node: NodeID, config: ClusterConfiguration) {
        self.node = node
        voters = config.memberSet
        let timing = config.timing
        ticksPerCheck = max(1, Int((timing.leaderTimeout + timing.heartbeatInterval - 1) / max(1, timing.heartbeatInterval)))
    }

    // MARK: CheckQuorum

    /// The node starts leading: it has heard from itself only.
    mutating func startLeading() {
        heardFrom = voters.contains(node) ? NodeSet([node]) : NodeSet()
        ticks = 0
        preVote = nil
    }

    /// A member answered the leader's current ballot.
    mutating func heard(from member: NodeID) {
        guard voters.contains(member) else { return }
        heardFrom.insert(member)
    }

    /// One heartbeat tick of a leader. When a whole leader timeout passed without hearing from a majority,
    /// returns how many members it did hear from: the leader must step down.
    mutating func tick() -> Int? {
        ticks += 1
        guard ticks >= ticksPerCheck else { return nil }
        let heard = heardFrom.count
        ticks = 0
        heardFrom = voters.contains(node) ? NodeSet([node]) : NodeSet()
        return heard >= quorum ? nil : heard
    }

    // MARK: Pre-vote

    /// Starts asking the other members for support to compete with `ballot`: returns the messages and the
    /// retry timer, or nil when this node alone is a majority and may compete at once.
    /// `applied` is how far this node's replica has applied, which the others weigh before granting.
    mutating func startPreVote(_ ballot: Ballot, applied: Slot, config: ClusterConfiguration) -> [Effect]? {
        preVote = (ballot, NodeSet([node]), .initial)
        guard quorum > 1 else { return nil }
        let ask = PreVote(ballot: ballot, applied: applied)
        var effects: [Effect] = [.broadcast(.preVote(ask), to: voters.subtracting(NodeSet([node])))]
        if !retryArmed {
            retryArmed = true
            effects.append(.setTimer(.preVoteRetry, after: config.timing.retransmitInterval, jitter: 0))
        }
        return effects
    }

    /// The retry timer fired: while the pre-vote lasts, ask the members that have not granted it again (on a
    /// lossy network a single round would often cost a whole leader timeout).
    mutating func retryPreVote(applied: Slot, config: ClusterConfiguration) -> [Effect] {
        guard let round = preVote else { return stopRetrying() }
        return [
            .broadcast(.preVote(PreVote(ballot: round.ballot, applied: applied)), to: voters.subtracting(round.grants)),
            .setTimer(.preVoteRetry, after: config.timing.retransmitInterval, jitter: 0),
        ]
    }

    /// The retry timer fired with no pre-vote to retry: it is not set again.
    mutating func stopRetrying() -> [Effect] {
        retryArmed = false
        return []
    }

    /// A member granted the pre-vote for `ballot`; returns the highest ballot the granters know once a majority
    /// (this node included) granted it, which ends the pre-vote.
    mutating func granted(by member: NodeID, ballot: Ballot, highest: Ballot) -> Ballot? {
        guard var round = preVote, round.ballot == ballot, voters.contains(member) else { return nil }
        round.grants.insert(member)
        round.highest = max(round.highest, highest)
        guard round.grants.count >= quorum else {
            preVote = round
            return nil
        }
        preVote = nil
        return round.highest
    }

    /// A leader was heard from, or the node competes anyway: no pre-vote is pending any more.
    mutating func cancelPreVote() {
        preVote = nil
    }
}
