import Dispatch

extension NodeClock {
    /// The system's monotonic clock (it does not jump with the wall clock), for the real-time shells
    /// (`LocalCluster`, `serve`); protocol and simulation code never read it.
    public static let monotonic = NodeClock { Microseconds(DispatchTime.now().uptimeNanoseconds / 1_000) }
}
