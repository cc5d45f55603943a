import Testing
@testable import MultiPaxos

@Suite struct InitializerTests {
    let machine: @Sendable () -> any StateMachine = { KeyValueStore() }

    @Test func asksPeersInTurnAndInstallsMemberRolesOnWelcome() async {
        let initializer = Initializer(node: n(2), config: config(3), executor: testExecutor, makeMachine: machine)
        #expect(sent(await initializer.start()).map(\.1) == [n(0)])
        #expect(sent(await initializer.handle(.timer(.joinRetry))).map(\.1) == [n(1)])
        #expect(sent(await initializer.handle(.timer(.joinRetry))).map(\.1) == [n(0)])
        let welcome = Welcome(snapshot: emptySnapshot, leader: Ballot(round: 1, leader: n(0)))
        let effects = await initializer.handle(.message(.welcome(welcome), from: n(1)))
        #expect(Set(installedKinds(effects)) == Set<RoleKind>([.acceptor, .scout, .leader, .replica]))
        #expect(effects.contains { if case .uninstall(.initializer) = $0 { true } else { false } })
    }

    @Test func aWelcomeWithAnUnreadableSnapshotIsIgnored() async {
        let initializer = Initializer(node: n(2), config: config(3), executor: testExecutor, makeMachine: machine)
        let bad = Snapshot(nextSlot: Slot(3), machine: [1, 2], replies: [])
        #expect(await initializer.handle(.message(.welcome(Welcome(snapshot: bad, leader: .initial)), from: n(0))).isEmpty)
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
}
