/// Snapshots of any size reach a lagging replica in chunks (as Raft's InstallSnapshot does): the sender answers
/// a request for trimmed slots with the first chunk of a snapshot, and each later chunk only when the receiver
/// asks for it, naming the snapshot and the offset it holds, so one chunk is in flight per transfer. The
/// receiver installs the snapshot once it holds every byte; until then its state is untouched, so a crash
/// mid-transfer leaves the old state whole. The bytes received are kept by storage (`DurableState
/// .incomingSnapshot`), which a shell with a disk writes down chunk by chunk: after a restart the transfer
/// resumes where its file stopped (if the sender still serves that snapshot; else it starts again). A stalled transfer is asked again
/// where it stopped; after a few catch-up checks without progress the replica asks its peers as usual, keeping
/// the bytes it holds: the same snapshot offered again goes on where it stopped (a partition of a few seconds
/// used to throw away hundreds of megabytes and begin again), and a transfer from another peer may replace it.
extension Replica {
    /// The first chunk of a snapshot for a peer that asked for slots from `from` on, which are trimmed: the
    /// snapshot already being sent if it is still servable, else the persisted one if it is, else a new one.
    /// nil while the persisted one is still being encoded off the node loop: it is not encoded here (that stalled
    /// a leader for half a second at 90 MB), and the peer asks again at its next catch-up check.
    func firstChunk(after from: Slot) -> SnapshotChunk? {
        let servable = { (s: Snapshot) in s.nextSlot >= self.logStart && s.nextSlot > from }
        if let out = outgoing, servable(out.snapshot) {
            // Go on serving it.
        } else if let persisted = storage.replicaSnapshot, servable(persisted) {
            guard persisted.machineBytes.encodedCount != nil else { return nil }
            outgoing = OutgoingSnapshot(persisted)  // shares the persisted bytes: no copy of the state
        } else {
            outgoing = OutgoingSnapshot(snapshot(encodingNow: true))
        }
        return chunk(of: outgoing!, at: 0)
    }

    /// The chunk at `cursor` of the snapshot being sent, or nil when that snapshot is no longer held (the peer
    /// then gets the first chunk of another) or the cursor is not inside it.
    func chunk(resuming cursor: SnapshotCursor) -> SnapshotChunk? {
        guard let out = outgoing, out.snapshot.nextSlot == cursor.nextSlot, cursor.offset > 0,
              cursor.offset < Int64(out.total) else { return nil }
        return chunk(of: out, at: cursor.offset)
    }

    /// A chunk of the snapshot's stream (its state machine's bytes, then its reply cache: see `SnapshotStream`);
    /// the first also carries the rest of the snapshot, which is small whatever the state or the clients.
    private func chunk(of out: OutgoingSnapshot, at offset: Int64) -> SnapshotChunk {
        let snap = out.snapshot
        let start = Int(offset), end = min(out.total, start + max(1, config.snapshotChunkBytes))
        precondition(start >= 0 && start <= end, "chunk at \(offset) outside a snapshot stream of \(out.total) bytes")
        let header = offset == 0
            ? Snapshot(nextSlot: snap.nextSlot, machine: [], replies: [], membershipEpoch: snap.membershipEpoch,
                       rejoins: snap.rejoins, voters: snap.voters)
            : nil
        return SnapshotChunk(nextSlot: snap.nextSlot, total: Int64(out.total), offset: offset,
                             bytes: out.bytes(start..<end), header: header)
    }

    /// Takes a chunk from `peer`: the first starts a transfer (replacing one from another peer only if newer),
    /// the next in order is kept and the one after it asked for; the last installs the snapshot.
    func receive(_ chunk: SnapshotChunk, from peer: NodeID) -> [Effect] {
        guard chunk.nextSlot > nextSlot else { return [] }
        if chunk.offset == 0, let header = chunk.header, chunk.total >= 0 {
            if let current = incoming, current.peer == peer, current.header.nextSlot == header.nextSlot,
               current.total == chunk.total, !current.machine.isEmpty {
                // The snapshot this replica holds part of, offered again from its start (a plain catch-up request
                // after a stall): its encoding is a function of the state, so go on where the bytes stop.
                return [resumeRequest(current)]
            }
            let current = incoming
            if current == nil || current!.peer == peer || header.nextSlot > current!.header.nextSlot
                || !current!.isProgressing {
                incoming = IncomingSnapshot(peer: peer, header: header, total: chunk.total)
            }
        }
        guard var transfer = incoming, transfer.peer == peer, transfer.header.nextSlot == chunk.nextSlot,
              transfer.total == chunk.total, Int64(transfer.machine.count) == chunk.offset,
              Int64(chunk.bytes.count) <= transfer.total - chunk.offset else { return [] }
        incoming = nil  // the bytes have one owner while they grow: appending never copies what came before
        transfer.machine += chunk.bytes
        guard Int64(transfer.machine.count) == transfer.total else {
            incoming = transfer
            return [resumeRequest(transfer)]
        }
        incoming = nil
        let h = transfer.header
        var machine = transfer.machine
        transfer.machine = []  // the only reference left: cutting the trailer off copies nothing
        guard let replies = SnapshotStream.split(&machine) else { return [] }  // malformed: another peer will be asked
        let whole = Snapshot(nextSlot: h.nextSlot, machine: machine, replies: replies,
                             membershipEpoch: h.membershipEpoch, rejoins: h.rejoins, voters: h.voters)
        guard let effects = install(whole) else { return [] }  // unreadable: another peer will be asked
        return effects + applyReady()
    }

    func resumeRequest(_ transfer: IncomingSnapshot) -> Effect {
        let cursor = SnapshotCursor(nextSlot: transfer.header.nextSlot, offset: Int64(transfer.machine.count))
        return .send(.catchUpRequest(CatchUpRequest(from: nextSlot, resume: cursor)), to: transfer.peer)
    }

    /// At a catch-up check: nil when no transfer is under way or it stalled (the usual check runs); else what to
    /// do about it (nothing while it progresses; ask again where it stopped). A stalled transfer keeps its bytes.
    func checkIncomingSnapshot() -> [Effect]? {
        guard var transfer = incoming else { return nil }
        guard transfer.header.nextSlot > nextSlot else {
            incoming = nil  // the log brought this replica past it
            return nil
        }
        if transfer.machine.count > transfer.checkedBytes {
            transfer.checkedBytes = transfer.machine.count
            transfer.stalledChecks = 0
            incoming = transfer
            return []
        }
        transfer.stalledChecks = min(transfer.stalledChecks + 1, IncomingSnapshot.stallChecks)
        incoming = transfer
        return transfer.isProgressing ? [resumeRequest(transfer)] : nil
    }

    /// Replaces the state with `snap` (newer than it); nil, changing nothing, if the machine cannot read it.
    func install(_ snap: Snapshot) -> [Effect]? {
        precondition(snap.nextSlot > nextSlot, "installing a snapshot to \(snap.nextSlot) at \(nextSlot)")
        do {
            try machine.restore(from: snap.machine)
        } catch {
            return nil
        }
        replies = [:]
        for entry in snap.replies { replies[entry.client] = (entry.request, entry.result) }
        membershipEpoch = snap.membershipEpoch
        rejoins = [:]
        for entry in snap.rejoins { rejoins[entry.key] = entry }
        let appliedBefore = nextSlot
        nextSlot = snap.nextSlot
        logStart = snap.nextSlot
        log = []
        // A snapshot that brings changes of voters is persisted at once, as an applied change is: a restart must
        // not take the node's view of the voters back to before them. So is one that carries the node past a
        // configuration's first slot (see `applyReady`).
        votersChanged = votersChanged || snap.voters != view.history
            || snap.voters.startsOne(after: appliedBefore, through: snap.nextSlot)
        view.history = snap.voters
        view.applied = snap.nextSlot
        pending = pending.filter { $0.key >= snap.nextSlot }
        if let transfer = incoming, transfer.header.nextSlot <= snap.nextSlot { incoming = nil }
        // Persisted at once, not when the growth rule next allows: a restart must not fetch the state again (a
        // torture node fetched the same 199 MB four times), and this node's acceptor trims only below a snapshot
        // of its own on disk.
        if snap.nextSlot > storage.replicaSnapshot?.nextSlot ?? .zero { keepSnapshot(snap) }
        var effects: [Effect] = [.event(.installedSnapshot(snap.nextSlot))]
        for key in waiting.keys.sorted(by: { ($0.client, $0.request) < ($1.client, $1.request) }) {
            effects += answer(key)
        }
        return effects
    }
}
