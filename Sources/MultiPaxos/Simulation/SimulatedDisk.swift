/// A node's disk in the simulation, with the crash semantics of a real one. A write is durable only once a
/// sync that covers it completes (syncs take simulated time and run one at a time, so writes issued while one
/// is in flight wait for the next: group commit). A crash keeps every synced write and, of the writes not yet
/// synced, a prefix the seed chooses, the next one possibly torn part-way. What survives is rebuilt the way
/// `FileStorage` rebuilds a node: the bytes, in `FileLog`'s record format, go through `FileLog`'s recovery.
struct SimulatedDisk {
    /// Writes issued since the node (re)started; each is the node's whole durable state after one step.
    private(set) var written = 0
    /// How many of them a completed sync covers.
    private(set) var synced = 0
    /// How many writes the sync in flight covers, if one is in flight.
    private(set) var syncing: Int?
    /// The state as of the last completed sync.
    private var durable: DurableState
    /// The states written since then, oldest first (kept only when the run can crash a node).
    private var unsynced: [DurableState] = []
    private let keepsImages: Bool

    /// A disk holding `state` durably; `keepsImages` is false for runs that never crash, which need no copies.
    init(state: DurableState, keepsImages: Bool) {
        durable = keepsImages ? state.copy() : state
        self.keepsImages = keepsImages
    }

    /// Whether a write has not been synced yet.
    var hasUnsynced: Bool { written > synced }

    /// Records a write of `state` (the node's state after a step that changed it); durable only after a sync.
    mutating func write(_ state: DurableState) {
        written += 1
        if keepsImages { unsynced.append(state.copy()) }
    }

    /// Starts a sync of everything written so far, unless one is in flight or there is nothing to sync;
    /// returns whether it started.
    mutating func startSync() -> Bool {
        guard syncing == nil, hasUnsynced else { return false }
        syncing = written
        return true
    }

    /// The sync in flight completes: the writes it covers are durable.
    mutating func completeSync() {
        guard let covers = syncing else { return }
        if keepsImages, covers > synced {
            durable = unsynced[covers - synced - 1]
            unsynced.removeFirst(covers - synced)
        }
        synced = covers
        syncing = nil
    }

    /// The state after write `count` (0 is the state the disk started with), if this disk still holds it.
    func state(afterWrite count: Int) -> DurableState? {
        guard keepsImages, count >= synced, count <= written else { return nil }
        return count == synced ? durable : unsynced[count - synced - 1]
    }

    /// The state a node's sent messages may depend on, when the latest write any of them depended on is
    /// `exposed`: the state after that write, or the synced state if that is newer (it holds everything the
    /// older one did). Never the writes after both, which no message has depended on yet: a node that restarted
    /// and synced without sending anything has exposed only what it synced.
    func stateActedOn(exposed: Int) -> DurableState? {
        state(afterWrite: max(exposed, synced))
    }

    /// What a crash leaves: the synced state, plus a seed-chosen prefix of the unsynced writes and possibly a
    /// torn part of the next, recovered through `FileLog`'s parser. Returns the recovered state and what the
    /// crash did to the unsynced writes; throws if recovery refuses the image or gives back the wrong records.
    func afterCrash(_ random: inout SeededGenerator, node: NodeID) throws -> (DurableState, DiskCrashTally) {
        var tally = DiskCrashTally(crashes: 1)
        guard keepsImages, !unsynced.isEmpty else { return (durable, tally) }
        let kept = Int(random.upTo(UInt64(unsynced.count)))
        tally.withUnsyncedWrites = 1
        tally.writesLost = unsynced.count - kept
        var image = FileLog.header() + FileLog.frame(durable.encoded())
        for state in unsynced.prefix(kept) { image += FileLog.frame(state.encoded()) }
        if kept < unsynced.count, random.chance(0.5) {
            let next = FileLog.frame(unsynced[kept].encoded())
            image += next.prefix(1 + Int(random.upTo(UInt64(next.count - 2))))
            tally.tornWrites = 1
        }
        let (records, _) = try FileLog.parse(image, path: "simulated disk of \(node)")
        guard records.count == kept + 1 else {
            throw SimulatedDiskError("simulated disk of \(node): recovery found \(records.count) records, expected \(kept + 1)")
        }
        return (try DurableState.decode(records[records.count - 1]), tally)
    }
}

/// What crashes did to nodes' disks: how many found writes not yet synced, how many of those writes were
/// lost, and how many were torn part-way (and cut off by recovery).
public struct DiskCrashTally: Sendable, Equatable, CustomStringConvertible {
    /// Crashes.
    public var crashes = 0
    /// Crashes that found unsynced writes.
    public var withUnsyncedWrites = 0
    /// Unsynced writes lost (a torn one included).
    public var writesLost = 0
    /// Writes torn part-way, which recovery cut off.
    public var tornWrites = 0
    /// Disks lost altogether: their nodes came back as learners.
    public var wipes = 0
    /// Learners that became voting members again (rejoin decided, fence read).
    public var rejoins = 0

    /// An empty tally, or one of `crashes` crashes.
    public init(crashes: Int = 0) { self.crashes = crashes }

    /// Adds another tally to this one.
    public static func += (lhs: inout DiskCrashTally, rhs: DiskCrashTally) {
        lhs.crashes += rhs.crashes
        lhs.withUnsyncedWrites += rhs.withUnsyncedWrites
        lhs.writesLost += rhs.writesLost
        lhs.tornWrites += rhs.tornWrites
        lhs.wipes += rhs.wipes
        lhs.rejoins += rhs.rejoins
    }

    public var description: String {
        "\(crashes) crashes, \(withUnsyncedWrites) with unsynced writes: \(writesLost) writes lost, \(tornWrites) torn; \(wipes) disks wiped, \(rejoins) rejoined"
    }
}

/// A simulated disk whose recovery gave back something other than what was written.
struct SimulatedDiskError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
