import Testing
@testable import MultiPaxos

/// Changes of voters through the log (Core/Voters.swift): the rule every replica applies, the encodings, what a
/// Replica and a Leader do with a change, and whole simulated runs that replace members under faults.
@Suite struct VotersTests {
    let three = NodeSet([n(0), n(1), n(2)])

    @Test func aChangeOfOneNodeGovernsFromAlphaSlotsLaterAndARetryChangesNothing() {
        let view = VoterView()
        let four = NodeSet([n(0), n(1), n(2), n(3)])
        guard case .changed(let next) = view.outcome(base: 0, voters: four, at: Slot(10), initial: three) else {
            Issue.record("adding one node was refused")
            return
        }
        #expect(next == VoterConfiguration(number: 1, from: Slot(10 + Reconfiguration.delaySlots), voters: four))
        view.append(next, initial: three)
        #expect(view.configuration(at: Slot(41), initial: three).voters == three)
        #expect(view.configuration(at: Slot(42), initial: three).voters == four)
        #expect(view.everyone(initial: three) == four)
        #expect(view.phase1Floor == .zero)
        // The same request decided again (a retry) reports the change made; it makes no second one.
        #expect(view.outcome(base: 0, voters: four, at: Slot(50), initial: three) == .changed(next))
    }

    @Test func refusedChangesNameTheValueThatStoodInTheWay() {
        let view = VoterView()
        let cases: [(UInt64, NodeSet, String)] = [
            (0, NodeSet([n(0), n(1), n(2), n(3), n(4)]), "differ from {n0,n1,n2} by 2 nodes"),
            (0, three, "by 0 nodes"),
            (3, NodeSet([n(0), n(1)]), "configuration #3 is not the latest (#0)"),
        ]
        for (base, voters, fragment) in cases {
            guard case .refused(let why) = view.outcome(base: base, voters: voters, at: Slot(5), initial: three) else {
                Issue.record("\(voters) was not refused")
                continue
            }
            #expect(why.contains(fragment), "\(why)")
        }
        // One change at a time: the next waits until the last is in force.
        guard case .changed(let next) = view.outcome(base: 0, voters: NodeSet([n(0), n(1)]), at: Slot(5), initial: three)
        else { return }
        view.append(next, initial: three)
        guard case .refused(let why) = view.outcome(base: 1, voters: NodeSet([n(0)]), at: Slot(6), initial: three) else {
            Issue.record("a second change before the first took effect was made")
            return
        }
        #expect(why.contains("takes effect only at s37"), "\(why)")
    }

    @Test func commandsOutcomesAndSnapshotsRoundTrip() throws {
        let voters = NodeSet([n(1), n(2), n(63)])
        let command = Reconfiguration.command(base: 7, voters: voters, nonce: 99)
        #expect(Reconfiguration.change(of: command)?.base == 7 && Reconfiguration.change(of: command)?.voters == voters)
        #expect(Reconfiguration.change(of: Rejoin.command(node: n(1), nonce: 3)) == nil)
        let changed = Reconfiguration.Outcome.changed(VoterConfiguration(number: 2, from: Slot(40), voters: voters))
        #expect(Reconfiguration.Outcome(result: changed.bytes) == changed)
        #expect(Reconfiguration.Outcome(result: Reconfiguration.Outcome.refused("no").bytes) == .refused("no"))
        #expect(Reconfiguration.Outcome(result: [7]) == nil)
        let history = [VoterConfiguration(number: 1, from: Slot(3), voters: three),
                       VoterConfiguration(number: 2, from: Slot(40), voters: voters)]
        let snapshot = Snapshot(nextSlot: Slot(9), machine: [1], replies: [], voters: history)
        let wire = WireCodec.encode(.welcome(Welcome(snapshot: snapshot, leader: .initial)))
        guard case .welcome(let w) = try WireCodec.decode(wire) else {
            Issue.record("not a welcome")
            return
        }
        #expect(w.snapshot?.voters == history)
        let state = DurableState()
        state.replicaSnapshot = snapshot
        #expect(try DurableState.decode(state.encoded()).replicaSnapshot?.voters == history)
        // A configuration that does not follow the one before it is refused.
        var bad = wire
        let second = bad.count - 4 - 12 - 24  // the second configuration's number, before the leader ballot and founders
        bad[second + 7] = 9
        #expect(throws: WireError.self) { try WireCodec.decode(bad) }
    }

    @Test func initialVotersAreRecordedWithTheIdentityAndAnotherSetIsRefused() throws {
        let members = ["a:1", "b:2", "c:3", "d:4"]
        let spare = ClusterIdentity(clusterID: "x", members: members, node: n(3), mode: .stableLeader,
                                    initialVoters: NodeSet([n(0), n(1), n(2)]))
        let state = DurableState()
        state.identity = spare
        #expect(state.encodedIdentity().first == 11 && state.encoded().first == 12)
        #expect(try DurableState.decode(state.encoded()).identity == spare)
        let restored = DurableState()
        try restored.absorb(state.encodedIdentity())
        #expect(restored.identity == spare)
        // Every member voting is the same as naming none, and keeps the older encodings.
        let all = ClusterIdentity(clusterID: "x", members: members, node: n(3), mode: .stableLeader,
                                  initialVoters: NodeSet((0..<4).map(n)))
        #expect(all == ClusterIdentity(clusterID: "x", members: members, node: n(3), mode: .stableLeader))
        state.identity = all
        #expect(state.encodedIdentity().first == 5 && state.encoded().first == 9)
        #expect(spare != all && spare.description.hasSuffix("initial voters {n0,n1,n2}"))
        let base = ["--id", "0", "--peers", "127.0.0.1:1,127.0.0.1:2", "--client", "127.0.0.1:3", "--in-memory"]
        #expect(try ServeOptions.parse(base + ["--voters", "n1"])?.configuration.voters == NodeSet([n(1)]))
        for (voters, fragment) in [("0,5", "'5' is not an index into --peers (0...1)"), ("1,1", "names 1 twice"),
                                   ("", "'' is not an index")] {
            do {
                _ = try ServeOptions.parse(base + ["--voters", voters])
                Issue.record("--voters \(voters) was accepted")
            } catch {
                #expect(error.message.contains(fragment), "\(error.message)")
            }
        }
    }

    @Test func aReplicaAppliesAChangeAndAnswersTheNodeThatAskedIt() async throws {
        let storage = DurableState()
        let replica = try Replica(node: n(0), config: config(3), executor: testExecutor, machine: KeyValueStore(),
                                  snapshot: emptySnapshot, leader: Ballot(round: 1, leader: n(0)), storage: storage)
        let four = NodeSet([n(0), n(1), n(2), n(3)])
        let change = Reconfiguration.command(base: 0, voters: four, nonce: 5)
        // Only the node itself may ask (an operator's request handed to it), not a peer.
        #expect(sent(await replica.handle(.message(.request(Request(command: change)), from: n(1)))).isEmpty)
        #expect(sent(await replica.handle(.message(.request(Request(command: change)), from: n(0)))).first?.0.propose != nil)
        let effects = await replica.handle(.message(.decision(Decision(ballot: Ballot(round: 1, leader: n(0)), slot: .zero,
                                                                       value: .command(change))), from: n(0)))
        let reply = try #require(sent(effects).compactMap { $0.0.reply }.first)
        #expect(Reconfiguration.Outcome(result: reply.result)
                == .changed(VoterConfiguration(number: 1, from: Slot(Reconfiguration.delaySlots), voters: four)))
        #expect(storage.voters.latest(initial: config(3).memberSet).voters == four)
        #expect(storage.voters.applied == Slot(1))
        #expect(await replica.snapshot().voters.last?.voters == four)
    }

    @Test func aLeaderAssignsNoSlotPastItsReplicasAppliedPointPlusAlpha() async {
        let leader = Leader(node: n(0), config: config(3), executor: testExecutor, eager: true)
        _ = await leader.start()
        let ballot = Ballot(round: 1, leader: n(0))
        let adopted = Adopted(ballot: ballot, scope: .from(.zero), accepted: [], trimmedBelow: .zero, slotsEnd: .zero)
        _ = await leader.handle(.message(.adopted(adopted), from: n(0)))
        var assigned: [Slot] = []
        for client in 1...(Reconfiguration.delaySlots + 5) {
            let effects = await leader.handle(.message(.propose(Propose(command: command(UInt64(client), 1), forwarded: false)), from: n(1)))
            assigned += sent(effects).compactMap { $0.0.accept?.slot }.filter { !assigned.contains($0) }
        }
        // Its replica applied nothing: slots 0..<α are assignable, the rest wait.
        #expect(Set(assigned).count == Int(Reconfiguration.delaySlots))
        #expect(Set(assigned).max() == Slot(Reconfiguration.delaySlots - 1))
    }

    @Test(arguments: Mode.allCases)
    func replacingMembersUnderFaultsKeepsEveryCheck(mode: Mode) async {
        var failures: [String] = []
        var changed = 0
        for seed in UInt64(1)...16 {
            let options = SimulationOptions.sweep(seed: seed, mode: mode, nodes: 5, clients: 4, requestsPerClient: 20,
                                                  reconfigure: true)
            guard let sim = try? Simulation(options: options) else { continue }
            let report = await sim.run()
            changed += report.reconfigurations
            if !report.failures.isEmpty { failures.append("seed \(seed): \(report.failures[0])") }
        }
        #expect(failures.isEmpty, "\(failures)")
        #expect(changed >= 32, "only \(changed) changes in force over 16 runs of two or four")
    }

    @Test func theDemoShowsAReplacementInItsTrace() async throws {
        let (report, lines) = try await simulate {
            $0.seed = 42
            $0.requestsPerClient = 30
            $0.replace(n(0))
        }
        #expect(report.failures.isEmpty)
        #expect(report.reconfigurations == 2)
        #expect(lines.contains { $0.contains("voters become {n0,n1,n2,n3,n4,n5}") })
        #expect(lines.contains { $0.contains("voters become {n1,n2,n3,n4,n5}") })
        #expect(lines.contains { $0.contains("is shut down: no longer a voter") })
        // The new node rejoined before it voted: the cluster ran when it started, and it did not found it.
        #expect(lines.contains { $0.contains("n5  Initializer must rejoin before it votes") })
        // The removed leader handed over rather than leave the cluster without one (the new node, a voter in no
        // configuration it knew, promised nothing at its rejoin, so it did not preempt n0).
        let handover = try #require(lines.firstIndex { $0.contains("n0  Leader") && $0.contains("to hand leadership to") })
        #expect(lines.contains { $0.contains("n5  Initializer rejoins as a voting member") && $0.contains("no fence") })
        #expect(!lines[..<handover].contains { $0.contains("preempted by") }, "no election before the handover")
    }
}
