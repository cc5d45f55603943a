/// How the leader runs Phase 1.
public enum Mode: String, Sendable, CaseIterable {
    /// Phase 1 once per ballot for every slot; afterwards each slot costs Phase 2 only.
    case stableLeader = "stable-leader"
    /// Every slot runs its own Phase 1 and Phase 2 (the design of the per-slot total-order broadcast, a Python
    /// reference for chapter 9 of Designing Data-Intensive Applications), kept for comparison.
    case perSlot = "per-slot"
}

/// The protocol's timing, in microseconds of bus time (virtual in a simulation, real otherwise).
public struct Timing: Sendable, Equatable {
    /// How often an active leader sends heartbeats.
    public var heartbeatInterval: Microseconds = 50_000
    /// How long a follower waits without hearing the leader before it competes.
    public var leaderTimeout: Microseconds = 300_000
    /// The largest random delay a preempted or suspecting node adds before competing.
    public var backoffMax: Microseconds = 200_000
    /// How often unanswered Prepares and Accepts are sent again.
    public var retransmitInterval: Microseconds = 40_000
    /// How often a replica checks whether it is lagging.
    public var catchUpInterval: Microseconds = 60_000
    /// How long a client waits before it sends a request again.
    public var requestTimeout: Microseconds = 400_000
    /// How often a joining node asks the next peer.
    public var joinRetryInterval: Microseconds = 100_000
    /// The defaults, tuned for a simulated network whose one-way delay is a few milliseconds.
    public init() {}

    /// The first value that cannot work, in one line naming it, or nil when every interval is positive, the
    /// backoff is not negative and the leader timeout exceeds the heartbeat interval (otherwise followers
    /// would suspect a healthy leader, or a zero timer would spin).
    public var problem: String? {
        let positive: [(String, Microseconds)] = [
            ("heartbeatInterval", heartbeatInterval), ("leaderTimeout", leaderTimeout),
            ("retransmitInterval", retransmitInterval), ("catchUpInterval", catchUpInterval),
            ("requestTimeout", requestTimeout), ("joinRetryInterval", joinRetryInterval),
        ]
        if let (name, value) = positive.first(where: { $0.1 <= 0 }) { return "timing: \(name) \(value) µs is not positive" }
        if backoffMax < 0 { return "timing: backoffMax \(backoffMax) µs is negative" }
        if leaderTimeout <= heartbeatInterval {
            return "timing: leaderTimeout \(leaderTimeout) µs must exceed heartbeatInterval \(heartbeatInterval) µs"
        }
        return nil
    }
}

/// What every member agrees on: who the members are, the mode, and the timing.
public struct ClusterConfiguration: Sendable {
    /// The members, sorted; majorities are counted over them.
    public let members: [NodeID]
    /// The members as a set.
    public let memberSet: NodeSet
    /// The Phase-1 mode.
    public let mode: Mode
    /// The protocol's timing.
    public let timing: Timing
    /// At most this many decided values travel in one catch-up reply.
    public let catchUpBatch: Int
    /// Replicas keep this many applied values below the trim watermark, so a replica that is only a little
    /// behind catches up from peers' logs rather than with a whole snapshot.
    public var retainedSlots: Int64 = 1024
    /// A Promise carries about this many bytes of accepted values at most (at least one value); the Scout asks
    /// the acceptor again for the rest. Far below a peer frame (16 MiB), so that no Promise is ever dropped.
    public var promiseBytes = 4 << 20
    /// A catch-up reply carries about this many bytes of decided values at most (at least one value): far below
    /// a peer frame (16 MiB), however large the batches in the log.
    public var catchUpBytes = 4 << 20
    /// A snapshot sent to a lagging peer travels in chunks of this many bytes of its state machine, one at a
    /// time as the peer asks for the next: far below a peer frame (16 MiB), so that a snapshot of any size
    /// arrives and neither side holds more than a chunk in flight.
    public var snapshotChunkBytes = 1 << 20
    /// Deliberate protocol bugs, for showing that the checkers catch them; always empty outside tests.
    var flaws: Flaws = []
    /// Nodes whose leaders never defer to another (benchmarks of contention): each proposes the commands of its
    /// own clients and competes again after every preemption, once a random backoff has passed.
    public var contenders = NodeSet()
    /// A replica persists a snapshot of its state machine once it has applied this many slots past its last one
    /// (checked at each heartbeat). 1 makes one at every heartbeat with progress (the simulation's default);
    /// the real-time shells take 512, so a busy node does not serialize its whole state every 50 ms. Slots are
    /// trimmed only below snapshots a majority holds, so acceptors keep up to about this many slots' values.
    public var snapshotIntervalSlots: Int64 = 1
    /// ... or once the operations it applied since its last one reach this many bytes, and at least as many as
    /// that snapshot held: snapshot writes then cost at most about what the commands themselves did, however
    /// large the state (nil: by slots only, the simulation's default).
    public var snapshotIntervalBytes: Int?
    /// ... and, when set, only once those operations reach this many times the last snapshot's size (or after 64
    /// intervals of slots, whatever they weigh): a large state is not rewritten for a few small commands, and
    /// snapshots write at most 1/n of what the commands did; acceptors then hold up to about n times the state
    /// in values. nil (the simulation's default): no such floor. The real-time shells take 2.
    public var snapshotGrowth: Int?
    /// ... and in any case once those operations reach this many bytes, whatever `snapshotGrowth` says: the
    /// values acceptors and replicas keep between snapshots (in memory, and in the log on disk) stay within about
    /// this many bytes however large the state, at the price of rewriting a large state more often. nil (the
    /// default; the in-memory `LocalCluster`, whose snapshots are encoded on its loop): no such bound.
    public var maxLogBytes: Int?
    /// How a leader packs and pipelines commands (off by default: one command per slot, no window).
    public var batching = Batching.off
    /// How replicas serve reads whose request names no consistency (the log by default, as the papers do).
    public var reads = ReadConsistency.log
    /// Leader leases: nil (the default) grants none, and reads asking for a lease use read index instead.
    public var leases: Leases?
    /// The leases the roles use: none while contenders compete (a contender never defers, so its lease would
    /// keep every other contender's Phase 1 out for good).
    var leasesInForce: Leases? { contenders.isEmpty ? leases : nil }
    /// The number of members that makes a majority: ⌊n/2⌋+1.
    public var quorum: Int { members.count / 2 + 1 }

    /// Makes a configuration; the members must be distinct and non-empty.
    public init(members: [NodeID], mode: Mode, timing: Timing = Timing(), catchUpBatch: Int = 256) {
        precondition(!members.isEmpty, "a cluster needs at least one member")
        precondition(Set(members).count == members.count, "duplicate members in \(members)")
        precondition(catchUpBatch > 0, "catchUpBatch \(catchUpBatch) must be positive")
        self.members = members.sorted()
        self.memberSet = NodeSet(members)
        self.mode = mode
        self.timing = timing
        self.catchUpBatch = catchUpBatch
    }
}

/// Batching and pipelining: how many slots a leader keeps in Phase 2 at once (its window), and how many commands
/// that wait for room it packs into one slot. A command that finds room gets a slot of its own at once, so a
/// lightly loaded cluster pays no batching delay; under load, commands gather while the window is full and the
/// next free slot carries them all.
public struct Batching: Sendable, Equatable, CustomStringConvertible {
    /// At most this many commands share one slot (1: every command has its own).
    public var maxCommands: Int
    /// At most this many operation bytes share one slot (a single larger command still gets a slot of its own).
    public var maxBytes: Int
    /// At most this many slots in flight (proposed, not yet decided) at once; nil: no limit.
    public var window: Int?

    /// Makes a setting; `problem` says whether it can work.
    public init(maxCommands: Int, maxBytes: Int = 1 << 20, window: Int?) {
        self.maxCommands = maxCommands
        self.maxBytes = maxBytes
        self.window = window
    }

    /// One command per slot and no window: the protocol as described in the papers, and the simulation's default.
    public static let off = Batching(maxCommands: 1, window: nil)
    /// What the real-time shells use unless told otherwise: up to 256 commands (1 MiB) a slot, 8 slots in flight.
    public static let standard = Batching(maxCommands: 256, window: 8)

    /// The first value that cannot work, in one line naming it; nil when every limit is positive.
    public var problem: String? {
        if maxCommands < 1 { return "batch size \(maxCommands) is not positive" }
        if maxBytes < 1 { return "batch byte limit \(maxBytes) is not positive" }
        if let window, window < 1 { return "window \(window) is not positive" }
        return nil
    }

    public var description: String {
        "batch \(maxCommands), window \(window.map(String.init) ?? "unlimited")"
    }
}

/// Deliberate protocol bugs behind a test-only switch: each breaks a rule Paxos needs, so that tests can show
/// the simulation's checkers catch it.
struct Flaws: OptionSet, Sendable {
    let rawValue: Int
    /// A restarted node's acceptor comes back with empty state, as if nothing had been synced.
    static let acceptorForgetsOnRestart = Flaws(rawValue: 1)
    /// The acceptor accepts any ballot, even below its promise.
    static let acceptorIgnoresPromises = Flaws(rawValue: 2)
    /// The replica runs a retried request again instead of answering from its cache.
    static let replicaReappliesRetries = Flaws(rawValue: 4)
    /// The replica answers key-value reads from its own state at once, without ordering them through Paxos.
    static let replicaReadsLocally = Flaws(rawValue: 8)
    /// A node sends a step's messages first and makes the step's state durable only at its next step, so a
    /// crash in between loses state that messages already depended on.
    static let sendsBeforeSyncing = Flaws(rawValue: 16)
    /// A node whose disk was wiped rejoins as a new voting member, though it may have forgotten promises.
    static let amnesiacVotes = Flaws(rawValue: 32)
    /// A node that lost its storage votes again as soon as its rejoin is decided, without reading a quorum.
    static let rejoinsWithoutReading = Flaws(rawValue: 64)
    /// A leader never checks that it hears from a majority (no CheckQuorum): a deaf leader keeps leading.
    static let leaderSkipsQuorumCheck = Flaws(rawValue: 128)
    /// The Scout adopts, for each slot, the value accepted at the lowest ballot instead of the highest.
    static let scoutAdoptsLowestBallot = Flaws(rawValue: 1 << 8)
    /// The Scout counts a promise again when the same acceptor's promise arrives twice.
    static let scoutCountsDuplicatePromises = Flaws(rawValue: 1 << 9)
    /// The acceptor acknowledges Accepts for slots below its trim watermark.
    static let acceptorAcksBelowTrim = Flaws(rawValue: 1 << 10)
    /// A rejoining node reads one node fewer at its fence than it needs.
    static let rejoinFenceReadsOneFewer = Flaws(rawValue: 1 << 11)
    /// The leader trims at the highest slot any replica applied instead of the one a majority applied.
    static let trimsAtHighestApplied = Flaws(rawValue: 1 << 12)
    /// Replicas report what they applied before their snapshot of it is durable (they persist it a heartbeat
    /// later), so the cluster trims on progress a crash can still take back.
    static let trimsOnUndurableProgress = Flaws(rawValue: 1 << 13)
    /// Phase 1 is adopted with one promise fewer than a majority.
    static let smallPhase1Quorum = Flaws(rawValue: 1 << 14)
    /// A slot is decided with one Accepted fewer than a majority.
    static let smallPhase2Quorum = Flaws(rawValue: 1 << 15)
    /// A new leader does not drive the values Phase 1 reported (it leaves those slots alone).
    static let leaderSkipsRedrive = Flaws(rawValue: 1 << 16)
    /// A replica that has a later decision skips a slot it has not learned instead of waiting for it.
    static let replicaSkipsHoles = Flaws(rawValue: 1 << 17)
    /// A replica's snapshot leaves out the reply cache.
    static let snapshotWithoutReplyCache = Flaws(rawValue: 1 << 18)
    /// A Commander counts every Accepted it receives, duplicates of the same acceptor's included.
    static let commanderCountsDuplicates = Flaws(rawValue: 1 << 19)
    /// A per-slot leader proposes in a slot without running that slot's Phase 1.
    static let perSlotSkipsPhase1 = Flaws(rawValue: 1 << 20)
    /// A leadership transfer that does not pause: the old leader keeps assigning slots and hands over at once,
    /// and the target takes over without Phase 1, from the slot the `TimeoutNow` names, as if the handover
    /// itself told it everything. (1 << 21 and 1 << 22 are kept for the read-index flaws.)
    static let transferWithoutPhase1 = Flaws(rawValue: 1 << 23)
    /// A leader answers a read index at once, without confirming with a majority that it still leads.
    static let readIndexSkipsConfirmation = Flaws(rawValue: 1 << 21)
    /// A replica answers a read as soon as the read index arrives, without waiting to have applied that far.
    static let replicaAnswersBeforeApplied = Flaws(rawValue: 1 << 22)
    /// A stable leader keeps the ballot its Phase 1 won when the voters change, instead of running Phase 1 again
    /// with the new voters: two changes later its promises need not overlap a majority of the voters.
    static let phase1KeepsOldVoters = Flaws(rawValue: 1 << 24)
    /// An acceptor's Promise carries every value it accepted in scope, however many bytes: past a peer frame
    /// such a Promise is dropped, and a new leader's Phase 1 never ends.
    static let promiseIgnoresSizeBound = Flaws(rawValue: 1 << 25)
    /// A stable leader that a change removed keeps its ballot through further changes (it would hand leadership
    /// over): two changes past its Phase 1, a majority of the voters it drives slots with need not have promised.
    static let removedLeaderKeepsBallot = Flaws(rawValue: 1 << 26)
    /// A per-slot leader drives a slot whose Phase 1 it adopted though its replica applied, meanwhile, a change
    /// that put the slot below the Phase-1 floor (the Scout asked voters two changes past the slot's).
    static let perSlotAdoptsBelowPhase1Floor = Flaws(rawValue: 1 << 27)
    /// A read-index round counts the confirmations of voters a change removed while it was out, together with
    /// the current voters': a majority of neither configuration.
    static let readIndexMixesVoters = Flaws(rawValue: 1 << 28)
    /// A rejoined acceptor votes in slots below what its replica applied, where its fence read (of the
    /// configurations it still keeps) may have missed the voters of the slot.
    static let rejoinVotesBelowApplied = Flaws(rawValue: 1 << 29)
    /// A leader's lease ends only when its timer fires, whatever its clock says when a read is answered (in the
    /// real-time shells the timer runs late when the node's loop is busy).
    static let leaseTrustsTimers = Flaws(rawValue: 1 << 30)
    /// A leader skips ahead to what a replica reports applied even while it drives Phase 1's values again, so
    /// slots only a removed node or a spare applied may be learned by no voter (a liveness bug one seed in about
    /// 25,000 of `--reconfigure` shows, so it has a scenario test rather than a place in the mutant catalogue).
    static let leaderJumpsPastRedrive = Flaws(rawValue: 1 << 31)
    /// An acceptor trims at the leader's watermark even past its own node's snapshot on disk: the values it drops
    /// may then be on fewer disks than voted for them.
    static let acceptorTrimsPastOwnSnapshot = Flaws(rawValue: 1 << 32)
    /// A rejoining acceptor takes its fence readers' trim point, and its replica's snapshot in memory, as where it
    /// never votes again, though its node's snapshot on disk may not reach that far: it then says slots are
    /// decided that its node cannot serve.
    static let rejoinTrimsPastOwnSnapshot = Flaws(rawValue: 1 << 33)
}
