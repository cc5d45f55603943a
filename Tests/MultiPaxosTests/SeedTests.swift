import Testing
@testable import MultiPaxos

@Suite struct SeedTests {
    let machine: @Sendable () -> any StateMachine = { KeyValueStore() }

    @Test func theSeedWelcomesOnceTheJoinersMakeAMajority() async {
        let seed = Seed(node: n(0), config: config(5), executor: testExecutor, makeMachine: machine)
        #expect(await seed.start().isEmpty)
        #expect(await seed.handle(.message(.join(Join()), from: n(1))).isEmpty)
        // Joins from strangers do not count.
        #expect(await seed.handle(.message(.join(Join()), from: n(9))).isEmpty)
        let effects = await seed.handle(.message(.join(Join()), from: n(3)))
        #expect(Set(sent(effects).compactMap { $0.0.welcome == nil ? nil : $0.1 }) == [n(1), n(2), n(3), n(4)])
        #expect(Set(installedKinds(effects)) == Set<RoleKind>([.acceptor, .scout, .leader, .replica]))
        #expect(effects.contains { if case .uninstall(.seed) = $0 { true } else { false } })
    }

    @Test func aOneNodeClusterStartsAtOnce() async {
        let seed = Seed(node: n(0), config: config(1), executor: testExecutor, makeMachine: machine)
        #expect(Set(installedKinds(await seed.start())) == Set<RoleKind>([.acceptor, .scout, .leader, .replica]))
    }
}
