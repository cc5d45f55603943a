import Foundation
import Testing
@testable import MultiPaxos

/// Tests that start `multipaxos serve` processes, one at a time (each starts up to three processes; together
/// with the rest of the suite in parallel they would crowd two cores).
@Suite(.serialized) enum ProcessTests {}

/// Free loopback ports, held until the reservation is released so that no other test's connection takes one
/// before the process meant to listen on it has started.
func reservePorts(_ count: Int) throws -> PortReservation { try PortReservation(count: count) }

/// `multipaxos serve` processes on loopback, each with a data directory and a log file, stopped by PID.
final class ServedProcesses: @unchecked Sendable {  // used by one test at a time
    let binary: URL
    let root: String
    let peerPorts: [UInt16]
    let clientPorts: [UInt16]
    private let reservation: PortReservation  // held while the processes may bind the ports
    /// The running nodes, by index; every one is stopped when this is (at the latest when it is released).
    private(set) var children: [ChildProcess?]
    /// The running nodes' processes.
    var processes: [Process?] { children.map { $0?.process } }
    var extraArguments: [String] = ["--heartbeat-ms", "20", "--leader-timeout-ms", "200", "--client-timeout-ms", "3000"]

    init(nodes: Int) throws {
        binary = try multipaxosExecutable()
        root = FileManager.default.temporaryDirectory.appendingPathComponent("served-\(UInt64.random(in: 1...UInt64.max))").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        reservation = try reservePorts(2 * nodes)
        let ports = reservation.ports
        peerPorts = Array(ports[0..<nodes])
        clientPorts = Array(ports[nodes...])
        children = Array(repeating: nil, count: nodes)
    }

    deinit { stopAll() }

    var peers: String { peerPorts.map { "127.0.0.1:\($0)" }.joined(separator: ",") }
    func clientAddress(_ i: Int) -> PeerAddress { PeerAddress(host: "127.0.0.1", port: clientPorts[i]) }
    var clientAddresses: [PeerAddress] { clientPorts.indices.map(clientAddress) }
    func logPath(_ i: Int) -> String { "\(root)/node-\(i).err" }

    func arguments(_ i: Int) -> [String] {
        ["serve", "--id", "\(i)", "--peers", peers, "--client", "127.0.0.1:\(clientPorts[i])", "--data", "\(root)/node-\(i)"]
            + extraArguments
    }

    /// Starts node `i` (again), appending its standard error to its log file.
    func start(_ i: Int, arguments: [String]? = nil) throws {
        if !FileManager.default.fileExists(atPath: logPath(i)) {
            _ = FileManager.default.createFile(atPath: logPath(i), contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath(i)))
        log.seekToEndOfFile()
        children[i] = try ChildProcess(binary, arguments ?? self.arguments(i), output: .discard, errors: .file(log))
    }

    func startAll() throws { for i in children.indices { try start(i) } }

    /// Sends node `i` `signal` and waits for it to exit (SIGKILL after ten seconds, which the test reports).
    func kill(_ i: Int, signal: Int32 = SIGKILL) {
        guard let child = children[i] else { return }
        #expect(child.stop(signal), "node \(i) did not exit after signal \(signal) and SIGKILL")
        if signal != SIGKILL, child.status == SIGKILL, child.process.terminationReason == .uncaughtSignal {
            Issue.record("node \(i) had to be killed: it did not exit within ten seconds of signal \(signal)")
        }
        children[i] = nil
    }

    /// Stops every process by its PID and removes the files.
    func stopAll() {
        for i in children.indices { kill(i, signal: SIGTERM) }
        try? FileManager.default.removeItem(atPath: root)
    }

    func log(_ i: Int) -> String { (try? String(contentsOfFile: logPath(i), encoding: .utf8)) ?? "" }

    /// The node whose log says it was elected last, judged by the ballots in the lines.
    func leader() -> Int? {
        var best: (Int, String)?
        for i in processes.indices where processes[i] != nil {
            guard let line = log(i).split(separator: "\n").last(where: { $0.contains("leader elected") }) else { continue }
            let ballot = String(line.split(separator: " ").last ?? "")
            if best == nil || ballot.compare(best!.1, options: .numeric) == .orderedDescending { best = (i, ballot) }
        }
        return best?.0
    }

    /// A connection to node `i`'s client port, retried until the node listens (bounded).
    func connect(_ i: Int, seconds: Int64 = 10) throws -> RESPConnection {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while true {
            do {
                return try RESPConnection(to: clientAddress(i), deadline: deadline)
            } catch {
                if ContinuousClock.now >= deadline { throw error }
                usleep(20_000)
            }
        }
    }

    /// Sends one command to node `i` over RESP and returns the reply.
    func call(_ i: Int, _ args: [String], seconds: Int64 = 10) throws -> RESPValue {
        let deadline = ContinuousClock.now + .seconds(seconds)
        let connection = try RESPConnection(to: clientAddress(i), deadline: deadline)
        return try connection.call(args, deadline: deadline)
    }

    /// Waits (bounded) until node `i` has written a snapshot, then restarts it (SIGTERM, start) and waits until
    /// it serves again: it comes back from its snapshot and the log after it.
    func restartOnceItHasASnapshot(_ i: Int) throws {
        let snapshotFile = FileStorage.snapshotPath(of: "\(root)/node-\(i)/node.log")
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: snapshotFile) { usleep(50_000) }
        #expect(FileManager.default.fileExists(atPath: snapshotFile), "node \(i) took no snapshot; its log:\n\(log(i))")
        kill(i, signal: SIGTERM)
        try start(i)
        try waitUntilServing(i)
    }

    /// Waits until node `i` answers a replicated command (bounded).
    func waitUntilServing(_ i: Int, seconds: Int64 = 20) throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        var last = "nothing"
        while ContinuousClock.now < deadline {
            if let reply = try? call(i, ["GET", "probe"], seconds: 2) {
                if case .error(let e) = reply { last = e } else { return }
            }
            usleep(50_000)
        }
        let others = processes.indices.filter { $0 != i }.map { "node \($0)'s log:\n\(log($0))" }.joined(separator: "\n")
        Issue.record("node \(i) did not serve within \(seconds) s (last: \(last)); its log:\n\(log(i))\n\(others)")
        throw RESPConnection.Failure.timedOut
    }
}
