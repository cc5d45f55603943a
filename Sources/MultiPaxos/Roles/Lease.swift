/// The Leader's lease (`ClusterConfiguration.leases`, `ReadConsistency.lease`): while it holds, the leader
/// answers a read's index at once, with no message round.
///
/// With leases on, the leader sends a round of `ReadConfirm`s every heartbeat when none is out (Roles/ReadIndex
/// .swift), and sets, in the same step, a timer of `Leases.leaseDuration` for that round. Each acceptor that
/// confirms the round grants the ballot a lease of `Leases.grantDuration` on its own clock, from when it
/// answers, which is after the leader sent the round (Roles/LeaseGrant.swift). Once a majority of the latest
/// voters confirmed round `r`, the lease holds until `r`'s timer fires: then every grant of that majority still
/// holds, because the leader's timer is shorter by the drift bound on both clocks. While they hold, no acceptor
/// of that majority promises or accepts any other ballot (except a higher one of this very node, which drops
/// the lease before it sends it), so no other leader can be elected or decide a value: every value decided
/// so far lies below the end of the log this leader assigned, and the replica that answers once it has
/// applied that far answers as read index would. In per-slot mode the confirming acceptors' accepted ends
/// also raise `nextSlot` (as for read index), which covers values decided at lower ballots before they granted.
///
/// The lease is dropped whenever the leader stops leading, starts a transfer, or sees the voters change (its
/// majority may no longer be one of the latest voters). It is a value kept by the Leader.
///
/// In the real-time shells a timer fires late: its task runs only when the node's loop next suspends, and its
/// expiry waits behind inputs already queued. So when the node has a clock (`NodeClock`), each round also has a
/// deadline on it, taken before the step that sent the round, and a read is answered from the lease only while
/// the clock, read at that moment, is before the confirmed round's deadline.
struct Lease {
    /// Rounds up to this one give no lease: their timer fired, or the lease was dropped after they started.
    private(set) var endedThrough = ReadRound(0)
    /// With a clock: when each round's lease ends, on this node's clock (rounds not ended yet only).
    private(set) var deadlines: [ReadRound: Microseconds] = [:]

    /// Whether the lease holds, given the latest round a majority confirmed and, with a clock, the time now.
    func holds(confirmed: ReadRound, now: Microseconds?) -> Bool {
        guard confirmed > endedThrough else { return false }
        guard let now, let deadline = deadlines[confirmed] else { return true }
        return now < deadline
    }

    /// Round `round` was sent in a step that began at `start` on the node's clock; its lease lasts `duration`.
    mutating func started(_ round: ReadRound, at start: Microseconds, duration: Microseconds) {
        if round > endedThrough { deadlines[round] = start + duration }
    }

    /// The timer of `round` fired: its lease, and that of every earlier round, has ended.
    mutating func expired(_ round: ReadRound) {
        endedThrough = max(endedThrough, round)
        deadlines = deadlines.filter { $0.key > endedThrough }
    }

    /// No round started so far may give a lease any more.
    mutating func drop(through lastStarted: ReadRound) {
        expired(lastStarted)
    }
}

extension Leader {
    // MARK: Leader lease (Roles/Lease.swift)

    /// Whether this leader may answer reads by itself now.
    var leaseHolds: Bool {
        config.leasesInForce != nil && isActive && transfer == nil
            && lease.holds(confirmed: reads.confirmedRound, now: config.flaws.contains(.leaseTrustsTimers) ? nil : clock?.now())
    }

    /// Gives this leader the clock its lease reads (the node's shell calls it as it installs the role).
    func use(_ clock: NodeClock) { self.clock = clock }

    /// With leases and a clock: the deadline of each round `effects` started (it set the round's lease timer),
    /// counted from `start`, the clock when the step began: before the round was sent, so before any grant.
    func noteLeaseRounds(in effects: [Effect], startedAt start: Microseconds) {
        for effect in effects {
            if case .setTimer(.leaseExpiry(let round), let duration, _) = effect {
                lease.started(round, at: start, duration: duration)
            }
        }
    }

    /// The end of the log this leader answers lease reads with: every slot it assigned or will drive again.
    var leaseReadIndex: Slot { max(nextSlot, redriveEnd) }

    /// A read index request, when leases are on: answered at once while the lease holds and the read asked for
    /// it; refused during a transfer (the read goes through the log: no round may renew the grants that would
    /// hold the target's Phase 1 back); nil: handled as read index.
    func leaseRead(_ r: ReadIndexRequest, from: NodeID) -> [Effect]? {
        guard config.leasesInForce != nil, isActive else { return nil }
        if transfer != nil {
            return [.send(.readIndexReply(ReadIndexReply(key: r.key, index: nil, leader: ballot)), to: from)]
        }
        guard r.lease, leaseHolds else { return nil }
        return [.send(.readIndexReply(ReadIndexReply(key: r.key, index: leaseReadIndex, leader: ballot)), to: from)]
    }

    /// The read rounds of a heartbeat tick: the round out is sent again, and with leases on a new one renews
    /// the lease; during a transfer with leases on, neither (the grants must lapse for the target to win).
    func readTick() -> [Effect] {
        guard config.leasesInForce != nil else { return reads.tick(tick, ballot: ballot) }
        guard transfer == nil else { return [] }
        return reads.tick(tick, ballot: ballot) + reads.renewLease(ballot: ballot, tick: tick)
    }

    /// Ends the lease: no round started so far gives one.
    func dropLease() {
        lease.drop(through: reads.lastRound)
    }
}
