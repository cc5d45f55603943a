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
    for sig in [SIGTERM, SIGINT] { signal(sig, SIG_IGN) }
    var children: [Process] = []
    for i in 0..<options.nodes {
        let child = Process()
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
              + "  (try: redis-cli -p \(options.basePort + i) SET greeting hello)")
    }
    print("data in \(options.dataDirectory); Ctrl-C stops every node")
    fflush(stdout)
    // Ctrl-C or SIGTERM: stop every child by its pid, then wait for them.
    let stopAll: @Sendable () -> Void = { [pids = children.map(\.processIdentifier)] in
        for pid in pids { kill(pid, SIGTERM) }
    }
    let sources = [SIGTERM, SIGINT].map { number -> any DispatchSourceSignal in
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler(handler: stopAll)
        source.resume()
        return source
    }
    defer { for source in sources { source.cancel() } }
    // If one node exits on its own, the cluster command says so and stops the rest.
    var status: Int32 = 0
    await withTaskGroup(of: (Int, Int32).self) { group in
        for (i, child) in children.enumerated() {
            group.addTask {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    DispatchQueue.global().async {
                        child.waitUntilExit()
                        continuation.resume()
                    }
                }
                return (i, child.terminationStatus)
            }
        }
        var first = true
        for await (i, code) in group {
            if first && code != 0 {
                complain("cluster: node \(i) exited with status \(code); stopping the others")
                status = 1
            }
            if first { stopAll() }
            first = false
        }
    }
    return status
}
