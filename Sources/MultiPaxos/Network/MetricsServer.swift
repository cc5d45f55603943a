#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// A served node's `--metrics` listener: a minimal HTTP/1.1 server on its own thread that answers
/// `GET /metrics` with the node's metrics in the Prometheus text format (see `HTTPRequestHead.response`).
/// Each connection gets one response and is closed; a request head is read up to 8 KiB, a connection is
/// closed after 5 s, and at most 32 are open at once. It only reads the node's counters, so a scrape never
/// waits for the node loop, and the node loop never waits for a scrape.
final class MetricsServer: @unchecked Sendable {  // the connections are touched only by its thread
    /// The port it listens on (useful when the address asked for port 0).
    let port: UInt16
    private let address: PeerAddress
    private let listener: Int32
    private let render: @Sendable () -> String
    private let log: @Sendable (String) -> Void
    private let stopping = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)

    private struct Connection {
        var input: [UInt8] = []
        var out = OutputBuffer()
        var answered = false
        /// The response is written and the write side shut: reading what the client still sends (discarded, up
        /// to 64 KiB) until it closes, so that closing never resets the connection before it read the response.
        var lingering = false
        var discardedBytes = 0
        let acceptedAt = ContinuousClock.now
    }
    private var connections: [Int32: Connection] = [:]
    static let maxConnections = 32
    static let connectionTimeout: Duration = .seconds(5)

    /// Listens on `address`, or throws naming it; `render` makes the response body on each scrape.
    init(address: PeerAddress, log: @escaping @Sendable (String) -> Void, render: @escaping @Sendable () -> String) throws(NetworkError) {
        self.address = address
        self.log = log
        self.render = render
        listener = try Sockets.listen(on: address)
        port = Sockets.localPort(listener)
    }

    deinit {
        if !started.load(ordering: .acquiring) { close(listener) }
    }

    /// Starts the thread.
    func start() {
        started.store(true, ordering: .releasing)
        let thread = Thread { [self] in run() }
        thread.name = "multipaxos-metrics"
        thread.start()
    }

    /// Stops the thread (within its 100 ms poll) and closes every socket.
    func stop() {
        guard started.load(ordering: .acquiring) else { return }
        stopping.store(true, ordering: .releasing)
        while !finished.load(ordering: .acquiring) { usleep(1000) }
    }

    private func run() {
        log("serving metrics on http://\(address.host):\(port)/metrics")
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !stopping.load(ordering: .acquiring) {
            var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
            let now = ContinuousClock.now
            for (fd, connection) in connections {
                if now - connection.acceptedAt > Self.connectionTimeout {
                    drop(fd)
                    continue
                }
                let writing = connection.answered && !connection.lingering
                fds.append(pollfd(fd: fd, events: Int16(writing ? POLLOUT : POLLIN), revents: 0))
            }
            guard poll(&fds, nfds_t(fds.count), 100) >= 0 || errno == EINTR else { break }
            if fds[0].revents != 0 { accept() }
            for entry in fds.dropFirst() where entry.revents != 0 { service(entry.fd, buffer: &buffer) }
        }
        for fd in connections.keys { close(fd) }
        connections = [:]
        close(listener)
        finished.store(true, ordering: .releasing)
    }

    private func accept() {
        while let (fd, _) = Sockets.accept(listener) {
            guard connections.count < Self.maxConnections else {
                close(fd)
                continue
            }
            connections[fd] = Connection()
        }
    }

    /// Reads what came, answers once the head is complete (or bad), writes, and closes when written.
    private func service(_ fd: Int32, buffer: inout [UInt8]) {
        guard var connection = connections[fd] else { return }
        if connection.lingering {
            let n = buffer.withUnsafeMutableBytes { Sockets.read(fd, into: $0) }
            if n == 0 || n == -2 { return drop(fd) }
            connection.discardedBytes += max(n, 0)
            if connection.discardedBytes > 64 << 10 { return drop(fd) }
            connections[fd] = connection
            return
        }
        if !connection.answered {
            let n = buffer.withUnsafeMutableBytes { Sockets.read(fd, into: $0) }
            if n == 0 || n == -2 { return drop(fd) }
            if n > 0 { connection.input += buffer[0..<n] }
            let parse = HTTPRequestHead.parse(connection.input)
            if parse != .incomplete {
                connection.out.append(HTTPRequestHead.response(to: parse, body: render))
                connection.answered = true
                connection.input = []
            }
        }
        if connection.answered {
            guard connection.out.flush(to: fd) else { return drop(fd) }
            if connection.out.isEmpty {
                shutdown(fd, Int32(SHUT_WR))
                connection.lingering = true
            }
        }
        connections[fd] = connection
    }

    private func drop(_ fd: Int32) {
        connections[fd] = nil
        close(fd)
    }
}
