import Testing
@testable import MultiPaxos

@Suite struct InitializerTests {
    let machine: @Sendable () -> any StateMachine = { KeyValueStore() }

    @Test func asksPeersInTurnAndInstallsMemberRolesOnWelcome() async {
        let initializer = Initializer(node: n(2), config: config(3), executor: testExecutor, makeMachine: machine)
        #expect(sent(await initializer.start()).map(\.1) == [n(0)])
        #expect(sent(await initializer.handle(.timer(.joinRetry))).map(\.1) == [n(1)])
        #expect(sent(await initializer.handle(.timer(.joinRetry))).map(\.1) == [n(0)])
        let welcome = Welcome(snapshot: emptySnapshot, leader: Ballot(round: 1, leader: n(0)), founders: [n(1): 3, n(2): 0])
        let effects = await initializer.handle(.message(.welcome(welcome), from: n(1)))
        #expect(Set(installedKinds(effects)) == Set<RoleKind>([.acceptor, .scout, .leader, .replica]))
        #expect(effects.contains { if case .uninstall(.initializer) = $0 { true } else { false } })
    }

    /// A node asking to join whose known members may all be gone (removed and stopped) asks, every other try, the
    /// node whose heartbeat reached it, and takes its Welcome (`--nodes 3 --reconfigure` seed 1452 once asked only
    /// the two gone members for 30 s).
    @Test func aJoiningNodeAsksTheLeaderWhoseHeartbeatReachedIt() async {
        let initializer = Initializer(node: n(1), config: config(3), executor: testExecutor, makeMachine: machine)
        #expect(sent(await initializer.start()).map(\.1) == [n(0)])
        let heartbeat = Heartbeat(ballot: Ballot(round: 7, leader: n(3)), nextSlot: Slot(90), trimBelow: Slot(80))
        _ = await initializer.handle(.message(.heartbeat(heartbeat), from: n(3)))
        var asked: [NodeID] = []
        for _ in 0..<4 { asked += sent(await initializer.handle(.timer(.joinRetry))).map(\.1) }
        #expect(asked == [n(3), n(2), n(3), n(0)], "the leader heard on every other try, the members in turn between")
        let welcome = Welcome(snapshot: nil, leader: heartbeat.ballot, founders: [n(0): 1, n(1): 0, n(2): 2])
        let effects = await initializer.handle(.message(.welcome(welcome), from: n(3)))
        #expect(effects.contains { if case .uninstall(.initializer) = $0 { true } else { false } }, "n3 is no initial member, yet heard")
    }

    @Test func aNewNodeTheClusterDidNotFoundWithRejoinsBeforeItVotes() async throws {
        // Its Join (nonce 9) is not among the founders: the cluster runs, and it may have voted in it before it
        // lost its disk. So it takes only a Replica and asks to rejoin, as a node started with --rejoin does.
        for founders: [NodeID: UInt64] in [[n(1): 3, n(2): 8], [n(1): 3]] {
            let storage = DurableState()
            let initializer = Initializer(node: n(2), config: config(3), executor: testExecutor, makeMachine: machine,
                                          storage: storage, nonce: 9)
            #expect(sent(await initializer.start()).first?.0 == .join(Join(nonce: 9, isNew: true)))
            let effects = await initializer.handle(.message(.welcome(Welcome(snapshot: nil, leader: .initial, founders: founders)), from: n(1)))
            #expect(installedKinds(effects) == [.replica])
            #expect(storage.membership == .learner)
            #expect(effects.contains { if case .event(.mustRejoin) = $0 { true } else { false } })
            let request = try #require(sent(effects).first { $0.0.request != nil }?.0.request?.command)
            #expect(Rejoin.node(of: request) == n(2))
        }
        // With the test-only flaw it votes at once, as a wiped node once did.
        var flawed = config(3)
        flawed.flaws.insert(.amnesiacVotes)
        let initializer = Initializer(node: n(2), config: flawed, executor: testExecutor, makeMachine: machine, nonce: 9)
        _ = await initializer.start()
        let effects = await initializer.handle(.message(.welcome(Welcome(snapshot: nil, leader: .initial, founders: [n(1): 3])), from: n(1)))
        #expect(installedKinds(effects).contains(.acceptor))
    }

    @Test func aWelcomeThatDoesNotKnowTheFoundersSendsAnInitialVoterToTheOthersFirst() async {
        let storage = DurableState()
        let initializer = Initializer(node: n(2), config: config(3), executor: testExecutor, makeMachine: machine,
                                      storage: storage, nonce: 9)
        _ = await initializer.start()
        let unknowing = Message.welcome(Welcome(snapshot: nil, leader: .initial))
        // It asks the next peer (a founder whose own Welcome was lost must not be sent to rejoin by one replica
        // that restarted), and concludes that it must rejoin only once as many have not known.
        #expect(await initializer.handle(.message(unknowing, from: n(1))).isEmpty)
        #expect(sent(await initializer.handle(.timer(.joinRetry))).map(\.1) == [n(0)])
        #expect(await initializer.handle(.message(unknowing, from: n(0))).isEmpty)
        #expect(storage.membership == .new)
        #expect(installedKinds(await initializer.handle(.message(unknowing, from: n(1)))) == [.replica])
        #expect(storage.membership == .learner)
    }

    @Test func aNodeAskedByTheSeedAnswersWithItsOwnJoin() async {
        let initializer = Initializer(node: n(2), config: config(3), executor: testExecutor, makeMachine: machine, nonce: 4)
        _ = await initializer.start()
        #expect(sent(await initializer.handle(.message(.join(Join(nonce: 1)), from: n(0)))).map { $0.0 } == [.join(Join(nonce: 4, isNew: true))])
        // Only the seed's node is answered: two joining nodes never ping-pong.
        #expect(await initializer.handle(.message(.join(Join(nonce: 1)), from: n(1))).isEmpty)
    }

    @Test func aWelcomeWithAnUnreadableSnapshotIsIgnored() async {
        let initializer = Initializer(node: n(2), config: config(3), executor: testExecutor, makeMachine: machine)
        let bad = Snapshot(nextSlot: Slot(3), machine: [1, 2], replies: [])
        #expect(await initializer.handle(.message(.welcome(Welcome(snapshot: bad, leader: .initial, founders: [n(2): 0])), from: n(0))).isEmpty)
    }

    @Test func aNodeThatLostItsStorageRejoinsAsALearnerOnly() async {
        let storage = DurableState.amnesiac()
        let initializer = Initializer(node: n(2), config: config(3), executor: testExecutor, makeMachine: machine,
                                      storage: storage)
        _ = await initializer.start()
        let welcome = Welcome(snapshot: emptySnapshot, leader: Ballot(round: 1, leader: n(0)))
        let effects = await initializer.handle(.message(.welcome(welcome), from: n(1)))
        // No Acceptor (it could break a promise it forgot), no Scout or Leader (it could reuse a ballot).
        #expect(installedKinds(effects) == [.replica])
        #expect(storage.membership == .learner && !storage.isMember)
        // A new node, by contrast, becomes a voting member and records it.
        let fresh = DurableState()
        _ = try? Initializer.memberRoles(node: n(1), config: config(3), executor: testExecutor, machine: KeyValueStore(),
                                         snapshot: emptySnapshot, leader: .initial, eager: false, storage: fresh)
        #expect(fresh.membership == .member)
    }

    /// A learner in a 5-node cluster that has been welcomed and whose rejoin was decided in epoch 3.
    func fencing() async throws -> (Initializer, DurableState, [Effect]) {
        let storage = DurableState.amnesiac()
        let initializer = Initializer(node: n(2), config: config(5), executor: testExecutor, makeMachine: machine,
                                      storage: storage, nonce: 41)
        _ = await initializer.start()
        let asked = await initializer.handle(.message(.welcome(Welcome(snapshot: emptySnapshot, leader: .initial)), from: n(0)))
        let request = try #require(sent(asked).first { $0.0.request != nil })
        #expect(request.1 == n(2) && Rejoin.node(of: request.0.request!.command) == n(2))
        let reply = Reply(key: request.0.request!.command.key, result: Rejoin.result(epoch: 3))
        return (initializer, storage, await initializer.handle(.message(.reply(reply), from: n(2))))
    }

    func promise(_ ballot: Ballot, promised: Ballot? = nil, accepted: [PValue] = [], trimmedBelow: Int64 = 0) -> Message {
        .promise(Promise(ballot: ballot, promised: promised ?? ballot, scope: .from(.zero), accepted: accepted,
                         trimmedBelow: Slot(trimmedBelow), slotsEnd: Slot(accepted.map(\.slot.index).max().map { $0 + 1 } ?? 0)))
    }

    @Test func aRejoiningNodeVotesOnlyAfterEnoughNodesPromisedItsFence() async throws {
        let (initializer, storage, asked) = try await fencing()
        let fence = Ballot.fence(epoch: 3, node: n(2))
        #expect(Set(sent(asked).filter { $0.0.prepare?.ballot == fence }.map(\.1)) == Set([0, 1, 3, 4].map(n)))
        #expect(await initializer.fenceReadsNeeded == 3)
        let old = Ballot(round: 7, leader: n(0))
        let higher = Ballot(round: fence.round + 2, leader: n(4))
        // n0 read: an old value in s4 and s5; n1 read: a newer one in s4 and a trim at s1; n4 refuses with a
        // higher promise, so it is read again at that ballot.
        let v = command(1, 1), w = command(2, 1)
        #expect(sent(await initializer.handle(.message(promise(fence, accepted: [
            PValue(ballot: old, slot: Slot(4), value: .command(v)), PValue(ballot: old, slot: Slot(0), value: .noop)]), from: n(0)))).isEmpty)
        #expect(sent(await initializer.handle(.message(promise(fence, accepted: [
            PValue(ballot: Ballot(round: 8, leader: n(1)), slot: Slot(4), value: .command(w))], trimmedBelow: 1), from: n(1)))).isEmpty)
        let reread = sent(await initializer.handle(.message(promise(fence, promised: higher), from: n(4))))
        #expect(reread.map(\.1) == [n(4)] && reread.first?.0.prepare?.ballot == higher)
        #expect(storage.membership == .learner, "no vote before a third node has promised")
        #expect(await initializer.handle(.message(promise(higher), from: n(4))).isEmpty)
        // n1 trimmed below s1, where this node cannot read back its former votes: it will never vote there,
        // which it may say only once its own snapshot on disk holds s0. Until then it waits, and asks its
        // replica for that snapshot.
        #expect(storage.membership == .learner && storage.snapshotWanted == Slot(1))
        #expect(sent(await initializer.handle(.timer(.joinRetry))).isEmpty)
        #expect(storage.membership == .learner, "its snapshot on disk is still at s0")
        storage.voters.applied = Slot(1)
        storage.replicaSnapshot = Snapshot(nextSlot: Slot(1), machine: KeyValueStore().snapshot(), replies: [])
        let done = await initializer.handle(.timer(.joinRetry))
        #expect(Set(installedKinds(done)) == Set<RoleKind>([.acceptor, .scout, .leader]))
        #expect(storage.membership == .member)
        // Highest ballot read as its promise; the highest report per slot from the trim watermark on.
        #expect(storage.acceptor.promised == higher && storage.ballotRound >= higher.round)
        #expect(storage.acceptor.trimmedBelow == Slot(1) && storage.acceptor.accepted[Slot(0)] == nil)
        #expect(storage.acceptor.accepted[Slot(4)]?.value == .command(w))
    }

    /// A rejoin completes only once its replica's latest snapshot is on disk (a shell that writes snapshots in the
    /// background says how far, `snapshotWrittenThrough`): its voting floor is what its disk holds, and the
    /// configurations its fence read covered are those from its latest snapshot on.
    @Test func aRejoinWaitsUntilItsLatestSnapshotIsOnDisk() async throws {
        let (initializer, storage, _) = try await fencing()
        let fence = Ballot.fence(epoch: 3, node: n(2))
        storage.snapshotWrittenThrough = .zero  // the background writer has written nothing yet
        storage.voters.applied = Slot(5)
        storage.replicaSnapshot = Snapshot(nextSlot: Slot(5), machine: KeyValueStore().snapshot(), replies: [])
        for reader in [0, 1, 3] { _ = await initializer.handle(.message(promise(fence), from: n(reader))) }
        #expect(storage.membership == .learner, "read by three, but its snapshot at s5 is not on disk")
        storage.snapshotWrittenThrough = Slot(5)
        let done = await initializer.handle(.timer(.joinRetry))
        #expect(Set(installedKinds(done)) == Set<RoleKind>([.acceptor, .scout, .leader]))
        #expect(storage.membership == .member && storage.acceptor.trimmedBelow == Slot(5))
    }

    /// A configuration whose slots all lie below what the rejoining node's replica applied durably needs no fence
    /// read (its acceptor will never vote there): its members may all be removed and stopped. The retry timer
    /// looks again, since the replica applies on while the promises in hand stay the same.
    @Test func aConfigurationPassedDurablyNeedsNoFenceRead() async throws {
        let (initializer, storage, _) = try await fencing()
        let fence = Ballot.fence(epoch: 3, node: n(2))
        // {n0,...,n4} governs up to s9, {n1,n2,n3} from s10; the replica has applied (and persisted) up to s8.
        storage.voters.append(VoterConfiguration(number: 1, from: Slot(10), voters: NodeSet([n(1), n(2), n(3)])), initial: config(5).memberSet)
        func appliedDurably(_ slot: Int64) {
            storage.voters.applied = Slot(slot)
            storage.replicaSnapshot = Snapshot(nextSlot: Slot(slot), machine: KeyValueStore().snapshot(), replies: [])
        }
        appliedDurably(8)
        _ = await initializer.handle(.message(promise(fence), from: n(1)))
        _ = await initializer.handle(.message(promise(fence), from: n(3)))
        #expect(storage.membership == .learner, "s8 and s9 are the five's: a third of them must be read")
        _ = await initializer.handle(.timer(.joinRetry))
        #expect(storage.membership == .learner)
        appliedDurably(12)
        let done = await initializer.handle(.timer(.joinRetry))
        #expect(storage.membership == .member, "only {n1,n2,n3} governs from s12 on: n1 and n3 are enough")
        #expect(Set(installedKinds(done)) == Set<RoleKind>([.acceptor, .scout, .leader]))
        #expect(storage.acceptor.trimmedBelow == Slot(12), "and it never votes below s12")
    }
}
