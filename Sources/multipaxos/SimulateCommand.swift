import Foundation
import MultiPaxos

/// `multipaxos simulate --seeds A..B ...`: a sweep; returns the exit status.
func simulateCommand(_ args: [String]) async -> Int32 {
    let parsed: SimulateOptions?
    do {
        parsed = try SimulateOptions.parse(args)
    } catch {
        complain("\(error) (see multipaxos simulate --help)")
        return 2
    }
    guard let sweep = parsed else {
        print(SimulateOptions.usage)
        return 0
    }
    var passed = 0, failed = 0
    var simulated: Microseconds = 0
    var disks = DiskCrashTally()
    var worstStall: (Microseconds, UInt64, Mode)?
    for mode in sweep.modes {
        if sweep.trace || sweep.historyPath != nil {
            for seed in sweep.seeds {
                let options = sweep.options(seed: seed, mode: mode)
                print("# \(options.summary)")
                let report: SimulationReport
                do {
                    report = try await Simulation(options: options, trace: sweep.trace ? printLine : nil).run()
                } catch {
                    complain("\(error)")
                    return 2
                }
                if let path = sweep.historyPath {
                    guard FileManager.default.createFile(atPath: path, contents: Data(report.history.jsonLines().utf8)) else {
                        complain("cannot write history file '\(path)'")
                        return 2
                    }
                }
                for line in report.summary { print(line) }
                simulated += report.simulatedTime
                disks += report.diskCrashes
                if report.longestStall > worstStall?.0 ?? -1 { worstStall = (report.longestStall, seed, mode) }
                if report.passed { passed += 1 } else { failed += 1 }
            }
            continue
        }
        _ = await Sweep.run(seeds: sweep.seeds, optionsFor: { sweep.options(seed: $0, mode: mode) }) { outcome in
            simulated += outcome.simulatedTime
            disks += outcome.diskCrashes
            if outcome.longestStall > worstStall?.0 ?? -1 { worstStall = (outcome.longestStall, outcome.options.seed, mode) }
            if outcome.failures.isEmpty {
                passed += 1
                return
            }
            failed += 1
            let seed = outcome.options.seed
            print("seed \(seed) \(mode.rawValue) FAILED: \(outcome.failures[0])")
            for more in outcome.failures.dropFirst() { print("  also: \(more)") }
            print("  options: \(outcome.options.summary)")
            print("  reproduce: \(sweep.reproduce(seed: seed, mode: mode))")
        }
    }
    print("simulated \(formatTotal(simulated)) s in all; disks: \(disks)")
    if let (stall, seed, mode) = worstStall {
        print("longest stall: \(String(format: "%.3f", Double(stall) / 1_000_000)) s (seed \(seed) \(mode.rawValue)): a connected majority with a client waiting and no request completed")
    }
    print("\(passed) passed, \(failed) failed")
    return failed == 0 ? 0 : 1
}

private func formatTotal(_ t: Microseconds) -> String {
    String(format: "%.1f", Double(t) / 1_000_000)
}
