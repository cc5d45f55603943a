#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Changes of voters on a running `LocalCluster`, through the log (Core/Voters.swift): one node at a time, each
/// a command a voter proposes as an operator's request, in force α slots after it is decided.
extension LocalCluster {
    /// The voters now, as the running voter that has applied the most sees them.
    public func voters() async -> [NodeID] {
        Array(await latestVoters()?.configuration.voters ?? configuration.memberSet)
    }

    /// Adds a node under a new id: it starts as a non-voter, joins, catches up from its peers and rejoins, then a
    /// change through the log makes it a voter. Returns its id once the change is in force. With a storage
    /// directory the node keeps its state in its own file there, and a cluster started again on the directory
    /// (with the same initial `nodes`) starts it too. Throws `.invalidConfiguration` when no node id is free,
    /// `.storage` when its file cannot be made, and `.timeout` when the change is not in force within `timeout`
    /// (twenty leader timeouts by default; it may still take effect later).
    public func addNode(timeout: Duration? = nil) async throws(ClusterError) -> NodeID {
        guard !isShutDown else { throw .shutDown }
        let taken = { (id: Int) -> Bool in
            self.known.contains(NodeID(id)) || self.directory.map { access(Self.removedPath($0, NodeID(id)), F_OK) == 0 } ?? false
        }
        guard let free = (0..<NodeSet.capacity).first(where: { !taken($0) }) else {
            throw .invalidConfiguration("64 nodes were started already: no node id is free")
        }
        let id = NodeID(free)
        if let directory {
            let file = try FileStorage(path: Self.path(directory, id))
            try file.claim(Self.identity(of: id, initial: configuration.members.count, mode: configuration.mode))
            try file.persist(always: true)
            files[id.value] = file
            storages[id.value] = file.state
        } else {
            storages[id.value] = DurableState()
        }
        let current = await voters()
        var joining = ClusterConfiguration(members: current, mode: configuration.mode, timing: configuration.timing,
                                           catchUpBatch: configuration.catchUpBatch)
        joining.batching = configuration.batching
        joining.reads = configuration.reads
        joining.leases = configuration.leases
        joining.retainedSlots = configuration.retainedSlots
        joining.snapshotIntervalSlots = configuration.snapshotIntervalSlots
        joining.snapshotIntervalBytes = configuration.snapshotIntervalBytes
        joining.snapshotGrowth = configuration.snapshotGrowth
        known.insert(id)
        let executor = QueueExecutor(label: "multipaxos.node\(id.value)", runsTasks: true)
        start(id, executor: executor, roles: bootstrapRoles(id, executor: executor, joining: joining))
        // Made a voter only once it has rejoined, as etcd promotes only a learner in sync (and as the simulated
        // operator does): made one earlier, it raises the quorum while it cannot vote, and a leader's Phase 1 for
        // the new voters waits for it while its rejoin, which has come to need a fence read since it learned of
        // the change, waits for that leader (`LocalClusterMembershipTests` hung so about half its runs).
        let limit = timeout ?? .microseconds(20 * configuration.timing.leaderTimeout)
        let deadline = ContinuousClock.now + limit
        while (try? await membership(of: id)) != .member {
            if isShutDown { throw .shutDown }
            if ContinuousClock.now >= deadline { throw .timeout(after: limit) }
            try? await Task.sleep(for: .milliseconds(2))
        }
        try await change(to: { $0.inserting(id) }, timeout: deadline - ContinuousClock.now)
        return id
    }

    /// Removes a voter: a change through the log stops it voting; once the change is in force (and, if it led,
    /// it has handed leadership to a voter) the node is stopped for good. Throws `.unknownNode` for a node that
    /// is not a voter and `.invalidConfiguration` for the last one.
    public func removeNode(_ node: NodeID, timeout: Duration? = nil) async throws(ClusterError) {
        guard !isShutDown else { throw .shutDown }
        guard await voters().contains(node) else { throw .unknownNode(node) }
        guard await voters().count > 1 else { throw .invalidConfiguration("node \(node) is the last voter") }
        try await change(to: { $0.removing(node) }, timeout: timeout)
        let clock = ContinuousClock()
        let deadline = clock.now + .microseconds(4 * configuration.timing.leaderTimeout)
        while await leader() == node, clock.now < deadline { try? await Task.sleep(for: .milliseconds(2)) }
        try await stop(node)
        // Its file is set aside: a cluster started again on the directory leaves the node out.
        if let directory {
            files[node.value] = nil
            guard rename(Self.path(directory, node), Self.removedPath(directory, node)) == 0 else {
                throw .storage("\(Self.path(directory, node)): cannot set the removed node's file aside: \(String(cString: strerror(errno)))")
            }
            let snapshot = FileStorage.snapshotPath(of: Self.path(directory, node))
            if access(snapshot, F_OK) == 0, rename(snapshot, snapshot + ".removed") != 0 {
                throw .storage("\(snapshot): cannot set the removed node's snapshot aside: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Replaces a voter with a new node, as an operator replaces a machine (one whose disk was lost, say): adds
    /// a node, then removes `node`. Returns the new node's id.
    public func replaceNode(_ node: NodeID, timeout: Duration? = nil) async throws(ClusterError) -> NodeID {
        guard await voters().contains(node) else { throw .unknownNode(node) }
        let added = try await addNode(timeout: timeout)
        try await removeNode(node, timeout: timeout)
        return added
    }

    /// The running voter that has applied the most, with its latest configuration and applied point.
    private func latestVoters() async -> (node: NodeID, configuration: VoterConfiguration, applied: Slot)? {
        var best: (node: NodeID, configuration: VoterConfiguration, applied: Slot)?
        for id in known {
            // The view belongs to the node's executor: it is read there.
            guard let node = nodes[id.value] else { continue }
            let seen = await node.voterView(initial: configuration.memberSet)
            guard seen.configuration.voters.contains(id) else { continue }
            if best.map({ seen.applied > $0.applied }) ?? true { best = (id, seen.configuration, seen.applied) }
        }
        return best
    }

    /// Asks a running voter, every half second, for the voters `target` makes of the latest ones, until that
    /// configuration is in force there.
    private func change(to target: (NodeSet) -> NodeSet, timeout: Duration?) async throws(ClusterError) {
        let limit = timeout ?? .microseconds(20 * configuration.timing.leaderTimeout)
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        var wanted: NodeSet?
        var askedAt: ContinuousClock.Instant?
        while true {
            if isShutDown { throw .shutDown }
            if let (node, latest, applied) = await latestVoters() {
                let goal = wanted ?? target(latest.voters)
                wanted = goal
                if latest.voters == goal, applied >= latest.from { return }
                if latest.voters != goal, askedAt.map({ clock.now - $0 >= .milliseconds(500) }) ?? true {
                    askedAt = clock.now
                    let command = Reconfiguration.command(base: latest.number, voters: goal, nonce: UInt64.random(in: 1...UInt64.max))
                    router.deliver(.message(.request(Request(command: command)), from: node), to: node)
                }
            }
            if clock.now >= deadline { throw .timeout(after: limit) }
            try? await Task.sleep(for: .milliseconds(2))
        }
    }
}

extension NodeSet {
    /// The set with `node` added.
    func inserting(_ node: NodeID) -> NodeSet { var s = self; s.insert(node); return s }
    /// The set without `node`.
    func removing(_ node: NodeID) -> NodeSet { var s = self; s.remove(node); return s }
}

extension Node {
    /// The latest voter configuration this node's replica applied and how far it applied, read on the node's
    /// executor (nil fields fall back to the cluster's initial members).
    func voterView(initial: NodeSet) -> (configuration: VoterConfiguration, applied: Slot) {
        guard let replica else {
            return (VoterConfiguration(number: 0, from: .zero, voters: NodeSet()), .zero)
        }
        let view = replica.storage.voters
        return (view.latest(initial: initial), view.applied)
    }
}
