import Testing
@testable import MultiPaxos

@Suite struct SeedTests {
    let machine: @Sendable () -> any StateMachine = { KeyValueStore() }

    func isUninstall(_ e: Effect) -> Bool { if case .uninstall(.seed) = e { true } else { false } }

    @Test func theSeedFoundsTheClusterOnceEveryInitialVoterAskedAsNew() async {
        let seed = Seed(node: n(0), config: config(5), executor: testExecutor, makeMachine: machine, nonce: 100)
        // It asks the others whether a cluster exists already.
        #expect(Set(sent(await seed.start()).map(\.1)) == [n(1), n(2), n(3), n(4)])
        for i in [1, 3] { #expect(await seed.handle(.message(.join(Join(nonce: UInt64(i))), from: n(i))).isEmpty) }
        // Joins from strangers do not count, and a majority is not enough: a voter left out could later not be
        // told from one that voted and lost its disk.
        #expect(await seed.handle(.message(.join(Join(nonce: 9)), from: n(9))).isEmpty)
        #expect(await seed.handle(.message(.join(Join(nonce: 2)), from: n(2))).isEmpty)
        let effects = await seed.handle(.message(.join(Join(nonce: 4)), from: n(4)))
        let welcomes = sent(effects).compactMap { $0.0.welcome }
        #expect(welcomes.count == 4 && welcomes.allSatisfy { $0.founders == [n(1): 1, n(2): 2, n(3): 3, n(4): 4] })
        #expect(welcomes.allSatisfy { $0.snapshot == nil })
        #expect(Set(installedKinds(effects)) == Set<RoleKind>([.acceptor, .scout, .leader, .replica]))
        #expect(effects.contains(where: isUninstall))
    }

    @Test func aSeedWaitingForAnInitialVoterSaysWhichOnceASecondAndWhenThatChanges() async {
        let seed = Seed(node: n(0), config: config(3), executor: testExecutor, makeMachine: machine, nonce: 100)
        _ = await seed.start()
        func waits(_ effects: [Effect]) -> NodeSet? {
            effects.lazy.compactMap { if case .event(.waitingToFound(let missing)) = $0 { missing } else { nil } }.first
        }
        var said: [(Int, NodeSet)] = []
        for retry in 1...30 {
            if retry == 15 { _ = await seed.handle(.message(.join(Join(nonce: 1)), from: n(1))) }
            let effects = await seed.handle(.timer(.joinRetry))
            #expect(sent(effects).map(\.1).sorted() == [n(1), n(2)], "it asks again every time")
            if let missing = waits(effects) { said.append((retry, missing)) }
        }
        #expect(said.map(\.0) == [10, 15] && said.map(\.1) == [NodeSet([n(1), n(2)]), NodeSet([n(2)])], "\(said)")
    }

    @Test(arguments: ["welcome", "join"])
    func aSeedThatFindsTheClusterRunningRejoinsInsteadOfFoundingASecond(how: String) async {
        // Node 0 lost its disk and starts as new: a member's Welcome, or a Join from a node that kept its
        // storage, shows that the cluster exists, so it must rejoin before it votes.
        let storage = DurableState()
        let seed = Seed(node: n(0), config: config(3), executor: testExecutor, makeMachine: machine, storage: storage, nonce: 5)
        _ = await seed.start()
        let answer: Message = how == "welcome" ? .welcome(Welcome(snapshot: nil, leader: .initial, founders: [n(1): 1]))
                                               : .join(Join(nonce: 2, isNew: false))
        let effects = await seed.handle(.message(answer, from: n(2)))
        #expect(storage.membership == .learner)
        #expect(installedKinds(effects) == [.initializer])
        #expect(effects.contains { if case .event(.mustRejoin) = $0 { true } else { false } })
        #expect(effects.contains(where: isUninstall))
    }

    @Test func withTheFlawAMajorityFoundsAndAMembersWelcomeIsTakenAsNew() async {
        var flawed = config(3)
        flawed.flaws.insert(.amnesiacVotes)
        let storage = DurableState()
        let seed = Seed(node: n(0), config: flawed, executor: testExecutor, makeMachine: machine, storage: storage)
        _ = await seed.start()
        let effects = await seed.handle(.message(.welcome(Welcome(snapshot: nil, leader: .initial)), from: n(1)))
        #expect(storage.membership == .new && installedKinds(effects) == [.initializer])
        let founding = Seed(node: n(0), config: flawed, executor: testExecutor, makeMachine: machine)
        _ = await founding.start()
        #expect(installedKinds(await founding.handle(.message(.join(Join(isNew: false)), from: n(1)))).contains(.acceptor))
    }

    @Test func aOneNodeClusterStartsAtOnce() async {
        let seed = Seed(node: n(0), config: config(1), executor: testExecutor, makeMachine: machine)
        #expect(Set(installedKinds(await seed.start())) == Set<RoleKind>([.acceptor, .scout, .leader, .replica]))
    }
}
