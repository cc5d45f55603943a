#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// The `multipaxos serve` children of a torture run: started with `posix_spawn` (no descriptor of this process
/// leaks into them), each one's standard error appended to its log file, killed, paused and resumed by PID, and
/// reaped here only, so that an exit nobody asked for is noticed and reported.
final class NodeProcesses: Sendable {
    /// How to start node `i`: the executable, its arguments (the same after its data was wiped: the node finds
    /// out by itself that it must rejoin), where its log goes and where its data directory is.
    struct Spec: Sendable {
        let executable: String
        let arguments: @Sendable (_ node: Int) -> [String]
        let logPath: @Sendable (Int) -> String
        let dataPath: @Sendable (Int) -> String
    }

    private struct Child {
        var pid: pid_t = 0
        var paused = false
        /// Bumped whenever the process is killed: a client's connection from an older generation is dead.
        var generation = 0
        /// Its data was wiped: rejoining until its log says it votes again.
        var rejoining = false
        var logOffset: UInt64 = 0
        /// The ballot of its last `leader elected` line, nil once it lost leadership or restarted.
        var ledAt: (epoch: UInt64, round: UInt64, node: Int)?
    }

    let spec: Spec
    private let children: Mutex<[Child]>
    private let unexpected = Mutex<[(node: Int, line: String)]>([])

    init(nodes: Int, spec: Spec) {
        self.spec = spec
        children = Mutex(Array(repeating: Child(), count: nodes))
    }

    /// Exits nobody asked for, one line each.
    var unexpectedExits: [String] { unexpected.withLock { $0.map(\.line) } }

    /// Each exit nobody asked for with the last line its node logged, which says why (a port it could not bind).
    var unexpectedExitsWithReasons: [String] {
        unexpected.withLock { $0 }.map { exit in
            let log = (try? String(contentsOfFile: spec.logPath(exit.node), encoding: .utf8)) ?? ""
            return exit.line + (log.split(separator: "\n").last.map { ": " + $0 } ?? "")
        }
    }

    /// Starts node `i`; `rejoin` after its data directory was wiped.
    func start(_ i: Int, rejoin: Bool = false) throws(TortureError) {
        readLogs()  // lines of its earlier lives are read before this one's
        let pid = try spawn(spec.executable, spec.arguments(i), stderrPath: spec.logPath(i))
        children.withLock {
            $0[i].pid = pid
            $0[i].paused = false
            $0[i].ledAt = nil
            if rejoin { $0[i].rejoining = true }
        }
    }

    /// Node `i`'s process id, 0 when it is not running.
    func pid(_ i: Int) -> pid_t { children.withLock { $0[i].pid } }

    /// Whether node `i` runs (paused or not).
    func isRunning(_ i: Int) -> Bool { children.withLock { $0[i].pid != 0 } }

    /// Whether node `i` is paused.
    func isPaused(_ i: Int) -> Bool { children.withLock { $0[i].paused } }

    /// Node `i`'s generation: it changes whenever the process is killed.
    func generation(_ i: Int) -> Int { children.withLock { $0[i].generation } }

    /// Whether node `i` was wiped and has not yet logged that it votes again.
    func isRejoining(_ i: Int) -> Bool {
        readLogs()
        return children.withLock { $0[i].rejoining }
    }

    /// Kills node `i` with SIGKILL (a paused one too) and reaps it.
    func kill(_ i: Int) {
        let pid = children.withLock { box -> pid_t in
            let pid = box[i].pid
            box[i].pid = 0
            box[i].paused = false
            box[i].generation += 1
            box[i].ledAt = nil
            return pid
        }
        guard pid != 0 else { return }
        Glibc.kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    /// Stops node `i` with SIGSTOP.
    func pause(_ i: Int) {
        children.withLock { box in
            guard box[i].pid != 0, !box[i].paused else { return }
            Glibc.kill(box[i].pid, SIGSTOP)
            box[i].paused = true
        }
    }

    /// Resumes node `i` with SIGCONT.
    func resume(_ i: Int) {
        children.withLock { box in
            guard box[i].pid != 0, box[i].paused else { return }
            Glibc.kill(box[i].pid, SIGCONT)
            box[i].paused = false
        }
    }

    /// Reaps children that exited on their own, recording each as unexpected.
    func reap() {
        children.withLock { box in
            for i in box.indices where box[i].pid != 0 {
                var status: Int32 = 0
                guard waitpid(box[i].pid, &status, WNOHANG) == box[i].pid else { continue }
                unexpected.withLock { $0.append((i, "node \(i) (pid \(box[i].pid)) \(Self.describe(status)) on its own")) }
                box[i].pid = 0
                box[i].paused = false
                box[i].generation += 1
                box[i].ledAt = nil
            }
        }
    }

    /// The node that leads, judged by the highest ballot among running nodes whose last leadership line says
    /// they were elected (as `ServedClusterSupport.leader()` does in the tests).
    func leader() -> Int? {
        readLogs()
        return children.withLock { box in
            var best: (Int, (UInt64, UInt64, Int))?
            for i in box.indices where box[i].pid != 0 {
                guard let b = box[i].ledAt else { continue }
                if best == nil || (b.epoch, b.round, b.node) > best!.1 { best = (i, (b.epoch, b.round, b.node)) }
            }
            return best?.0
        }
    }

    /// Stops every node with SIGCONT and SIGTERM, waits up to `grace` for each, kills what is left; returns a
    /// line for each node that did not exit 0.
    func stopAll(grace: Duration) -> [String] {
        let pids = children.withLock { box -> [(Int, pid_t)] in
            defer { for i in box.indices { box[i].pid = 0; box[i].paused = false } }
            return box.indices.compactMap { box[$0].pid != 0 ? ($0, box[$0].pid) : nil }
        }
        for (_, pid) in pids {
            Glibc.kill(pid, SIGCONT)
            Glibc.kill(pid, SIGTERM)
        }
        var problems: [String] = []
        let deadline = ContinuousClock.now + grace
        for (i, pid) in pids {
            var status: Int32 = 0
            var reaped = false
            while ContinuousClock.now < deadline {
                if waitpid(pid, &status, WNOHANG) == pid { reaped = true; break }
                usleep(10_000)
            }
            if !reaped {
                Glibc.kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                problems.append("node \(i) (pid \(pid)) did not stop within \(grace) of SIGTERM; killed")
            } else if !(Self.exited(status) && Self.exitCode(status) == 0) {
                problems.append("node \(i) (pid \(pid)) \(Self.describe(status)) when stopped")
            }
        }
        return problems
    }

    /// Reads what the nodes logged since the last call: elections, lost leadership, restarts, rejoins.
    private func readLogs() {
        children.withLock { box in
            for i in box.indices {
                guard let handle = FileHandle(forReadingAtPath: spec.logPath(i)) else { continue }
                defer { try? handle.close() }
                guard (try? handle.seek(toOffset: box[i].logOffset)) != nil,
                      let data = try? handle.readToEnd(), let end = data.lastIndex(of: 10) else { continue }
                box[i].logOffset += UInt64(end - data.startIndex + 1)
                for line in String(decoding: data[...end], as: UTF8.self).split(separator: "\n") {
                    if line.contains("leader elected: this node, ballot ") {
                        box[i].ledAt = Self.ballot(String(line.split(separator: " ").last ?? ""))
                    } else if line.contains("leadership of ballot") || line.contains(" starting as ") {
                        box[i].ledAt = nil
                    }
                    if line.contains("rejoined as a voting member") { box[i].rejoining = false }
                }
            }
        }
    }

    /// Parses a ballot as `Ballot.description` writes it: `round.node` or `epoch:round.node`.
    static func ballot(_ text: String) -> (epoch: UInt64, round: UInt64, node: Int)? {
        let parts = text.split(separator: ":")
        let (epoch, rest): (UInt64?, Substring) = parts.count == 2 ? (UInt64(parts[0]), parts[1]) : (0, Substring(text))
        let pair = rest.split(separator: ".")
        guard let epoch, pair.count == 2, let round = UInt64(pair[0]), let node = Int(pair[1]) else { return nil }
        return (epoch, round, node)
    }

    private static func exited(_ status: Int32) -> Bool { status & 0x7f == 0 }
    private static func exitCode(_ status: Int32) -> Int32 { (status >> 8) & 0xff }

    static func describe(_ status: Int32) -> String {
        exited(status) ? "exited with status \(exitCode(status))" : "was killed by signal \(status & 0x7f)"
    }

    /// Starts `executable` with `arguments`, standard input and output on /dev/null, standard error appended to
    /// `stderrPath`, default signal handling, and no other descriptor of this process.
    private func spawn(_ executable: String, _ arguments: [String], stderrPath: String) throws(TortureError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        // glibc 2.34 and later: close every other descriptor in the child (not exported to Swift by Glibc's
        // module map, so found by name). Without it, the proxy's and files' descriptors are close-on-exec anyway.
        typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32
        if let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
            _ = unsafeBitCast(symbol, to: AddCloseFrom.self)(&actions, 3)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var every = sigset_t()
        sigfillset(&every)
        posix_spawnattr_setsigdefault(&attributes, &every)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard rc == 0 else { throw .spawn(executable, String(cString: strerror(rc))) }
        return pid
    }
}
