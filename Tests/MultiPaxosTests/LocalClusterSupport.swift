@testable import MultiPaxos

/// Runs `body` with a cluster made by `make`, and shuts the cluster down on every path out (a thrown error or a
/// failed `#require` included), so that no test leaves node loops running.
@discardableResult
func withLocalCluster<T>(_ make: () async throws -> LocalCluster, isolation: isolated (any Actor)? = #isolation,
                         _ body: (LocalCluster) async throws -> T) async throws -> T {
    // `shutdown()` is safe to call twice (the second call finds no node running and closes what is closed), so
    // a body may shut its cluster down itself, to check what a shut-down cluster does; this one is then a no-op.
    // `isolation` runs `body` in the caller's isolation, so it may capture the test's local variables.
    let cluster = try await make()
    do {
        let result = try await body(cluster)
        await cluster.shutdown()
        return result
    } catch {
        await cluster.shutdown()
        throw error
    }
}
