/// Deliberate bugs a served node can be started with (`serve --flaw NAME`, a hidden flag), for tests only: each
/// breaks a promise to clients, and `multipaxos torture` must report a violation when one is switched on.
public enum ServeFlaw: String, Sendable, CaseIterable {
    /// Answers a plain SET with OK as soon as it arrives, before it is committed (it still goes through the log).
    case acknowledgeBeforeCommit = "acknowledge-before-commit"

    /// The result bytes the flawed node answers `command` with at once, or nil to answer it as usual.
    func earlyAnswer(_ command: Command) -> [UInt8]? {
        switch self {
        case .acknowledgeBeforeCommit:
            guard case .put? = try? KeyValueOperation(decoding: command.operation) else { return nil }
            return KeyValueResult.ok.encoded
        }
    }
}
