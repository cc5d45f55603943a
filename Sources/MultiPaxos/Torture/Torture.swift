#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// Fault testing of real processes (`multipaxos torture`): N `serve` children on loopback whose peer links all
/// pass through a ``FaultProxy``, a seeded `Nemesis` (kill -9, SIGSTOP, partitions, slow and delayed links,
/// wipes), closed-loop clients whose every operation is recorded, and at the end, with every fault healed:
/// linearizability, acknowledged appends present, every node answering the same values, no exit but the
/// nemesis's. Like etcd's robustness tests and TigerBeetle's Vortex.
public final class Torture: Sendable {
    /// What it runs.
    public let configuration: TortureConfiguration
    /// The run's folder.
    public let folder: String
    private let say: @Sendable (String) -> Void
    private let stopped = Atomic<Bool>(false)

    /// Prepares a run, making its folder (or throwing ``TortureError/folder(_:_:)`` naming why it is unusable);
    /// `output` receives the progress lines (the seed first).
    public init(_ configuration: TortureConfiguration, output: @escaping @Sendable (String) -> Void) throws(TortureError) {
        self.configuration = configuration
        say = output
        folder = configuration.outDirectory
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("multipaxos-torture-\(configuration.seed)-\(getpid())").path
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try? FileManager.default.removeItem(atPath: "\(folder)/data")  // a previous run's: another cluster
            try FileManager.default.createDirectory(atPath: "\(folder)/data", withIntermediateDirectories: true)
        } catch {
            throw .folder(folder, (error as NSError).localizedDescription)
        }
        for name in ["nemesis.log", "history.jsonl"] + (0..<configuration.nodes).map({ "node-\($0).log" }) {
            let fd = open("\(folder)/\(name)", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw .folder(folder, "\(name): \(String(cString: strerror(errno)))") }
            close(fd)
        }
    }

    /// Stops the run early (Ctrl-C): clients and nemesis stop, every child and the proxy are stopped, and what
    /// was recorded stays in the folder.
    public func interrupt() { stopped.store(true, ordering: .releasing) }

    private var isStopped: Bool { stopped.load(ordering: .acquiring) }

    /// Runs the whole test and returns its report (blocking: threads and child processes, no tasks).
    public func run() throws(TortureError) -> TortureReport {
        let c = configuration
        var report = TortureReport(configuration: c, folder: folder)
        let logFD = open("\(folder)/nemesis.log", O_WRONLY | O_APPEND | O_CLOEXEC)
        defer { close(logFD) }
        let note: @Sendable (String) -> Void = { [say] line in
            let bytes = Array((line + "\n").utf8)
            _ = bytes.withUnsafeBytes { write(logFD, $0.baseAddress, $0.count) }
            say(line)
        }
        say("torture: seed \(c.seed), \(c.nodes) nodes, \(c.mode.rawValue), \(c.clients) clients, \(c.keys) registers "
            + "and \(TortureConfiguration.logs) logs at a time, \(TortureReport.seconds(.milliseconds(Int64(c.seconds * 1000)))) s"
            + (c.wipe ? ", wipes" : "") + (c.flaw.map { ", test-only flaw \($0.rawValue)" } ?? "") + "; folder \(folder)")

        // Ports: each node's real peer port and client port; the proxy listens on the ports --peers names.
        let reservation: PortReservation
        let proxy: FaultProxy
        do {
            reservation = try PortReservation(count: 2 * c.nodes)  // held until the nodes have stopped
            proxy = try FaultProxy(targets: reservation.ports[0..<c.nodes].map { PeerAddress(host: "127.0.0.1", port: $0) })
        } catch {
            throw .network(error)
        }
        let ports = reservation.ports
        defer { withExtendedLifetime(reservation) {} }
        let clientAddresses = ports[c.nodes...].map { PeerAddress(host: "127.0.0.1", port: $0) }
        let peers = proxy.ports.map { "127.0.0.1:\($0)" }.joined(separator: ",")
        let folder = self.folder
        let spec = NodeProcesses.Spec(
            executable: c.executable,
            arguments: { i in
                ["serve", "--id", "\(i)", "--peers", peers, "--listen-peers", "127.0.0.1:\(ports[i])",
                 "--client", "127.0.0.1:\(ports[c.nodes + i])", "--data", "\(folder)/data/node-\(i)", "--mode", c.mode.rawValue]
                    + c.serveArguments + (c.flaw.map { ["--flaw", $0.rawValue] } ?? [])
            },
            logPath: { "\(folder)/node-\($0).log" },
            dataPath: { "\(folder)/data/node-\($0)" })
        let processes = NodeProcesses(nodes: c.nodes, spec: spec)
        proxy.start()
        defer { proxy.stop() }
        var stopProblems: [String] = []
        defer { _ = processes.stopAll(grace: .seconds(3)) }  // whatever happens: every child stopped by its PID
        for i in 0..<c.nodes { try processes.start(i) }
        say("nodes: " + (0..<c.nodes).map { "n\($0) pid=\(processes.pid($0)) clients at \(clientAddresses[$0])" }
            .joined(separator: ", "))

        // The cluster must serve on every node before the clients and the nemesis start.
        let launched = ContinuousClock.now
        if let late = waitUntilServing(clientAddresses, processes: processes) {
            report.checks.append(.init(name: "the cluster served", holds: false, detail: late))
            stopProblems = processes.stopAll(grace: .seconds(5))
            report.interrupted = isStopped
            return report
        }
        say("every node serves (\(TortureReport.seconds(ContinuousClock.now - launched)) s after the start)")
        let schedule = NemesisSchedule.draw(seed: c.seed, nodes: c.nodes, seconds: c.seconds, wipe: c.wipe)
        note("nemesis: \(schedule.count) faults planned from seed \(c.seed):")
        for step in schedule { note("  plan \(step)") }

        // Clients and nemesis run for --seconds.
        let start = ContinuousClock.now
        let recorder = try TortureRecorder(path: "\(folder)/history.jsonl", start: start)
        defer { recorder.close() }
        let end = start + .milliseconds(Int64(c.seconds * 1000))
        let workload = TortureWorkload(registers: c.keys, logs: TortureConfiguration.logs, start: start,
                                       nodes: clientAddresses, replyTimeout: c.replyTimeout, pause: c.clientPause, seed: c.seed,
                                       padding: c.padding)
        let anomalies = Lines()
        let nemesis = Nemesis(nodes: c.nodes, processes: processes, proxy: proxy, seed: c.seed, log: note)
        let group = DispatchGroup()
        let shouldStop: @Sendable () -> Bool = { [self] in isStopped }
        for i in 0..<c.clients {
            let client = TortureClient(index: i, clients: c.clients, workload: workload, recorder: recorder,
                                       processes: processes, anomalies: anomalies)
            spawnThread(named: "torture-client-\(i)", group: group) { client.run(until: end, stopped: shouldStop) }
        }
        let nemesisDone = DispatchGroup()
        spawnThread(named: "torture-nemesis", group: nemesisDone) { nemesis.run(schedule, from: start) }
        while ContinuousClock.now < end && !self.isStopped {
            processes.reap()
            usleep(50_000)
        }
        nemesis.stop()
        nemesisDone.wait()
        group.wait()
        processes.reap()
        let clientsEnd = ContinuousClock.now - start
        report.faults = nemesis.injected
        func tally() {
            report.proxy = proxy.statistics
            let entries = recorder.entries
            TortureChecks.tally(entries, into: &report)
            report.longestWindow = TortureChecks.longestWindow(entries, end: clientsEnd)
        }
        if self.isStopped {
            report.interrupted = true
            tally()
            return report
        }

        // Heal everything, then every node must serve again.
        proxy.healAll()
        for i in 0..<c.nodes {
            if processes.isPaused(i) { processes.resume(i) }
            if !processes.isRunning(i) { try? processes.start(i, rejoin: processes.isRejoining(i)) }
        }
        let healed = ContinuousClock.now
        note(String(format: "%8.3f s  ", (healed - start).seconds) + "clients stopped; everything healed")
        let late = waitUntilServing(clientAddresses, processes: processes)
        let converged = ContinuousClock.now - healed
        note(String(format: "%8.3f s  ", (ContinuousClock.now - start).seconds)
             + (late.map { "not converged: \($0)" } ?? "every node serves again"))
        if self.isStopped {
            report.interrupted = true
            tally()
            return report
        }

        // The final reads: every key from every node, recorded as operations of their own.
        let keys = c.registerKeys + c.logKeys
        var values: [[ByteString?]?] = Array(repeating: nil, count: c.nodes)  // by node, by key
        var finalProcess = TortureConfiguration.finalProcesses
        let readsDeadline = ContinuousClock.now + c.convergenceTimeout  // for all of them: a node may stall again
        for i in 0..<c.nodes where late == nil {
            var connection: RESPConnection?
            values[i] = keys.map { key in
                finalProcess += 1
                return finalRead(key, node: i, address: clientAddresses[i], connection: &connection,
                                 process: finalProcess, recorder: recorder, deadline: readsDeadline)
            }.compactMap { $0 }
            if values[i]!.count != keys.count { values[i] = nil }
        }
        recorder.close()
        processes.reap()
        stopProblems = processes.stopAll(grace: .seconds(10))
        tally()

        // The checks.
        let entries = recorder.entries
        report.checks.append(TortureChecks.linearizable(recorder.history, budget: c.effectiveCheckBudget))
        var finalValues: [ByteString: ByteString?] = [:]
        if let first = values[0] { for (k, key) in keys.enumerated() { finalValues[key] = first[k] } }
        if let answered = values.compactMap({ $0 }).first {
            let padding = c.padding
            report.stateBytes = answered.reduce(0) { sum, v in sum + (v.map { padding?.expand($0.bytes).count ?? $0.count } ?? 0) }
        }
        report.checks.append(TortureChecks.appendsPresent(entries, logs: c.logKeys, finalValues: finalValues))
        report.checks.append(agreement(values, keys: keys, late: late, converged: converged))
        let exits = processes.unexpectedExits + nemesis.problems.all + stopProblems
        report.checks.append(.init(name: "no exit but the nemesis's", holds: exits.isEmpty,
                                   detail: exits.isEmpty ? "every node exited 0 when stopped" : exits.joined(separator: "; ")))
        let odd = anomalies.all
        report.checks.append(.init(name: "replies well-formed", holds: odd.isEmpty,
                                   detail: odd.isEmpty ? "every reply a value or -TRYAGAIN"
                                                       : "\(odd.count): " + odd.prefix(3).joined(separator: "; ")))
        let summary = report.summary.joined(separator: "\n") + "\n"
        try? summary.write(toFile: "\(folder)/summary.txt", atomically: true, encoding: .utf8)
        return report
    }

    /// Every node answered the final reads with the same values.
    private func agreement(_ values: [[ByteString?]?], keys: [ByteString], late: String?, converged: Duration) -> TortureReport.Check {
        let name = "nodes agree"
        if let late { return .init(name: name, holds: false, detail: "not every node served after healing: \(late)") }
        guard let first = values[0], values.allSatisfy({ $0 != nil }) else {
            return .init(name: name, holds: false, detail: "not every node answered every final read")
        }
        var differences: [String] = []
        for (i, v) in values.enumerated() {
            for (k, key) in keys.enumerated() where v![k] != first[k] {
                differences.append("\(key): n0 \(KeyOperation.show(first[k])), n\(i) \(KeyOperation.show(v![k]))")
            }
        }
        guard differences.isEmpty else { return .init(name: name, holds: false, detail: differences.prefix(4).joined(separator: "; ")) }
        return .init(name: name, holds: true, detail: "\(values.count) nodes answer the same \(keys.count) values "
                     + "(every node served \(TortureReport.seconds(converged)) s after healing)")
    }

    /// Reads `key` from one node, retrying `-TRYAGAIN` and broken connections until `deadline`; the read is
    /// recorded as an operation of `process`. The value (`.some(nil)`: absent), or nil if none came.
    private func finalRead(_ key: ByteString, node: Int, address: PeerAddress, connection: inout RESPConnection?, process: Int,
                           recorder: TortureRecorder, deadline: ContinuousClock.Instant) -> ByteString?? {
        while ContinuousClock.now < deadline && !isStopped {
            recorder.record(HistoryEvent(process: process, kind: .invoke, function: .get, key: key), node: node)
            var value: ByteString??
            if connection == nil { connection = try? RESPConnection(to: address, deadline: .now + .seconds(2)) }
            if let reply = try? connection?.call([Array("GET".utf8), key.bytes], deadline: .now + configuration.replyTimeout) {
                if case .bulkString(let bytes) = reply {
                    // A corrupted padding block reads as a value no client wrote: the checks then fail, naming it.
                    let padding = configuration.padding
                    value = .some(padding.map { $0.strip(bytes).map(ByteString.init) ?? "corrupted padding (\(bytes.count) bytes)" }
                                  ?? ByteString(bytes))
                }
                if case .null = reply { value = .some(nil) }
            } else {
                connection = nil
            }
            recorder.record(HistoryEvent(process: process, kind: value == nil ? .fail : .ok, function: .get, key: key,
                                         value: value ?? nil), node: node)
            if let value { return value }
            usleep(100_000)
        }
        return nil
    }

    /// Waits until every node answers a replicated read; nil when all do, or a line naming those that did not.
    private func waitUntilServing(_ addresses: [PeerAddress], processes: NodeProcesses) -> String? {
        let deadline = ContinuousClock.now + configuration.convergenceTimeout
        var waiting = Set(addresses.indices)
        while !waiting.isEmpty && ContinuousClock.now < deadline && !isStopped {
            for i in waiting.sorted() {
                if let connection = try? RESPConnection(to: addresses[i], deadline: .now + .seconds(1)),
                   let reply = try? connection.call(["GET", "torture-probe"], deadline: .now + .seconds(2)),
                   reply == .null {
                    waiting.remove(i)
                }
            }
            processes.reap()
            if !waiting.isEmpty { usleep(100_000) }
        }
        guard !waiting.isEmpty else { return nil }
        // A node that exited says why on its log's last line (a port it could not bind, a bad flag).
        let exits = processes.unexpectedExitsWithReasons.map { "; " + $0 }
        return "n" + waiting.sorted().map(String.init).joined(separator: ", n")
            + " did not serve within \(TortureReport.seconds(configuration.convergenceTimeout)) s" + exits.joined()
    }

    private func spawnThread(named name: String, group: DispatchGroup, _ body: @escaping @Sendable () -> Void) {
        group.enter()
        let thread = Thread {
            body()
            group.leave()
        }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }
}
