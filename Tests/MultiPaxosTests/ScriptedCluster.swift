@testable import MultiPaxos

/// A cluster of real roles whose every message and timer a test hands over by hand, as etcd-io/raft's tests
/// drive their network: nothing moves unless the script says so, so a test can build a precise schedule (who
/// hears whom, which timer fires, in what order) and look at what each node decided.
///
/// Messages wait in one queue in the order they were sent; `deliver` hands over those a predicate picks and
/// leaves the rest, `drop` forgets them. Timers are kept per node and fire only when the script fires them.
final class ScriptedCluster {
    /// A message on its way.
    struct Envelope: CustomStringConvertible {
        let from: NodeID
        let to: NodeID
        let message: Message
        var description: String { "\(from)→\(to) \(message)" }
    }

    let config: ClusterConfiguration
    let storages: [DurableState]
    private(set) var nodes: [Node] = []
    /// Messages sent and not yet delivered or dropped, oldest first.
    private(set) var pending: [Envelope] = []
    /// Timers set and not yet fired, per node.
    private(set) var timers: [[ProtocolTimer]]
    /// Every value each node's leader decided, per slot, in the order it decided them.
    private(set) var decided: [NodeID: [Slot: Value]] = [:]
    /// Every value any leader decided per slot: more than one is two values chosen.
    private(set) var chosen: [Slot: Set<Value>] = [:]
    /// The ballots each node was elected with, in order.
    private(set) var elected: [NodeID: [Ballot]] = [:]
    /// Prints every message delivered (while writing a script).
    var tracing = false

    /// Makes `voters + spares` nodes that run the member roles from the initial state; nodes from `voters` on
    /// are spares (they accept and learn, and vote once a change adds them). `eager` competes at once.
    init(voters: Int, spares: Int = 0, mode: Mode = .stableLeader, eager: NodeID? = nil,
         configure: (inout ClusterConfiguration) -> Void = { _ in }) async throws {
        var config = ClusterConfiguration(members: (0..<voters).map(NodeID.init), mode: mode)
        configure(&config)
        self.config = config
        storages = (0..<(voters + spares)).map { _ in DurableState() }
        timers = Array(repeating: [], count: voters + spares)
        let initial = Snapshot(nextSlot: .zero, machine: KeyValueStore().snapshot(), replies: [])
        for i in 0..<(voters + spares) {
            let id = NodeID(i)
            let node = Node(id: id, executor: testExecutor)
            nodes.append(node)
            let roles = try Initializer.memberRoles(node: id, config: config, executor: testExecutor, machine: KeyValueStore(),
                                                    snapshot: initial, leader: .initial, eager: id == eager,
                                                    storage: storages[i])
            for role in roles { take(await node.install(role), at: id) }
        }
    }

    /// The voters node `id` has applied.
    func view(_ id: NodeID) -> VoterView { storages[id.value].voters }
    /// The leader role of node `id`.
    func leader(_ id: NodeID) async -> Leader { await nodes[id.value].leader! }
    /// The replica of node `id`.
    func replica(_ id: NodeID) async -> Replica { await nodes[id.value].replica! }

    private func take(_ outputs: [Output], at id: NodeID) {
        for output in outputs {
            switch output.effect {
            case .send(let message, let to):
                pending.append(Envelope(from: id, to: to, message: message))
            case .broadcast(let message, let to):
                for target in to { pending.append(Envelope(from: id, to: target, message: message)) }
            case .setTimer(let timer, _, _):
                if !timers[id.value].contains(timer) { timers[id.value].append(timer) }
            case .event(.decided(let slot, let value)):
                decided[id, default: [:]][slot] = value
                chosen[slot, default: []].insert(value)
            case .event(.elected(let ballot)):
                elected[id, default: []].append(ballot)
            case .event, .install, .uninstall:
                break
            }
        }
    }

    /// Hands node `id` an input, as its shell would.
    func input(_ input: Input, at id: NodeID) async {
        take(await nodes[id.value].deliver(input), at: id)
    }

    /// Hands node `id` several inputs in one batch, as the real-time shells do (the leader holds proposals until
    /// the batch's end).
    func batch(_ inputs: [Input], at id: NodeID) async {
        take(await nodes[id.value].deliver(all: inputs), at: id)
    }

    /// A client's request, handed to node `id`'s replica as a local request.
    func request(_ command: Command, at id: NodeID) async {
        await input(.message(.request(Request(command: command)), from: id), at: id)
    }

    /// Delivers, oldest first, the waiting messages `pick` chooses, and those they cause, until none is left that
    /// `pick` chooses (at most `limit` messages); the others keep waiting.
    @discardableResult
    func deliver(limit: Int = 100_000, where pick: (Envelope) -> Bool) async -> Int {
        var count = 0
        while count < limit, let index = pending.firstIndex(where: pick) {
            let envelope = pending.remove(at: index)
            count += 1
            if tracing { print("deliver", envelope) }
            await input(.message(envelope.message, from: envelope.from), at: envelope.to)
        }
        precondition(count < limit, "more than \(limit) messages: the script does not settle")
        return count
    }

    /// Delivers what flows among `group` (and each node's messages to itself).
    @discardableResult
    func deliver(among group: NodeSet) async -> Int {
        await deliver { group.contains($0.from) && group.contains($0.to) }
    }

    /// Forgets the waiting messages `pick` chooses (they were lost).
    func drop(where pick: (Envelope) -> Bool) {
        pending.removeAll(where: pick)
    }

    /// Fires node `id`'s waiting timers that `pick` chooses, once each.
    func fire(at id: NodeID, where pick: (ProtocolTimer) -> Bool) async {
        let due = timers[id.value].filter(pick)
        timers[id.value].removeAll(where: pick)
        for timer in due { await input(.timer(timer), at: id) }
    }

    /// Fires node `id`'s leader check (the leader timeout passed).
    func leaderTimeout(at id: NodeID) async {
        await fire(at: id) { if case .leaderCheck = $0 { true } else { false } }
    }

    /// Fires the heartbeat timer of each node in `group`, then delivers among `group`, `rounds` times.
    func heartbeats(_ group: NodeSet, rounds: Int = 1) async {
        for _ in 0..<rounds {
            for id in group { await fire(at: id) { $0 == .heartbeat } }
            await deliver(among: group)
        }
    }
}
