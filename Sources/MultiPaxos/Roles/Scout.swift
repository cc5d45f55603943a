/// Runs Phase 1 for its node's Leader: sends Prepare to every acceptor, gathers promises, and tells the Leader
/// either Adopted (a majority promised, with every accepted value the leader must respect) or Preempted (an
/// acceptor has promised a higher ballot). Unanswered Prepares are sent again until one of the two happens.
public actor Scout: Role {
    public nonisolated let kind = RoleKind.scout
    nonisolated let executor: QueueExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// One Phase-1 round in progress.
    struct Round {
        let ballot: Ballot
        let scope: PrepareScope
        /// The latest voters when the round began: a majority of them must promise.
        let voters: VoterConfiguration
        var promisedBy = NodeSet()
        /// Acceptors that granted the ballot but whose report is not whole yet.
        var parts = PromiseParts()
        /// Promises counted (the test-only flaw `scoutCountsDuplicatePromises` counts repeats too).
        var promises = 0
        var best: [Slot: PValue] = [:]
        var trimmedBelow = Slot.zero
        var slotsEnd = Slot.zero
        /// The retransmit tick at which Prepares last went out; resent only once a whole tick has passed.
        var sentAtTick: UInt64 = 0
        /// Whether the round has said what it waits for (once, when it first sends its Prepares again).
        var saidWaiting = false
    }

    let node: NodeID
    let config: ClusterConfiguration
    /// Shared with the node's other roles; the Scout reads the latest voters from it.
    let storage: DurableState
    private var rounds: [PrepareScope: Round] = [:]
    private var retransmitArmed = false
    private var tick: UInt64 = 0

    /// Makes the scout of `node`.
    public init(node: NodeID, config: ClusterConfiguration, executor: QueueExecutor, storage: DurableState = DurableState()) {
        self.node = node
        self.config = config
        self.executor = executor
        self.storage = storage
    }

    /// The latest voters: a majority of them must promise (with one node changed at a time, that majority
    /// overlaps every majority of the voters before them too).
    var voters: VoterConfiguration { storage.voters.latest(initial: config.memberSet) }

    /// How many rounds are waiting for promises.
    public var roundsInProgress: Int { rounds.count }

    public func start() -> [Effect] { [] }

    public func handle(_ input: Input) -> [Effect] {
        switch input {
        case .timer(.scoutRetransmit):
            return retransmit()
        case .timer:
            return []
        case .message(let message, let from):
            switch message {
            case .startPhase1(let s) where from == node:
                return begin(s)
            case .promise(let p) where rounds[p.scope]?.voters.voters.contains(from) == true:
                return promise(p, from: from)
            case .startPhase1, .promise, .request, .reply, .propose, .fillHole, .decision, .catchUpRequest,
                 .catchUpReply, .prepare, .adopted, .preempted, .accept, .accepted, .heartbeat, .heartbeatReply,
                 .join, .welcome, .preVote, .preVoteGrant, .transferLeadership, .timeoutNow, .readIndexRequest,
                 .readIndexReply, .readConfirm, .readConfirmReply:
                return []
            }
        }
    }

    private func begin(_ s: StartPhase1) -> [Effect] {
        var round = Round(ballot: s.ballot, scope: s.scope, voters: voters)
        round.sentAtTick = tick
        rounds[s.scope] = round
        var effects: [Effect] = [
            .event(.phase1Started(s.ballot, s.scope)),
            .broadcast(.prepare(Prepare(ballot: s.ballot, scope: s.scope)), to: voters.voters),
        ]
        if !retransmitArmed {
            retransmitArmed = true
            effects.append(.setTimer(.scoutRetransmit, after: config.timing.retransmitInterval, jitter: 0))
        }
        return effects
    }

    private func promise(_ p: Promise, from: NodeID) -> [Effect] {
        guard var round = rounds[p.scope], round.ballot == p.ballot else { return [] }
        if p.promised != p.ballot {
            guard p.promised > p.ballot else { return [] }
            rounds[p.scope] = nil
            return [.send(.preempted(Preempted(ballot: round.ballot, by: p.promised)), to: node)]
        }
        if case .only(let slot) = round.scope, slot < p.trimmedBelow {
            // The slot is already decided and trimmed: nothing may be proposed there. Tell the leader at once.
            rounds[p.scope] = nil
            let settled = Adopted(ballot: round.ballot, scope: round.scope, accepted: [], trimmedBelow: p.trimmedBelow,
                                  slotsEnd: p.slotsEnd)
            return [.send(.adopted(settled), to: node)]
        }
        // Every value reported is one the acceptor accepted: kept, even from a part of a report.
        for pv in p.accepted where round.scope.covers(pv.slot) {
            if let known = round.best[pv.slot] {
                precondition(known.ballot != pv.ballot || known.value == pv.value,
                             "two values accepted at ballot \(pv.ballot) for \(pv.slot): \(known.value), \(pv.value)")
                let lowest = config.flaws.contains(.scoutAdoptsLowestBallot)
                if lowest ? pv.ballot < known.ballot : pv.ballot > known.ballot { round.best[pv.slot] = pv }
            } else {
                round.best[pv.slot] = pv
            }
        }
        round.trimmedBelow = max(round.trimmedBelow, p.trimmedBelow)
        round.slotsEnd = max(round.slotsEnd, p.slotsEnd)
        // A report in parts counts once they reach the end; the values of a stale part were kept all the same.
        switch round.promisedBy.contains(from) && p.more != nil ? .stale : round.parts.add(p, from: from, first: round.scope.firstSlot) {
        case .stale:
            rounds[p.scope] = round
            return []
        case .askFrom(let slot):
            rounds[p.scope] = round
            return [.send(.prepare(Prepare(ballot: round.ballot, scope: round.scope, reportFrom: slot)), to: from)]
        case .whole:
            break
        }
        guard round.promisedBy.insert(from) || config.flaws.contains(.scoutCountsDuplicatePromises) else {
            rounds[p.scope] = round
            return []
        }
        round.promises += 1
        let needed = config.flaws.contains(.smallPhase1Quorum) ? round.voters.quorum - 1 : round.voters.quorum
        guard round.promises >= needed else {
            rounds[p.scope] = round
            return []
        }
        rounds[p.scope] = nil
        let adopted = Adopted(ballot: round.ballot, scope: round.scope,
                              accepted: round.best.values.sorted { $0.slot < $1.slot },
                              trimmedBelow: round.trimmedBelow, slotsEnd: round.slotsEnd)
        return [.send(.adopted(adopted), to: node)]
    }

    private func retransmit() -> [Effect] {
        guard !rounds.isEmpty else {
            retransmitArmed = false
            return []
        }
        tick += 1
        var effects: [Effect] = []
        for var round in rounds.values.sorted(by: { $0.scope.firstSlot < $1.scope.firstSlot })
        where round.sentAtTick < tick - 1 {
            round.sentAtTick = tick
            var missing = round.voters.voters.subtracting(round.promisedBy)
            if !round.saidWaiting {
                // A candidate that cannot finish Phase 1 says once what it waits for: the operator's first question.
                round.saidWaiting = true
                effects.append(.event(.phase1Waiting(round.ballot, round.scope, promised: round.promisedBy,
                                                     waitingFor: missing, partsReached: round.parts.reached.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })))
            }
            rounds[round.scope] = round
            // Acceptors part of whose report is in are asked for the rest only.
            for (acceptor, reached) in round.parts.reached.sorted(by: { $0.key < $1.key }) where missing.contains(acceptor) {
                missing.remove(acceptor)
                effects.append(.send(.prepare(Prepare(ballot: round.ballot, scope: round.scope, reportFrom: reached)), to: acceptor))
            }
            effects.append(.broadcast(.prepare(Prepare(ballot: round.ballot, scope: round.scope)), to: missing))
        }
        effects.append(.setTimer(.scoutRetransmit, after: config.timing.retransmitInterval, jitter: 0))
        return effects
    }
}

extension PrepareScope {
    /// The lowest slot the scope covers.
    var firstSlot: Slot {
        switch self {
        case .from(let s), .only(let s): s
        }
    }
}
