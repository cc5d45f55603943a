/// The time a node's shell tells its roles, in microseconds from an arbitrary origin, never going back. Only the
/// leader's lease reads it (Roles/Lease.swift): a lease must end by the clock at the moment a read is answered,
/// not when a timer's task gets to run. The simulation gives each node its virtual, drifted clock; the
/// real-time shells give the system's monotonic clock (`NodeClock.monotonic`, in Runtime/).
public struct NodeClock: Sendable {
    /// Reads the clock.
    public let now: @Sendable () -> Microseconds

    /// A clock that reads `now`.
    public init(now: @escaping @Sendable () -> Microseconds) {
        self.now = now
    }
}
