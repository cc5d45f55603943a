/// Leader leases (optional per cluster, `ClusterConfiguration.leases`): a leader answers reads by itself, with
/// no message round, while a lease that a majority of acceptors granted holds. Safe as long as no node's clock
/// runs faster or slower than real time by more than `maxClockDrift` (see Docs/Protocol.md, "Reads by leader
/// lease", and Roles/Lease.swift).
///
/// An acceptor that confirms a leader's ballot (answers a `ReadConfirm` with no higher promise) grants it a
/// lease of `grantDuration` on its own clock, during which it acts on no other ballot (except a newer one of
/// the same leader, and a rejoin's fence); the leader counts its lease from the moment it *sent* the round a
/// majority confirmed, for `leaseDuration` on its own clock, which is shorter by the drift bound on both sides.
public struct Leases: Sendable, Equatable, CustomStringConvertible {
    /// The largest rate at which any node's clock may run fast or slow, as a fraction (0.01: 1%, 10 ms a second).
    public var maxClockDrift: Double

    /// Leases safe while every clock drifts by at most `maxClockDrift` (1% by default).
    public init(maxClockDrift: Double = 0.01) {
        self.maxClockDrift = maxClockDrift
    }

    /// How long an acceptor grants a lease, on its own clock: half a leader timeout, so that a follower that
    /// competes after a leader timeout of silence finds every grant lapsed.
    public func grantDuration(_ timing: Timing) -> Microseconds {
        timing.leaderTimeout / 2
    }

    /// How long a leader holds a lease from sending the round that a majority confirmed, on its own clock: the
    /// grant shortened so that a slow leader clock (rate 1 − drift) ends it before a fast acceptor clock
    /// (rate 1 + drift) ends the grant: `grant × (1 − drift) / (1 + drift)`, less a microsecond for rounding.
    public func leaseDuration(_ timing: Timing) -> Microseconds {
        let grant = Double(grantDuration(timing))
        return Microseconds((grant * (1 - maxClockDrift) / (1 + maxClockDrift)).rounded(.down)) - 1
    }

    /// The first value that cannot work, in one line naming it; nil when the drift bound is in 0..<0.5 and the
    /// lease outlasts a heartbeat interval (the leader renews it every heartbeat).
    public func problem(_ timing: Timing) -> String? {
        guard maxClockDrift.isFinite, maxClockDrift >= 0, maxClockDrift < 0.5 else {
            return "lease: maxClockDrift \(maxClockDrift) is not in 0..<0.5"
        }
        let lease = leaseDuration(timing)
        guard lease > timing.heartbeatInterval else {
            return "lease: \(lease) µs (maxClockDrift \(maxClockDrift), leaderTimeout \(timing.leaderTimeout) µs) "
                + "does not exceed heartbeatInterval \(timing.heartbeatInterval) µs"
        }
        return nil
    }

    public var description: String { "leases (clock drift at most \(maxClockDrift))" }
}
