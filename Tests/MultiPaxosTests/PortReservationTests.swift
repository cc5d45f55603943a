import Foundation
import Testing
@testable import MultiPaxos

/// Ports reserved for a process about to start: distinct, held against anyone else, open to the listener meant for them.
@Suite struct PortReservationTests {
    @Test func aReservedPortIsRefusedToOthersButTheListenerMeantForItBindsAndServes() throws {
        let reservation = try PortReservation(count: 3)
        #expect(Set(reservation.ports).count == 3 && !reservation.ports.contains(0), "\(reservation.ports)")

        // A socket that does not share the address (no SO_REUSEADDR) is refused: the port is taken.
        #expect(throws: NetworkError.system(operation: "bind", address: "127.0.0.1:\(reservation.ports[0])", errno: EADDRINUSE)) {
            close(try Sockets.bind(PeerAddress(host: "127.0.0.1", port: reservation.ports[0]), shared: false))
        }

        // The node's own listener binds it while the reservation is held, and takes a connection.
        let listener = try Sockets.listen(on: PeerAddress(host: "127.0.0.1", port: reservation.ports[0]))
        defer { close(listener) }
        #expect(Sockets.localPort(listener) == reservation.ports[0])
        let client = try RESPConnection(to: PeerAddress(host: "127.0.0.1", port: reservation.ports[0]), deadline: .now + .seconds(5))
        var accepted: (Int32, String)?
        for _ in 0..<500 where accepted == nil {
            accepted = Sockets.accept(listener)
            if accepted == nil { usleep(10_000) }
        }
        #expect(accepted != nil)
        if let (fd, _) = accepted { close(fd) }
        withExtendedLifetime((reservation, client)) {}
    }
}
