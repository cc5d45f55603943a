/// What `multipaxos bench` was asked for: which scenarios, how many commands, and where to write the results.
public struct BenchOptions: Sendable, Equatable {
    /// A subset of the scenarios, and fewer commands.
    public var quick = false
    /// The scenarios named with `--scenarios`, in the order given (nil: all, or the quick subset).
    public var scenarioNames: [String]?
    /// Commands per run (nil: 2,000 quick, 20,000 otherwise).
    public var commands: Int?
    /// The seed of every run.
    public var seed: UInt64 = 1
    /// The results as JSON or CSV (by the name's suffix).
    public var outPath: String?
    /// The results as an SVG chart.
    public var svgPath: String?
    /// How leaders batch and pipeline in every run (off by default).
    public var batching = Batching.off

    /// The text `bench --help` prints.
    public static let usage = """
        usage: multipaxos bench [--quick] [--scenarios NAME,...] [--commands N] [--seed S] [--out FILE.json|FILE.csv] [--svg FILE]

        Runs each scenario in both modes on the same workload and seed and prints them side by side: network
        messages per command (total and by kind), Phase-1 rounds, latency (median, 99th percentile, in ms of
        simulated time and in round trips), commands per wall-clock second, peak memory. When standard error
        is a terminal, a line there says which run is under way and how long the last took. Build with
        -c release for meaningful speed figures.

        options:
          --quick                 a subset of the scenarios, 2000 commands each
          --scenarios NAME,...    only these scenarios (names below)
          --commands N            commands per scenario and mode, 1...100000000 (default 20000)
          --seed S                the seed of every run (default 1)
          --out FILE              the results as JSON (FILE.json) or CSV (FILE.csv)
          --svg FILE              the results as a chart
          --batch N               leaders pack up to N waiting commands into a slot (default 1: off)
          --window N|unlimited    at most N slots in flight per leader (default unlimited)

        scenarios: \(Benchmark.allScenarios.map(\.name).joined(separator: ", "))
        read-heavy (nine gets per put; named only): \(Benchmark.readScenarios.map(\.name).joined(separator: ", "))

        \(ExitStatus.rule)
        """

    /// Parses the arguments after `bench`; nil for `--help`. Throws a one-line error naming the bad value.
    public static func parse(_ args: [String]) throws(OptionsError) -> BenchOptions? {
        var result = BenchOptions()
        var cursor = ArgumentCursor(args)
        while let arg = try cursor.next() {
            switch arg {
            case "--help", "-h": return nil
            case "--quick": result.quick = true
            case "--batch": result.batching.maxCommands = try cursor.integer(arg, 1...65_536)
            case "--window": result.batching.window = try cursor.window(arg)
            case "--scenarios":
                let text = try cursor.value(arg)
                let names = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                let known = Set(Benchmark.namedScenarios.map(\.name))
                if names.contains("") {
                    throw OptionsError("--scenarios '\(text)' has an empty name (give names separated by commas)")
                }
                if let bad = names.first(where: { !known.contains($0) }) {
                    throw OptionsError("--scenarios: unknown scenario '\(bad)' (see multipaxos bench --help)")
                }
                if let twice = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
                    throw OptionsError("--scenarios names '\(twice)' twice")
                }
                result.scenarioNames = names
            case "--commands": result.commands = try cursor.integer(arg, 1...100_000_000)
            case "--seed":
                let text = try cursor.value(arg)
                guard let seed = UInt64(text) else {
                    throw OptionsError("--seed '\(text)' is not an integer in 0...18446744073709551615")
                }
                result.seed = seed
            case "--out":
                let text = try cursor.value(arg)
                guard text.hasSuffix(".json") || text.hasSuffix(".csv") else {
                    throw OptionsError("--out '\(text)' must end in .json or .csv")
                }
                result.outPath = text
            case "--svg": result.svgPath = try cursor.value(arg)
            default: throw OptionsError("unknown bench option '\(arg)'")
            }
        }
        return result
    }

    /// The scenarios to run, in the order asked.
    public var scenarios: [Benchmark.Scenario] {
        if let names = scenarioNames {
            return names.compactMap { name in Benchmark.namedScenarios.first { $0.name == name } }
        }
        return quick ? Benchmark.quickScenarios : Benchmark.allScenarios
    }

    /// Commands per scenario and mode.
    public var commandsPerRun: Int { commands ?? (quick ? 2_000 : 20_000) }

    /// Checks, before any run, that every output file can be written.
    public func checkOutputPaths() throws(OptionsError) {
        if let outPath { try OutputPath.check(outPath, flag: "--out") }
        if let svgPath { try OutputPath.check(svgPath, flag: "--svg") }
    }
}
