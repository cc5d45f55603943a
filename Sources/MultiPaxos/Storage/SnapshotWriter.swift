import Dispatch
import Synchronization

/// Writes a replica's snapshots to their file on a queue of its own, so that encoding, checksumming, writing
/// and syncing a large state never holds up the node loop (a 80 MB snapshot took a second there, and the
/// cluster lost its leader). Only the newest waiting snapshot is written: one made while another is being
/// written replaces any that waits. The slot up to which a snapshot is on disk is what the replica may report
/// as durable (`DurableState.snapshotWrittenThrough`), so the cluster never trims on a snapshot not yet synced.
final class SnapshotWriter: @unchecked Sendable {  // `log` is touched only on `queue`; the rest under `state`
    private let queue: DispatchQueue
    private let log: FileLog
    private struct State {
        var waiting: Snapshot?
        var busy = false
        var writtenThrough: Slot?
        var failure: String?
    }
    private let state = Mutex(State())

    init(log: FileLog, label: String) {
        self.log = log
        queue = DispatchQueue(label: label)
    }

    /// Queues `snapshot` to be written, replacing one that waits.
    func submit(_ snapshot: Snapshot) {
        let start = state.withLock { s -> Bool in
            s.waiting = snapshot
            defer { s.busy = true }
            return !s.busy
        }
        if start { queue.async { self.drain() } }
    }

    /// Writes `snapshot` now, after whatever is being written, and returns once it is on disk (a snapshot that
    /// must be durable before the step's messages leave, such as one recording a change of voters).
    func write(_ snapshot: Snapshot) throws(ClusterError) {
        state.withLock { $0.waiting = nil }
        let failure: String? = queue.sync {
            self.writeOne(snapshot)
            return state.withLock { $0.failure }
        }
        if let failure { throw .storage(failure) }
    }

    /// The slot up to which a snapshot is on disk, if any was written by this writer.
    var writtenThrough: Slot? { state.withLock { $0.writtenThrough } }
    /// Why a write failed, if one did: the node must stop, as when a sync fails.
    var failure: String? { state.withLock { $0.failure } }

    /// Returns once nothing is being written or waits (for shutdown and tests).
    func finish() { queue.sync {} }

    private func drain() {
        while let next = state.withLock({ s -> Snapshot? in
            let next = s.waiting
            s.waiting = nil
            if next == nil { s.busy = false }
            return next
        }) {
            writeOne(next)
        }
    }

    private func writeOne(_ snapshot: Snapshot) {
        do {
            try log.compact(toRecords: [DurableState.encodedSnapshotRecord(snapshot)])
            state.withLock { s in
                if snapshot.nextSlot > s.writtenThrough ?? .zero { s.writtenThrough = snapshot.nextSlot }
            }
        } catch {
            state.withLock { $0.failure = "\(error)" }
        }
    }
}
