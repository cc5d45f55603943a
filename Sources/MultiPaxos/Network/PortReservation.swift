#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Loopback ports held for processes about to be started, so that nothing else on the machine takes them first.
///
/// Each port is bound (shared, never listening) for as long as the reservation lives: the kernel then hands it
/// neither to another bind to port 0 nor to an outgoing connection's local end, while a child that binds it shared,
/// as `Sockets.listen` does, may still listen on it. Ports read from a socket that was closed at once could be taken
/// by any connection in the gap before the child bound them: a node that then failed to start left a new cluster
/// waiting for it.
final class PortReservation: Sendable {
    /// The ports held, in the order asked for.
    let ports: [UInt16]
    private let descriptors: [Int32]

    /// Holds `count` distinct free loopback ports.
    init(count: Int) throws(NetworkError) {
        var descriptors: [Int32] = []
        do {
            for _ in 0..<count { descriptors.append(try Sockets.bind(PeerAddress(host: "127.0.0.1", port: 0), shared: true)) }
        } catch {
            for fd in descriptors { close(fd) }
            throw error
        }
        self.descriptors = descriptors
        ports = descriptors.map(Sockets.localPort)
    }

    deinit {
        for fd in descriptors { close(fd) }
    }
}
