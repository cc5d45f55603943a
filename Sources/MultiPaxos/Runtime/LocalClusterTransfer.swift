/// Why `LocalCluster.transferLeadership(to:timeout:)` did not make the target the leader.
public enum TransferError: Error, Equatable, CustomStringConvertible {
    /// The target is not a member of the cluster.
    case unknownNode(NodeID)
    /// The target is stopped.
    case targetDown(NodeID)
    /// The target runs but does not vote (a learner rejoining after losing its storage, or a node not yet joined).
    case targetNotVoting(NodeID, Membership)
    /// No node leads now, so there is no one to hand leadership over.
    case noLeader
    /// The leader gave the transfer up (the target did not catch up, or did not win, within a leader timeout), or
    /// another node took leadership meanwhile; `leader` is the node that leads now, if any is known.
    case abandoned(to: NodeID, leader: NodeID?)
    /// The target did not lead within the time the call was given.
    case timedOut(to: NodeID, after: Duration)
    /// The cluster has been shut down.
    case shutDown

    public var description: String {
        switch self {
        case .unknownNode(let n): "node \(n) is not a member"
        case .targetDown(let n): "node \(n) is stopped: it cannot take over"
        case .targetNotVoting(let n, let m): "node \(n) does not vote (it is \(m)): it cannot take over"
        case .noLeader: "no node leads now: there is no leadership to hand over"
        case .abandoned(let to, let leader):
            "the transfer to \(to) was abandoned; " + (leader.map { "\($0) leads" } ?? "no leader is known now")
        case .timedOut(let to, let after): "\(to) did not take over within \(after)"
        case .shutDown: "the cluster has been shut down"
        }
    }
}

extension LocalCluster {
    /// Hands leadership to `target`, as etcd's Raft does with MsgTransferLeader: the leader stops assigning
    /// slots (commands wait), brings the target up to date, then tells it to compete at once with a higher
    /// ballot. Returns once the target leads (at once if it already does). Throws `.abandoned` when the leader
    /// gave up after a leader timeout (it then assigns again) or another node took over, and `.timedOut` when
    /// the target does not lead within `timeout` (ten leader timeouts by default). No command is lost either way:
    /// those that waited go to whoever leads.
    public func transferLeadership(to target: NodeID, timeout: Duration? = nil) async throws(TransferError) {
        guard known.contains(target) else { throw .unknownNode(target) }
        guard !isShutDown else { throw .shutDown }
        guard nodes[target.value] != nil else { throw .targetDown(target) }
        let membership = (try? await membership(of: target)) ?? .new
        guard membership == .member else { throw .targetNotVoting(target, membership) }
        guard let from = await leader(), let role = await nodes[from.value]?.leader else { throw .noLeader }
        if from == target { return }
        let abandonedBefore = await role.transfersAbandoned
        router.deliver(.message(.transferLeadership(TransferLeadership(target: target)), from: from), to: from)
        let limit = timeout ?? .microseconds(10 * configuration.timing.leaderTimeout)
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while true {
            let leading = await leader()
            if leading == target { return }
            if isShutDown { throw .shutDown }
            if await role.transfersAbandoned > abandonedBefore { throw .abandoned(to: target, leader: leading) }
            if let leading, leading != from { throw .abandoned(to: target, leader: leading) }
            if clock.now >= deadline { throw .timedOut(to: target, after: limit) }
            try? await Task.sleep(for: .milliseconds(1))
        }
    }
}
