/// The Replica's side of the cluster's own commands (client `ClientID.membership`): a rejoin starts a membership
/// epoch (Core/Rejoin.swift), a change of voters a configuration (Core/Voters.swift). The state they change is
/// declared in Replica.swift.
extension Replica {
    /// Applies a membership command: a rejoin not seen before starts the next epoch; a retried one (same
    /// nonce) changes nothing. Either way the waiting Initializer, if on this node, learns the epoch.
    func applyMembership(_ c: Command, in slot: Slot) -> [Effect] {
        if let change = Reconfiguration.change(of: c) { return applyReconfiguration(c, change, in: slot) }
        guard let joiner = Rejoin.node(of: c) else {
            return [.event(.applied(slot, .command(c), duplicate: true, result: nil))]  // not a command we know
        }
        let duplicate = rejoins[c.key] != nil
        if !duplicate {
            membershipEpoch += 1
            rejoins[c.key] = RejoinEntry(node: joiner, nonce: c.key.request.value, epoch: membershipEpoch)
        }
        // This node's own rejoin: its snapshot is persisted at once, so that what it applied is durable before
        // its acceptor, rejoining, refuses to vote below it (Initializer.rejoined).
        if joiner == node { votersChanged = true }
        let result = Rejoin.result(epoch: rejoins[c.key]!.epoch)
        return [.event(.applied(slot, .command(c), duplicate: duplicate, result: result))] + answer(c.key)
    }

    /// Applies a change of voters: made if it follows the latest configuration by one node and that one is in
    /// force; otherwise it changes nothing and says why. The node that asked hears the outcome either way.
    func applyReconfiguration(_ c: Command, _ change: (base: UInt64, voters: NodeSet), in slot: Slot) -> [Effect] {
        let outcome = view.outcome(base: change.base, voters: change.voters, at: slot, initial: config.memberSet)
        var effects: [Effect] = []
        var duplicate = true
        if case .changed(let next) = outcome, next.number > view.latest(initial: config.memberSet).number {
            view.append(next, initial: config.memberSet)
            votersChanged = true
            duplicate = false
            effects.append(.event(.reconfigured(next)))
        }
        let result = outcome.bytes
        effects.insert(.event(.applied(slot, .command(c), duplicate: duplicate, result: result)), at: 0)
        if let waiter = waiting.removeValue(forKey: c.key) {
            effects.append(.send(.reply(Reply(key: c.key, result: result)), to: waiter.origin))
        }
        return effects
    }
}
