/// The canonical roles of the cluster; a node runs the ones installed into it.
public enum RoleKind: Int, CaseIterable, Sendable, CustomStringConvertible {
    case seed, initializer, acceptor, scout, leader, replica, requester

    public var description: String {
        switch self {
        case .seed: "Seed"
        case .initializer: "Initializer"
        case .acceptor: "Acceptor"
        case .scout: "Scout"
        case .leader: "Leader"
        case .replica: "Replica"
        case .requester: "Requester"
        }
    }
}

/// A protocol role: an actor that turns one input into effects in a single synchronous step, so actor
/// reentrancy can never interleave two steps of the protocol.
public protocol Role: Actor {
    /// Which role this is, for routing and traces.
    nonisolated var kind: RoleKind { get }
    /// Called once when the role is installed on a node: the timers and messages it starts with.
    func start() -> [Effect]
    /// Handles one message or timer and says what to do; performs no I/O and never suspends.
    func handle(_ input: Input) -> [Effect]
}
