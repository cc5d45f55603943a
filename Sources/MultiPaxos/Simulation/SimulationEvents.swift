/// What the bus does with the events roles report: counts for the summary, the leader and the nodes that joined,
/// the clients' history, and the checks that watch decisions, replicas, rejoins and answers.
extension Simulation {
    func record(_ event: Event, at node: NodeID, role: RoleKind) {
        switch event {
        case .phase1Started:
            report.phase1Rounds += 1
        case .elected(let ballot):
            ledWith[node.value] = ballot
            report.leaderChanges += 1
            if leader.map({ ballot > $0 }) ?? true { leader = ballot }
        case .decided(let slot, let value):
            if checker.decided(slot, value, by: node, at: ledWith[node.value]) {
                report.slotsDecided += 1
                report.commandsCommitted += value.commands.count
                if checker.wantsPruning {
                    checker.prune(below: appliedEnd.indices.filter { followed($0) }.compactMap { appliedEnd[$0] }.min() ?? .zero)
                }
            }
        case .applied(let slot, let value, let duplicate, _):
            appliedEnd[node.value] = slot.next
            checker.applied(slot, value, duplicate: duplicate, at: node)
        case .installedSnapshot(let slot), .joined(let slot):
            appliedEnd[node.value] = max(appliedEnd[node.value] ?? .zero, slot)
            clusterFormed = true
            if joinedNodes.insert(node) { watchProgress() }
        case .invoked(let key, let operation):
            invokedAt[key] = now
            checker.invoked(key, operation: operation)
            guard options.fullChecks else { break }
            let op = scripts[Int(key.client.value) - 1].operation(Int(key.request.value) - 1)
            history.events.append(Self.invocation(of: op, client: key.client))
        case .completed(let key, let result):
            complete(key, result)
        case .mustRejoin:
            // It found the cluster running with no record of its own: from here on it must not vote until it has
            // rejoined (a wiped node is watched from its restart already).
            if wiped.insert(node) { checker.restartingWiped(node) }
        case .rejoined(_, let fence):
            checker.rejoined(node, fence: fence, record: storages[node.value].acceptor, applied: storages[node.value].voters.applied)
            wiped.remove(node)
            report.diskCrashes.rejoins += 1
            watchProgress()
        case .transferStarted:
            report.transfers.started += 1
        case .toldToCompete:
            report.transfers.handedOver += 1
        case .transferAbandoned:
            report.transfers.abandoned += 1
        case .reconfigured(let next):
            // The checker follows the changes the log decides (SimulationChecker.decided). The liveness watch
            // asks, until the operator sees the change in force, for a majority of the old voters and the new.
            if options.fullChecks, next.number > watchedConfigurations.last?.number ?? 0 {
                watchedConfigurations.append(next)
                progress = ProgressWatch(configurations: watchedConfigurations, bound: options.stallBound)
                watchProgress()
            }
        case .preempted, .leaderSuspected, .steppedDown, .welcomed, .waitingToFound, .phase1Waiting, .preVoteRefused,
             .awaitsSnapshot:
            break
        }
        if trace != nil { emit(node, role.description, event.description) }
        recordMark(for: event, at: node)
    }

    func complete(_ key: RequestKey, _ result: [UInt8]) {
        remaining -= 1
        report.requestsCompleted += 1
        resultsSeen[key.client, default: 0] += 1
        let script = scripts[Int(key.client.value) - 1]
        if resultsSeen[key.client] == script.count { busyClients[script.node.value] -= 1 }
        watchProgress(completed: true)
        if let start = invokedAt.removeValue(forKey: key) { report.latencies.append(now - start) }
        let index = Int(key.request.value) - 1
        let decoded = try? KeyValueResult(decoding: result)
        if options.fullChecks {
            history.events.append(Self.completion(of: script.operation(index), result: decoded, client: key.client))
        }
        if let threshold = options.crashLeaderAfterRequests, report.requestsCompleted == threshold,
           let ballot = leader, alive[ballot.leader.value] {
            crash(ballot.leader)
        }
        guard let expected = script.expectedResult(index), decoded != expected else { return }
        let got = decoded.map(\.description) ?? "undecodable \(result)"
        checker.violation("client \(key.client) request \(key.request) (\(script.operation(index))): expected \(expected), got \(got)")
    }
}
