import Foundation
import MultiPaxos

/// `multipaxos simulate [--seeds A..B] ...`: a sweep; returns the exit status.
func simulateCommand(_ args: [String]) async -> Int32 {
    let parsed: SimulateOptions?
    do {
        parsed = try SimulateOptions.parse(args)
        try parsed?.checkOutputPaths()
    } catch {
        complain("\(error) (see multipaxos simulate --help)")
        return ExitStatus.usage
    }
    guard let sweep = parsed else {
        print(SimulateOptions.usage)
        return ExitStatus.success
    }
    var passed = 0, failed = 0, undecided = 0
    var writeFailed = false
    var simulated: Microseconds = 0
    var disks = DiskCrashTally()
    let clock = ContinuousClock()
    let start = clock.now
    var progress = ProgressMeter(enabled: Terminal.isTerminal(2)) { complain($0) }
    let total = (sweep.seeds.upperBound - sweep.seeds.lowerBound + 1) * UInt64(sweep.modes.count)
    var done: UInt64 = 0
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
                    return ExitStatus.usage
                }
                for line in report.summary { print(line) }
                if let path = sweep.historyPath {
                    do {
                        try OutputPath.write(report.history.jsonLines(), to: path)
                    } catch {
                        complain("\(error)")
                        writeFailed = true
                    }
                }
                simulated += report.simulatedTime
                disks += report.diskCrashes
                if report.longestStall > worstStall?.0 ?? -1 { worstStall = (report.longestStall, seed, mode) }
                if !report.passed { failed += 1 } else if report.linearizabilityUndecided != nil { undecided += 1 } else { passed += 1 }
            }
            continue
        }
        _ = await Sweep.run(seeds: sweep.seeds, optionsFor: { sweep.options(seed: $0, mode: mode) }) { outcome in
            done += 1
            progress.report("simulate: \(done) of \(total) runs, \(failed) failed, "
                            + "\(seconds(clock.now - start)) s (\(mode.rawValue), seed \(outcome.options.seed))",
                            now: clock.now, start: start)
            simulated += outcome.simulatedTime
            disks += outcome.diskCrashes
            if outcome.longestStall > worstStall?.0 ?? -1 { worstStall = (outcome.longestStall, outcome.options.seed, mode) }
            if outcome.failures.isEmpty {
                if let reason = outcome.linearizabilityUndecided {
                    undecided += 1
                    print("seed \(outcome.options.seed) \(mode.rawValue): linearizability not decided within budget (\(reason))")
                } else {
                    passed += 1
                }
                return
            }
            failed += 1
            let seed = outcome.options.seed
            print("seed \(seed) \(mode.rawValue) FAILED: \(outcome.failures[0])")
            for more in outcome.failures.dropFirst() { print("  also: \(more)") }
            print("  options: \(outcome.options.summary)")
            print("  reproduce: \(sweep.reproduce(seed: seed, mode: mode))")
            fflush(nil)
        }
    }
    print("simulated \(formatTotal(simulated)) s in all; disks: \(disks)")
    if let (stall, seed, mode) = worstStall {
        print("longest stall: \(String(format: "%.3f", Double(stall) / 1_000_000)) s (seed \(seed) \(mode.rawValue)): a connected majority with a client waiting and no request completed")
    }
    print("\(passed) passed, \(failed) failed"
          + (undecided > 0 ? ", \(undecided) linearizability not decided within budget" : ""))
    return failed == 0 && !writeFailed ? ExitStatus.success : ExitStatus.failure
}

private func formatTotal(_ t: Microseconds) -> String {
    String(format: "%.1f", Double(t) / 1_000_000)
}

/// A wall-clock duration in seconds with one decimal, for progress lines.
func seconds(_ d: Duration) -> String {
    String(format: "%.1f", Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
}
