import Foundation
import MultiPaxos

/// `multipaxos bench [--quick] [--scenarios a,b] [--commands N] [--seed S] [--out FILE] [--svg FILE]`.
func benchCommand(_ args: [String]) async -> Int32 {
    let parsed: BenchOptions?
    do {
        parsed = try BenchOptions.parse(args)
        try parsed?.checkOutputPaths()
    } catch {
        complain("bench: \(error) (see multipaxos bench --help)")
        return ExitStatus.usage
    }
    guard let options = parsed else {
        print(BenchOptions.usage)
        return ExitStatus.success
    }
    let scenarios = options.scenarios
    let count = options.commandsPerRun
    let clock = ContinuousClock()
    var progress = ProgressMeter(enabled: Terminal.isTerminal(2)) { complain($0) }
    var results: [Benchmark.Result] = []
    for (index, scenario) in scenarios.enumerated() {
        for mode in Mode.allCases {
            let start = clock.now
            progress.always("bench: [\(index + 1)/\(scenarios.count)] \(scenario.name) \(mode.rawValue), \(count) commands…",
                            now: start)
            results.append(await Benchmark.run(scenario, mode: mode, commands: count, seed: options.seed,
                                               batching: options.batching))
            progress.always("bench: [\(index + 1)/\(scenarios.count)] \(scenario.name) \(mode.rawValue) done in "
                            + "\(seconds(clock.now - start)) s", now: clock.now)
        }
    }
    if options.batching != .off { print("leaders: \(options.batching)") }
    print(BenchmarkReport.table(results))
    print("")
    print("network messages per command, by kind")
    print(BenchmarkReport.kindTable(results))
    var status = results.allSatisfy(\.passed) ? ExitStatus.success : ExitStatus.failure
    var outputs: [(String, String)] = []
    if let path = options.outPath {
        outputs.append((path, path.hasSuffix(".json") ? BenchmarkReport.json(results) : BenchmarkReport.csv(results)))
    }
    if let path = options.svgPath { outputs.append((path, BenchmarkReport.svg(results))) }
    for (path, text) in outputs {
        do {
            try OutputPath.write(text, to: path)
        } catch {
            complain("bench: \(error)")
            status = ExitStatus.failure
        }
    }
    return status
}
