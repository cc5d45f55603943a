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
    let options: ClusterWriterOptions
    do {
        guard let parsed = try ClusterWriterOptions.parse(args) else {
            print(ClusterWriterOptions.usage)
            return ExitStatus.success
        }
        options = parsed
    } catch {
        complain("\(error) (see multipaxos cluster-writer --help)")
        return ExitStatus.usage
    }
    do {
        let cluster = try await LocalCluster(nodes: 3, storageDirectory: options.directory)
        let client = await cluster.makeClient(giveUpAfter: .seconds(60))  // the test kills it long before
        for i in 0..<options.count {
            _ = try await client.run(.append("log", "\(options.tag)-\(i);"))
            let line = Array("acked \(i)\n".utf8)  // unbuffered: out before the next request
            _ = line.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        }
        await cluster.shutdown()
        return ExitStatus.success
    } catch {
        complain("\(error)")
        return ExitStatus.failure
    }
}
