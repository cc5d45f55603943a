#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 address and port, as flags and peer lists write them (`127.0.0.1:7000`).
public struct PeerAddress: Hashable, Sendable, CustomStringConvertible {
    /// The dotted IPv4 host (`localhost` is read as 127.0.0.1).
    public let host: String
    /// The TCP port.
    public let port: UInt16

    /// Makes an address.
    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`, or throws naming the bad text.
    public init(parsing text: String) throws(NetworkError) {
        guard let colon = text.lastIndex(of: ":") else { throw .badAddress(text, "expected HOST:PORT") }
        var host = String(text[..<colon])
        if host == "localhost" { host = "127.0.0.1" }
        guard let port = UInt16(text[text.index(after: colon)...]) else { throw .badAddress(text, "the port is not in 0...65535") }
        var probe = in_addr()
        guard inet_pton(AF_INET, host, &probe) == 1 else { throw .badAddress(text, "'\(host)' is not an IPv4 address") }
        self.host = host
        self.port = port
    }

    /// Whether the host is in 127.0.0.0/8.
    public var isLoopback: Bool { host.hasPrefix("127.") }

    public var description: String { "\(host):\(port)" }

    fileprivate func sockaddr() -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        _ = inet_pton(AF_INET, host, &address.sin_addr)
        return address
    }
}

/// Why a socket operation failed; each case names the address or the operation.
public enum NetworkError: Error, Equatable, CustomStringConvertible {
    /// An address that does not parse.
    case badAddress(String, String)
    /// The operating system refused an operation on an address.
    case system(operation: String, address: String, errno: Int32)

    public var description: String {
        switch self {
        case .badAddress(let text, let why): "address '\(text)': \(why)"
        case .system(let op, let address, let e): "\(op) \(address): \(String(cString: strerror(e)))"
        }
    }
}

/// Thin wrappers over POSIX sockets: non-blocking TCP over IPv4.
enum Sockets {
    /// A non-blocking socket listening on `address` (port 0 picks a free port; see `localPort`).
    static func listen(on address: PeerAddress) throws(NetworkError) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .system(operation: "socket", address: address.description, errno: errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var sa = address.sockaddr()
        let bound = withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, 1024) == 0 else {
            let e = errno
            close(fd)
            throw .system(operation: "listen on", address: address.description, errno: e)
        }
        setNonBlocking(fd)
        return fd
    }

    /// A socket bound to `address` and not listening; `shared` lets other sockets that share it (`SO_REUSEADDR`, as
    /// `listen` sets) bind the address too, which is how a `PortReservation` holds a port for a child.
    static func bind(_ address: PeerAddress, shared: Bool) throws(NetworkError) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .system(operation: "socket", address: address.description, errno: errno) }
        var one: Int32 = 1
        if shared { setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) }
        var sa = address.sockaddr()
        let bound = withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            let e = errno
            close(fd)
            throw .system(operation: "bind", address: address.description, errno: e)
        }
        return fd
    }

    /// Starts a non-blocking connection to `address`; it completes when the socket becomes writable.
    static func connect(to address: PeerAddress) throws(NetworkError) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .system(operation: "socket", address: address.description, errno: errno) }
        setNonBlocking(fd)
        noDelay(fd)
        var sa = address.sockaddr()
        let result = withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 || errno == EINPROGRESS else {
            let e = errno
            close(fd)
            throw .system(operation: "connect to", address: address.description, errno: e)
        }
        return fd
    }

    /// Accepts one pending connection (non-blocking), with the peer's address; nil when none is pending.
    static func accept(_ listener: Int32) -> (Int32, String)? {
        var sa = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let fd = withUnsafeMutablePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(listener, $0, &length) }
        }
        guard fd >= 0 else { return nil }
        setNonBlocking(fd)
        noDelay(fd)
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        _ = inet_ntop(AF_INET, &sa.sin_addr, &text, socklen_t(INET_ADDRSTRLEN))
        let host = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return (fd, "\(host):\(UInt16(bigEndian: sa.sin_port))")
    }

    /// The port a socket is bound to.
    static func localPort(_ fd: Int32) -> UInt16 {
        var sa = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return UInt16(bigEndian: sa.sin_port)
    }

    /// The pending error of a socket (after a non-blocking connect), 0 when none.
    static func pendingError(_ fd: Int32) -> Int32 {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        return error
    }

    static func setNonBlocking(_ fd: Int32) {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK)
    }

    static func noDelay(_ fd: Int32) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Reads what is available into `buffer`: the byte count, 0 at end of stream, -1 when nothing is ready now,
    /// or -2 on an error.
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let n = recv(fd, buffer.baseAddress, buffer.count, 0)
        if n >= 0 { return n }
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -1 : -2
    }

    /// Writes what the socket takes now: the byte count, or -1 on an error (never raises SIGPIPE).
    static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int {
        let n = send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
        if n >= 0 { return n }
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1
    }
}

/// A buffer of bytes waiting to be written to a socket, consumed from the front without shifting on every
/// write.
struct OutputBuffer {
    private(set) var bytes: [UInt8] = []
    private var start = 0

    /// Bytes still to write.
    var count: Int { bytes.count - start }
    var isEmpty: Bool { start == bytes.count }

    mutating func append(_ more: [UInt8]) { bytes.append(contentsOf: more) }

    /// Writes as much as the socket takes; returns false when the connection failed.
    mutating func flush(to fd: Int32) -> Bool {
        while start < bytes.count {
            let n = bytes.withUnsafeBytes { Sockets.write(fd, UnsafeRawBufferPointer(rebasing: $0[start...])) }
            if n < 0 { return false }
            if n == 0 { break }
            start += n
        }
        if start == bytes.count {
            bytes.removeAll(keepingCapacity: bytes.capacity <= 1 << 20)
            start = 0
        } else if start > 1 << 16 && start * 2 > bytes.count {
            bytes.removeFirst(start)
            start = 0
        }
        return true
    }
}
