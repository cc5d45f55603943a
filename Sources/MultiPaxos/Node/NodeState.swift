extension Node {
    /// What the node's roles know now (role, ballots, leader, slots), read in one turn of the node's executor
    /// so the fields agree with each other; the shell that runs the node fills in its own counters.
    public func protocolState() async -> NodeMetrics {
        let replica = self.replica, leader = self.leader, acceptor = self.acceptor
        let role: NodeRole
        if replica == nil {
            role = .joining
        } else if acceptor == nil {
            role = .learner
        } else if await leader?.isActive == true {
            role = .leader
        } else if await leader?.isCompeting == true {
            role = .candidate
        } else {
            role = .follower
        }
        var metrics = NodeMetrics(node: id, role: role)
        if let leader {
            metrics.ballot = await leader.ballot
            metrics.inFlightSlots = await leader.slotsInFlight
        }
        if let acceptor { metrics.promisedBallot = await acceptor.promised }
        var believed = await leader?.believedLeader ?? Ballot.initial
        if let replica {
            let applied = await replica.nextSlot.index
            metrics.appliedSlots = applied
            metrics.decidedSlots = applied + Int64(await replica.decidedAheadCount)
            if leader == nil { believed = await replica.leaderHint }
        }
        if role == .leader { believed = metrics.ballot }
        if believed != .initial {
            metrics.knownLeader = believed.leader
            metrics.knownLeaderBallot = believed
        }
        return metrics
    }
}
