#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Foundation
import MultiPaxos

/// `multipaxos cluster ...`: N `serve` children on 127.0.0.1, stopped together (see `ClusterOptions.usage`).
func clusterCommand(_ args: [String]) async -> Int32 {
    let options: ClusterOptions
    do {
        guard let parsed = try ClusterOptions.parse(args) else {
            print(ClusterOptions.usage)
            return 0
        }
        options = parsed
    } catch {
        complain("cluster: \(error) (see multipaxos cluster --help)")
        return 2
    }
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    // Peers authenticate with a cluster key: made in the data folder the first time.
    if options.clusterKeyFile == nil && !FileManager.default.fileExists(atPath: options.keyFile) {
        do {
            try FileManager.default.createDirectory(atPath: options.dataDirectory, withIntermediateDirectories: true)
            try ClusterKeys.generate(path: options.keyFile)
        } catch {
            complain("cluster: \(error)")
            return 1
        }
    }
    if gitTracks(options.keyFile) {
        complain("cluster: the cluster key file \(options.keyFile) is tracked by git, so every clone holds it: it is no "
                 + "secret; git rm --cached it, add it to .gitignore, and make a new one (multipaxos keygen FILE)")
        return 1
    }
    var children: [Process] = []
    let (exits, exited) = AsyncStream<(Int, Int32)>.makeStream()
    for i in 0..<options.nodes {
        let child = Process()
        child.terminationHandler = { exited.yield((i, $0.terminationStatus)) }
        child.executableURL = executable
        child.arguments = options.serveArguments(node: i)
        do {
            try child.run()
        } catch {
            complain("cluster: could not start node \(i): \(error)")
            for started in children { kill(started.processIdentifier, SIGTERM) }
            return 1
        }
        children.append(child)
    }
    for i in 0..<options.nodes {
        print("node \(i): pid \(children[i].processIdentifier), clients at 127.0.0.1:\(options.basePort + i)"
              + "  (try: redis-cli -p \(options.basePort + i) SET greeting hello)"
              + (options.metricsBasePort.map { "; metrics at http://127.0.0.1:\($0 + i)/metrics" } ?? ""))
    }
    print("a node killed on its own restarts with: multipaxos " + options.serveArguments(node: 0).joined(separator: " ")
          + "  (for node I: --id I, its client port\(options.metricsBasePort == nil ? "" : ", its metrics port") and node-I)")
    print(options.inMemory ? "data in memory only; Ctrl-C stops every node"
                           : "data in \(options.dataDirectory); Ctrl-C stops every node")
    fflush(nil)
    // Ctrl-C or SIGTERM: stop every child by its pid, then wait for them.
    let stopAll: @Sendable () -> Void = { [pids = children.map(\.processIdentifier)] in
        for pid in pids { kill(pid, SIGTERM) }
    }
    let sources = onStopSignals { _ in stopAll() }
    defer { for source in sources { source.cancel() } }
    // A node that exits on its own (killed to watch a failover, say) is reported; the others go on. The command
    // ends when every node has exited: after Ctrl-C or SIGTERM, or once the last one is gone.
    var status: Int32 = 0
    var remaining = options.nodes
    for await (i, code) in exits {
        if code != 0 {
            complain("cluster: node \(i) exited with status \(code) (pid \(children[i].processIdentifier)); the others go on")
            status = 1
        }
        remaining -= 1
        if remaining == 0 { break }
    }
    return status
}

/// Whether git tracks the file at `path` (false when git is not installed or the file is in no repository): a
/// key file in a repository reaches everyone who clones it.
func gitTracks(_ path: String) -> Bool {
    let git = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        .map { "\($0)/git" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    guard let git else { return false }
    let file = URL(fileURLWithPath: path)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: git)
    process.arguments = ["-C", file.deletingLastPathComponent().path, "ls-files", "--error-unmatch", "--", file.lastPathComponent]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
}
