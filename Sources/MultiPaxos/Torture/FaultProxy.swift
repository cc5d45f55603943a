#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// A TCP relay between the members of a served cluster that injects faults per directed link: one listening port
/// per target node (the members' `--peers` list names these ports; each node listens on a port of its own given
/// by `--listen-peers`), the dialer told apart by its connection's handshake, every message forwarded whole,
/// delayed, held, dropped or refused as that link's ``LinkFault`` says. One thread polls every socket.
public final class FaultProxy: @unchecked Sendable {  // the connection table is touched only by the I/O thread
    /// The ports the proxy listens on, one per target node: list them in the members' `--peers`.
    public let ports: [UInt16]
    /// The nodes' real peer addresses, where messages for each are forwarded.
    public let targets: [PeerAddress]

    private struct Control {
        var faults: [[LinkFault]]
        var cuts: [(from: Int?, to: Int?)] = []
        var stopping = false
    }
    private let control: Mutex<Control>
    private let stats = Mutex(ProxyStatistics())
    private let listeners: [Int32]
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let finished = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    private var connections: [Int32: ProxiedConnection] = [:]  // by the dialer's socket

    /// Listens on `host` (ephemeral ports) for each of `targets`, or throws naming the address.
    public init(targets: [PeerAddress], host: String = "127.0.0.1") throws(NetworkError) {
        self.targets = targets
        var opened: [Int32] = []
        for _ in targets {
            do {
                let fd = try Sockets.listen(on: PeerAddress(host: host, port: 0))
                Self.closeOnExec(fd)
                opened.append(fd)
            } catch {
                for fd in opened { close(fd) }
                throw error
            }
        }
        listeners = opened
        ports = opened.map(Sockets.localPort)
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            let e = errno
            for fd in opened { close(fd) }
            throw .system(operation: "wake-up pipe for", address: host, errno: e)
        }
        wakeRead = fds[0]
        wakeWrite = fds[1]
        for fd in [wakeRead, wakeWrite] {
            Sockets.setNonBlocking(fd)
            Self.closeOnExec(fd)
        }
        control = Mutex(Control(faults: Array(repeating: Array(repeating: .healthy, count: targets.count), count: targets.count)))
    }

    /// Starts the I/O thread.
    public func start() {
        guard !started.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let thread = Thread { [self] in run() }
        thread.name = "multipaxos-fault-proxy"
        thread.start()
    }

    /// Closes every connection and listener; returns once the I/O thread has finished.
    public func stop() {
        let already = control.withLock { box -> Bool in
            defer { box.stopping = true }
            return box.stopping
        }
        guard !already else { return }
        wake()
        // Never started: close here, and claim `started` so that a later `start()` cannot close everything again.
        guard started.exchange(true, ordering: .acquiringAndReleasing) else { return closeAll() }
        while !finished.load(ordering: .acquiring) { usleep(1000) }
    }

    /// Sets what happens to the messages `from` sends to `to`.
    public func set(_ fault: LinkFault, from: NodeID, to: NodeID) {
        guard from.value < targets.count, to.value < targets.count else { return }
        control.withLock { $0.faults[from.value][to.value] = fault }
        wake()
    }

    /// The fault on the link `from` → `to`.
    public func fault(from: NodeID, to: NodeID) -> LinkFault {
        control.withLock { $0.faults[from.value][to.value] }
    }

    /// Makes every link healthy (held messages are then delivered).
    public func healAll() {
        control.withLock { box in
            for i in box.faults.indices { for j in box.faults[i].indices { box.faults[i][j] = .healthy } }
        }
        wake()
    }

    /// Closes the open connections of the link `from` → `to` once (nil: any node); the dialer reconnects.
    public func cut(from: NodeID?, to: NodeID?) {
        control.withLock { $0.cuts.append((from?.value, to?.value)) }
        wake()
    }

    /// What the proxy carried and did so far.
    public var statistics: ProxyStatistics { stats.withLock { $0 } }

    private func wake() {
        var byte: UInt8 = 1
        _ = Glibc.write(wakeWrite, &byte, 1)
    }

    // MARK: The I/O loop

    private enum Watched { case wake, listener(Int), dialer(Int32), target(Int32) }

    private func run() {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let (faults, cuts, stopping) = control.withLock { box in
                defer { box.cuts.removeAll() }
                return (box.faults, box.cuts, box.stopping)
            }
            if stopping { break }
            let now = ContinuousClock.now
            for (fd, c) in connections {
                guard let dialer = c.dialer else { continue }
                if faults[dialer][c.target].mode == .refuse {
                    drop(fd, counting: \.connectionsRefused)
                } else if cuts.contains(where: { ($0.from ?? dialer) == dialer && ($0.to ?? c.target) == c.target }) {
                    drop(fd, counting: \.connectionsCut)
                }
            }
            var fds: [pollfd] = []
            var watched: [Watched] = []
            func watch(_ fd: Int32, _ events: Int32, _ what: Watched) {
                fds.append(pollfd(fd: fd, events: Int16(events), revents: 0))
                watched.append(what)
            }
            watch(wakeRead, POLLIN, .wake)
            for (i, fd) in listeners.enumerated() { watch(fd, POLLIN, .listener(i)) }
            var timeout = ContinuousClock.now + .milliseconds(50)
            for (fd, c) in connections {
                if !c.dialerClosed && c.heldBytes < ProxiedConnection.maxHeldBytes { watch(fd, POLLIN, .dialer(fd)) }
                if c.outFD >= 0 {
                    watch(c.outFD, c.connecting || c.hasOutput ? POLLIN | POLLOUT : POLLIN, .target(fd))
                }
                let fault = c.dialer.map { faults[$0][c.target] } ?? .healthy
                if fault.mode != .stall, let next = c.nextRelease { timeout = min(timeout, next) }
                if c.hasOutput, fault.bytesPerSecond != nil { timeout = min(timeout, now + .milliseconds(5)) }
            }
            let wait = max(timeout - ContinuousClock.now, .zero)
            let ms = Int32(wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000)
            let ready = poll(&fds, nfds_t(fds.count), ms)
            if ready < 0 && errno != EINTR { break }
            // The faults as they are now: a fault set before bytes were sent applies to them.
            let current = control.withLock { $0.faults }
            for (i, what) in watched.enumerated() where fds[i].revents != 0 {
                let revents = Int32(fds[i].revents)
                switch what {
                case .wake:
                    while Glibc.read(wakeRead, &buffer, buffer.count) > 0 {}
                case .listener(let target):
                    while let (fd, _) = Sockets.accept(listeners[target]) {
                        Self.closeOnExec(fd)
                        connections[fd] = ProxiedConnection(target: target, inFD: fd)
                        stats.withLock { $0.connections += 1 }
                    }
                case .dialer(let fd):
                    readDialer(fd, faults: current, buffer: &buffer)
                case .target(let fd):
                    serviceTarget(fd, revents: revents, buffer: &buffer)
                }
            }
            let after = ContinuousClock.now
            for fd in Array(connections.keys) {
                guard var c = connections[fd] else { continue }
                let fault = c.dialer.map { current[$0][c.target] } ?? .healthy
                c.release(now: after, fault: fault)
                let ok = c.write(now: after, fault: fault)
                connections[fd] = c
                if !ok {
                    drop(fd, counting: \.connectionsFailed)
                } else if c.dialerClosed && (c.isDrained || fault.mode == .stall || c.outFD < 0) {
                    drop(fd, counting: nil)
                }
            }
        }
        closeAll()
        finished.store(true, ordering: .releasing)
    }

    /// Reads what the dialer sent: its handshake first (then the target is dialed), then whole messages.
    private func readDialer(_ fd: Int32, faults: [[LinkFault]], buffer: inout [UInt8]) {
        guard var c = connections[fd] else { return }
        let n = buffer.withUnsafeMutableBytes { Sockets.read(fd, into: $0) }
        if n == -1 { return }
        if n <= 0 {
            c.dialerClosed = true
            connections[fd] = c
            return
        }
        buffer.withUnsafeBytes { c.decoder.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        let now = ContinuousClock.now
        var forwarded = 0, lost = 0
        do {
            if c.dialer == nil {
                guard let hello = try c.decoder.nextHandshake() else {
                    connections[fd] = c
                    return
                }
                guard hello.node.value < targets.count, hello.node.value != c.target else {
                    throw PeerRefusal("node id \(hello.node.value) is not another member")
                }
                c.dialer = hello.node.value
                let fault = faults[hello.node.value][c.target]
                guard fault.mode != .refuse else {
                    connections[fd] = c
                    return drop(fd, counting: \.connectionsRefused)
                }
                c.outFD = try Sockets.connect(to: targets[c.target])
                Self.closeOnExec(c.outFD)
                c.connecting = true
                c.enqueue(hello.encoded(), fault: fault, now: now)
            }
            let fault = faults[c.dialer!][c.target]
            while let payload = try c.decoder.next() {
                if fault.mode == .drop {
                    lost += 1
                } else {
                    c.enqueue(Frame.frame(payload), fault: fault, now: now)
                    forwarded += 1
                }
            }
        } catch {
            connections[fd] = c
            return drop(fd, counting: \.connectionsFailed)
        }
        connections[fd] = c
        if forwarded + lost > 0 {
            stats.withLock {
                $0.framesForwarded += forwarded
                $0.framesDropped += lost
            }
        }
    }

    /// The target's side: the connection completing, or closing (a node never writes on a connection it accepted).
    private func serviceTarget(_ fd: Int32, revents: Int32, buffer: inout [UInt8]) {
        guard var c = connections[fd], c.outFD >= 0 else { return }
        if c.connecting {
            guard revents & Int32(POLLOUT | POLLERR | POLLHUP) != 0 else { return }
            guard Sockets.pendingError(c.outFD) == 0 else { return drop(fd, counting: \.connectionsFailed) }
            c.connecting = false
            connections[fd] = c
        }
        if revents & Int32(POLLIN | POLLHUP | POLLERR) != 0 {
            let n = buffer.withUnsafeMutableBytes { Sockets.read(c.outFD, into: $0) }
            if n == 0 || n == -2 { drop(fd, counting: \.connectionsFailed) }
        }
    }

    /// Keeps `fd` out of child processes: a connection the proxy cuts must not stay open in a node it spawned.
    static func closeOnExec(_ fd: Int32) {
        _ = fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC)
    }

    private func drop(_ fd: Int32, counting counter: WritableKeyPath<ProxyStatistics, Int>?) {
        guard let c = connections.removeValue(forKey: fd) else { return }
        if let counter { stats.withLock { $0[keyPath: counter] += 1 } }  // counted before anyone sees the close
        c.close()
    }

    private func closeAll() {
        for c in connections.values { c.close() }
        connections = [:]
        for fd in listeners { close(fd) }
        close(wakeRead)
        close(wakeWrite)
    }
}
