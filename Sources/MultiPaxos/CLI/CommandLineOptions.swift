/// What the `multipaxos` command line asked for.
public struct CommandLineOptions: Sendable {
    /// The simulation to run.
    public var options = SimulationOptions()
    /// Print only the summary.
    public var quiet = false
    /// Colours forced off (`--no-color`), or nil to decide from the terminal and the environment (see `Terminal.colors`).
    public var color: Bool?
    /// Print the usage and stop.
    public var help = false
    /// Print the version and stop.
    public var version = false
    /// Write the run's client history (JSON lines) to this file.
    public var historyPath: String?
    /// Draw the run as a space-time diagram (SVG, see `RunDiagram`) into this file.
    public var svgPath: String?
    /// Where the diagram's window starts in simulated time (`--from`; nil: at 0).
    public var svgFrom: Microseconds?
    /// Where the diagram's window ends in simulated time (`--to`; nil: at the end of the run).
    public var svgTo: Microseconds?
    /// The arguments as given, so that a failed run can say exactly how to rerun it.
    public private(set) var arguments: [String] = []

    /// The command that reruns this very simulation with its full event log: every option as given, without
    /// `--quiet` (and without `--history` and `--svg`, which would overwrite their files).
    public var rerunCommand: String {
        let written = ["--history", "--svg", "--from", "--to"]
        var kept: [String] = []
        var i = 0
        while i < arguments.count {
            switch arguments[i] {
            case "--quiet", "-q": i += 1
            case let option where written.contains(option): i += 2
            case let option where written.contains { option.hasPrefix($0 + "=") }: i += 1
            default:
                kept.append(arguments[i])
                i += 1
            }
        }
        return (["multipaxos"] + kept).joined(separator: " ")
    }

    /// The text `--help` prints.
    public static let usage = """
        usage: multipaxos <seed> [options]
               multipaxos <command> [options]     (multipaxos help <command> for its options)

        Runs a simulated Multi-Paxos cluster whose every choice comes from <seed> (an integer 0...2^64-1):
        a Seed and Initializers form the cluster, a leader is elected, scripted key-value clients on several
        nodes send requests under message loss, and every answer is checked. Prints one line per protocol
        event, then a summary.

        options:
          --mode stable-leader|per-slot   Phase 1 once per ballot, or once per slot (default stable-leader)
          --nodes N                       cluster members, 1...64 (default 5)
          --clients N                     scripted clients, client i on node i mod N (default 4)
          --requests K                    requests per client (default 10)
          --drop P                        probability a network message is lost, 0...1 (default 0.05)
          --duplicate P                   probability a network message is delivered twice (default 0)
          --batch N                       the leader packs up to N waiting commands into a slot (default 1: off)
          --window N|unlimited            at most N slots in flight (default unlimited)
          --reads log|read-index|lease    clients' gets through the log, by read index (no log slot: the
                                          leader confirms with a majority), or by leader lease (no round
                                          while a majority's grants hold); default log
          --clock-drift F                 with lease reads: the clock-drift bound the cluster states (0.01)
          --actual-clock-drift F          with lease reads: how far clocks drift (default: the bound)
          --crash-leader-at T             crash the leader's node at T simulated seconds
          --wipe-leader-at T              the leader's node loses its disk at T and restarts 0.2 s later: it
                                          rejoins as a learner, then as a voting member (not with --crash-leader-at)
          --transfer-at T --transfer-to N ask the leader at T simulated seconds to hand leadership to node N
                                          (N or nN): it pauses, catches N up, and N competes at once (TimeoutNow)
          --replace N                     replace node N (N or nN) through the log: a spare node joins as a
                                          non-voter, is added as a voter, then N is removed and shut down
          --replace-at T                  when the replacement starts, in simulated seconds (default 0.5)
          --history FILE                  write the clients' history as JSON lines (for check-history)
          --svg FILE                      draw the run as a space-time diagram: a lane per node, an arrow per
                                          network message, marks for elections, decisions and faults
          --from S, --to S                the diagram's window in simulated seconds (default: the whole run)
          --quiet                         print only the summary
          --no-color                      no role colours (also when NO_COLOR is set and not empty, TERM is
                                          dumb, or the output is not a terminal)
          --version                       the version
          --help                          this text
        Options take their value as `--drop 0.1` or `--drop=0.1`, each at most once.

        commands:
        \(Subcommand.overview)

        \(ExitStatus.rule)
        """

    /// Parses the arguments after the program name, throwing a one-line error that names the bad value.
    public static func parse(_ args: [String]) throws(OptionsError) -> CommandLineOptions {
        var result = CommandLineOptions()
        result.arguments = args
        var seed: UInt64?
        var transferAt: Microseconds?
        var transferTo: String?
        var replace: String?
        var cursor = ArgumentCursor(args)
        while let arg = try cursor.next() {
            switch arg {
            case "--help", "-h": result.help = true
            case "--quiet", "-q": result.quiet = true
            case "--no-color": result.color = false
            case "--history": result.historyPath = try cursor.value(arg)
            case "--svg": result.svgPath = try cursor.value(arg)
            case "--from": result.svgFrom = try cursor.seconds(arg)
            case "--to": result.svgTo = try cursor.seconds(arg)
            case "--mode":
                let text = try cursor.value(arg)
                guard let mode = Mode(rawValue: text) else {
                    throw OptionsError("--mode '\(text)' is not stable-leader or per-slot")
                }
                result.options.mode = mode
            case "--nodes": result.options.nodes = try cursor.integer(arg, 1...64)
            case "--batch": result.options.batching.maxCommands = try cursor.integer(arg, 1...65_536)
            case "--window": result.options.batching.window = try cursor.window(arg)
            case "--reads": result.options.reads = try cursor.reads(arg)
            case "--clock-drift": result.options.maxClockDrift = try cursor.probability(arg)
            case "--actual-clock-drift": result.options.actualClockDrift = try cursor.probability(arg)
            case "--clients": result.options.clients = try cursor.integer(arg, 0...10_000)
            case "--requests": result.options.requestsPerClient = try cursor.integer(arg, 0...10_000_000)
            case "--drop": result.options.dropRate = try cursor.probability(arg)
            case "--duplicate": result.options.duplicateRate = try cursor.probability(arg)
            case "--crash-leader-at": result.options.crashLeaderAt = try cursor.seconds(arg)
            case "--version": result.version = true
            case "--transfer-at": transferAt = try cursor.seconds(arg)
            case "--transfer-to": transferTo = try cursor.value(arg)
            case "--replace": replace = try cursor.value(arg)
            case "--replace-at": result.options.reconfigureAt = try cursor.seconds(arg)
            case "--wipe-leader-at":
                // The leader's node loses its disk and comes back 0.2 s later to rejoin as a fresh member.
                let at = try cursor.seconds(arg)
                result.options.faults.nodeFaults.append(.init(node: nil, kind: .wipe(restartAfter: 200_000), at: at))
            default:
                if arg.hasPrefix("-") && Int(arg) == nil { throw OptionsError("unknown option '\(arg)'") }
                guard seed == nil else { throw OptionsError("unexpected argument '\(arg)' (the seed is already \(seed!))") }
                guard let s = UInt64(arg) else {
                    if let command = Subcommand.nearest(to: arg) {
                        throw OptionsError("unknown command '\(arg)'; did you mean '\(command.rawValue)'?")
                    }
                    if arg.first?.isLetter == true {
                        throw OptionsError("'\(arg)' is not a command, nor a seed (an integer 0...18446744073709551615); "
                                           + "commands: \(Subcommand.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    throw OptionsError("seed '\(arg)' is not an integer in 0...18446744073709551615")
                }
                seed = s
            }
        }
        if let transfer = try transferFault(at: transferAt, to: transferTo, nodes: result.options.nodes) {
            result.options.faults.nodeFaults.append(transfer)
        }
        if let replace {
            guard let victim = memberIndex(replace, nodes: result.options.nodes) else {
                throw OptionsError("--replace '\(replace)' is not a node of the \(result.options.nodes)-node cluster (0...\(result.options.nodes - 1), or n0...n\(result.options.nodes - 1))")
            }
            guard result.options.nodes > 1 else { throw OptionsError("--replace needs a cluster of at least 2 nodes") }
            result.options.replace(NodeID(victim))
        } else if args.contains(where: { $0 == "--replace-at" || $0.hasPrefix("--replace-at=") }) {
            throw OptionsError("--replace-at needs --replace N: the node to replace")
        }
        let wipes = result.options.faults.nodeFaults.contains { if case .wipe = $0.kind { true } else { false } }
        if result.options.crashLeaderAt != nil && wipes {
            throw OptionsError("--crash-leader-at and --wipe-leader-at exclude each other: a run crashes its leader or wipes its disk")
        }
        try result.checkWindow()
        if !result.help && !result.version {
            guard let seed else { throw OptionsError("missing <seed> (an integer 0...18446744073709551615)") }
            result.options.seed = seed
        }
        try result.options.validate()
        return result
    }

    /// The member a node argument names (N or nN), or nil if it names none.
    private static func memberIndex(_ text: String, nodes: Int) -> Int? {
        let digits = text.hasPrefix("n") ? text.dropFirst() : Substring(text)
        guard let value = Int(digits), (0..<nodes).contains(value) else { return nil }
        return value
    }

    /// The transfer `--transfer-at T --transfer-to N` ask for (both or neither), with N a member.
    private static func transferFault(at: Microseconds?, to text: String?, nodes: Int) throws(OptionsError) -> FaultPlan.NodeFault? {
        switch (at, text) {
        case (nil, nil): return nil
        case (nil, _?): throw OptionsError("--transfer-to needs --transfer-at T: when to ask the leader")
        case (_?, nil): throw OptionsError("--transfer-at needs --transfer-to N: the node to hand leadership to")
        case (let at?, let text?):
            guard let value = memberIndex(text, nodes: nodes) else {
                throw OptionsError("--transfer-to '\(text)' is not a node of the \(nodes)-node cluster (0...\(nodes - 1), or n0...n\(nodes - 1))")
            }
            return FaultPlan.NodeFault(node: nil, kind: .transfer(to: NodeID(value)), at: at)
        }
    }

    /// Checks, before the run, that the history and diagram files can be written.
    public func checkOutputPaths() throws(OptionsError) {
        if let historyPath { try OutputPath.check(historyPath, flag: "--history") }
        if let svgPath { try OutputPath.check(svgPath, flag: "--svg") }
    }

    /// `--from` and `--to` choose the window of `--svg`, and the window must not be empty.
    private func checkWindow() throws(OptionsError) {
        if svgPath == nil, let flag = svgFrom != nil ? "--from" : svgTo != nil ? "--to" : nil {
            throw OptionsError("\(flag) chooses the window of the diagram: give --svg FILE too")
        }
        if let from = svgFrom, let to = svgTo, from >= to {
            throw OptionsError("--from \(RunDiagramStyle.seconds(from)) is not before --to \(RunDiagramStyle.seconds(to)): "
                               + "the window would be empty")
        }
    }
}
