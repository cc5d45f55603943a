#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A node's `DurableState` kept in two `FileLog`s: recovered when opened, and written (appended and fsynced) by
/// `persist()`, which a runtime calls after each protocol step and before it sends any message that step
/// produced, so nothing is ever sent that depends on state not yet on disk. The log at `path` holds the core (the
/// acceptor's promises and votes, the ballot round, membership) and the identity; a step appends only what it
/// changed there (the scalars and the slots whose vote changed). The replica's snapshot, made now and then, is
/// written whole to a file of its own beside it (`path` + `.snapshot`, replaced atomically), so compacting the
/// log (once the records appended since the last compaction outweigh four times what it would write, and 4 MiB)
/// rewrites the core alone and never the state machine: what a step writes depends on the step, not on the state.
public final class FileStorage: @unchecked Sendable {  // used by one node loop at a time
    /// The state the node's roles read and change.
    public let state: DurableState
    /// The file.
    public var path: String { log.path }
    private let log: FileLog
    /// The replica's snapshot, in a one-record log of its own; opened when the file exists or is first written.
    private var snapshotLog: FileLog?
    /// Where the replica's snapshot is kept.
    public var snapshotPath: String { Self.snapshotPath(of: path) }
    /// Whether the snapshot recovered came from the log (as earlier versions kept it) rather than its own file:
    /// it is written to its own file before any compaction could drop it from the log.
    private var snapshotOnlyInLog = false
    /// Whether the file held no state when opened: a node never started, or one whose storage was lost.
    public let wasEmpty: Bool
    private var persistedCore: UInt64
    private var persistedSnapshot: UInt64
    private var persistedIdentity: UInt64
    private var appendedSinceCompaction = 0
    /// Writes snapshots off the caller's thread, once `writesSnapshotsInBackground` is on.
    private var writer: SnapshotWriter?
    /// The voters of the last snapshot written or handed to the writer: a snapshot that changes them is written
    /// before `persist()` returns (the voters are durable only in the snapshot).
    private var writtenVoters: [VoterConfiguration]?
    /// Whether `persist()` hands new snapshots to a writer of their own and returns without waiting for them;
    /// the state's `snapshotWrittenThrough` says how far they are on disk. The real-time shells turn it on, so
    /// that a large state never holds up their node loop.
    public var writesSnapshotsInBackground = false {
        didSet {
            guard writesSnapshotsInBackground, state.snapshotWrittenThrough == nil else { return }
            state.snapshotWrittenThrough = snapshotOnlyInLog ? .zero : state.replicaSnapshot?.nextSlot ?? .zero
            writtenVoters = snapshotOnlyInLog ? nil : state.replicaSnapshot?.voters ?? []
        }
    }
    /// Once this many bytes were appended since the last compaction, the log is looked at for compacting.
    private var compactionCheck = FileStorage.compactionFloorBytes
    private var trimmedAtCheck = Slot.zero

    /// Where the replica's snapshot of the storage at `path` is kept.
    public static func snapshotPath(of path: String) -> String { path + ".snapshot" }
    /// Where a snapshot being received is written as it arrives: a header record, then one record per chunk.
    public static func incomingPath(of path: String) -> String { path + ".incoming" }
    /// The file of the snapshot being received, and what of it is on disk (which snapshot, from whom, how many bytes).
    private var incomingLog: FileLog?
    private var incomingWritten: (nextSlot: Slot, peer: NodeID, bytes: Int)?

    /// Opens (or creates) the storage at `path`, recovering the last state written there.
    public init(path: String) throws(ClusterError) {
        let log: FileLog
        do {
            log = try FileLog(path: path)
        } catch {
            throw .storage(error.description)
        }
        self.log = log
        state = DurableState()
        try Self.absorb(log.recovered, into: state, path: path)
        let logSnapshot = state.replicaSnapshot
        let snapshotPath = Self.snapshotPath(of: path)
        // An empty log is a node never started or one whose storage was lost: a snapshot file beside it (left by a
        // crash during the first step, or by a wipe of the log alone, perhaps of another cluster) is not its
        // state. It goes before the log holds anything, or a later start would take it for the node's snapshot.
        if log.recovered.isEmpty {
            if unlink(snapshotPath) == 0 {
                FileLog.syncDirectory(of: snapshotPath)
            } else if errno != ENOENT {
                throw .storage("\(snapshotPath): cannot remove a snapshot left beside an empty log: \(String(cString: strerror(errno)))")
            }
        } else if access(snapshotPath, F_OK) == 0 {
            let snapshotLog: FileLog
            do {
                snapshotLog = try FileLog(path: snapshotPath)
            } catch {
                throw .storage(error.description)
            }
            let own = DurableState()
            try Self.absorb(snapshotLog.recovered, into: own, path: snapshotPath)
            if let snapshot = own.replicaSnapshot, snapshot.nextSlot >= logSnapshot?.nextSlot ?? .zero {
                state.replicaSnapshot = snapshot
            }
            self.snapshotLog = snapshotLog
        }
        snapshotOnlyInLog = logSnapshot != nil && state.replicaSnapshot == logSnapshot
        wasEmpty = log.recovered.isEmpty
        persistedCore = state.coreChanges
        persistedSnapshot = state.snapshotChanges
        persistedIdentity = state.identityChanges
        compactionCheck = max(Self.compactionFloorBytes, 2 * log.recovered.reduce(0) { $0 + $1.count })
        state.keepsJournal = true
        recoverIncoming()
    }

    /// Takes up a snapshot transfer a restart interrupted, from its file; a file that is not one (or one beside an
    /// empty log) is removed: it holds nothing durable, and the transfer starts again.
    private func recoverIncoming() {
        let incomingPath = Self.incomingPath(of: path)
        guard access(incomingPath, F_OK) == 0 else { return }
        if !wasEmpty, let file = try? FileLog(path: incomingPath), let first = file.recovered.first,
           let (header, total, peer) = try? Self.decodeIncomingHeader(first) {
            var transfer = IncomingSnapshot(peer: peer, header: header, total: total)
            for chunk in file.recovered.dropFirst() { transfer.machine += chunk }
            if Int64(transfer.machine.count) < total, header.nextSlot > state.replicaSnapshot?.nextSlot ?? .zero {
                state.incomingSnapshot = transfer
                incomingLog = file
                incomingWritten = (header.nextSlot, peer, transfer.machine.count)
                return
            }
        }
        if unlink(incomingPath) == 0 { FileLog.syncDirectory(of: incomingPath) }
    }

    /// Writes what arrived of a snapshot since the last call, or removes the file once the transfer is over.
    private func persistIncoming() throws {
        let incomingPath = Self.incomingPath(of: path)
        guard let transfer = state.incomingSnapshot else {
            guard incomingWritten != nil || incomingLog != nil else { return }
            incomingLog = nil
            incomingWritten = nil
            if unlink(incomingPath) == 0 { FileLog.syncDirectory(of: incomingPath) }
            return
        }
        if incomingWritten.map({ $0.nextSlot != transfer.header.nextSlot || $0.peer != transfer.peer || $0.bytes > transfer.machine.count }) ?? true {
            let file = try incomingLog ?? FileLog(path: incomingPath)
            try file.compact(toRecords: [Self.encodeIncomingHeader(transfer)])
            incomingLog = file
            incomingWritten = (transfer.header.nextSlot, transfer.peer, 0)
        }
        guard let written = incomingWritten, let file = incomingLog, transfer.machine.count > written.bytes else { return }
        try file.append(Array(transfer.machine[written.bytes...]))
        try file.sync()
        incomingWritten = (written.nextSlot, written.peer, transfer.machine.count)
    }

    static func encodeIncomingHeader(_ transfer: IncomingSnapshot) -> [UInt8] {
        var w = ByteWriter()
        w.byte(1)  // encoding of the header record
        w.uint64(UInt64(transfer.total))
        w.uint32(UInt32(transfer.peer.value))
        w.snapshot(transfer.header)
        return w.bytes
    }

    static func decodeIncomingHeader(_ bytes: [UInt8]) throws -> (Snapshot, Int64, NodeID) {
        var r = ByteReader(bytes)
        guard try r.byte() == 1 else { throw ByteDecodingError("not a snapshot transfer's header") }
        let total = Int64(try r.uint64())
        let peer = NodeID(Int(try r.uint32()))
        let header = try r.snapshot()
        guard r.isAtEnd, total >= 0 else { throw ByteDecodingError("a snapshot transfer's header with bytes after it") }
        return (header, total, peer)
    }

    /// Replays `records` into `state` in order, or throws naming the file, the record and its offset.
    private static func absorb(_ records: [[UInt8]], into state: DurableState, path: String) throws(ClusterError) {
        var offset = FileLog.headerSize
        for (i, record) in records.enumerated() {
            do {
                try state.absorb(record)
            } catch {
                throw .storage("\(path): record \(i + 1) at offset \(offset) is not a node's durable state: \(error)")
            }
            offset += FileLog.recordHeaderSize + record.count
        }
    }

    /// Writes the state if it changed since the last write (or `always`), and returns once it is on disk: a new
    /// snapshot first (to its own file, atomically), then the core's changes (appended, or the log compacted).
    public func persist(always: Bool = false) throws(ClusterError) {
        if let writer {
            if let failure = writer.failure { throw .storage(failure) }
            if let written = writer.writtenThrough { state.snapshotWrittenThrough = max(state.snapshotWrittenThrough ?? .zero, written) }
        }
        let core = always || state.coreChanges != persistedCore
        let snapshot = state.snapshotChanges != persistedSnapshot || snapshotOnlyInLog
        let identity = state.identityChanges != persistedIdentity && state.identity != nil
        lastWrite = (0, 0)
        do {
            try persistIncoming()
        } catch let error as ClusterError {
            throw error
        } catch {
            throw .storage("\(Self.incomingPath(of: path)): \(error)")
        }
        guard core || snapshot || identity else { return }
        do {
            if snapshot, let made = state.replicaSnapshot {
                let snapshotLog: FileLog
                if let open = self.snapshotLog {
                    snapshotLog = open
                } else {
                    snapshotLog = try FileLog(path: snapshotPath)
                    self.snapshotLog = snapshotLog
                }
                if writesSnapshotsInBackground {
                    let writer = self.writer ?? SnapshotWriter(log: snapshotLog, label: "multipaxos.snapshots")
                    self.writer = writer
                    if !snapshotOnlyInLog && made.voters == writtenVoters {
                        writer.submit(made)
                    } else {
                        try writer.write(made)
                        state.snapshotWrittenThrough = max(state.snapshotWrittenThrough ?? .zero, made.nextSlot)
                    }
                    writtenVoters = made.voters
                } else {
                    try snapshotLog.compact(toRecords: [state.encodedSnapshot()])
                }
                snapshotOnlyInLog = false
            }
            var compacted = false
            // Looked at once enough was appended, and again after each trim (which may have shrunk the core).
            let trimmed = state.acceptor.trimmedBelow != trimmedAtCheck && appendedSinceCompaction > Self.compactionFloorBytes
            if appendedSinceCompaction > compactionCheck || trimmed {
                trimmedAtCheck = state.acceptor.trimmedBelow
                // The core and the identity; the snapshot is in its own file (written above or before). Compacted
                // only when the records appended outweigh eight times what would be written, judged by an
                // estimate that encodes nothing: the votes not yet trimmed grow until a snapshot lets the leader
                // trim them, so the log is rewritten soon after a trim, while the core is small, not in one turn
                // of the node loop for hundreds of MB (with 1 GB of state, compacting a 231 MB core took 1.9 s).
                // Else looked at again once that much more was appended.
                let estimate = state.coreSizeEstimate + (state.identity != nil ? 256 : 0)
                if Self.compactionRatio * estimate <= appendedSinceCompaction {
                    let records = (state.identity != nil ? [state.encodedIdentity()] : []) + [state.encodedCore()]
                    let size = records.reduce(0) { $0 + $1.count }
                    _ = state.takeAcceptorJournal()
                    try log.compact(toRecords: records)
                    lastWrite.compactedBytes = size
                    appendedSinceCompaction = 0
                    compactionCheck = max(Self.compactionFloorBytes, 2 * size)
                    compacted = true
                } else {
                    compactionCheck = appendedSinceCompaction + max(Self.compactionFloorBytes, estimate)
                }
            }
            if !compacted, core || identity {
                var records: [[UInt8]] = []
                if identity { records.append(state.encodedIdentity()) }
                if core { records.append(state.takeAcceptorJournal().map(state.encodedCoreDelta) ?? state.encodedCore()) }
                for record in records {
                    try log.append(record)
                    appendedSinceCompaction += record.count
                    lastWrite.appendedBytes += record.count
                }
                try log.sync()
            }
        } catch let error as ClusterError {
            throw error
        } catch {
            throw .storage("\(error)")
        }
        persistedCore = state.coreChanges
        persistedSnapshot = state.snapshotChanges
        persistedIdentity = state.identityChanges
    }

    /// What the last `persist` wrote, in bytes: records appended to the log, and the log rewritten by a
    /// compaction (0 when none): a slow write names which it was.
    public private(set) var lastWrite = (appendedBytes: 0, compactedBytes: 0)

    /// Returns once the snapshots handed to the background writer are on disk (at shutdown, and for tests).
    public func finishSnapshots() { writer?.finish() }

    /// The log is never compacted before this many bytes were appended since the last compaction.
    static let compactionFloorBytes = 4 << 20
    /// ... nor before the bytes appended since are this many times what the compacted log would hold.
    static let compactionRatio = 8

    /// Records which cluster this storage belongs to, or throws naming both identities when it already belongs
    /// to another; state written before identities were recorded takes the one given. Writes nothing itself.
    public func claim(_ identity: ClusterIdentity) throws(ClusterError) {
        if let held = state.identity {
            guard held == identity else {
                throw .storage("\(path) holds \(held); asked to start \(identity)")
            }
            return
        }
        state.identity = identity
    }

    /// Bytes appended or compacted so far by this process, snapshots included (for tests and measurements).
    public var bytesWritten: Int { log.bytesWritten + (snapshotLog?.bytesWritten ?? 0) }
    /// fsync calls made so far by this process on the files and their directory.
    public var fsyncCount: Int { log.fsyncCount + (snapshotLog?.fsyncCount ?? 0) }
}

/// Creates `directory` and its missing parents, or throws naming the part that could not be made.
func makeDirectory(_ directory: String) throws(ClusterError) {
    guard !directory.isEmpty else { throw .invalidConfiguration("the data directory is empty (give a folder's path)") }
    var path = directory.hasPrefix("/") ? "" : "."
    for part in directory.split(separator: "/") {
        path += "/" + part
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw .storage("\(path) is not a directory") }
            continue
        }
        guard mkdir(path, 0o700) == 0 || errno == EEXIST else {
            throw .storage("\(path): cannot create the directory: \(String(cString: strerror(errno)))")
        }
    }
}
