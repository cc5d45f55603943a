/// One change of voters a simulated operator asks for: add a node (a spare that joined as a non-voter) or remove
/// a member.
public enum VoterChange: Hashable, Sendable, CustomStringConvertible {
    /// Make the node a voter.
    case add(NodeID)
    /// Stop the node voting; once the change is in force the node is shut down for good.
    case remove(NodeID)

    /// The voters after the change.
    func applied(to voters: NodeSet) -> NodeSet {
        var next = voters
        switch self {
        case .add(let n): next.insert(n)
        case .remove(let n): next.remove(n)
        }
        return next
    }

    public var description: String {
        switch self {
        case .add(let n): "add \(n)"
        case .remove(let n): "remove \(n)"
        }
    }
}

extension VoterChange {
    /// `count` single-node changes starting from voters `0..<nodes`: each adds a new spare (numbered from
    /// `nodes` on) or removes a voter, never below `fewest` voters (at least one) or above seven; at seven or
    /// more only removals, at the floor only additions, otherwise either, so removals come first in about half
    /// the runs.
    static func drawn(_ draws: inout SeededGenerator, nodes: Int, count: Int, fewest: Int = 1) -> [VoterChange] {
        var voters = (0..<nodes).map(NodeID.init)
        var nextSpare = nodes
        var changes: [VoterChange] = []
        for _ in 0..<count {
            let add = voters.count <= max(1, fewest) || (voters.count < 7 && draws.upTo(1) == 1)
            if add {
                changes.append(.add(NodeID(nextSpare)))
                voters.append(NodeID(nextSpare))
                nextSpare += 1
            } else {
                let victim = voters.remove(at: Int(draws.upTo(UInt64(voters.count - 1))))
                changes.append(.remove(victim))
            }
        }
        return changes
    }
}

/// The run's changes of voters, asked one after another as an operator would: each is sent to a live voter
/// as a local request, sent again every half second (naming the configuration it changes, so a late duplicate
/// does nothing) until that voter has it in force; a removed node is then shut down.
struct VoterChanges {
    let steps: [VoterChange]
    /// The index of the change being asked for.
    var next = 0
    /// Nodes removed and shut down: never restarted.
    var decommissioned = NodeSet()
    /// Nodes removed that keep running (`SimulationOptions.removedNodesKeepRunning`): no longer followed by the
    /// end-of-run convergence checks, their clients stopped, but their roles go on as a `serve` process's would.
    var removedRunning = NodeSet()
    /// When the change being asked for was last sent, and since when it is in force.
    var askedAt: Microseconds?
    var inForceSince: Microseconds?
    /// Whether every change is in force.
    var done: Bool { next >= steps.count }

    /// How long after one change is in force the next is asked for, how often an attempt is sent again, and how
    /// often the bus looks whether it is in force.
    static let pause: Microseconds = 300_000
    static let retryInterval: Microseconds = 500_000
    static let checkInterval: Microseconds = 50_000
}

extension Simulation {
    /// Asks for the next change of voters, or sees whether the one asked for is in force.
    func reconfigure() async {
        guard !changes.done else { return }
        let step = changes.steps[changes.next]
        // As an operator would (and etcd's promotion of a learner requires): a spare is made a voter only once it
        // has rejoined and can vote. Made a voter before, it would raise the quorum while it cannot count in it,
        // and its own rejoin, decided through the log, could then need its vote.
        if case .add(let spare) = step, changes.askedAt == nil, storages[spare.value].membership != .member {
            queue.push(.reconfigure, at: now + VoterChanges.checkInterval)
            return
        }
        // A live voter that is not paused and not waiting to rejoin: the operator's request goes to it.
        let candidates = (0..<options.universe).map { NodeID($0) }.filter {
            alive[$0.value] && pausedUntil[$0.value] <= now && !wiped.contains($0) && joinedNodes.contains($0)
                && storages[$0.value].voters.latest(initial: config.memberSet).voters.contains($0)
        }
        guard let asked = candidates.isEmpty ? nil : candidates[Int(random.upTo(UInt64(candidates.count - 1)))] else {
            queue.push(.reconfigure, at: now + VoterChanges.retryInterval)
            return
        }
        let view = storages[asked.value].voters
        let latest = view.latest(initial: config.memberSet)
        let target = step.applied(to: watchedVoterSet)
        // In force at this node: the change's own configuration (its number too: a node whose view lags could
        // show an older configuration with the same voters, after a change that undid another).
        if latest.voters == target, latest.number == UInt64(changes.next + 1), view.applied >= latest.from {
            // A removed leader hands over first (a transfer); the operator shuts it down once another leads,
            // or after a few leader timeouts whatever happened.
            let waits: Bool
            // A removed node is shut down only once a majority of the new voters hold durably every slot the
            // voters before govern: otherwise crashes could leave such a slot known only to acceptors among
            // which it is needed to make a quorum of its own voters (as an operator would check MPX.VOTERS on a
            // majority of the remaining voters first).
            let durable = latest.voters.filter { (storages[$0.value].replicaSnapshot?.nextSlot ?? .zero) >= latest.from }
            let durableAtMajority = durable.count >= latest.quorum || options.removedNodesKeepRunning
            if case .remove = step, !durableAtMajority {
                waits = true
            } else if case .remove(let victim) = step, let leader, leader.leader == victim, alive[victim.value] {
                changes.inForceSince = changes.inForceSince ?? now
                waits = now - changes.inForceSince! < 4 * config.timing.leaderTimeout
            } else {
                waits = false
            }
            if !waits {
                await inForce(step, latest)
                return
            }
        }
        queue.push(.reconfigure, at: now + VoterChanges.checkInterval)
        if latest.voters == target, latest.number == UInt64(changes.next + 1) { return }
        if let asked = changes.askedAt, now - asked < VoterChanges.retryInterval { return }
        changes.askedAt = now
        let command = Reconfiguration.command(base: latest.number, voters: target, nonce: random.next())
        emit(asked, "Bus", "is asked to \(step): voters {\(target)} after configuration #\(latest.number)")
        queue.push(.deliver(.request(Request(command: command)), from: asked, to: asked, id: nil), at: now)
    }

    /// The voters the run has put in force so far.
    var watchedVoterSet: NodeSet { NodeSet(watchedVoters) }

    /// A change is in force at a voter: follow the new voters, shut a removed node down, ask for the next.
    private func inForce(_ step: VoterChange, _ configuration: VoterConfiguration) async {
        report.reconfigurations += 1
        watchedVoters = Array(configuration.voters)
        watchedConfigurations = watchedConfigurations.filter { $0.number > configuration.number }
        watchedConfigurations.insert(configuration, at: 0)
        progress = options.fullChecks ? ProgressWatch(configurations: watchedConfigurations, bound: options.stallBound) : nil
        if case .remove(let node) = step {
            if options.removedNodesKeepRunning {
                changes.removedRunning.insert(node)
                stopClients(of: node)
                await nodes[node.value].stopClients()
                if alive[node.value] { report.membershipDraws.removedLeftRunning += 1 }
            } else {
                changes.decommissioned.insert(node)
                if alive[node.value] {
                    crash(node)
                    emit(node, "Bus", "is shut down: no longer a voter")
                }
            }
        }
        noteShape(configuration)
        changes.next += 1
        changes.askedAt = nil
        changes.inForceSince = nil
        if !changes.done { queue.push(.reconfigure, at: now + options.changePause) }
        watchProgress()
    }
}

extension Simulation {
    /// Counts what a change in force shows of the run's shape: a removal before any addition, the smallest and
    /// largest voter sets, changes back to back, and live nodes whose view lags two or more changes.
    func noteShape(_ configuration: VoterConfiguration) {
        var draws = report.membershipDraws
        if changes.next == 0, case .remove = changes.steps[0] { draws.removalFirst = true }
        draws.fewestVoters = min(draws.fewestVoters ?? Int.max, configuration.voters.count)
        draws.mostVoters = max(draws.mostVoters ?? 0, configuration.voters.count)
        if options.changePause == 0, changes.next > 0 { draws.backToBack += 1 }
        for i in 0..<options.universe where alive[i] && joinedNodes.contains(NodeID(i)) {
            let view = storages[i].voters.latest(initial: config.memberSet).number
            if view + 2 <= configuration.number { draws.laggingViews += 1 }
        }
        report.membershipDraws = draws
    }
}
