/// The checks at the end of a run, and the client history they read.
extension Simulation {
    /// The checks at the end of a run: linearizability, liveness, convergence and exactly once.
    func checkAtEnd() async {
        switch options.fullChecks ? Linearizability.check(history, budget: options.linearizabilityBudget) : .linearizable {
        case .linearizable: break
        case .notLinearizable(let key, let explanation):
            checker.violation("linearizability: the client history is not linearizable (key \"\(key)\": "
                              + "\(explanation.linearized.count) of its \(explanation.operations.count) operations linearize)")
        case .unknown(let reason): report.linearizabilityUndecided = reason
        }
        if !finished {
            let when = plan.healAt > 0
                ? "\(formatSeconds(plan.livenessBound)) s after the network healed at \(formatSeconds(plan.healAt)) s"
                : "at the time limit \(formatSeconds(options.timeLimit)) s"
            let learners = wiped.filter { followed($0.value) }
            let rejoining = learners.isEmpty ? "" : ", or \(learners.map(\.description).joined(separator: " ")) not rejoined"
            checker.violation("liveness: \(remaining) request(s) unanswered or replicas behind slot \(checker.decidedEnd.index)\(rejoining) \(when)")
        }
        var snapshots: [(NodeID, Snapshot)] = []
        for node in nodes where alive[node.id.value] && wiped.contains(node.id) {
            let hasAcceptor = await node.acceptor != nil, hasReplica = await node.replica != nil
            if !hasAcceptor && hasReplica { report.learners.append(node.id) }
        }
        for node in nodes where followed(node.id.value) {
            if let replica = await node.replica { snapshots.append((node.id, await replica.snapshot())) }
        }
        report.replicasAgree = !snapshots.isEmpty && snapshots.allSatisfy { $0.1 == snapshots[0].1 }
        if !report.replicasAgree {
            let states = snapshots.map { "\($0.0) at \($0.1.nextSlot)" }.joined(separator: ", ")
            checker.violation("replicas differ: \(states.isEmpty ? "no replica" : states)")
        }
        guard let (_, state) = snapshots.first else { return }
        var store = KeyValueStore()
        guard (try? store.restore(from: state.machine)) != nil else {
            checker.violation("replica state does not decode as a key-value store")
            return
        }
        report.finalState = store.entries
        // Exactly once: each completed append to the shared key is there once; an unanswered one at most once.
        var counts: [ByteString: Int] = [:]
        for entry in (store.entries[Workload.sharedKey] ?? ByteString()).bytes.split(separator: UInt8(ascii: ";")) {
            counts[ByteString(entry), default: 0] += 1
        }
        for script in scripts {
            let answered = resultsSeen[script.client] ?? 0
            for i in 0..<script.sharedTokens.count {
                guard let token = script.token(i) else { continue }
                let occurrences = counts[ByteString(String(token.dropLast())), default: 0]
                if i < answered ? occurrences != 1 : occurrences > 1 {
                    checker.violation("exactly-once: token \(token) appears \(occurrences) times in \(Workload.sharedKey)")
                }
            }
        }
    }

    static func invocation(of op: KeyValueOperation, client: ClientID) -> HistoryEvent {
        let process = Int(client.value)
        switch op {
        case .get(let k): return HistoryEvent(process: process, kind: .invoke, function: .get, key: k)
        case .put(let k, let v): return HistoryEvent(process: process, kind: .invoke, function: .put, key: k, value: v)
        case .delete(let k): return HistoryEvent(process: process, kind: .invoke, function: .delete, key: k)
        case .append(let k, let v): return HistoryEvent(process: process, kind: .invoke, function: .append, key: k, value: v)
        case .compareAndSet(let k, let e, let n):
            return HistoryEvent(process: process, kind: .invoke, function: .cas, key: k, value: n, expected: e)
        case .increment, .getAndSet, .getAndDelete, .count, .keys, .hash, .list, .set, .sortedSet, .type, .exists, .rename, .copy,
             .flush, .scan, .firstKey, .putAllIfAbsent, .incrementFloat, .substring, .overwrite, .deleteIf, .moveElement, .moveMember,
             .combineSets, .digests, .setWith, .expire, .persist, .timeToLive, .getAndExpire:
            preconditionFailure("the simulation's workload made \(op), which its history does not model")
        }
    }

    static func completion(of op: KeyValueOperation, result: KeyValueResult?, client: ClientID) -> HistoryEvent {
        var event = invocation(of: op, client: client)
        switch result {
        case .value(let v)?: event.kind = .ok; event.value = v
        case .ok?, .integer?: event.kind = .ok; event.value = nil
        case .mismatch?, .error?: event.kind = .fail; event.value = nil
        case .list?, .array?: preconditionFailure("a list answered \(op), which the simulation's workload never makes")
        case nil: event.kind = .info; event.value = nil
        }
        return event
    }
}
