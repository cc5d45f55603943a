#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch

/// Why a `RemoteClient` call did not return a result, and whether the command may still take effect.
public enum RemoteClientError: Error, Equatable, CustomStringConvertible {
    /// No node answered before the deadline. The command may still take effect (once).
    case timeout(after: Duration)
    /// A node refused the command outright (for example a malformed operation); it did not take effect.
    case rejected(String)
    /// The calling task was cancelled; the command may still take effect (once), or never.
    case cancelled
    /// The client was made with something unusable, named here.
    case invalidConfiguration(String)

    /// Whether the command may have run (or may still run) although no result came back.
    public var mayHaveTakenEffect: Bool {
        switch self {
        case .timeout, .cancelled: true
        case .rejected, .invalidConfiguration: false
        }
    }

    public var description: String {
        switch self {
        case .timeout(let d): "no node answered within \(d) (the command may still take effect, once)"
        case .rejected(let message): "the cluster refused the command: \(message)"
        case .cancelled: "the call's task was cancelled (the command may still take effect, once, or never)"
        case .invalidConfiguration(let message): "invalid configuration: \(message)"
        }
    }
}

/// A client of a served cluster (`multipaxos serve`), from any process: `try await client.run(.put("k", "v"))`.
/// It sends each command to one node and, when no answer comes in time or the node is down, sends the same
/// request (same client id and request number) to the next node, so the cluster runs it exactly once however
/// often it is sent. Any node takes any command and forwards it to the leader. It speaks RESP with one added
/// command, `MPX.SUBMIT <client> <request> <operation>` (see Docs/Deployment.md). One call at a time per client;
/// concurrent calls wait their turn.
public actor RemoteClient {
    /// The client's identity in the cluster's reply caches (random, so it never collides with another's).
    public nonisolated let id: ClientID
    private let nodes: [PeerAddress]
    private let requestTimeout: Duration
    private let giveUpAfter: Duration
    private let worker: Worker
    private var nextRequest: UInt64 = 1
    private var busy = false
    private var turn: [CheckedContinuation<Void, Never>] = []

    /// A client of the cluster whose members serve clients at `nodes`. Each attempt waits `requestTimeout`;
    /// the call gives up after `giveUpAfter`.
    public init(nodes: [PeerAddress], password: String? = nil, requestTimeout: Duration = .seconds(2),
                giveUpAfter: Duration = .seconds(15)) throws(RemoteClientError) {
        guard !nodes.isEmpty else { throw .invalidConfiguration("no node addresses") }
        guard requestTimeout > .zero, giveUpAfter > .zero else {
            throw .invalidConfiguration("timeouts must be positive (got \(requestTimeout), \(giveUpAfter))")
        }
        self.nodes = nodes
        self.requestTimeout = requestTimeout
        self.giveUpAfter = giveUpAfter
        id = ClientID(UInt64.random(in: 1...UInt64.max))
        worker = Worker(nodes: nodes, start: Int(id.value % UInt64(nodes.count)), password: password.map { Array($0.utf8) })
    }

    /// Runs `operation` (in the state machine's encoding) exactly once and returns its result.
    public func submit(_ operation: [UInt8]) async throws(RemoteClientError) -> [UInt8] {
        while busy { await withCheckedContinuation { turn.append($0) } }
        busy = true
        defer {
            busy = false
            if !turn.isEmpty { turn.removeFirst().resume() }
        }
        let request = nextRequest
        nextRequest += 1
        let args: [[UInt8]] = [Array(RemoteProtocol.submit.utf8), Array(String(id.value).utf8), Array(String(request).utf8), operation]
        let deadline = ContinuousClock.now + giveUpAfter
        while ContinuousClock.now < deadline {
            if Task.isCancelled { throw .cancelled }
            let attemptDeadline = min(deadline, .now + requestTimeout)
            let outcome = await worker.attempt(args, deadline: attemptDeadline)
            switch outcome {
            case .result(let bytes): return bytes
            case .refused(let message): throw .rejected(message)
            case .retry: continue
            }
        }
        throw .timeout(after: giveUpAfter)
    }

    /// Runs a key-value operation against the served key-value store.
    public func run(_ operation: KeyValueOperation) async throws(RemoteClientError) -> KeyValueResult {
        let bytes = try await submit(operation.encoded)
        guard let result = try? KeyValueResult(decoding: bytes) else {
            throw .rejected("the answer \(bytes.prefix(16)) is not a key-value result")
        }
        return result
    }

    /// Does the blocking socket work on its own queue, one attempt at a time.
    private final class Worker: @unchecked Sendable {  // every field is touched only on `queue`
        enum Outcome: Sendable { case result([UInt8]), refused(String), retry }
        private let queue = DispatchQueue(label: "multipaxos.remote-client")
        private let nodes: [PeerAddress]
        private var current: Int
        private var connection: RESPConnection?
        private let password: [UInt8]?

        init(nodes: [PeerAddress], start: Int, password: [UInt8]?) {
            self.nodes = nodes
            current = start
            self.password = password
        }

        func attempt(_ args: [[UInt8]], deadline: ContinuousClock.Instant) async -> Outcome {
            await withCheckedContinuation { continuation in
                queue.async { continuation.resume(returning: self.blockingAttempt(args, deadline: deadline)) }
            }
        }

        private func blockingAttempt(_ args: [[UInt8]], deadline: ContinuousClock.Instant) -> Outcome {
            do {
                if connection == nil {
                    let fresh = try RESPConnection(to: nodes[current % nodes.count], deadline: deadline)
                    if let password {
                        let reply = try fresh.call([Array("AUTH".utf8), password], deadline: deadline)
                        guard reply == .ok else { return .refused("AUTH: \(reply)") }
                    }
                    connection = fresh
                }
                switch try connection!.call(args, deadline: deadline) {
                case .bulkString(let bytes): return .result(bytes)
                case .error(let message) where message.hasPrefix("TRYAGAIN"): moveOn()
                case .error(let message): return .refused(message)
                case let other: return .refused("unexpected reply \(other)")
                }
            } catch {
                moveOn()
                // Do not spin on a node that refuses connections at once: wait out a slice of the attempt.
                if case .broken(_, sent: false) = error { sleepBriefly(until: deadline) }
            }
            return .retry
        }

        private func moveOn() {
            connection = nil
            current += 1
        }

        private func sleepBriefly(until deadline: ContinuousClock.Instant) {
            let pause = min(Duration.milliseconds(50), max(.zero, deadline - .now))
            let (seconds, atto) = pause.components
            var spec = timespec(tv_sec: Int(seconds), tv_nsec: Int(atto / 1_000_000_000))
            nanosleep(&spec, nil)
        }
    }
}
