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
    var shapes = MembershipShapes()
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
            shapes.add(outcome)
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
    if shapes.runs > 0 { print(shapes.summary) }
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

/// How many runs of a sweep with changes of voters drew (and saw happen) each shape the membership argument must
/// survive, for the summary line.
struct MembershipShapes {
    var runs = 0, inForce = 0, removalFirst = 0, downToTwo = 0, oneVoter = 0, sixOrMore = 0, evenSize = 0
    var backToBack = 0, removedRunning = 0, lagging = 0, every512 = 0, batched = 0

    mutating func add(_ outcome: Sweep.Outcome) {
        guard !outcome.options.reconfigurations.isEmpty else { return }
        let d = outcome.membershipDraws
        runs += 1
        if outcome.reconfigurations > 0 { inForce += 1 }
        if d.removalFirst { removalFirst += 1 }
        if let fewest = d.fewestVoters, fewest <= 2 { downToTwo += 1 }
        if d.fewestVoters == 1 { oneVoter += 1 }
        if let most = d.mostVoters, most >= 6 { sixOrMore += 1 }
        if let fewest = d.fewestVoters, let most = d.mostVoters, (fewest...most).contains(where: { $0 % 2 == 0 }) { evenSize += 1 }
        if d.backToBack > 0 { backToBack += 1 }
        if d.removedLeftRunning > 0 { removedRunning += 1 }
        if d.laggingViews > 0 { lagging += 1 }
        if outcome.options.snapshotIntervalSlots == 512 { every512 += 1 }
        if d.batches > 0 { batched += 1 }
    }

    var summary: String {
        "changes of voters in \(runs) runs (in force in \(inForce)): a removal first \(removalFirst), down to 1-2 voters "
            + "\(downToTwo) (to 1: \(oneVoter)), up to 6-7 \(sixOrMore), an even size \(evenSize), back to back "
            + "\(backToBack), removed nodes left running \(removedRunning), views lagging 2+ changes \(lagging), "
            + "snapshots every 512 slots \(every512), batched delivery \(batched)"
    }
}
