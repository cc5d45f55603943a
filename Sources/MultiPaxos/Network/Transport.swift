#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// Limits and settings of a node's sockets.
public struct TransportLimits: Sendable {
    /// Bytes a peer's outbound queue may hold before messages to it are dropped (Paxos tolerates loss).
    public var peerQueueBytes = 16 << 20
    /// The largest frame a peer may send.
    public var maxFrameBytes = 16 << 20
    /// The largest client request (etcd's default).
    public var maxRequestBytes = 1_572_864
    /// The most client connections at once (Redis's default).
    public var maxClients = 10_000
    /// A peer connection that has not finished its handshake after this long is closed.
    public var handshakeTimeout: Duration = .seconds(5)
    /// A client connection that has not authenticated (when a password is set) after this long is closed.
    public var authenticationTimeout: Duration = .seconds(10)
    /// Peer connections that have not finished their handshake, at most, at once: past it a new one is closed
    /// at once (with the frame bound below, what connections before authentication may hold is bounded).
    public var maxUnauthenticatedPeers = 64
    /// Unanswered pipelined requests per client connection before the node stops reading from it.
    public var maxPipelined = 512
    /// Bytes of unanswered pipelined commands per client connection before the node stops reading from it.
    public var maxPipelinedBytes = 1 << 20
    /// Unread reply bytes per client connection before the node stops reading from it.
    public var maxUnreadReplyBytes = 1 << 20
    /// The defaults.
    public init() {}
}

/// The sockets of one served node, driven by one thread that polls them all: a listener for peers, one
/// outbound connection to each other member (each directed link is its own TCP connection: a node writes only
/// to the connections it opened, and only reads from those it accepted), and the RESP client connections.
/// The node's protocol loop hands it frames and answers through a locked outbox and a wake-up pipe.
final class Transport: @unchecked Sendable {  // the loop state is touched only by the I/O thread
    let me: NodeID
    let clusterID: String
    let peers: [PeerAddress]
    let limits: TransportLimits
    /// The password clients must give, if any.
    let password: [UInt8]?
    /// The cluster key (if any) and this node's identity, for peer authentication.
    let security: PeerSecurity
    let log: @Sendable (String) -> Void
    private let inputs: Inbox
    /// Where drops, commit latencies, queued bytes and connections are counted.
    let metrics: ServedMetrics?

    /// The port peers connect to, and the one clients connect to (known once listening).
    let peerPort: UInt16
    let clientPort: UInt16
    private let peerListener: Int32
    private let clientListener: Int32
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let hello: [UInt8]

    private struct Outbox {
        var frames: [[[UInt8]]]
        var queuedBytes: [Int]
        /// Per peer, whether its queue refused a message and has taken none since.
        var full: [Bool]
        var answers: [(connection: UInt64, key: RequestKey, outcome: CallOutcome)] = []
        var woken = false
        var stopping = false
    }
    private let outbox: Mutex<Outbox>
    /// Messages dropped because a peer's queue was full or its link was down, by peer.
    let dropped: Mutex<[Int]>
    /// The peers to which a message too large for a frame was logged: a message that cannot be sent is said
    /// once, never dropped silently.
    private let oversizedLogged = Mutex<Set<Int>>([])

    // I/O-thread state.
    private var links: [OutboundLink]
    private var inbound: [Int32: InboundPeer] = [:]
    /// Whether new peer connections are being closed for too many waiting to authenticate (said once per spell).
    private var refusingPeers = false
    /// Until when the listeners are not watched, after an accept found the process out of descriptors.
    private(set) var acceptPausedUntil = ContinuousClock.now
    /// Whether the last accept failed for want of descriptors (said once per spell).
    private var outOfDescriptors = false
    var sessions: [Int32: ClientSession] = [:]
    private var sessionByConnection: [UInt64: Int32] = [:]
    private var nextConnection: UInt64 = 1
    private var spareClients: [(ClientID, UInt64)] = []
    private var pending: [ServerInput] = []
    private var lastComplaint: [NodeID: String] = [:]
    private let finished = Atomic<Bool>(false)

    /// Listens on this node's peer address and on `client`, or throws naming the address.
    init(me: NodeID, clusterID: String, peers: [PeerAddress], client: PeerAddress, limits: TransportLimits,
         password: [UInt8]?, keys: ClusterKeys?, log: @escaping @Sendable (String) -> Void, inputs: Inbox,
         metrics: ServedMetrics? = nil) throws(NetworkError) {
        self.me = me
        self.metrics = metrics
        self.clusterID = clusterID
        self.peers = peers
        self.limits = limits
        self.password = password
        security = PeerSecurity(clusterID: clusterID, me: me, keys: keys)
        self.log = log
        self.inputs = inputs
        do {
            hello = try Handshake(clusterID: clusterID, node: me).encoded()
        } catch {
            throw .badAddress(clusterID, "the cluster id is not usable: \(error)")
        }
        peerListener = try Sockets.listen(on: peers[me.value])
        do {
            clientListener = try Sockets.listen(on: client)
        } catch {
            close(peerListener)
            throw error
        }
        peerPort = Sockets.localPort(peerListener)
        clientPort = Sockets.localPort(clientListener)
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            let e = errno
            close(peerListener)
            close(clientListener)
            throw .system(operation: "wake-up pipe for", address: client.description, errno: e)
        }
        wakeRead = fds[0]
        wakeWrite = fds[1]
        Sockets.setNonBlocking(wakeRead)
        Sockets.setNonBlocking(wakeWrite)
        outbox = Mutex(Outbox(frames: Array(repeating: [], count: peers.count), queuedBytes: Array(repeating: 0, count: peers.count),
                                full: Array(repeating: false, count: peers.count)))
        dropped = Mutex(Array(repeating: 0, count: peers.count))
        links = peers.indices.map { OutboundLink(peer: NodeID($0), address: peers[$0]) }
    }

    /// Starts the I/O thread.
    func start() {
        let t = Thread { [self] in run() }
        t.name = "multipaxos-io-\(me.value)"
        t.start()
    }

    /// Stops accepting and closes every socket; returns once the I/O thread has finished.
    func stop() {
        outbox.withLock { $0.stopping = true }
        wake()
        while !finished.load(ordering: .acquiring) { usleep(1000) }
    }

    // MARK: Called by the node's protocol loop

    /// Queues a message's encoded payload for `peer` (framed, and sealed with a MAC when a cluster key is set, by
    /// the I/O thread), or drops it (counted) when the peer's queue is full.
    func send(_ frame: [UInt8], to peer: NodeID) {
        // Sealing adds a tag; the peer refuses a frame above its limit, so such a message is never queued.
        guard frame.count + FrameAuthenticator.tagBytes <= limits.maxFrameBytes else {
            dropped.withLock { $0[peer.value] += 1 }
            metrics?.droppedPayload(frame)
            if oversizedLogged.withLock({ $0.insert(peer.value).inserted }) {
                log("a message of \(frame.count) bytes to \(peer) exceeds the frame limit of \(limits.maxFrameBytes) bytes: not sent")
            }
            return
        }
        // Whether it was queued, and whether this drop is the first since the queue last took a message.
        let (accepted, firstDrop) = outbox.withLock { box -> (Bool, Bool) in
            guard box.queuedBytes[peer.value] + frame.count <= limits.peerQueueBytes else {
                defer { box.full[peer.value] = true }
                return (false, !box.full[peer.value])
            }
            box.frames[peer.value].append(frame)
            box.queuedBytes[peer.value] += frame.count
            box.full[peer.value] = false
            return (true, false)
        }
        if !accepted {
            dropped.withLock { $0[peer.value] += 1 }
            metrics?.droppedPayload(frame)
            if firstDrop {
                log("the queue to \(peer) is full (limit \(limits.peerQueueBytes) bytes): a message of \(frame.count) bytes was dropped, and more may be until it drains")
            }
        }
    }

    /// Hands a client call's outcome to its connection.
    func answer(_ connection: UInt64, key: RequestKey, _ outcome: CallOutcome) {
        outbox.withLock { $0.answers.append((connection, key, outcome)) }
    }

    /// Wakes the I/O thread to write what was queued.
    func wake() {
        let already = outbox.withLock { box -> Bool in
            defer { box.woken = true }
            return box.woken
        }
        if !already {
            var byte: UInt8 = 1
            _ = Glibc.write(wakeWrite, &byte, 1)
        }
    }

    // MARK: The I/O loop

    private enum Watched {
        case wake, peerListener, clientListener, link(Int), inbound(Int32), session(Int32)
    }

    private func run() {
        log("listening for peers on \(peers[me.value].host):\(peerPort), for clients on port \(clientPort)")
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while !outbox.withLock({ $0.stopping }) {
            var fds: [pollfd] = []
            var watched: [Watched] = []
            func watch(_ fd: Int32, _ events: Int32, _ what: Watched) {
                fds.append(pollfd(fd: fd, events: Int16(events), revents: 0))
                watched.append(what)
            }
            let now = ContinuousClock.now
            watch(wakeRead, POLLIN, .wake)
            // Out of descriptors, a listener stays readable and would wake every poll: it rests a moment instead.
            let accepting = now >= acceptPausedUntil
            if accepting { watch(peerListener, POLLIN, .peerListener) }
            if accepting && sessions.count < limits.maxClients + 1 { watch(clientListener, POLLIN, .clientListener) }
            for i in links.indices where i != me.value {
                links[i].maintain(now: now, hello: hello, security: security, log: log)
                if links[i].fd >= 0 {
                    watch(links[i].fd, links[i].wantsWrite ? POLLIN | POLLOUT : POLLIN, .link(i))
                }
            }
            for (fd, peer) in inbound {
                if now - peer.acceptedAt > limits.handshakeTimeout && !peer.established {
                    log("peer connection from \(peer.address) closed: no handshake within \(limits.handshakeTimeout)")
                    dropInbound(fd)
                    continue
                }
                watch(fd, peer.out.isEmpty ? POLLIN : POLLIN | POLLOUT, .inbound(fd))
            }
            for (fd, session) in sessions {
                if !session.authenticated && now - session.acceptedAt > limits.authenticationTimeout {
                    dropSession(fd)  // a password is set and it has not given it: the limit is always on
                    continue
                }
                var events: Int32 = 0
                if session.wantsRead { events |= POLLIN }
                if !session.out.isEmpty { events |= POLLOUT }
                watch(fd, events, .session(fd))
            }
            let ready = poll(&fds, nfds_t(fds.count), 50)
            if ready < 0 && errno != EINTR { break }
            // Drain the wake-up pipe before taking the outbox: a wake-up written after the take must stay in the
            // pipe, or what it announced would wait for the poll's timeout.
            if fds[0].revents != 0 { while Glibc.read(wakeRead, &buffer, buffer.count) > 0 {} }
            takeOutbox()
            for (i, what) in watched.enumerated() where fds[i].revents != 0 {
                let revents = Int32(fds[i].revents)
                switch what {
                case .wake:
                    break  // drained above
                case .peerListener:
                    while let (fd, address) = Sockets.accept(peerListener) {
                        let waiting = inbound.values.reduce(0) { $0 + ($1.established ? 0 : 1) }
                        guard waiting < limits.maxUnauthenticatedPeers else {
                            Glibc.close(fd)
                            if !refusingPeers {
                                log("peer connection from \(address) closed: \(waiting) peer connections have not finished "
                                    + "their handshake (limit \(limits.maxUnauthenticatedPeers)); more are closed until fewer wait")
                            }
                            refusingPeers = true
                            continue
                        }
                        refusingPeers = false
                        outOfDescriptors = false
                        inbound[fd] = InboundPeer(address: address, maxFrameBytes: limits.maxFrameBytes)
                    }
                    pauseIfOutOfDescriptors(errno)
                case .clientListener:
                    acceptClients()
                case .link(let p):
                    links[p].service(revents: revents, log: log)
                case .inbound(let fd):
                    readInbound(fd, revents: revents, buffer: &buffer)
                    if var peer = inbound[fd], !peer.out.isEmpty {
                        if peer.out.flush(to: fd) { inbound[fd] = peer } else { dropInbound(fd) }
                    }
                case .session(let fd):
                    serviceSession(fd, revents: revents, buffer: &buffer)
                }
            }
            for i in links.indices where links[i].fd >= 0 && links[i].wantsWrite { links[i].flush(log: log) }
            if let metrics {
                metrics.outboxBytes.store(links.reduce(0) { $0 + $1.out.count }, ordering: .relaxed)
                metrics.clientConnections.store(sessions.count, ordering: .relaxed)
            }
            if !pending.isEmpty {
                inputs.post(pending)
                pending = []
            }
        }
        for link in links where link.fd >= 0 { close(link.fd) }
        for fd in inbound.keys { close(fd) }
        for fd in sessions.keys { close(fd) }
        close(peerListener)
        close(clientListener)
        close(wakeRead)
        close(wakeWrite)
        finished.store(true, ordering: .releasing)
    }

    /// Moves queued frames into the links and answers into the client sessions.
    private func takeOutbox() {
        let (frames, answers) = outbox.withLock { box in
            defer {
                for i in box.frames.indices { box.frames[i].removeAll() }
                for i in box.queuedBytes.indices { box.queuedBytes[i] = 0 }
                box.answers.removeAll()
                box.woken = false
            }
            return (box.frames, box.answers)
        }
        for (i, queue) in frames.enumerated() where !queue.isEmpty {
            var lost = 0
            for frame in queue where !links[i].enqueue(frame, limit: limits.peerQueueBytes) {
                lost += 1
                metrics?.droppedPayload(frame)
            }
            if lost > 0 { dropped.withLock { $0[i] += lost } }
        }
        for answer in answers {
            guard let fd = sessionByConnection[answer.connection] else { continue }
            sessions[fd]!.complete(answer.key, answer.outcome)
            pump(fd)
        }
    }

    private func readInbound(_ fd: Int32, revents: Int32, buffer: inout [UInt8]) {
        guard var peer = inbound[fd] else { return }
        while true {
            let n = buffer.withUnsafeMutableBytes { Sockets.read(fd, into: $0) }
            if n == -1 { break }
            if n <= 0 {
                if let node = peer.node {
                    complainOnce(about: node, peer.established ? "peer \(node) (\(peer.address)) disconnected"
                                                                 : "peer \(node) closed the connection before authenticating")
                }
                dropInbound(fd)
                return
            }
            buffer.withUnsafeBytes { peer.decoder.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            do {
                if peer.node == nil {
                    guard let hello = try peer.decoder.nextHandshake() else { continue }
                    guard hello.clusterID == clusterID else {
                        throw PeerRefusal("it belongs to cluster '\(hello.clusterID)', not '\(clusterID)'")
                    }
                    guard hello.node.value < peers.count, hello.node != me else {
                        throw PeerRefusal("its node id \(hello.node.value) is not another member (0..<\(peers.count))")
                    }
                    peer.greeted(by: hello.node, security: security)
                    if peer.established { accepted(peer) }
                }
                // Before it is established a peer may send only its nonce and proof: small frames.
                while let frame = try peer.decoder.next(limit: peer.established ? limits.maxFrameBytes : InboundPeer.authenticationFrameBytes) {
                    guard peer.established else {
                        do {
                            try peer.authenticate(frame)
                        } catch {
                            throw PeerRefusal("peer \(peer.node!) failed authentication: \(error)")
                        }
                        if peer.established { accepted(peer, how: " (it proved the cluster key)") }
                        continue
                    }
                    let payload: [UInt8]
                    do {
                        payload = try peer.open(frame)
                    } catch {
                        throw PeerRefusal("a frame from peer \(peer.node!) failed its MAC: \(error)")
                    }
                    let message = try WireCodec.decode(payload)
                    switch message {
                    case .startPhase1, .adopted:
                        // A node's Scout and Leader say these to each other only: a peer that sends one is broken.
                        // (Preempted does cross: an acceptor tells a stale leader that heartbeats it.)
                        throw PeerRefusal("it sent \(message.kind), which never crosses the network")
                    default:
                        pending.append(.message(message, from: peer.node!))
                    }
                }
            } catch {
                let line = "peer connection from \(peer.address) closed: \(error)"
                if let node = peer.node { complainOnce(about: node, line) } else { log(line) }
                dropInbound(fd)
                return
            }
        }
        inbound[fd] = peer
    }

    /// A peer's connection carries its messages now: one line, unless it is the same as the last about it.
    private func accepted(_ peer: InboundPeer, how: String = "") {
        complainOnce(about: peer.node!, "peer \(peer.node!) connected from \(peer.address)\(how)")
    }

    /// Logs a line about a peer's inbound connection unless it is the same as the last one about that peer
    /// (a refused peer retries every few seconds; one line says it).
    private func complainOnce(about node: NodeID, _ line: String) {
        let key = line.replacingOccurrences(of: #"127\.0\.0\.1:\d+|[\d.]+:\d+"#, with: "", options: .regularExpression)
        guard lastComplaint[node] != key else { return }
        lastComplaint[node] = key
        log(line)
    }

    private func dropInbound(_ fd: Int32) {
        inbound[fd] = nil
        close(fd)
    }

    // MARK: Clients

    /// After a listener's accepts: if the last one failed because the process (or the system) has no descriptor
    /// left, stop accepting for 100 ms, say so once, and go on serving the connections there are.
    func pauseIfOutOfDescriptors(_ error: Int32) {
        guard error == EMFILE || error == ENFILE else { return }
        acceptPausedUntil = ContinuousClock.now + .milliseconds(100)
        if !outOfDescriptors {
            log("no file descriptor left to accept a connection (\(String(cString: strerror(error)))): accepting pauses "
                + "100 ms at a time until one is free; \(sessions.count) clients and \(inbound.count) peer connections are served")
        }
        outOfDescriptors = true
    }

    private func acceptClients() {
        defer { pauseIfOutOfDescriptors(errno) }
        while let (fd, address) = Sockets.accept(clientListener) {
            outOfDescriptors = false
            guard sessions.count < limits.maxClients else {
                var out = OutputBuffer()
                out.append(Array("-ERR max number of clients reached\r\n".utf8))
                _ = out.flush(to: fd)
                close(fd)
                continue
            }
            let (client, next) = spareClients.popLast() ?? (ClientID(UInt64.random(in: 1...UInt64.max)), 1)
            sessions[fd] = ClientSession(connection: nextConnection, address: address, client: client,
                                         nextRequest: next, limits: limits, password: password, metrics: metrics)
            sessionByConnection[nextConnection] = fd
            nextConnection += 1
        }
    }

    private func serviceSession(_ fd: Int32, revents: Int32, buffer: inout [UInt8]) {
        guard var session = sessions[fd] else { return }
        if revents & Int32(POLLIN | POLLHUP | POLLERR) != 0 && session.wantsRead {
            // 16 KiB at a time, as Redis reads: a client's unparsed input stays small.
            let n = buffer.withUnsafeMutableBytes { Sockets.read(fd, into: UnsafeMutableRawBufferPointer(rebasing: $0[..<(16 << 10)])) }
            if n == 0 || n == -2 {
                sessions[fd] = session
                dropSession(fd)
                return
            }
            if n > 0 { buffer.withUnsafeBytes { session.received(UnsafeRawBufferPointer(rebasing: $0[0..<n])) } }
        }
        sessions[fd] = session
        pump(fd)
    }

    /// Sends the session's next command to the node, writes what is ready, and closes it when it asked to. What
    /// was unread is written first, so that a client that has just read enough gets its held requests parsed now,
    /// not at its next write (which may never come: its whole pipeline may be in hand already).
    private func pump(_ fd: Int32) {
        guard var session = sessions[fd] else { return }
        if !session.out.isEmpty && !session.out.flush(to: fd) {
            sessions[fd] = session
            return dropSession(fd)
        }
        switch session.nextCall() {
        case .command(let command)?: pending.append(.call(connection: session.connection, command))
        case .admin(let key, let request)?: pending.append(.admin(connection: session.connection, key: key, request: request))
        case nil: break
        }
        let ok = session.out.flush(to: fd)
        sessions[fd] = session
        if !ok || (session.closing && session.out.isEmpty) { dropSession(fd) }
    }

    private func dropSession(_ fd: Int32) {
        guard let session = sessions.removeValue(forKey: fd) else { return }
        sessionByConnection[session.connection] = nil
        close(fd)
        pending.append(.gone(connection: session.connection))
        if spareClients.count < limits.maxClients { spareClients.append((session.client, session.nextRequest)) }
    }
}

/// Why a peer's connection was refused.
struct PeerRefusal: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
