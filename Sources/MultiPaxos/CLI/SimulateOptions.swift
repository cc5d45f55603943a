/// What `multipaxos simulate` was asked for: a sweep of seeds with faults drawn from each.
public struct SimulateOptions: Sendable {
    /// The seeds to run.
    public var seeds: ClosedRange<UInt64> = 1...100
    /// The modes to run each seed in.
    public var modes: [Mode] = Mode.allCases
    /// Cluster size.
    public var nodes = 5
    /// Clients per run.
    public var clients = 4
    /// Requests per client.
    public var requestsPerClient = 20
    /// Draw faults from each seed (otherwise only loss, duplication and jitter).
    public var faults = true
    /// The family of faults every seed adds to its mixed faults; nil lets each seed draw one.
    public var schedule: FaultSchedule?
    /// Add one to three leadership transfers, drawn from each seed, to its fault phase.
    public var transfers = false
    /// Replace one or two members through the log (add a spare, remove the member), from a time drawn from
    /// each seed, on top of its faults.
    public var reconfigure = false
    /// How leaders batch and pipeline in every run (off by default).
    public var batching = Batching.off
    /// How the clients' gets are served in every run (through the log by default).
    public var reads = ReadConsistency.log
    /// With `--reads lease`: the clock-drift bound the cluster states, and how far clocks actually drift (nil:
    /// as far as the bound allows).
    public var maxClockDrift = 0.01
    public var actualClockDrift: Double?
    /// Print every run's full event log.
    public var trace = false
    /// Write the client history of the (single) run here.
    public var historyPath: String?

    /// The text `simulate --help` prints.
    public static let usage = """
        usage: multipaxos simulate [--seeds A..B] [options]

        Runs one simulation per seed and mode, each with loss, duplication, jitter, a disk speed and a fault plan
        (partitions, one-way links, crash-stop, crash-restart that loses unsynced writes, lost disks, paused or
        isolated leaders, replays, long delays) and a fault family drawn from the seed, then a liveness phase
        after the network heals. Every run is checked (agreement, validity, at-most-once, acceptor invariants,
        Phase-1 majorities, chosen values, decision quorums, trims, durability before sending, amnesia,
        linearizability, convergence, liveness during faults and after them). Prints each failing seed with the
        check that broke and the command that reproduces it, then what crashes did to disks, the longest stall
        and 'N passed, M failed'. A run
        whose linearizability search runs out of its (deterministic) budget is counted apart, not as a failure.
        When standard error is a terminal, a progress line goes there every two seconds.

        options:
          --seeds A..B                    seeds to run, at most 10000000 (A alone means A..A; default 1..100)
          --mode stable-leader|per-slot|both   (default both)
          --nodes N                       members, 1...64 (default 5)
          --clients N                     clients (default 4)
          --requests K                    requests per client (default 20)
          --schedule NAME                 the fault family every seed adds (default: each seed draws one):
                                          \(FaultSchedule.allCases.map(\.rawValue).joined(separator: ", "))
          --batch N                       leaders pack up to N waiting commands into a slot (default 1: off)
          --window N|unlimited            at most N slots in flight per leader (default unlimited)
          --transfers                     also ask the leader to hand leadership to a drawn member, one to three
                                          times during the faults (drawn apart: the seed's other faults are kept)
          --reconfigure                   also change the voters through the log during the faults: replace
                                          one or two drawn members, or any drawn sequence of two to five single-
                                          node changes (1 to 7 voters), back to back or apart, removed nodes
                                          shut down or left running, a voter's view lagging, snapshots every
                                          512 slots, batched delivery (counted in the summary)
          --reads log|read-index|lease    clients' gets through the log, by read index, or by leader lease
                                          (default log)
          --clock-drift F                 with lease reads: the clock-drift bound the cluster states (default 0.01)
          --actual-clock-drift F          with lease reads: how far each node's clock drifts, drawn from the
                                          seed (default: the bound; beyond it, leases are unsafe)
          --no-faults                     only loss, duplication and jitter (and no transfers)
          --trace                         print each run's full event log
          --history FILE                  write the client history (one seed and mode only)

        \(ExitStatus.rule)
        """

    /// The most seeds one sweep runs (a typo such as 1..18446744073709551615 would otherwise run for ages).
    public static let maxSeeds: UInt64 = 10_000_000

    /// Parses the arguments after `simulate`, throwing a one-line error that names the bad value.
    public static func parse(_ args: [String]) throws(OptionsError) -> SimulateOptions? {
        var result = SimulateOptions()
        var cursor = ArgumentCursor(args)
        while let arg = try cursor.next() {
            switch arg {
            case "--help", "-h": return nil
            case "--seeds":
                let text = try cursor.value(arg)
                let parts = text.split(separator: ".", omittingEmptySubsequences: true)
                let bounds = text.contains("..") ? parts.map { UInt64($0) } : [UInt64(text), UInt64(text)]
                guard bounds.count == 2, let a = bounds[0], let b = bounds[1], a <= b else {
                    throw OptionsError("--seeds '\(text)' is not a range A..B of integers with A <= B")
                }
                guard b - a < maxSeeds else {
                    throw OptionsError("--seeds '\(text)' spans more than \(maxSeeds) seeds: run a smaller range")
                }
                result.seeds = a...b
            case "--mode":
                let text = try cursor.value(arg)
                if text == "both" { result.modes = Mode.allCases } else if let m = Mode(rawValue: text) { result.modes = [m] } else {
                    throw OptionsError("--mode '\(text)' is not stable-leader, per-slot or both")
                }
            case "--nodes": result.nodes = try cursor.integer(arg, 1...64)
            case "--clients": result.clients = try cursor.integer(arg, 0...1_000)
            case "--requests": result.requestsPerClient = try cursor.integer(arg, 0...100_000)
            case "--no-faults": result.faults = false
            case "--transfers": result.transfers = true
            case "--reconfigure": result.reconfigure = true
            case "--batch": result.batching.maxCommands = try cursor.integer(arg, 1...65_536)
            case "--window": result.batching.window = try cursor.window(arg)
            case "--reads": result.reads = try cursor.reads(arg)
            case "--clock-drift": result.maxClockDrift = try cursor.probability(arg)
            case "--actual-clock-drift": result.actualClockDrift = try cursor.probability(arg)
            case "--schedule":
                let text = try cursor.value(arg)
                guard let schedule = FaultSchedule(rawValue: text) else {
                    throw OptionsError("--schedule '\(text)' is not one of \(FaultSchedule.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                result.schedule = schedule
            case "--trace": result.trace = true
            case "--history": result.historyPath = try cursor.value(arg)
            default: throw OptionsError("unknown simulate option '\(arg)'")
            }
        }
        if result.historyPath != nil && (result.seeds.count != 1 || result.modes.count != 1) {
            throw OptionsError("--history needs a single seed and a single mode")
        }
        // Every seed's options differ only in what the seed draws: a value no run accepts is refused here, once,
        // rather than failing every seed of the sweep.
        if let mode = result.modes.first { try result.options(seed: result.seeds.lowerBound, mode: mode).validate() }
        return result
    }

    /// Checks, before any run, that the history file can be written.
    public func checkOutputPaths() throws(OptionsError) {
        if let historyPath { try OutputPath.check(historyPath, flag: "--history") }
    }

    /// The options of one seed in one mode.
    public func options(seed: UInt64, mode: Mode) -> SimulationOptions {
        var options = SimulationOptions.sweep(seed: seed, mode: mode, nodes: nodes, clients: clients,
                                              requestsPerClient: requestsPerClient, schedule: schedule, transfers: transfers,
                                              reconfigure: reconfigure)
        if !faults {
            options.faults = FaultPlan()
            options.retainedSlots = SimulationOptions().retainedSlots
            options.schedule = nil
        }
        options.batching = batching
        options.reads = reads
        options.maxClockDrift = maxClockDrift
        options.actualClockDrift = actualClockDrift
        return options
    }

    /// The command that reruns one seed with its full trace.
    public func reproduce(seed: UInt64, mode: Mode) -> String {
        "multipaxos simulate --seeds \(seed)..\(seed) --mode \(mode.rawValue) --nodes \(nodes) --clients \(clients) "
            + "--requests \(requestsPerClient)\(schedule.map { " --schedule \($0)" } ?? "")\(faults ? "" : " --no-faults")"
            + (transfers ? " --transfers" : "") + (reconfigure ? " --reconfigure" : "")
            + (batching.maxCommands != 1 ? " --batch \(batching.maxCommands)" : "")
            + (batching.window.map { " --window \($0)" } ?? "") + (reads != .log ? " --reads \(reads)" : "")
            + (maxClockDrift != 0.01 ? " --clock-drift \(maxClockDrift)" : "")
            + (actualClockDrift.map { " --actual-clock-drift \($0)" } ?? "") + " --trace"
    }
}
