/// The bus of a simulated run: a step's effects carried out, writes synced before the messages that depend on
/// them leave, and messages transmitted with the run's loss, duplication and delays (Simulation.swift holds the
/// state and the driver).
extension Simulation {
    /// Carries out a step's effects. If the step changed the node's durable state, the state is written and a
    /// sync started; the step's messages (and those of any later step) wait until the write is synced, unless
    /// the test-only flaw says to send at once.
    func process(_ outputs: [Output], at node: NodeID) {
        let i = node.value
        guard alive[i] else { return }
        if storages[i].changes != writtenChanges[i] {
            writtenChanges[i] = storages[i].changes
            disks[i].write(storages[i])
            startSync(at: i)
        }
        let hold = disks[i].hasUnsynced && !config.flaws.contains(.sendsBeforeSyncing)
        for output in outputs {
            switch output.effect {
            case .send(let message, let to):
                send(message, from: node, to: NodeSet([to]), role: output.role, hold: hold)
            case .broadcast(let message, let to):
                send(message, from: node, to: to, role: output.role, hold: hold)
            case .setTimer(let timer, let after, let jitter):
                let at = now + drifted(after + Microseconds(random.upTo(UInt64(max(0, jitter)))), at: i)
                queue.push(.timer(timer, node: node, incarnation: incarnation[node.value]), at: at)
            case .event(let event):
                record(event, at: node, role: output.role)
            case .install, .uninstall:
                break  // the node carries these out itself
            }
        }
    }

    /// Sends now, or keeps the message back until the node's latest write is synced.
    func send(_ message: Message, from node: NodeID, to: NodeSet, role: RoleKind, hold: Bool) {
        let i = node.value
        guard alive[i] else { return }  // an event of this very step crashed the node
        if hold {
            held[i].append(HeldSend(message: message, to: to, role: role, afterWrite: disks[i].written))
        } else {
            exposedWrite[i] = max(exposedWrite[i], disks[i].written)
            transmit(message, from: node, to: to, role: role)
        }
    }

    func startSync(at i: Int) {
        guard disks[i].startSync() else { return }
        let takes = options.syncLatency + Microseconds(random.upTo(UInt64(options.syncJitter)))
        queue.push(.syncDone(NodeID(i), incarnation: incarnation[i]), at: now + takes)
    }

    /// A sync completed: send the messages that waited for it, in order, and sync what was written meanwhile.
    func syncCompleted(at i: Int) {
        disks[i].completeSync()
        let synced = disks[i].state(afterWrite: disks[i].synced) ?? storages[i]
        checker.synced(NodeID(i), synced)
        durablyApplied[i] = max(durablyApplied[i], synced.replicaSnapshot?.nextSlot ?? .zero)
        durableNow[i] = max(durableNow[i], synced.replicaSnapshot?.nextSlot ?? .zero)
        storages[i].syncedSnapshotSlot = max(storages[i].syncedSnapshotSlot ?? .zero, synced.replicaSnapshot?.nextSlot ?? .zero)
        var released = 0
        for h in held[i] {
            guard h.afterWrite <= disks[i].synced else { break }
            exposedWrite[i] = max(exposedWrite[i], h.afterWrite)
            transmit(h.message, from: NodeID(i), to: h.to, role: h.role)
            released += 1
        }
        held[i].removeFirst(released)
        startSync(at: i)
    }

    func transmit(_ message: Message, from: NodeID, to destinations: NodeSet, role: RoleKind) {
        let kind = message.kind.rawValue
        if wiped.contains(from) { checker.sentWhileWiped(from, message.kind) }
        checker.transmitted(message, from: from)
        // The network refuses a message past a frame (a real shell logs it and drops it): here that is a failed
        // check, since a node that sends one would wait for an answer that never comes.
        if destinations.contains(where: { $0 != from }) {
            let bytes = message.encodedSizeEstimate
            if bytes > options.frameBytes {
                var what = "\(message.kind)"
                if case .promise(let p) = message { what += " of \(p.accepted.count) values for ballot \(p.ballot)" }
                checker.violation("frame: \(from)'s \(what) (about \(bytes) bytes) is past the frame limit of \(options.frameBytes) bytes")
            }
        }
        if case .catchUpReply(let r) = message {
            // A snapshot crosses the network in chunks only: a whole one could be past any frame.
            if r.snapshot != nil { checker.violation("frame: \(from) sent a whole snapshot in one message") }
            if let chunk = r.chunk, chunk.bytes.count > options.snapshotChunkBytes {
                checker.violation("frame: \(from) sent a snapshot chunk of \(chunk.bytes.count) bytes, past the chunk size \(options.snapshotChunkBytes)")
            }
        }
        var line = trace == nil ? nil : "\(message) →"
        let faulty = faultPhase
        for to in destinations {
            if to == from {
                report.localMessages[kind] += 1
                queue.push(.deliver(message, from: from, to: to, id: nil), at: now)
                line? += " \(to)"
                continue
            }
            report.networkMessages[kind] += 1
            if faulty && random.chance(options.dropRate) {
                report.droppedMessages[kind] += 1
                recordDropAtSend(message, from: from, to: to)
                line? += " \(to)✗"
                continue
            }
            line? += " \(to)"
            queue.push(.deliver(message, from: from, to: to, id: recordSend(message, from: from, to: to)),
                       at: now + delay(faulty))
            guard faulty else { continue }
            if plan.restartReplays > 0 {
                keepForReplay(message, from: from, to: to, at: from.value)
                keepForReplay(message, from: from, to: to, at: to.value)
            }
            if random.chance(options.duplicateRate) {
                report.duplicatedMessages += 1
                queue.push(.deliver(message, from: from, to: to, id: recordSend(message, from: from, to: to, copy: true)),
                           at: now + delay(faulty))
            }
            if plan.replayRate > 0 {
                if recentMessages.count < 64 { recentMessages.append((message, from, to)) }
                else { recentMessages[Int(random.upTo(63))] = (message, from, to) }
                if random.chance(plan.replayRate) {
                    let (old, oldFrom, oldTo) = recentMessages[Int(random.upTo(UInt64(recentMessages.count - 1)))]
                    report.duplicatedMessages += 1
                    queue.push(.deliver(old, from: oldFrom, to: oldTo, id: recordSend(old, from: oldFrom, to: oldTo, copy: true)),
                               at: now + Microseconds(random.upTo(500_000)))
                }
            }
        }
        if let line { emit(from, role.description, line) }
    }

    func delay(_ faulty: Bool) -> Microseconds {
        let base = options.networkDelay + Microseconds(random.upTo(UInt64(options.networkJitter)))
        guard faulty, plan.longTailRate > 0, random.chance(plan.longTailRate) else { return base }
        return base * (10 + Microseconds(random.upTo(40)))
    }
}
