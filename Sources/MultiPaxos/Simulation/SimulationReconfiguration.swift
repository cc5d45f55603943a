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

/// The run's changes of voters, asked one after another as an operator would: each is sent to a live voter
/// as a local request, sent again every half second (naming the configuration it changes, so a late duplicate
/// does nothing) until that voter has it in force; a removed node is then shut down.
struct VoterChanges {
    let steps: [VoterChange]
    /// The index of the change being asked for.
    var next = 0
    /// Nodes removed and shut down: never restarted.
    var decommissioned = NodeSet()
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
        if latest.voters == target, view.applied >= latest.from {
            // A removed leader hands over first (a transfer); the operator shuts it down once another leads,
            // or after a few leader timeouts whatever happened.
            let removedLeads: Bool
            if case .remove(let victim) = step, let leader, leader.leader == victim, alive[victim.value] {
                changes.inForceSince = changes.inForceSince ?? now
                removedLeads = now - changes.inForceSince! < 4 * config.timing.leaderTimeout
            } else {
                removedLeads = false
            }
            if !removedLeads {
                inForce(step, latest)
                return
            }
        }
        queue.push(.reconfigure, at: now + VoterChanges.checkInterval)
        if latest.voters == target { return }
        if let asked = changes.askedAt, now - asked < VoterChanges.retryInterval { return }
        changes.askedAt = now
        let command = Reconfiguration.command(base: latest.number, voters: target, nonce: random.next())
        emit(asked, "Bus", "is asked to \(step): voters {\(target)} after configuration #\(latest.number)")
        queue.push(.deliver(.request(Request(command: command)), from: asked, to: asked, id: nil), at: now)
    }

    /// The voters the run has put in force so far.
    var watchedVoterSet: NodeSet { NodeSet(watchedVoters) }

    /// A change is in force at a voter: follow the new voters, shut a removed node down, ask for the next.
    private func inForce(_ step: VoterChange, _ configuration: VoterConfiguration) {
        report.reconfigurations += 1
        watchedVoters = Array(configuration.voters)
        progress = options.fullChecks
            ? ProgressWatch(members: watchedVoters, quorum: configuration.quorum, bound: options.stallBound) : nil
        if case .remove(let node) = step {
            changes.decommissioned.insert(node)
            if alive[node.value] {
                crash(node)
                emit(node, "Bus", "is shut down: no longer a voter")
            }
        }
        changes.next += 1
        changes.askedAt = nil
        changes.inForceSince = nil
        if !changes.done { queue.push(.reconfigure, at: now + VoterChanges.pause) }
        watchProgress()
    }
}
