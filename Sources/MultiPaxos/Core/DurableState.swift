/// What a member must remember across a crash for Paxos to stay safe: its acceptor's promises and accepted
/// values, and the highest ballot round its leader has used (so a restarted leader never reuses a ballot).
/// The roles mutate it in place within one protocol step, before they return the messages that depend on it,
/// so every message is sent only after the state it depends on is recorded.
///
/// It is a class so that it outlives the node's actors; only the node's roles touch it, and they all run on the
/// node's one serial executor.
public final class DurableState: @unchecked Sendable {
    /// The acceptor's state.
    public internal(set) var acceptor = AcceptorRecord() {
        didSet {
            coreChanges &+= 1
            if !journaling { acceptorReplaced = true }
        }
    }
    /// Whether a log asked for the acceptor's journal (`keepsJournal`): the slots changed since its last write.
    var keepsJournal = false
    private var journaling = false
    private var acceptorReplaced = true
    private var journal: Set<Slot> = []
    /// What the node is in its cluster: new (it never voted), a voting member, or a learner that must never
    /// vote (its storage was lost, so it may have forgotten promises it made).
    public internal(set) var membership = Membership.new { didSet { coreChanges &+= 1 } }
    /// Whether this node has become a voting member; a restarted member resumes from this state without rejoining.
    public var isMember: Bool { membership == .member }
    /// The highest ballot round this node's leader has competed with.
    public internal(set) var ballotRound: UInt64 = 0 { didSet { coreChanges &+= 1 } }
    /// The replica's last persisted snapshot. Replicas report only this far as applied, so the cluster trims a
    /// slot only once a majority holds it durably.
    public internal(set) var replicaSnapshot: Snapshot? { didSet { snapshotChanges &+= 1 } }
    /// A snapshot being received from a peer, kept here so that storage with a disk writes each chunk down as it
    /// arrives (its own file beside the log), and a restart resumes the transfer where it stopped. Not part of
    /// the records `encoded()` makes: losing it costs only a transfer that starts again.
    public internal(set) var incomingSnapshot: IncomingSnapshot?
    /// A slot the node's replica must hold in a snapshot on disk before its acceptor may rejoin: the readers of a
    /// rejoin's fence trimmed below it, so the rejoined acceptor will never vote there, which it may claim only
    /// for slots its own node can serve (`Initializer.rejoined`). The replica snapshots once it has applied so far.
    var snapshotWanted = Slot.zero
    /// Where a shell writes snapshots off the node loop (`FileStorage.writesSnapshotsInBackground`): the slot up
    /// to which one is on disk. nil: every snapshot is written before the messages of the step that made it.
    public var snapshotWrittenThrough: Slot?
    /// The slot up to which the replica's snapshot is durable: what it may report as applied, so that the
    /// cluster trims a slot only once a majority holds it on disk.
    public var durableSnapshotSlot: Slot { snapshotWrittenThrough ?? replicaSnapshot?.nextSlot ?? .zero }
    /// Where a shell's writes become durable only after the step that made them (the simulation's disks): the
    /// slot up to which a snapshot is synced. nil: `durableSnapshotSlot` already is on disk whenever the step's
    /// own writes are (a background writer's mark, or a snapshot written with the step, before the trim).
    public var syncedSnapshotSlot: Slot?
    /// How far this node's acceptor may trim: what its own replica holds in a snapshot on disk.
    var ownSnapshotOnDisk: Slot { syncedSnapshotSlot ?? durableSnapshotSlot }
    /// Which cluster, members, node and mode this state belongs to; nil in state written before it was recorded
    /// (and in simulations, where nothing outlives the run). A shell refuses to start a node on state whose
    /// identity differs from the one asked for, since another membership would count other majorities.
    public internal(set) var identity: ClusterIdentity? { didSet { identityChanges &+= 1 } }
    /// Counts changes to everything but the snapshot, to the snapshot, and to the identity, so that a log writes
    /// only what changed.
    public private(set) var coreChanges: UInt64 = 0, snapshotChanges: UInt64 = 0, identityChanges: UInt64 = 0
    /// Counts all changes, so that a shell knows whether there is anything to write before it sends.
    public var changes: UInt64 { coreChanges &+ snapshotChanges &+ identityChanges }

    /// The voters as this node's replica applied them, shared by its roles. Not written by itself: it is part of
    /// the replica's snapshot, and a restarted replica rebuilds it from there.
    public let voters = VoterView()

    /// Empty state: a node that has never voted.
    public init() {}

    /// Changes the acceptor's record in place; `slot` names the slot whose accepted value or per-slot promise
    /// the change touches, if any, so that a log can write just that slot (`encodedCoreDelta`).
    func updateAcceptor(slot: Slot? = nil, _ change: (inout AcceptorRecord) -> Void) {
        journaling = true
        change(&acceptor)
        journaling = false
        guard keepsJournal, let slot, !acceptorReplaced else { return }
        journal.insert(slot)
        if journal.count > 1 << 16 { acceptorReplaced = true }  // bounded: write the whole record next time
    }

    /// The slots changed since the last call, or nil when the record was replaced as a whole (or the journal
    /// outgrew its bound) and must be written whole; starts a new journal.
    func takeAcceptorJournal() -> Set<Slot>? {
        defer {
            journal = []
            acceptorReplaced = false
        }
        return acceptorReplaced ? nil : journal
    }

    /// The state of a node whose storage was lost: whatever it promised before is forgotten, so it may only
    /// rejoin as a learner.
    public static func amnesiac() -> DurableState {
        let state = DurableState()
        state.membership = .learner
        return state
    }

    /// An independent copy, as it stands now.
    public func copy() -> DurableState {
        let other = DurableState()
        other.acceptor = acceptor
        other.membership = membership
        other.ballotRound = ballotRound
        other.replicaSnapshot = replicaSnapshot
        other.identity = identity
        return other
    }

    /// The whole state as bytes (dictionaries in key order, so equal states encode equally).
    public func encoded() -> [UInt8] {
        var w = ByteWriter()
        if let identity {
            // encoding: the whole state with its identity (6 had no voters in the snapshot; 12 when the identity
            // names initial voters)
            w.byte(identity.initialVoters == nil ? 9 : 12)
            identity.write(&w)
        } else {
            w.byte(8)  // encoding: the whole state (1 had no membership epoch in the snapshot, 2 no voters)
        }
        writeCore(&w)
        writeSnapshot(&w)
        return w.bytes
    }

    /// The identity alone (written once, when a node's storage is provisioned).
    public func encodedIdentity() -> [UInt8] {
        precondition(identity != nil, "no identity to encode")
        var w = ByteWriter()
        w.byte(identity?.initialVoters == nil ? 5 : 11)  // encoding: the identity only (11: with initial voters)
        identity?.write(&w)
        return w.bytes
    }

    /// Everything but the replica's snapshot: what changes on almost every step. A log can hold these records
    /// between snapshot records, so that a step does not rewrite the state machine.
    public func encodedCore() -> [UInt8] {
        var w = ByteWriter()
        w.byte(3)  // encoding: the core only
        writeCore(&w)
        return w.bytes
    }

    /// About the length of `encodedCore()`, found without encoding it: what deciding whether to compact a log
    /// needs (encoding a large core just to measure it cost the node loop as much as writing it).
    var coreSizeEstimate: Int {
        let a = acceptor
        return 64 + 24 * a.slotPromised.count + a.accepted.values.reduce(0) { $0 + 24 + $1.value.encodedSizeEstimate }
    }

    /// What changed in the core since the record the log holds: the scalars, and for each of `slots` its
    /// per-slot promise and accepted value as they are now (absent ones are gone). Replayed on top of earlier
    /// records, so a step writes what it changed, not every value accepted since the last trim.
    func encodedCoreDelta(_ slots: Set<Slot>) -> [UInt8] {
        var w = ByteWriter()
        w.byte(7)  // encoding: the core's changes
        writeScalars(&w)
        w.uint32(UInt32(slots.count))
        let a = acceptor
        for slot in slots.sorted() {
            w.slot(slot)
            let promise = a.slotPromised[slot], value = a.accepted[slot]
            w.byte((promise != nil ? 1 : 0) | (value != nil ? 2 : 0))
            if let promise { w.ballot(promise) }
            if let value {
                w.ballot(value.ballot)
                w.value(value.value)
            }
        }
        return w.bytes
    }

    /// The replica's snapshot alone (it changes about once a heartbeat).
    public func encodedSnapshot() -> [UInt8] {
        var w = ByteWriter()
        w.byte(10)  // encoding: the snapshot only (4 had no voters)
        writeSnapshot(&w)
        return w.bytes
    }

    /// `snapshot` as the record `encodedSnapshot()` would make of it: what a writer off the node loop encodes.
    static func encodedSnapshotRecord(_ snapshot: Snapshot) -> [UInt8] {
        var w = ByteWriter()
        w.byte(10)
        w.byte(1)
        w.snapshot(snapshot)
        return w.bytes
    }

    private func writeScalars(_ w: inout ByteWriter) {
        w.byte(membership.rawValue)
        w.uint64(ballotRound)
        let a = acceptor
        for b in [a.promised, a.highestPromised] { w.ballot(b) }
        w.slot(a.trimmedBelow)
        w.slot(a.slotsEnd)
    }

    private func writeCore(_ w: inout ByteWriter) {
        writeScalars(&w)
        let a = acceptor
        w.uint32(UInt32(a.slotPromised.count))
        for slot in a.slotPromised.keys.sorted() {
            w.slot(slot)
            w.ballot(a.slotPromised[slot]!)
        }
        w.uint32(UInt32(a.accepted.count))
        for slot in a.accepted.keys.sorted() {
            let pv = a.accepted[slot]!
            w.slot(slot)
            w.ballot(pv.ballot)
            w.value(pv.value)
        }
    }

    private func writeSnapshot(_ w: inout ByteWriter) {
        guard let snap = replicaSnapshot else {
            w.byte(0)
            return
        }
        w.byte(1)
        w.snapshot(snap)
    }

    /// Decodes state written by `encoded()`, or throws naming what is wrong.
    public static func decode(_ bytes: [UInt8]) throws(ByteDecodingError) -> DurableState {
        let state = DurableState()
        try state.absorb(bytes)
        guard bytes.first.map({ [1, 2, 6, 8, 9, 12].contains($0) }) == true else {
            throw ByteDecodingError("durable state record of kind \(bytes.first ?? 0) is not a whole state")
        }
        return state
    }

    /// Takes in one record, as a log replays them in order: a whole state (`encoded()`) replaces everything, a
    /// core record (`encodedCore()`) everything but the snapshot, a snapshot record (`encodedSnapshot()`) the
    /// snapshot. Throws naming what is wrong, and then changes nothing.
    public func absorb(_ bytes: [UInt8]) throws(ByteDecodingError) {
        do {
            var r = ByteReader(bytes)
            let version = try r.byte()
            var core: (Membership, UInt64, AcceptorRecord)?
            var snapshot: Snapshot??
            var identity: ClusterIdentity?
            switch version {
            case 1, 2, 6, 8, 9, 12:
                if [6, 9, 12].contains(version) { identity = try ClusterIdentity.read(&r, withVoters: version == 12) }
                core = try Self.readCore(&r)
                snapshot = .some(try Self.readSnapshot(&r, withEpoch: version >= 2, withVoters: version >= 8))
            case 3: core = try Self.readCore(&r)
            case 4, 10: snapshot = .some(try Self.readSnapshot(&r, withEpoch: true, withVoters: version == 10))
            case 5, 11: identity = try ClusterIdentity.read(&r, withVoters: version == 11)
            case 7: core = try Self.readCoreDelta(&r, onto: acceptor)
            default: throw ByteDecodingError("durable state encoding version \(version) is not supported")
            }
            guard r.isAtEnd else { throw ByteDecodingError("\(bytes.count - r.offset) stray bytes after durable state") }
            if let (membership, round, record) = core {
                self.membership = membership
                ballotRound = round
                acceptor = record
            }
            if let snap = snapshot { replicaSnapshot = snap }
            if let identity { self.identity = identity }
        } catch let error as ByteDecodingError {
            throw error
        } catch {
            throw ByteDecodingError("\(error)")
        }
    }

    private static func readScalars(_ r: inout ByteReader, into a: inout AcceptorRecord) throws -> (Membership, UInt64) {
        let role = try r.byte()
        guard let membership = Membership(rawValue: role) else { throw ByteDecodingError("membership \(role) is not 0, 1 or 2") }
        let round = try r.uint64()
        a.promised = try r.ballot()
        a.highestPromised = try r.ballot()
        a.trimmedBelow = try r.slot()
        a.slotsEnd = try r.slot()
        return (membership, round)
    }

    /// A delta record (`encodedCoreDelta`) applied to `base`: its slots replaced, then everything below the new
    /// trim watermark dropped, as the acceptor itself drops it.
    private static func readCoreDelta(_ r: inout ByteReader, onto base: AcceptorRecord) throws -> (Membership, UInt64, AcceptorRecord) {
        var a = base
        let (membership, round) = try readScalars(&r, into: &a)
        let count = try r.count(of: "changed slot", minimumBytes: 9)
        for _ in 0..<count {
            let slot = try r.slot()
            let at = r.offset
            let flags = try r.byte()
            guard flags < 4 else { throw ByteDecodingError("slot flags \(flags) at offset \(at) are not 0...3") }
            a.slotPromised[slot] = flags & 1 != 0 ? try r.ballot() : nil
            a.accepted[slot] = flags & 2 != 0 ? PValue(ballot: try r.ballot(), slot: slot, value: try r.value()) : nil
        }
        if a.accepted.keys.contains(where: { $0 < a.trimmedBelow }) { a.accepted = a.accepted.filter { $0.key >= a.trimmedBelow } }
        if a.slotPromised.keys.contains(where: { $0 < a.trimmedBelow }) {
            a.slotPromised = a.slotPromised.filter { $0.key >= a.trimmedBelow }
        }
        return (membership, round, a)
    }

    private static func readCore(_ r: inout ByteReader) throws -> (Membership, UInt64, AcceptorRecord) {
        var a = AcceptorRecord()
        let (membership, round) = try readScalars(&r, into: &a)
        for _ in 0..<(try r.uint32()) { a.slotPromised[try r.slot()] = try r.ballot() }
        for _ in 0..<(try r.uint32()) {
            let slot = try r.slot()
            a.accepted[slot] = PValue(ballot: try r.ballot(), slot: slot, value: try r.value())
        }
        return (membership, round, a)
    }

    private static func readSnapshot(_ r: inout ByteReader, withEpoch: Bool, withVoters: Bool) throws -> Snapshot? {
        guard try r.byte() == 1 else { return nil }
        return try r.snapshot(withEpoch: withEpoch, withVoters: withVoters)
    }
}

/// A snapshot being received from a peer, chunk by chunk: its header (the snapshot without its state machine's
/// bytes), the bytes so far, and how far they had come at the last catch-up check.
public struct IncomingSnapshot: Sendable {
    /// The peer sending it.
    public let peer: NodeID
    /// The snapshot without its state machine's bytes.
    public let header: Snapshot
    /// The length of the state machine's encoding.
    public let total: Int64
    /// The state machine's bytes received so far.
    public internal(set) var machine: [UInt8] = []
    var checkedBytes = -1
    var stalledChecks = 0
    /// Catch-up checks without a new byte after which a transfer counts as stalled: its bytes are kept (the
    /// sender may come back), but a transfer from another peer may replace it and the node may compete again.
    static let stallChecks = 3
    /// Whether bytes came in within the last few catch-up checks.
    var isProgressing: Bool { stalledChecks < Self.stallChecks }
}
