import Synchronization

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

extension Simulation {
    /// Node `i`'s clock, with leases: virtual time as its drifted clock shows it (a duration of its clock takes
    /// `1 + ε_i` times as long), so that a lease read checks the same deadline as the lease's timer; nil without
    /// leases.
    nonisolated func nodeClock(_ i: Int) -> NodeClock? {
        guard !clockDrift.isEmpty else { return nil }
        let (time, rate) = (virtualTime, 1 + clockDrift[i])
        return NodeClock { Microseconds((Double(time.now) / rate).rounded(.down)) }
    }
}

/// The bus's virtual time, readable from a node's clock while a step runs (the bus sets it before each step).
final class VirtualTime: Sendable {
    private let value = Atomic<Int64>(0)
    /// The bus's time now.
    var now: Microseconds {
        get { value.load(ordering: .relaxed) }
    }
    /// Sets the time (the bus, as it moves on).
    func set(_ time: Microseconds) { value.store(time, ordering: .relaxed) }
}
