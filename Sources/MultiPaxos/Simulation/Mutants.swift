/// A deliberate bug planted in the protocol behind a test-only switch (a mutant), and the sweep that hunts it:
/// the fault family and options under which the simulation's checks should catch it. `multipaxos mutants`
/// runs the sweep once per mutant and fails unless every one is caught.
public struct Mutant: Sendable, CustomStringConvertible {
    /// A short name, as the table and `--only` spell it.
    public let name: String
    /// What the bug does, in one line.
    public let summary: String
    let flaws: Flaws
    /// The modes in which the bug is unsafe (in the other, the protocol never takes the path it breaks).
    public let modes: [Mode]
    /// The fault family every seed of its sweep adds; nil lets each seed draw one.
    public let schedule: FaultSchedule?
    /// Seeds enough, from 1, for the sweep to catch it in every mode: what the test suite runs.
    public let ciSeeds: UInt64
    /// Requests per client: long runs for bugs that need a crash or a leader change while clients are busy.
    let requestsPerClient: Int
    /// A disk slow enough that crashes land between a write and its sync.
    let slowDisks: Bool
    /// The cluster's size.
    public let nodes: Int
    /// How many clients run (more clients, more reads and writes of the shared keys at once).
    public let clients: Int
    /// How long the fault phase lasts.
    let faultDuration: Microseconds
    /// Whether every seed of its sweep adds leadership transfers to its faults.
    let transfers: Bool
    /// How the clients' gets are served (read-index bugs need them served by read index).
    let reads: ReadConsistency
    /// Whether every seed of its sweep replaces members through the log.
    let reconfigure: Bool
    /// Runs keep many accepted values between trims (replicas snapshot every 64 slots) and bound messages
    /// tightly (Promises of 256 bytes in frames of 2 KiB), with no disk wiped.
    var largeState = false

    init(_ name: String, _ summary: String, _ flaws: Flaws, modes: [Mode] = Mode.allCases,
         schedule: FaultSchedule? = nil, requests: Int = 20, slowDisks: Bool = false, nodes: Int = 5,
         faultDuration: Microseconds = 3_000_000, transfers: Bool = false, reads: ReadConsistency = .log,
         clients: Int = 4, reconfigure: Bool = false, ciSeeds: UInt64) {
        self.name = name
        self.summary = summary
        self.flaws = flaws
        self.modes = modes
        self.schedule = schedule
        self.ciSeeds = ciSeeds
        self.requestsPerClient = requests
        self.slowDisks = slowDisks
        self.nodes = nodes
        self.faultDuration = faultDuration
        self.transfers = transfers
        self.reads = reads
        self.clients = clients
        self.reconfigure = reconfigure
    }

    public var description: String { name }

    /// The same mutant hunted with other settings: another fault family, cluster size or run length.
    public func with(schedule: FaultSchedule? = nil, nodes: Int? = nil, requests: Int? = nil, clients: Int? = nil) -> Mutant {
        Mutant(name, summary, flaws, modes: modes, schedule: schedule ?? self.schedule,
               requests: requests ?? requestsPerClient, slowDisks: slowDisks, nodes: nodes ?? self.nodes,
               faultDuration: faultDuration, transfers: transfers, reads: reads, clients: clients ?? self.clients,
               reconfigure: reconfigure, ciSeeds: ciSeeds).withLargeState(largeState)
    }

    /// The same mutant, hunted with large states (see `largeState`).
    func withLargeState(_ on: Bool = true) -> Mutant {
        var copy = self
        copy.largeState = on
        return copy
    }

    /// The options of one seed of its sweep: the seed's own faults plus the mutant's family, with the bug in.
    public func options(seed: UInt64, mode: Mode) -> SimulationOptions {
        var options = SimulationOptions.sweep(seed: seed, mode: mode, nodes: nodes, clients: clients,
                                              requestsPerClient: requestsPerClient, faultDuration: faultDuration,
                                              schedule: schedule, transfers: transfers, reconfigure: reconfigure)
        options.flaws = flaws
        options.reads = reads
        if slowDisks { options.syncLatency = 5_000 + options.syncLatency * 10 }
        if largeState {
            options.snapshotIntervalSlots = 64
            (options.promiseBytes, options.frameBytes) = (256, 2_048)
            options.valueBytes = min(options.valueBytes, 256)  // a compare-and-set carries two values
            options.faults.nodeFaults.removeAll { if case .wipe = $0.kind { true } else { false } }
        }
        return options
    }
}

/// How one mutant's sweep went in one mode.
public struct MutantResult: Sendable {
    /// The mutant.
    public let mutant: Mutant
    /// The mode.
    public let mode: Mode
    /// Seeds run.
    public let seedsRun: Int
    /// The seeds whose runs failed a check.
    public let catching: [UInt64]
    /// The check that failed first at the first catching seed, and its line.
    public let check: String?
    /// The failure line itself.
    public let failure: String?
    /// Whether any seed caught it.
    public var caught: Bool { !catching.isEmpty }
}

/// Runs mutants' sweeps and tabulates what caught them.
public enum Mutants {
    /// Runs `mutant`'s sweep over `seeds` in `mode`; with `stopAtFirstCatch`, stops (a few seeds later, as they
    /// run two at a time) once a seed caught it.
    public static func run(_ mutant: Mutant, mode: Mode, seeds: ClosedRange<UInt64>,
                           stopAtFirstCatch: Bool = false) async -> MutantResult {
        var catching: [UInt64] = []
        var first: [String]?
        var run = 0
        var next = seeds.lowerBound
        let chunk: UInt64 = stopAtFirstCatch ? 4 : UInt64(seeds.count)
        while next <= seeds.upperBound && !(stopAtFirstCatch && !catching.isEmpty) {
            let last = min(seeds.upperBound, next + chunk - 1)
            let outcomes = await Sweep.run(seeds: next...last) { mutant.options(seed: $0, mode: mode) }
            for outcome in outcomes {
                run += 1
                guard !outcome.failures.isEmpty else { continue }
                catching.append(outcome.options.seed)
                if first == nil { first = outcome.failures }
            }
            if last == seeds.upperBound { break }
            next = last + 1
        }
        return MutantResult(mutant: mutant, mode: mode, seedsRun: run, catching: catching,
                            check: first.map { checkName($0[0]) }, failure: first?[0])
    }

    /// The name of the check a failure line comes from.
    public static func checkName(_ failure: String) -> String {
        let prefixes: [(String, String)] = [
            ("replica ", "applied = decided"), ("client ", "answers"), ("replicas differ", "convergence"),
            ("acceptor ", "acceptor invariants"), ("liveness during faults", "liveness during faults"),
        ]
        for (prefix, name) in prefixes where failure.hasPrefix(prefix) { return name }
        return String(failure.prefix { $0 != ":" })
    }

    /// The results as a table: mutant, mode, seeds that caught it, seeds run, first catching seed, the check.
    public static func table(_ results: [MutantResult]) -> [String] {
        let rows = results.map { r in
            [r.mutant.name, r.mode.rawValue, "\(r.catching.count)", "\(r.seedsRun)",
             r.catching.first.map { "\($0)" } ?? "-", r.check ?? "NOT CAUGHT"]
        }
        let header = ["mutant", "mode", "caught", "seeds", "first", "check"]
        let widths = header.indices.map { c in ([header[c]] + rows.map { $0[c] }).map(\.count).max() ?? 0 }
        func line(_ cells: [String]) -> String {
            "| " + cells.indices.map { cells[$0].padded(to: widths[$0]) }.joined(separator: " | ") + " |"
        }
        return [line(header), "|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|"]
            + rows.map(line)
    }
}
