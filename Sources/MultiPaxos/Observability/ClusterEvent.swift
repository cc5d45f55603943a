/// Something that happened at one node of a `LocalCluster`, as `LocalCluster.events()` delivers it: the
/// protocol events the roles report, plus what the shell sees (catch-up, snapshots, nodes stopped).
public struct ClusterEvent: Sendable, Equatable, CustomStringConvertible {
    /// The node it happened at.
    public let node: NodeID
    /// What happened.
    public let kind: Kind

    /// The kinds of event.
    public enum Kind: Sendable, Equatable {
        /// The node leads with this ballot.
        case elected(Ballot)
        /// The node's ballot (leading or competing) was beaten by a higher one.
        case preempted(Ballot, by: Ballot)
        /// The leader stepped down: it heard from fewer than a majority for a leader timeout (CheckQuorum).
        case steppedDown(Ballot, heardNodes: Int)
        /// The node stopped hearing the leader of this ballot and asks whether it may compete (a pre-vote).
        case leaderSuspected(Ballot)
        /// The node became a member, starting at this slot.
        case joined(Slot)
        /// The node started with no record of a membership and found the cluster running (the text says how): it
        /// rejoins before it votes, since it may have voted before it lost its storage.
        case mustRejoin(String)
        /// The node, which had lost its storage, votes again, in `epoch`, after a quorum promised `fence`.
        case rejoined(epoch: UInt64, fence: Ballot)
        /// The node's seed let these nodes in.
        case welcomed(NodeSet)
        /// The node's seed waits for these initial voters to start (on empty storage) before it founds the cluster.
        case waitingToFound(missing: NodeSet)
        /// The node found itself behind and asked `peer` for the slots from `from` on.
        case catchUpStarted(from: Slot, peer: NodeID)
        /// The node's replica stopped needing to ask: it had applied up to (not including) this slot.
        case catchUpFinished(appliedTo: Slot)
        /// The node sent `peer` a snapshot up to `upTo`, since `peer` asked for slots already trimmed.
        case snapshotSent(upTo: Slot, to: NodeID)
        /// The node installed a snapshot from a peer, up to this slot.
        case snapshotInstalled(Slot)
        /// The leader of this ballot stopped assigning slots to hand leadership to `to` (a leadership transfer).
        case transferStarted(Ballot, to: NodeID)
        /// The leader of this ballot gave up its transfer to `to` after a leader timeout, and assigns again.
        case transferAbandoned(Ballot, to: NodeID)
        /// The leader of this ballot asked the node to take over: it competes at once.
        case toldToCompete(by: Ballot)
        /// This node's replica applied a change of voters, which governs from its first slot on.
        case reconfigured(VoterConfiguration)
        /// The node was stopped (`LocalCluster.stop`): its loop and timers ended.
        case stopped
        /// The node was started again from its durable state (`LocalCluster.restart`).
        case restarted
    }

    /// Makes an event.
    public init(node: NodeID, kind: Kind) {
        self.node = node
        self.kind = kind
    }

    public var description: String {
        let what = switch kind {
        case .elected(let b): "leads with ballot \(b)"
        case .preempted(let b, let by): "ballot \(b) preempted by \(by)"
        case .steppedDown(let b, let heard): "steps down from ballot \(b): heard from only \(heard) node(s) in a leader timeout"
        case .leaderSuspected(let b): "suspects the leader of ballot \(b) is gone"
        case .joined(let s): "joins the cluster at \(s)"
        case .mustRejoin(let why): "must rejoin before it votes: \(why)"
        case .rejoined(let e, let f) where f == .initial: "rejoins as a voting member in epoch \(e) (no fence: it votes in no configuration it knows)"
        case .rejoined(let e, let f): "rejoins as a voting member in epoch \(e) (fence \(f) promised)"
        case .welcomed(let n): "welcomes \(n)"
        case .waitingToFound(let missing): "waits for \(missing) to start before it founds the cluster"
        case .catchUpStarted(let from, let peer): "is behind: catches up from \(peer), from \(from)"
        case .catchUpFinished(let s): "caught up (applied to \(s))"
        case .snapshotSent(let s, let peer): "sends \(peer) a snapshot up to \(s)"
        case .snapshotInstalled(let s): "installs a snapshot up to \(s)"
        case .transferStarted(let b, let to): "pauses ballot \(b)'s proposals to hand leadership to \(to)"
        case .transferAbandoned(let b, let to): "abandons the transfer to \(to) and resumes proposing with ballot \(b)"
        case .toldToCompete(let b): "competes at once: the leader of ballot \(b) hands over"
        case .reconfigured(let c): "voters become {\(c.voters)} from \(c.from) (configuration #\(c.number))"
        case .stopped: "stopped"
        case .restarted: "restarted"
        }
        return "\(node) \(what)"
    }

    /// The cluster event a role's event becomes, if it is one `events()` reports (elections, membership,
    /// snapshots; not every decided or applied slot).
    static func kind(of event: Event) -> Kind? {
        switch event {
        case .elected(let b): .elected(b)
        case .preempted(let b, let by): .preempted(b, by: by)
        case .steppedDown(let b, let heard): .steppedDown(b, heardNodes: heard)
        case .leaderSuspected(let b): .leaderSuspected(b)
        case .joined(let s): .joined(s)
        case .mustRejoin(let why): .mustRejoin(why)
        case .rejoined(let e, let f): .rejoined(epoch: e, fence: f)
        case .welcomed(let n): .welcomed(n)
        case .waitingToFound(let missing): .waitingToFound(missing: missing)
        case .installedSnapshot(let s): .snapshotInstalled(s)
        case .transferStarted(let b, let to): .transferStarted(b, to: to)
        case .transferAbandoned(let b, let to): .transferAbandoned(b, to: to)
        case .toldToCompete(let b): .toldToCompete(by: b)
        case .reconfigured(let c): .reconfigured(c)
        case .phase1Started, .phase1Waiting, .preVoteRefused, .awaitsSnapshot, .decided, .applied, .invoked, .completed: nil
        }
    }
}
