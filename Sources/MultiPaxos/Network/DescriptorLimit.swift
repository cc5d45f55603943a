#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's limit on open file descriptors (`ulimit -n`), which bounds how many clients a node can serve
/// beside its peers, listeners and files.
enum DescriptorLimit {
    /// Descriptors kept for everything but client connections: listeners, the wake-up pipe, the data directory's
    /// files and a snapshot being written, the metrics endpoint, and slack, so that storage never fails for want
    /// of a descriptor that clients took.
    static let reserved = 64

    /// Raises the soft limit toward `needed`, never past the hard limit; returns the soft and hard limits after
    /// (`Int.max` for unlimited or unknown).
    static func raise(toward needed: Int) -> (soft: Int, hard: Int) {
        var limit = rlimit()
        #if canImport(Glibc)
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
        let resource = RLIMIT_NOFILE
        #endif
        guard getrlimit(resource, &limit) == 0 else { return (.max, .max) }
        func count(_ value: rlim_t) -> Int { value > rlim_t(Int.max) ? .max : Int(value) }  // RLIM_INFINITY is all ones
        let hard = count(limit.rlim_max)
        var soft = count(limit.rlim_cur)
        if soft < needed {
            limit.rlim_cur = rlim_t(min(needed, hard))
            if setrlimit(resource, &limit) == 0 { soft = count(limit.rlim_cur) }
        }
        return (soft, hard)
    }

    /// The client limit that fits `available` descriptors beside `peers` peer addresses and what `limits` lets
    /// wait to authenticate. With `maxClients` given explicitly, one that does not fit is an error (the text
    /// says what to change); the default is lowered to fit, with a line to log (as Redis lowers `maxclients`).
    static func fit(_ limits: TransportLimits, peers: Int, available: Int, hard: Int,
                    explicit: Bool) throws(ServeError) -> (limits: TransportLimits, note: String?) {
        let others = limits.maxUnauthenticatedPeers + 2 * peers + reserved
        let needed = limits.maxClients + others
        guard available < needed else { return (limits, nil) }
        let fits = available - others
        let limitText = "this process may open \(available) (ulimit -n\(hard == .max ? "" : "; the hard limit is \(hard)"))"
        guard !explicit, fits >= 1 else {
            throw .descriptors("--max-clients \(limits.maxClients) needs about \(needed) file descriptors and \(limitText): "
                               + "lower --max-clients or raise the limit")
        }
        var lowered = limits
        lowered.maxClients = fits
        return (lowered, "at most \(fits) clients (not \(limits.maxClients)): \(needed) file descriptors are needed for "
                         + "\(limits.maxClients) and \(limitText); raise it, or give --max-clients")
    }
}
