import Foundation
import MultiPaxos

/// `multipaxos bench [--quick] [--scenarios a,b] [--commands N] [--seed S] [--out FILE] [--svg FILE]`.
func benchCommand(_ args: [String]) async -> Int32 {
    var quick = false
    var names: [String]?
    var commands: Int?
    var seed: UInt64 = 1
    var outPath: String?
    var svgPath: String?
    var i = 0
    func value(_ flag: String) -> String? {
        i += 1
        guard i < args.count else { complain("\(flag) needs a value (see multipaxos bench --help)"); return nil }
        return args[i]
    }
    while i < args.count {
        switch args[i] {
        case "--help", "-h":
            print("""
                usage: multipaxos bench [--quick] [--scenarios NAME,...] [--commands N] [--seed S] [--out FILE.json|FILE.csv] [--svg FILE]

                Runs each scenario in both modes on the same workload and seed and prints them side by side: network
                messages per command (total and by kind), Phase-1 rounds, latency (median, 99th percentile, in ms of
                simulated time and in round trips), commands per wall-clock second, peak memory. Progress goes to
                standard error. Build with -c release for meaningful speed figures.

                scenarios: \(Benchmark.allScenarios.map(\.name).joined(separator: ", "))
                """)
            return 0
        case "--quick": quick = true
        case "--scenarios":
            guard let v = value("--scenarios") else { return 2 }
            names = v.split(separator: ",").map(String.init)
            let known = Set(Benchmark.allScenarios.map(\.name))
            if let bad = names!.first(where: { !known.contains($0) }) {
                complain("--scenarios: unknown scenario '\(bad)' (see multipaxos bench --help)")
                return 2
            }
        case "--commands":
            guard let v = value("--commands") else { return 2 }
            guard let n = Int(v), (1...100_000_000).contains(n) else {
                complain("--commands '\(v)' is not an integer in 1...100000000")
                return 2
            }
            commands = n
        case "--seed":
            guard let v = value("--seed") else { return 2 }
            guard let s = UInt64(v) else { complain("--seed '\(v)' is not an integer in 0...18446744073709551615"); return 2 }
            seed = s
        case "--out":
            guard let v = value("--out") else { return 2 }
            guard v.hasSuffix(".json") || v.hasSuffix(".csv") else { complain("--out '\(v)' must end in .json or .csv"); return 2 }
            outPath = v
        case "--svg":
            guard let v = value("--svg") else { return 2 }
            svgPath = v
        default:
            complain("unknown bench option '\(args[i])' (see multipaxos bench --help)")
            return 2
        }
        i += 1
    }
    let scenarios = names.map { n in Benchmark.allScenarios.filter { n.contains($0.name) } }
        ?? (quick ? Benchmark.quickScenarios : Benchmark.allScenarios)
    let count = commands ?? (quick ? 2_000 : 20_000)
    var results: [Benchmark.Result] = []
    for (index, scenario) in scenarios.enumerated() {
        for mode in Mode.allCases {
            complain("[\(index + 1)/\(scenarios.count)] \(scenario.name) \(mode.rawValue), \(count) commands…")
            results.append(await Benchmark.run(scenario, mode: mode, commands: count, seed: seed))
        }
    }
    print(BenchmarkReport.table(results))
    print("")
    print("network messages per command, by kind")
    print(BenchmarkReport.kindTable(results))
    if let path = outPath {
        let text = path.hasSuffix(".json") ? BenchmarkReport.json(results) : BenchmarkReport.csv(results)
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else {
            complain("cannot write '\(path)'")
            return 2
        }
    }
    if let path = svgPath {
        guard FileManager.default.createFile(atPath: path, contents: Data(BenchmarkReport.svg(results).utf8)) else {
            complain("cannot write '\(path)'")
            return 2
        }
    }
    return results.allSatisfy(\.passed) ? 0 : 1
}
