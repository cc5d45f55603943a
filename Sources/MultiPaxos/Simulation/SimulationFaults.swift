/// The bus's faults: cut links, crashes (which keep only what the disk synced), lost disks, pauses and restarts.
extension Simulation {
    /// Whether a cut loses (or holds) what `from` sends to `to` now.
    func isCut(_ from: NodeID, _ to: NodeID) -> Bool { cutting(from, to) != nil }

    /// The lowest-numbered open window whose cut takes what `from` sends to `to` now.
    func cutting(_ from: NodeID, _ to: NodeID) -> Int? {
        for open in openCuts where now < plan.windows[open.index].end && open.cut.cuts(from, to) { return open.index }
        return nil
    }

    var faultPhase: Bool { plan.healAt == 0 || now < plan.healAt }

    func openWindow(_ index: Int) {
        let window = plan.windows[index]
        var cut = window.cut
        switch cut {
        case .isolateLeader, .deafLeader:
            guard let ballot = leader, alive[ballot.leader.value] else { return }
            if case .isolateLeader = cut { cut = .isolate(ballot.leader) } else { cut = .deaf(ballot.leader) }
        case .isolate, .split, .oneWay, .deaf, .bridge:
            break
        }
        openCuts.insert((index, cut), at: openCuts.firstIndex { $0.index > index } ?? openCuts.count)
        emit(nil, "Bus", "\(cut) until \(formatSeconds(window.end)) s")
        recordMark(.cut, at: nil, "\(cut)", until: window.end)
        watchProgress()
    }

    func nodeFault(_ fault: FaultPlan.NodeFault) async {
        guard let node = fault.node ?? leader.map(\.leader), alive[node.value] else { return }
        switch fault.kind {
        case .crash(let restartAfter):
            crash(node)
            if let delay = restartAfter { scheduleRestart(node, at: now + delay) }
        case .wipe(let restartAfter):
            let accepted = storages[node.value].acceptor.accepted
            crash(node)
            // The disk is gone, and nobody tells the node so: it restarts as a new one would, and must find out
            // from the cluster that it may not vote before it rejoins (with the test-only flaw it votes at once).
            let i = node.value
            checker.wiped(node, accepted: accepted, survived: storages[i])
            storages[i] = DurableState()
            durableNow[i] = .zero  // the snapshots it held are gone
            wiped.insert(node)
            report.diskCrashes.wipes += 1
            emit(node, "Bus", "loses its disk")
            recordMark(.wiped, at: node, "loses its disk")
            scheduleRestart(node, at: now + restartAfter)
        case .pause(let duration):
            pausedUntil[node.value] = max(pausedUntil[node.value], now + duration)
            emit(node, "Bus", "pauses until \(formatSeconds(pausedUntil[node.value])) s")
            recordMark(.paused, at: node, "paused", until: pausedUntil[node.value])
            if progress != nil { queue.push(.faultEnds, at: pausedUntil[node.value]) }
        case .transfer(let named):
            // An operator's request, as a shell hands it to the node: a local input, never lost.
            let target = named == node ? NodeID((named.value + 1) % config.members.count) : named
            emit(node, "Bus", "is asked to hand leadership to \(target)")
            queue.push(.deliver(.transferLeadership(TransferLeadership(target: target)), from: node, to: node, id: nil), at: now)
        }
        watchProgress()
    }

    /// A crash keeps what the node's disk synced, plus whatever of its unsynced writes the seed lets survive
    /// (see `SimulatedDisk`); messages still waiting for a sync are lost with it. A correct node sent nothing
    /// that depends on an unsynced write; with the test-only flaw `sendsBeforeSyncing` it did, and the
    /// durability check catches the loss.
    func crash(_ victim: NodeID) {
        let i = victim.value
        let actedOn = disks[i].stateActedOn(exposed: exposedWrite[i]) ?? storages[i].copy()
        do {
            let (recovered, tally) = try disks[i].afterCrash(&random, node: victim)
            storages[i] = recovered
            report.diskCrashes += tally
            if tally.withUnsyncedWrites > 0 {
                emit(victim, "Bus", "crash loses \(tally.writesLost) unsynced write(s)" + (tally.tornWrites > 0 ? ", one torn" : ""))
            }
        } catch {
            checker.violation("recovery: \(error)")
        }
        checker.crashed(victim, actedOn: actedOn, survives: storages[i])
        // A node that rejoined but crashed before its rejoin was durable is a learner again: it must rejoin anew.
        if storages[i].membership == .learner { wiped.insert(victim) }
        held[i] = []
        alive[i] = false
        incarnation[i] += 1
        report.crashedNodes.append(victim)
        stopClients(of: victim)
        emit(victim, "Bus", "crashes" + (leader?.leader == victim ? " (it led ballot \(leader!))" : ""))
        recordMark(.crashed, at: victim, "crashes" + (leader?.leader == victim ? " (it led ballot \(leader!))" : ""))
    }

    /// The clients of `node` stop for good (it crashed, or a change removed it): their unanswered requests are
    /// no longer awaited.
    func stopClients(of node: NodeID) {
        for script in scripts where script.node == node && stoppedClients.insert(script.client).inserted {
            let unanswered = script.count - (resultsSeen[script.client] ?? 0)
            if unanswered > 0 { busyClients[node.value] -= 1 }
            remaining -= unanswered
            report.requestsExpected -= unanswered
        }
    }

    private func scheduleRestart(_ node: NodeID, at time: Microseconds) {
        pendingRestarts += 1
        queue.push(.restart(node), at: time)
    }

    func restart(_ node: NodeID) async {
        let i = node.value
        guard !alive[i], !changes.decommissioned.contains(node) else { return }
        if config.flaws.contains(.acceptorForgetsOnRestart) && storages[i].isMember {
            storages[i] = DurableState()  // the flaw: a member's acceptor restarts blank, yet still a member
            storages[i].membership = .member
        }
        if wiped.contains(node) { checker.restartingWiped(node) }
        alive[i] = true
        appliedEnd[i] = nil
        disks[i] = SimulatedDisk(state: storages[i], keepsImages: canCrash)
        storages[i].syncedSnapshotSlot = storages[i].replicaSnapshot?.nextSlot ?? .zero  // what its disk holds
        durableNow[i] = max(durableNow[i], storages[i].syncedSnapshotSlot ?? .zero)
        writtenChanges[i] = storages[i].changes
        exposedWrite[i] = 0
        nodes[i] = Node(id: node, executor: executor, clock: nodeClock(i))
        let restarted = wiped.contains(node) ? "restarts with an empty disk"
                                             : "restarts with its durable state (promised \(storages[i].acceptor.promised))"
        emit(node, "Bus", restarted)
        recordMark(.restarted, at: node, restarted)
        // As every shell starts a node: a member resumes from its durable state; a node with no record of a
        // membership runs the Seed (the first initial voter) or asks to join, and the cluster tells it whether
        // it must rejoin.
        if storages[i].isMember { appliedEnd[i] = storages[i].replicaSnapshot?.nextSlot ?? .zero }
        let roles = Initializer.bootstrapRoles(node: node, config: config, executor: executor, makeMachine: makeMachine,
                                               storage: storages[i], nonce: nonce(of: node))
        for role in roles { process(await nodes[i].install(role), at: node) }
        watchProgress()
        // Old messages of its former self, and old answers to it, arrive again over the next 0.3 s.
        for _ in 0..<plan.restartReplays where faultPhase && !pastMessages[i].isEmpty {
            let (old, from, to) = pastMessages[i][Int(random.upTo(UInt64(pastMessages[i].count - 1)))]
            report.duplicatedMessages += 1
            queue.push(.deliver(old, from: from, to: to, id: recordSend(old, from: from, to: to, copy: true)),
                       at: now + Microseconds(random.upTo(300_000)))
        }
    }

    /// Keeps a message sent to or by node `i` for replays after the node restarts (the latest 32, at random).
    func keepForReplay(_ message: Message, from: NodeID, to: NodeID, at i: Int) {
        if pastMessages[i].count < 32 { pastMessages[i].append((message, from, to)) }
        else { pastMessages[i][Int(random.upTo(31))] = (message, from, to) }
    }

    /// Tells the progress watch the cluster's state now: which voting nodes are up (joined, alive, not paused,
    /// not waiting to rejoin), which pairs of them can talk both ways, and where clients wait.
    func watchProgress(completed: Bool = false) {
        guard progress != nil else { return }
        var up = NodeSet()
        for id in watchedConfigurations.voters
        where joinedNodes.contains(id) && alive[id.value] && pausedUntil[id.value] <= now && !wiped.contains(id) {
            up.insert(id)
        }
        var reaches = Array(repeating: NodeSet(), count: options.universe)
        for a in up {
            reaches[a.value].insert(a)
            for b in up where a < b && !isCut(a, b) && !isCut(b, a) {
                reaches[a.value].insert(b)
                reaches[b.value].insert(a)
            }
        }
        var waiting = NodeSet()
        for id in watchedVoters where busyClients[id.value] > 0 { waiting.insert(id) }
        if let failure = progress!.observe(now: now, up: up, reaches: reaches, waiting: waiting, completed: completed) {
            checker.violation(failure)
        }
        report.longestStall = progress!.longestStall
    }
}
