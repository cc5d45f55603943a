/// Clocks that drift (only in runs with leader leases, so that every other run keeps its trace): node `i`'s
/// timers fire after `(1 + ε_i)` times the time they ask for, with `ε_i` drawn from the seed, apart from every
/// other draw, within ± the actual drift (`SimulationOptions.actualClockDrift`, by default the cluster's bound).
extension Simulation {
    /// The drift of each node of the run's universe; empty without leases.
    static func drawClockDrift(_ options: SimulationOptions, leases: Bool) -> [Double] {
        guard leases else { return [] }
        let bound = options.actualClockDrift ?? options.maxClockDrift
        var draws = SeededGenerator(seed: options.seed ^ 0xC10C_D41F_0000_0005)
        return (0..<options.universe).map { i in
            // Uniform in [-bound, bound], in steps of a millionth of the bound.
            let drawn = (Double(draws.upTo(2_000_000)) / 1_000_000 - 1) * bound
            guard let given = options.clockDrifts, i < given.count else { return drawn }
            return given[i]
        }
    }

    /// How long `duration` of node `i`'s clock takes in simulated time.
    func drifted(_ duration: Microseconds, at i: Int) -> Microseconds {
        guard !clockDrift.isEmpty else { return duration }
        return Microseconds((Double(duration) * (1 + clockDrift[i])).rounded(.up))
    }
}
