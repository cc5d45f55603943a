/// What `multipaxos mutants` was asked for: which planted bugs to hunt, in which modes, over which seeds.
public struct MutantsOptions: Sendable {
    /// The seeds each mutant's sweep runs; nil runs each mutant's own CI-sized range and stops at its first catch.
    public var seeds: ClosedRange<UInt64>?
    /// The modes.
    public var modes: [Mode] = Mode.allCases
    /// The mutants, in catalogue order.
    public var mutants: [Mutant] = Mutant.catalogue
    /// Settings that replace every chosen mutant's own, to explore what catches it.
    public var schedule: FaultSchedule?
    /// Cluster size for every chosen mutant.
    public var nodes: Int?
    /// Requests per client for every chosen mutant.
    public var requestsPerClient: Int?
    /// Clients for every chosen mutant.
    public var clients: Int?

    /// The text `mutants --help` prints.
    public static let usage = """
        usage: multipaxos mutants [--seeds A..B] [--mode stable-leader|per-slot|both] [--only NAME,...]
                                  [--schedule NAME] [--nodes N] [--clients N] [--requests K]

        Plants each deliberate bug of the catalogue in turn (test-only switches) and runs a simulation sweep with
        it, under the fault family that hunts it. Prints a table: the mutant, the mode, how many seeds caught it,
        how many ran, the first catching seed and the check that caught it there. Exit status 0 only if every
        mutant was caught in every mode where it is unsafe; 1 otherwise; 2 on bad arguments.

        options:
          --seeds A..B      run these seeds for every mutant (default: each mutant's own CI range, stopping at
                            its first catch)
          --mode M          stable-leader, per-slot or both (default both)
          --schedule NAME   hunt with this fault family instead of each mutant's own (see simulate --help)
          --nodes N         hunt in clusters of N nodes instead of each mutant's own size
          --clients N       clients instead of each mutant's own number
          --requests K      requests per client instead of each mutant's own
          --only NAME,...   only these mutants; the catalogue:
                            \(Mutant.catalogue.map(\.name).joined(separator: "\n                            "))
        """

    /// Parses the arguments after `mutants`; nil asks for the usage.
    public static func parse(_ args: [String]) throws(OptionsError) -> MutantsOptions? {
        var result = MutantsOptions()
        var cursor = ArgumentCursor(args)
        while let arg = try cursor.next() {
            switch arg {
            case "--help", "-h": return nil
            case "--seeds": result.seeds = try cursor.seeds(arg)
            case "--mode":
                let text = try cursor.value(arg)
                if text == "both" { result.modes = Mode.allCases } else if let m = Mode(rawValue: text) { result.modes = [m] } else {
                    throw OptionsError("--mode '\(text)' is not stable-leader, per-slot or both")
                }
            case "--only":
                let text = try cursor.value(arg)
                var chosen: [Mutant] = []
                for name in text.split(separator: ",", omittingEmptySubsequences: false) {
                    guard let mutant = Mutant.catalogue.first(where: { $0.name == name }) else {
                        throw OptionsError("--only: no mutant named '\(name)' (see multipaxos mutants --help)")
                    }
                    chosen.append(mutant)
                }
                result.mutants = Mutant.catalogue.filter { m in chosen.contains { $0.name == m.name } }
            case "--schedule":
                let text = try cursor.value(arg)
                guard let schedule = FaultSchedule(rawValue: text) else {
                    throw OptionsError("--schedule '\(text)' is not one of \(FaultSchedule.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                result.schedule = schedule
            case "--nodes": result.nodes = try cursor.integer(arg, 1...64)
            case "--requests": result.requestsPerClient = try cursor.integer(arg, 1...100_000)
            case "--clients": result.clients = try cursor.integer(arg, 1...1_000)
            default: throw OptionsError("unknown mutants option '\(arg)'")
            }
        }
        if result.schedule != nil || result.nodes != nil || result.requestsPerClient != nil || result.clients != nil {
            result.mutants = result.mutants.map {
                $0.with(schedule: result.schedule, nodes: result.nodes, requests: result.requestsPerClient,
                        clients: result.clients)
            }
        }
        return result
    }
}
