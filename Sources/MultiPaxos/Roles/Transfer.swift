/// A leadership transfer in progress at the leader, as etcd's Raft does it with MsgTransferLeader and
/// MsgTimeoutNow, adapted to Multi-Paxos:
///
/// 1. The leader stops assigning slots: commands that arrive wait in its queue.
/// 2. It brings the target up to date: its slots still in Phase 2 are sent again every heartbeat to whoever has
///    not accepted them, the target included, until the target has accepted every one (or it is decided) and
///    has answered this ballot at least once since the transfer began.
/// 3. Then it sends the target `TimeoutNow` (again at each heartbeat while it still leads); the target competes
///    at once with a ballot above the leader's, skipping the pre-vote (the leader asked for it).
/// 4. A transfer that has not ended within a leader timeout (counted in heartbeat ticks) is abandoned: the leader
///    assigns again. One that succeeds ends when the leader hears the higher ballot and steps down, handing the
///    commands it queued to the new leader.
///
/// Safety never rests on it: the target still runs Phase 1 (or, in per-slot mode, each slot's Phase 1) with a
/// higher ballot. The pause and the catch-up only make the hand-over quick and lose no command in flight.
///
/// It is a value kept by the Leader; it counts only, and the Leader acts on what it says.
struct Transfer {
    /// The member that should lead next.
    let target: NodeID
    /// Heartbeat ticks left before the transfer is abandoned.
    private(set) var ticksLeft: Int
    /// Whether the target answered the leader's current ballot since the transfer began.
    private(set) var heardTarget = false
    /// The tick at which `TimeoutNow` was last sent, if it was.
    private(set) var toldAtTick: UInt64?

    /// A transfer to `target` that lasts at most a leader timeout of `config`'s timing.
    init(target: NodeID, config: ClusterConfiguration) {
        self.target = target
        let timing = config.timing
        ticksLeft = max(1, Int((timing.leaderTimeout + timing.heartbeatInterval - 1) / max(1, timing.heartbeatInterval)))
    }

    /// A member answered the leader's current ballot (a heartbeat reply or an Accepted).
    mutating func heard(from member: NodeID) {
        if member == target { heardTarget = true }
    }

    /// The `TimeoutNow` to send now: once the target is `caughtUp` (it accepted every slot still in Phase 2) and
    /// has been heard, at most once per heartbeat tick. `ballot` and `nextSlot` are the leader's.
    mutating func handOver(tick: UInt64, caughtUp: Bool, ballot: Ballot, nextSlot: Slot) -> [Effect] {
        guard caughtUp, heardTarget, toldAtTick != tick else { return [] }
        toldAtTick = tick
        return [.send(.timeoutNow(TimeoutNow(ballot: ballot, nextSlot: nextSlot)), to: target)]
    }

    /// One heartbeat tick of the leader; true once the transfer has lasted a whole leader timeout: abandon it.
    mutating func tick() -> Bool {
        ticksLeft -= 1
        return ticksLeft <= 0
    }
}
