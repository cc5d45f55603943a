import MultiPaxos

/// `multipaxos mutants ...`: hunts every planted bug; returns the exit status.
func mutantsCommand(_ args: [String]) async -> Int32 {
    let parsed: MutantsOptions?
    do {
        parsed = try MutantsOptions.parse(args)
    } catch {
        complain("\(error) (see multipaxos mutants --help)")
        return 2
    }
    guard let options = parsed else {
        print(MutantsOptions.usage)
        return 0
    }
    var results: [MutantResult] = []
    for mutant in options.mutants {
        for mode in options.modes where mutant.modes.contains(mode) {
            let result = await Mutants.run(mutant, mode: mode, seeds: options.seeds ?? 1...mutant.ciSeeds,
                                           stopAtFirstCatch: options.seeds == nil)
            results.append(result)
            let verdict = result.failure.map { "caught: \($0)" } ?? "NOT CAUGHT"
            print("\(mutant.name) \(mode.rawValue): \(result.catching.count) of \(result.seedsRun) seeds; \(verdict)")
        }
    }
    print("")
    for line in Mutants.table(results) { print(line) }
    let missed = results.filter { !$0.caught }
    print(missed.isEmpty ? "every mutant was caught" : "\(missed.count) mutant(s) not caught: "
          + missed.map { "\($0.mutant.name) (\($0.mode.rawValue))" }.joined(separator: ", "))
    return missed.isEmpty ? 0 : 1
}
