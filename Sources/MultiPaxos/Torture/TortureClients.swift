#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// What the torture clients do: get, put, append and compare-and-set on the registers, append and get on the
/// logs (whose every acknowledged token must be read back at the end), each operation against a node drawn at
/// random, through RESP.
struct TortureWorkload: Sendable {
    /// Registers (keys of every kind of operation) at a time; each a fresh key every
    /// ``TortureConfiguration/rotation``.
    let registers: Int
    /// Append-only logs at a time, rotated the same way: every token appended to them is unique.
    let logs: Int
    /// When the clients started (the keys rotate from here).
    let start: ContinuousClock.Instant
    /// The nodes' client addresses.
    let nodes: [PeerAddress]
    /// How long a client waits for one reply before it records the outcome as unknown.
    let replyTimeout: Duration
    /// How long a client waits between operations.
    let pause: Duration
    /// The run's seed (each client draws from its own generator seeded from it).
    let seed: UInt64
    /// Filler after every token on the wire (nil: values are their tokens alone).
    let padding: TorturePadding?

    /// What goes on the wire for `value`.
    func wire(_ value: ByteString) -> [UInt8] { padding.map { $0.expand(value.bytes) } ?? value.bytes }
    /// What a read's `bytes` stand for in the history, or nil if a padding block was corrupted.
    func unwire(_ bytes: [UInt8]) -> ByteString? {
        guard let padding else { return ByteString(bytes) }
        return padding.strip(bytes).map(ByteString.init)
    }

    /// What every put and compare-and-set value ends with: bytes that are not UTF-8 (and a NUL), so that a store
    /// or front end that decoded values as text would answer reads with other bytes and fail the checks.
    static let binaryTail = ByteString([0xFF, 0xFE, 0x00])
    /// The separator after every appended token.
    static let tokenEnd = UInt8(ascii: ";")
}

/// One closed-loop client of a torture run, on a thread of its own: it records each invocation before sending it
/// and each outcome when known. A timeout, a broken connection or a `-TRYAGAIN` is *unknown* (`info`): the command
/// may still take effect; after one the client carries on as a new process, as Jepsen's clients do. A read that
/// got no value is `fail` (it changed nothing), and so is a write that never left this process.
struct TortureClient {
    let index: Int
    let clients: Int
    let workload: TortureWorkload
    let recorder: TortureRecorder
    let processes: NodeProcesses

    /// Where replies that are neither a value nor `-TRYAGAIN` are noted (any is a failed check).
    let anomalies: Lines

    /// Runs until `end` or until `stopped()` says so.
    func run(until end: ContinuousClock.Instant, stopped: @Sendable () -> Bool) {
        var rng = SeededGenerator(seed: workload.seed &+ 0x636C_6965_6E74 &* UInt64(index + 1))  // "client"
        var process = index
        var counter = 0
        var connections: [Int: (connection: RESPConnection, generation: Int)] = [:]
        var known: [ByteString: ByteString] = [:]  // the last value this client saw per register
        var pick = 0
        while ContinuousClock.now < end && !stopped() {
            if workload.pause > .zero { usleep(UInt32(workload.pause.seconds * 1_000_000)) }
            // Half the time the key of the last operation again: a write followed by a read of what it wrote, on
            // another node, is where a stale read or a premature acknowledgement shows.
            if rng.chance(0.5) { pick = Int(rng.upTo(UInt64(workload.registers + workload.logs - 1))) }
            let isLog = pick >= workload.registers
            let key = TortureConfiguration.key(isLog ? pick - workload.registers : pick, log: isLog, at: .now - workload.start)
            let node = Int(rng.upTo(UInt64(workload.nodes.count - 1)))
            let generation = processes.generation(node)
            if let cached = connections[node], cached.generation != generation { connections[node] = nil }
            if connections[node] == nil {
                do {
                    connections[node] = (try RESPConnection(to: workload.nodes[node], deadline: .now + .milliseconds(500)), generation)
                } catch {
                    usleep(20_000)  // down or paused: nothing was sent, so nothing is recorded
                    continue
                }
            }
            counter += 1
            let token: ByteString = "c\(index)-\(counter)"
            let roll = rng.upTo(99)
            let event: HistoryEvent
            if isLog {
                event = roll < 60 ? HistoryEvent(process: process, kind: .invoke, function: .append, key: key,
                                                 value: token + ByteString([TortureWorkload.tokenEnd]))
                                  : HistoryEvent(process: process, kind: .invoke, function: .get, key: key)
            } else if roll < 35 || (roll >= 75 && known[key] == nil) {
                event = HistoryEvent(process: process, kind: .invoke, function: .get, key: key)
            } else if roll < 55 {
                event = HistoryEvent(process: process, kind: .invoke, function: .put, key: key, value: token + TortureWorkload.binaryTail)
            } else if roll < 75 {
                event = HistoryEvent(process: process, kind: .invoke, function: .append, key: key,
                                     value: token + ByteString([TortureWorkload.tokenEnd]))
            } else {
                event = HistoryEvent(process: process, kind: .invoke, function: .cas, key: key, value: token + TortureWorkload.binaryTail,
                                     expected: known[key])
            }
            let (outcome, broken) = call(event, on: node, connection: connections[node]!.connection)
            recorder.record(outcome, node: node)
            if broken { connections[node] = nil }
            switch (outcome.kind, event.function) {
            case (.ok, .get): known[key] = outcome.value
            case (.ok, .put), (.ok, .cas): known[key] = event.value
            case (.info, _):
                connections[node] = nil
                known[key] = nil
                process += clients
            default: known[key] = nil
            }
        }
    }

    /// Sends one operation and returns its outcome (after recording the invocation), and whether the connection
    /// is no longer usable.
    private func call(_ event: HistoryEvent, on node: Int, connection: RESPConnection) -> (HistoryEvent, broken: Bool) {
        let verb = event.function == .get ? "GET" : event.function == .append ? "APPEND" : "SET"
        var args: [[UInt8]] = [Array(verb.utf8), event.key.bytes]
        if let value = event.value { args.append(workload.wire(value)) }
        if event.function == .cas, let expected = event.expected { args += [Array("IFEQ".utf8), workload.wire(expected)] }
        recorder.record(event, node: node)
        func outcome(_ kind: HistoryEvent.Kind, _ value: ByteString? = nil) -> HistoryEvent {
            // A read that got no value changed nothing: `fail`, never `info`.
            let kind = event.function == .get && kind == .info ? .fail : kind
            return HistoryEvent(process: event.process, kind: kind, function: event.function, key: event.key,
                                value: value, expected: event.expected)
        }
        let reply: RESPValue
        do {
            reply = try connection.call(args, deadline: .now + workload.replyTimeout)
        } catch {
            guard case .broken(_, sent: false) = error else { return (outcome(.info), true) }
            // Not all of the request left this process: the node cannot have parsed it. A cas is recorded as
            // unknown all the same, since a cas `fail` would claim it found another value.
            return (outcome(event.function == .cas ? .info : .fail), true)
        }
        switch (event.function, reply) {
        case (.get, .bulkString(let bytes)):
            guard let value = workload.unwire(bytes) else {
                anomalies.append("GET \(event.key) on n\(node) answered a value of \(bytes.count) bytes whose padding is corrupted")
                return (outcome(.info), true)
            }
            return (outcome(.ok, value), false)
        case (.get, .null): return (outcome(.ok, nil), false)
        case (.put, .simpleString("OK")), (.cas, .simpleString("OK")): return (outcome(.ok), false)
        case (.cas, .null): return (outcome(.fail), false)
        case (.append, .integer): return (outcome(.ok), false)
        case (_, .error(let message)) where message.hasPrefix("TRYAGAIN"):
            return (outcome(.info), false)
        default:
            anomalies.append("\(args.map { ByteString($0).description }.joined(separator: " ")) on n\(node) answered \(reply)")
            return (outcome(.info), true)
        }
    }
}

/// Lines noted by several threads.
final class Lines: Sendable {
    private let lines = Mutex<[String]>([])
    /// Notes a line.
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    /// The lines noted so far.
    var all: [String] { lines.withLock { $0 } }
}
