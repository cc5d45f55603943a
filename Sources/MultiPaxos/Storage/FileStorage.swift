/// A node's `DurableState` kept in a `FileLog`: recovered when opened, and written (appended and fsynced) by
/// `persist()`, which a runtime calls after each protocol step and before it sends any message that step
/// produced, so nothing is ever sent that depends on state not yet on disk. Every 64 writes the log is
/// compacted to the latest state.
public final class FileStorage: @unchecked Sendable {  // used by one node loop at a time
    /// The state the node's roles read and change.
    public let state: DurableState
    /// The file.
    public var path: String { log.path }
    private let log: FileLog
    /// Whether the file held no state when opened: a node never started, or one whose storage was lost.
    public let wasEmpty: Bool
    private var persistedChanges: UInt64
    private var writesSinceCompaction = 0

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
        if let last = log.recovered.last {
            do {
                state = try DurableState.decode(last)
            } catch {
                throw .storage("\(path): record \(log.recovered.count) is not a node's durable state: \(error)")
            }
        } else {
            state = DurableState()
        }
        persistedChanges = state.changes
    }

    /// Writes the state if it changed since the last write (or `always`), and returns once it is on disk.
    public func persist(always: Bool = false) throws(ClusterError) {
        guard always || state.changes != persistedChanges else { return }
        let bytes = state.encoded()
        do {
            if writesSinceCompaction >= 64 {
                try log.compact(to: bytes)
                writesSinceCompaction = 0
            } else {
                try log.append(bytes)
                try log.sync()
                writesSinceCompaction += 1
            }
        } catch {
            throw .storage(error.description)
        }
        persistedChanges = state.changes
    }
}
