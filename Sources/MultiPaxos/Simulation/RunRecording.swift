/// What a simulated run did over time, for drawing it (see `RunDiagram`): every network message with its send
/// time and fate, and the marks of elections, decisions and faults. Recorded by the bus only when asked
/// (`Simulation(options:recordsRun:)`), in the order things happened, so the same seed records the same run.
public struct RunRecording: Sendable {
    /// What became of a message sent over the network.
    public enum Fate: Sendable, Equatable {
        /// It reached its target at this time.
        case delivered(at: Microseconds)
        /// It was lost at this time: by the network (at send, drawn a nominal flight later), by a cut, or
        /// because its target was down; `why` says which.
        case dropped(at: Microseconds, why: String)
        /// It was still on its way when the run ended.
        case inFlight
    }

    /// One message from one node to another (a node's messages to itself are not recorded: they never leave it).
    public struct Transmission: Sendable {
        /// The sender.
        public let from: NodeID
        /// The target.
        public let to: NodeID
        /// The message's kind (its colour in the diagram).
        public let kind: MessageKind
        /// The message as the trace prints it.
        public let label: String
        /// When it was sent.
        public let sentAt: Microseconds
        /// Whether it is an extra copy: a duplicate, or an old message replayed by the network.
        public let isCopy: Bool
        /// What became of it.
        public internal(set) var fate: Fate
    }

    /// Something that happened at a node or to the network.
    public struct Mark: Sendable {
        /// What kind of thing happened.
        public enum Kind: Sendable, Equatable {
            /// A node became leader.
            case elected
            /// A leader learned a slot was decided.
            case decided
            /// A leader's ballot was beaten, or it stepped down, or a follower suspected its leader.
            case leadershipLost
            /// A node joined the cluster, rejoined as a voter, or installed a snapshot.
            case joined
            /// The node crashed.
            case crashed
            /// The node lost its disk (it crashed too).
            case wiped
            /// The node restarted.
            case restarted
            /// The node was paused until `Mark.until`.
            case paused
            /// The network was cut until `Mark.until` (a partition).
            case cut
        }
        /// When.
        public let at: Microseconds
        /// Where (nil for the network).
        public let node: NodeID?
        /// What.
        public let kind: Kind
        /// The trace's words for it.
        public let label: String
        /// When a pause or a cut ends.
        public let until: Microseconds?
    }

    /// How many nodes the cluster has (one lane each).
    public let nodes: Int
    /// The nominal one-way delay (the smallest delay plus half the jitter): where a lost message is drawn to.
    public let nominalDelay: Microseconds
    /// The network messages, in the order they were sent.
    public internal(set) var transmissions: [Transmission] = []
    /// The marks, in the order they happened.
    public internal(set) var marks: [Mark] = []
    /// Simulated time at the end of the run.
    public internal(set) var end: Microseconds = 0

    /// An empty recording of a run of `nodes` nodes.
    public init(nodes: Int, nominalDelay: Microseconds) {
        self.nodes = nodes
        self.nominalDelay = nominalDelay
    }
}

/// The bus's hooks that fill the recording; each does nothing when the run is not recorded.
extension Simulation {
    /// Records a message leaving `from` for `to` now; returns its number (nil when not recording).
    func recordSend(_ message: Message, from: NodeID, to: NodeID, copy: Bool = false) -> Int? {
        guard recording != nil else { return nil }
        recording!.transmissions.append(.init(from: from, to: to, kind: message.kind, label: "\(message)", sentAt: now,
                                              isCopy: copy, fate: .inFlight))
        return recording!.transmissions.count - 1
    }

    /// Records a message the network loses as it is sent.
    func recordDropAtSend(_ message: Message, from: NodeID, to: NodeID) {
        guard let id = recordSend(message, from: from, to: to) else { return }
        recording!.transmissions[id].fate = .dropped(at: now + recording!.nominalDelay, why: "lost by the network")
    }

    /// Records the fate of message `id` (nothing for a message not recorded, such as one a node sent itself).
    func recordFate(_ id: Int?, _ fate: RunRecording.Fate) {
        guard let id, recording != nil else { return }
        recording!.transmissions[id].fate = fate
    }

    /// Records a mark at `node` (nil: the network) now.
    func recordMark(_ kind: RunRecording.Mark.Kind, at node: NodeID?, _ label: String, until: Microseconds? = nil) {
        guard recording != nil else { return }
        recording!.marks.append(.init(at: now, node: node, kind: kind, label: label, until: until))
    }

    /// Records a role's event if the diagram shows its kind.
    func recordMark(for event: Event, at node: NodeID) {
        guard recording != nil else { return }
        let kind: RunRecording.Mark.Kind
        switch event {
        case .elected: kind = .elected
        case .decided: kind = .decided
        case .preempted, .steppedDown, .leaderSuspected: kind = .leadershipLost
        case .joined, .rejoined, .installedSnapshot, .reconfigured: kind = .joined
        case .phase1Started, .phase1Waiting, .preVoteRefused, .awaitsSnapshot, .applied, .invoked, .completed, .welcomed, .waitingToFound, .mustRejoin, .transferStarted,
             .transferAbandoned,
             .toldToCompete:
            return
        }
        recordMark(kind, at: node, event.description)
    }
}
