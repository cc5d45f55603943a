/// What a simulated run did and whether every check held.
public struct SimulationReport: Sendable {
    /// The options of the run.
    public let options: SimulationOptions
    /// Client requests answered, and how many were sent in all by clients whose node stayed up.
    public var requestsCompleted = 0
    /// Requests sent in all by clients whose node stayed up.
    public var requestsExpected = 0
    /// Distinct client commands decided.
    public var commandsCommitted = 0
    /// Distinct slots decided (no-ops included).
    public var slotsDecided = 0
    /// Messages sent between different nodes, by kind (`MessageKind.rawValue`).
    public var networkMessages = Array(repeating: 0, count: MessageKind.allCases.count)
    /// Messages a node sent to itself, by kind.
    public var localMessages = Array(repeating: 0, count: MessageKind.allCases.count)
    /// Network messages lost, by kind.
    public var droppedMessages = Array(repeating: 0, count: MessageKind.allCases.count)
    /// Network messages delivered twice.
    public var duplicatedMessages = 0
    /// Simulated time at the end of the run.
    public var simulatedTime: Microseconds = 0
    /// How many times a node became leader.
    public var leaderChanges = 0
    /// How many Phase-1 rounds were started.
    public var phase1Rounds = 0
    /// Leadership transfers: how many a leader started, handed over and abandoned.
    public struct Transfers: Sendable, Equatable {
        /// Transfers a leader started (it stopped assigning slots).
        public var started = 0
        /// Transfers whose target was told to compete (TimeoutNow) and did.
        public var handedOver = 0
        /// Transfers a leader abandoned after a leader timeout.
        public var abandoned = 0
        /// No transfers.
        public init() {}
    }
    /// The run's leadership transfers.
    public var transfers = Transfers()
    /// How many changes of voters the run put in force.
    public var reconfigurations = 0
    /// What happened around the run's changes of voters, as the sweep's summary counts it.
    public struct MembershipDraws: Sendable {
        /// The first change in force was a removal.
        public var removalFirst = false
        /// The fewest and most voters of a configuration in force (nil: no change in force).
        public var fewestVoters: Int?
        public var mostVoters: Int?
        /// Changes asked for the moment the one before was in force.
        public var backToBack = 0
        /// Removed nodes that were up when their removal was in force and kept running.
        public var removedLeftRunning = 0
        /// Live nodes whose view lagged two or more changes when a change was in force.
        public var laggingViews = 0
        /// Batches of two or more messages handed to a node at once, and those during which its leader held
        /// commands back.
        public var batches = 0
        /// No draws.
        public init() {}
    }
    /// What happened around the run's changes of voters.
    public var membershipDraws = MembershipDraws()
    /// Request latencies in simulated time, in completion order.
    public var latencies: [Microseconds] = []
    /// Nodes crashed during the run.
    public var crashedNodes: [NodeID] = []
    /// Nodes whose disks were wiped that ended the run as learners (a Replica, no Acceptor).
    public var learners: [NodeID] = []
    /// How many times a node whose disk was wiped became a voting member again.
    public var rejoins: Int { diskCrashes.rejoins }
    /// What the crashes did to the crashed nodes' disks.
    public var diskCrashes = DiskCrashTally()
    /// The longest time a majority of voting nodes was up and connected, with a client there waiting, and no
    /// request completed (0 when not watched: light checks, or more than 12 nodes).
    public var longestStall: Microseconds = 0
    /// Whether every live replica ended in the same state at the same slot.
    public var replicasAgree = false
    /// The key-value contents the live replicas ended with (empty if none was a member).
    public var finalState: [ByteString: ByteString] = [:]
    /// What the clients saw, in the format the linearizability checker reads.
    public var history = History()
    /// Why the linearizability check ran out of budget before deciding, if it did (its own outcome, not a failure).
    public var linearizabilityUndecided: String?
    /// Every network message and fault of the run over time, when the run was made with `recordsRun` (for
    /// `RunDiagram`); nil otherwise.
    public var recording: RunRecording?
    /// Every check that failed, one line each; empty when the run passed.
    public var failures: [String] = []

    /// Whether every check held.
    public var passed: Bool { failures.isEmpty }
    /// All network messages sent.
    public var totalNetworkMessages: Int { networkMessages.reduce(0, +) }
    /// All network messages lost.
    public var totalDropped: Int { droppedMessages.reduce(0, +) }

    /// The human-readable summary the CLI prints.
    public var summary: [String] {
        var lines = [
            "summary (seed \(options.seed), \(options.mode.rawValue), \(options.nodes) nodes, "
                + "\(options.clientPlacements.count) clients × \(options.requestsPerClient) requests, "
                + "drop \(options.dropRate)\(options.duplicateRate > 0 ? ", duplicate \(options.duplicateRate)" : "")"
                + "\(options.batching != .off ? ", \(options.batching)" : ""))",
            "  requests completed   \(requestsCompleted) of \(requestsExpected)",
            "  commands committed   \(commandsCommitted)",
            "  slots decided        \(slotsDecided)",
            "  messages sent        \(totalNetworkMessages) over the network (\(totalDropped) dropped, "
                + "\(duplicatedMessages) duplicated), \(localMessages.reduce(0, +)) local",
        ]
        for kind in MessageKind.allCases where networkMessages[kind.rawValue] + localMessages[kind.rawValue] > 0 {
            let name = kind.description.padded(to: 16)
            lines.append("    \(name) \(networkMessages[kind.rawValue]) sent, \(droppedMessages[kind.rawValue]) dropped, "
                         + "\(localMessages[kind.rawValue]) local")
        }
        lines += [
            "  simulated time       \(formatSeconds(simulatedTime)) s",
            "  leader changes       \(leaderChanges) (\(phase1Rounds) Phase-1 rounds)",
        ]
        if transfers.started > 0 {
            lines.append("  transfers            \(transfers.started) started, \(transfers.handedOver) handed over, "
                         + "\(transfers.abandoned) abandoned")
        }
        if reconfigurations > 0 {
            lines.append("  voters changed       \(reconfigurations) of \(options.reconfigurations.count) times: "
                         + options.reconfigurations.map(\.description).joined(separator: ", "))
        }
        if !crashedNodes.isEmpty { lines.append("  crashed              \(crashedNodes.map(\.description).joined(separator: " "))") }
        if rejoins > 0 { lines.append("  rejoined             \(rejoins) (disk wiped, fenced, voting again)") }
        if !learners.isEmpty { lines.append("  learners             \(learners.map(\.description).joined(separator: " ")) (disk wiped)") }
        if diskCrashes.withUnsyncedWrites > 0 {
            lines.append("  unsynced writes lost \(diskCrashes.writesLost) (\(diskCrashes.tornWrites) torn) in \(diskCrashes.withUnsyncedWrites) of \(diskCrashes.crashes) crashes")
        }
        lines.append("  longest stall        \(formatSeconds(longestStall)) s (a connected majority, a client waiting, nothing completed)")
        lines.append("  replicas agree       \(replicasAgree ? "yes" : "no")")
        if let reason = linearizabilityUndecided {
            lines.append("  linearizability      not decided within budget (\(reason))")
        }
        lines.append(passed ? "  result               every check holds" : "  result               \(failures.count) check(s) failed:")
        lines += failures.map { "    - \($0)" }
        return lines
    }
}

/// Formats microseconds as seconds with six decimals, without Foundation.
func formatSeconds(_ t: Microseconds) -> String {
    let fraction = String(t % 1_000_000)
    return "\(t / 1_000_000).\(String(repeating: "0", count: 6 - fraction.count))\(fraction)"
}

extension String {
    /// The string followed by spaces up to `width` characters.
    func padded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
