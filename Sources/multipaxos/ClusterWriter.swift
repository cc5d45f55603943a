#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MultiPaxos

/// `multipaxos cluster-writer DIR TAG COUNT`: a helper for crash tests. Starts a 3-node `LocalCluster` on the
/// storage directory DIR (resuming whatever is there), then appends `TAG-i;` to the key `log` for i in
/// 0..<COUNT, one at a time, printing `acked i` as soon as the cluster has acknowledged each, so that a test can
/// kill the process at any moment and check that every acknowledged append survived, exactly once.
func clusterWriter(_ args: [String]) async -> Int32 {
    guard args.count == 3, let count = Int(args[2]), count >= 0 else {
        complain("cluster-writer takes a storage directory, a tag and a count (got \(args.joined(separator: " ")))")
        return 2
    }
    do {
        let cluster = try await LocalCluster(nodes: 3, storageDirectory: args[0])
        let client = await cluster.makeClient()
        for i in 0..<count {
            _ = try await client.run(.append("log", "\(args[1])-\(i);"))
            let line = Array("acked \(i)\n".utf8)  // unbuffered: out before the next request
            _ = line.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        }
        await cluster.shutdown()
        return 0
    } catch {
        complain("\(error)")
        return 1
    }
}
