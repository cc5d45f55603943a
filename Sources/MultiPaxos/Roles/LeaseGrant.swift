/// An acceptor's side of leader leases (`ClusterConfiguration.leases`): when it confirms a leader's ballot (it
/// answers a `ReadConfirm` with no higher promise), it grants that ballot a lease of `Leases.grantDuration` on
/// its own clock, renewed by each later confirmation. While a grant holds, the acceptor acts on no Prepare,
/// Accept or ReadConfirm of another ballot, except a higher ballot of the same leader (which gave up the lease
/// when it chose that ballot) and a rejoin's fence (at which nobody proposes). So no other leader can gather a
/// majority of promises or accepts while a majority's grants hold, which is what the leader's lease counts on.
///
/// A node that starts (or restarts, having forgotten what it granted) acts on no ballot at all for one grant
/// duration. It is a value kept by the Acceptor; the Acceptor sets the timers it asks for.
struct LeaseGrant {
    /// The ballot that holds the grant; nil with `sealed` set: the node just started and grants to nobody yet.
    private(set) var holder: Ballot?
    /// Whether the node acts on no ballot at all (from its start until one grant duration has passed).
    private(set) var sealed = false
    /// Numbers the grants, so that only the latest one's timer ends it.
    private(set) var generation: UInt64 = 0
    /// How long a grant lasts on this node's clock.
    let duration: Microseconds

    /// The grants of a node whose cluster uses `leases` with `timing`.
    init(leases: Leases, timing: Timing) {
        duration = leases.grantDuration(timing)
    }

    /// The node starts: it may have granted a lease before it crashed, so it seals itself for one grant
    /// duration. Returns the timer that ends the seal.
    mutating func start() -> Effect {
        sealed = true
        holder = nil
        return renewTimer()
    }

    /// Whether the acceptor may act on a message of `ballot`.
    func admits(_ ballot: Ballot) -> Bool {
        if sealed { return Self.isFence(ballot) }
        guard let holder else { return true }
        return ballot == holder || (ballot > holder && ballot.leader == holder.leader) || Self.isFence(ballot)
    }

    /// The acceptor confirmed `ballot` (it promised nothing higher): grant or renew its lease. Returns the timer
    /// that ends it. Only called for a ballot `admits` let through.
    mutating func grant(to ballot: Ballot) -> Effect {
        holder = ballot
        return renewTimer()
    }

    /// A grant timer fired: the grant (or the seal) ends unless a later one renewed it.
    mutating func expired(generation fired: UInt64) {
        guard fired == generation else { return }
        holder = nil
        sealed = false
    }

    private mutating func renewTimer() -> Effect {
        generation += 1
        return .setTimer(.leaseGrant(generation: generation), after: duration, jitter: 0)
    }

    /// A rejoining node's fence (the first ballot of an epoch): a read of the promises, at which nobody ever
    /// proposes, so promising it cannot let another leader decide anything.
    static func isFence(_ ballot: Ballot) -> Bool {
        ballot.epoch > 0 && ballot.round & 0xFFFF_FFFF == 0
    }
}
