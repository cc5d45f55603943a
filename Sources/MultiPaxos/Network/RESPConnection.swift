#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking RESP client connection with deadlines, for `RemoteClient`, the load generator and tests: it
/// sends commands as arrays of bulk strings and reads replies, never waiting past the deadline it is given.
final class RESPConnection {
    /// Why a call did not get a reply.
    enum Failure: Error, Equatable {
        /// Nothing came before the deadline (the request may have been received).
        case timedOut
        /// The connection could not be made or broke (`sent`: the request may have been received).
        case broken(String, sent: Bool)
        /// The reply was not valid RESP.
        case malformed(String)
    }

    let address: PeerAddress
    private let fd: Int32
    private var parser = RESPReplyParser()
    private var scratch = [UInt8](repeating: 0, count: 64 << 10)

    /// Connects, waiting until `deadline` at most.
    init(to address: PeerAddress, deadline: ContinuousClock.Instant) throws(Failure) {
        self.address = address
        // The socket is stored only once it is connected: a class whose initializer throws after every stored
        // property is set runs its deinit, which would close the number a second time (by then maybe another
        // thread's file or socket).
        let fd: Int32
        do {
            fd = try Sockets.connect(to: address)
        } catch {
            throw .broken("\(error)", sent: false)
        }
        guard Self.wait(fd, for: Int16(POLLOUT), until: deadline) else {
            close(fd)
            throw .timedOut
        }
        let error = Sockets.pendingError(fd)
        guard error == 0 else {
            close(fd)
            throw .broken("connect to \(address): \(String(cString: strerror(error)))", sent: false)
        }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Encodes a command as RESP.
    static func encode(_ args: [[UInt8]]) -> [UInt8] {
        var bytes = Array("*\(args.count)\r\n".utf8)
        for arg in args {
            bytes += Array("$\(arg.count)\r\n".utf8)
            bytes += arg
            bytes += [13, 10]
        }
        return bytes
    }

    /// Sends raw bytes (one or more encoded commands).
    func send(_ bytes: [UInt8], deadline: ContinuousClock.Instant) throws(Failure) {
        var out = OutputBuffer()
        out.append(bytes)
        while !out.isEmpty {
            guard out.flush(to: fd) else { throw .broken("write to \(address) failed", sent: false) }
            if !out.isEmpty, !Self.wait(fd, for: Int16(POLLOUT), until: deadline) { throw .timedOut }
        }
    }

    /// Reads the next reply.
    func reply(deadline: ContinuousClock.Instant) throws(Failure) -> RESPValue {
        while true {
            do {
                if let value = try parser.next() { return value }
            } catch {
                throw .malformed("\(error)")
            }
            guard Self.wait(fd, for: Int16(POLLIN), until: deadline) else { throw .timedOut }
            let n = scratch.withUnsafeMutableBytes { Sockets.read(fd, into: $0) }
            if n == 0 || n == -2 { throw .broken("\(address) closed the connection", sent: true) }
            if n > 0 { scratch.withUnsafeBytes { parser.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) } }
        }
    }

    /// Reads whatever bytes arrive next, unparsed (for speaking another protocol over the same socket).
    func readSome(deadline: ContinuousClock.Instant) throws(Failure) -> [UInt8] {
        guard Self.wait(fd, for: Int16(POLLIN), until: deadline) else { throw .timedOut }
        let n = scratch.withUnsafeMutableBytes { Sockets.read(fd, into: $0) }
        if n == 0 || n == -2 { throw .broken("\(address) closed the connection", sent: true) }
        return n > 0 ? Array(scratch[0..<n]) : []
    }

    /// Sends one command and reads its reply.
    func call(_ args: [String], deadline: ContinuousClock.Instant) throws(Failure) -> RESPValue {
        try call(args.map { Array($0.utf8) }, deadline: deadline)
    }

    /// Sends one command of byte arguments and reads its reply.
    func call(_ args: [[UInt8]], deadline: ContinuousClock.Instant) throws(Failure) -> RESPValue {
        try send(Self.encode(args), deadline: deadline)
        return try reply(deadline: deadline)
    }

    private static func wait(_ fd: Int32, for events: Int16, until deadline: ContinuousClock.Instant) -> Bool {
        while true {
            let left = deadline - .now
            guard left > .zero else { return false }
            let ms = Int32(min(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1, 60_000))
            var p = pollfd(fd: fd, events: events, revents: 0)
            let r = poll(&p, 1, ms)
            if r > 0 { return true }
            if r < 0 && errno != EINTR { return false }
        }
    }
}
