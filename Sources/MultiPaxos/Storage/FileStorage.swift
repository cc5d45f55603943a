#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A node's `DurableState` kept in a `FileLog`: recovered when opened, and written (appended and fsynced) by
/// `persist()`, which a runtime calls after each protocol step and before it sends any message that step
/// produced, so nothing is ever sent that depends on state not yet on disk. A step appends only what it changed:
/// the core's scalars (promises, ballot round, membership) and the slots whose vote changed, or the replica's
/// snapshot (when the replica makes one), so what a step writes depends on the step, not on the state. Once the
/// records appended since the last compaction outweigh twice the state (and 4 MiB), the log is compacted to one
/// record of the whole state: writes stay within a small factor of what changed, and recovery replays little.
public final class FileStorage: @unchecked Sendable {  // used by one node loop at a time
    /// The state the node's roles read and change.
    public let state: DurableState
    /// The file.
    public var path: String { log.path }
    private let log: FileLog
    /// Whether the file held no state when opened: a node never started, or one whose storage was lost.
    public let wasEmpty: Bool
    private var persistedCore: UInt64
    private var persistedSnapshot: UInt64
    private var persistedIdentity: UInt64
    private var appendedSinceCompaction = 0
    private var compactedBytes = 0

    /// Opens (or creates) the storage at `path`, recovering the last state written there.
    public init(path: String) throws(ClusterError) {
        let log: FileLog
        do {
            log = try FileLog(path: path)
        } catch {
            throw .storage(error.description)
        }
        self.log = log
        wasEmpty = log.recovered.isEmpty
        state = DurableState()
        var offset = FileLog.headerSize
        for (i, record) in log.recovered.enumerated() {
            do {
                try state.absorb(record)
            } catch {
                throw .storage("\(path): record \(i + 1) at offset \(offset) is not a node's durable state: \(error)")
            }
            offset += FileLog.recordHeaderSize + record.count
        }
        persistedCore = state.coreChanges
        persistedSnapshot = state.snapshotChanges
        persistedIdentity = state.identityChanges
        compactedBytes = log.recovered.reduce(0) { $0 + $1.count }
        state.keepsJournal = true
    }

    /// Writes the state if it changed since the last write (or `always`), and returns once it is on disk.
    public func persist(always: Bool = false) throws(ClusterError) {
        let core = always || state.coreChanges != persistedCore
        let snapshot = state.snapshotChanges != persistedSnapshot
        let identity = state.identityChanges != persistedIdentity && state.identity != nil
        guard core || snapshot || identity else { return }
        do {
            if appendedSinceCompaction > max(Self.compactionFloorBytes, 2 * compactedBytes) {
                _ = state.takeAcceptorJournal()
                let whole = state.encoded()
                try log.compact(to: whole)
                compactedBytes = whole.count
                appendedSinceCompaction = 0
            } else {
                var records: [[UInt8]] = []
                if identity { records.append(state.encodedIdentity()) }
                if snapshot { records.append(state.encodedSnapshot()) }
                if core { records.append(state.takeAcceptorJournal().map(state.encodedCoreDelta) ?? state.encodedCore()) }
                for record in records {
                    try log.append(record)
                    appendedSinceCompaction += record.count
                }
                try log.sync()
            }
        } catch {
            throw .storage(error.description)
        }
        persistedCore = state.coreChanges
        persistedSnapshot = state.snapshotChanges
        persistedIdentity = state.identityChanges
    }

    /// The log is never compacted before this many bytes were appended since the last compaction.
    static let compactionFloorBytes = 4 << 20

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

    /// Bytes appended or compacted so far by this process (for tests and measurements).
    public var bytesWritten: Int { log.bytesWritten }
    /// fsync calls made so far by this process on the file and its directory.
    public var fsyncCount: Int { log.fsyncCount }
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
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
            throw .storage("\(path): cannot create the directory: \(String(cString: strerror(errno)))")
        }
    }
}
