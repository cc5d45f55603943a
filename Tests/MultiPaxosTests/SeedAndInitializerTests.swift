import Testing
@testable import MultiPaxos

@Suite struct SeedAndInitializerTests {
    let machine: @Sendable () -> any StateMachine = { KeyValueStore() }

    @Test func theSeedWelcomesOnceTheJoinersMakeAMajority() async {
        let seed = Seed(node: n(0), config: config(5), executor: testExecutor, makeMachine: machine)
        #expect(await seed.start().isEmpty)
        #expect(await seed.handle(.message(.join(Join()), from: n(1))).isEmpty)
        // Joins from strangers do not count.
        #expect(await seed.handle(.message(.join(Join()), from: n(9))).isEmpty)
        let effects = await seed.handle(.message(.join(Join()), from: n(3)))
        #expect(Set(sent(effects).compactMap { $0.0.welcome == nil ? nil : $0.1 }) == [n(1), n(2), n(3), n(4)])
        let installed = effects.flatMap { effect -> [RoleKind] in if case .install(let roles) = effect { roles.map(\.kind) } else { [] } }
        #expect(Set(installed) == Set<RoleKind>([.acceptor, .scout, .leader, .replica]))
        #expect(effects.contains { if case .uninstall(.seed) = $0 { true } else { false } })
    }

    @Test func theInitializerAsksPeersInTurnAndInstallsMemberRolesOnWelcome() async {
        let initializer = Initializer(node: n(2), config: config(3), executor: testExecutor, makeMachine: machine)
        #expect(sent(await initializer.start()).map(\.1) == [n(0)])
        #expect(sent(await initializer.handle(.timer(.joinRetry))).map(\.1) == [n(1)])
        #expect(sent(await initializer.handle(.timer(.joinRetry))).map(\.1) == [n(0)])
        let welcome = Welcome(snapshot: emptySnapshot, leader: Ballot(round: 1, leader: n(0)))
        let effects = await initializer.handle(.message(.welcome(welcome), from: n(1)))
        let installed = effects.flatMap { effect -> [RoleKind] in if case .install(let roles) = effect { roles.map(\.kind) } else { [] } }
        #expect(Set(installed) == Set<RoleKind>([.acceptor, .scout, .leader, .replica]))
        #expect(effects.contains { if case .uninstall(.initializer) = $0 { true } else { false } })
    }

    @Test func aWelcomeWithAnUnreadableSnapshotIsIgnored() async {
        let initializer = Initializer(node: n(2), config: config(3), executor: testExecutor, makeMachine: machine)
        let bad = Snapshot(nextSlot: Slot(3), machine: [1, 2], replies: [])
        #expect(await initializer.handle(.message(.welcome(Welcome(snapshot: bad, leader: .initial)), from: n(0))).isEmpty)
    }

    @Test func aNodeRoutesMessagesToTheRolesInstalledIntoIt() async {
        let node = Node(id: n(1), executor: testExecutor)
        _ = await node.install(Initializer(node: n(1), config: config(3), executor: testExecutor, makeMachine: machine))
        #expect(await node.installedKinds == [.initializer])
        // Before it joins, a node has no acceptor: a Prepare goes nowhere.
        #expect(await node.deliver(.message(.prepare(Prepare(ballot: Ballot(round: 1, leader: n(0)), scope: .from(.zero))), from: n(0))).isEmpty)
        _ = await node.deliver(.message(.welcome(Welcome(snapshot: emptySnapshot, leader: .initial)), from: n(0)))
        #expect(await node.installedKinds == [.acceptor, .scout, .leader, .replica])
        let out = await node.deliver(.message(.prepare(Prepare(ballot: Ballot(round: 1, leader: n(0)), scope: .from(.zero))), from: n(0)))
        #expect(out.map(\.role) == [.acceptor])
    }
}
