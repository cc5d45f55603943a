import Testing
@testable import MultiPaxos

@Suite struct NodeTests {
    let machine: @Sendable () -> any StateMachine = { KeyValueStore() }
    let prepare = Message.prepare(Prepare(ballot: Ballot(round: 1, leader: NodeID(0)), scope: .from(.zero)))

    @Test func routesMessagesToTheRolesInstalledIntoIt() async {
        let node = Node(id: n(1), executor: testExecutor)
        _ = await node.install(Initializer(node: n(1), config: config(3), executor: testExecutor, makeMachine: machine))
        #expect(await node.installedKinds == [.initializer])
        // Before it joins, a node has no acceptor: a Prepare goes nowhere.
        #expect(await node.deliver(.message(prepare, from: n(0))).isEmpty)
        _ = await node.deliver(.message(.welcome(Welcome(snapshot: emptySnapshot, leader: .initial, founders: [n(1): 0])), from: n(0)))
        #expect(await node.installedKinds == [.acceptor, .scout, .leader, .replica])
        #expect(await node.deliver(.message(prepare, from: n(0))).map(\.role) == [.acceptor])
    }

    @Test func aHeartbeatReachesLeaderReplicaAndAcceptor() async {
        let node = Node(id: n(1), executor: testExecutor)
        _ = await node.install(Initializer(node: n(1), config: config(3), executor: testExecutor, makeMachine: machine))
        _ = await node.deliver(.message(.welcome(Welcome(snapshot: emptySnapshot, leader: .initial, founders: [n(1): 0])), from: n(0)))
        let heartbeat = Heartbeat(ballot: Ballot(round: 1, leader: n(0)), nextSlot: .zero, trimBelow: .zero)
        let out = await node.deliver(.message(.heartbeat(heartbeat), from: n(0)))
        #expect(out.map(\.role).contains(.replica), "the replica answers with how far it applied")
        #expect(await node.leader?.believedLeader == heartbeat.ballot)
    }
}
