import Testing
@testable import MultiPaxos

/// A node that comes back with an empty disk finds out by itself that it must rejoin (Roles/Seed.swift,
/// Roles/Initializer.swift): scenarios of whole simulated clusters, with no flag given to the wiped node.
@Suite struct WipedNodeTests {
    /// The time of the first trace line of `node` containing `text`, in seconds.
    func time(of text: String, at node: String, in lines: [String]) -> Double? {
        lines.first { $0.contains(" \(node)  ") && $0.contains(text) }
            .flatMap { Double($0.split(separator: " ", omittingEmptySubsequences: true)[0]) }
    }

    func options(nodes: Int, faults: [FaultPlan.NodeFault]) -> SimulationOptions {
        var options = SimulationOptions()
        options.seed = 5
        options.nodes = nodes
        options.requestsPerClient = 40
        options.faults.nodeFaults = faults
        return options
    }

    @Test func aWipedNodeThatVotedAtOnceWouldLoseAChosenWrite() async throws {
        // Found by sweeping disk wipes with the rule turned off: the wiped node's blank vote completes a quorum
        // with a new leader that never hears of a value a majority had accepted, and decides another in its slot.
        var options = SimulationOptions.sweep(seed: 7, mode: .stableLeader, nodes: 3, clients: 4, requestsPerClient: 20,
                                              schedule: .diskWipes)
        let (honest, _) = try await simulate { $0 = options }
        #expect(honest.passed, "\(honest.failures)")
        #expect(honest.rejoins > 0)
        options.flaws = .amnesiacVotes
        let (flawed, _) = try await simulate { $0 = options }
        #expect(flawed.failures.contains { $0.hasPrefix("agreement:") }, "\(flawed.failures)")
    }

    @Test(arguments: Mode.allCases)
    func aNodeWipedWhileTwoOthersAreDownVotesOnlyOnceAQuorumCanFenceIt(mode: Mode) async throws {
        // Five nodes: n3 and n4 are down from 0.4 s to 1.4 s; n2 loses its disk at 0.5 s and is back at 0.7 s.
        // n0 and n1 alone can neither decide its rejoin nor make its fence: it votes only after n3 or n4 is back.
        var options = options(nodes: 5, faults: [
            .init(node: NodeID(3), kind: .crash(restartAfter: 1_000_000), at: 400_000),
            .init(node: NodeID(4), kind: .crash(restartAfter: 1_000_000), at: 400_000),
            .init(node: NodeID(2), kind: .wipe(restartAfter: 200_000), at: 500_000),
        ])
        options.mode = mode
        options.placements = [NodeID(0), NodeID(1)]
        let (report, lines) = try await simulate { $0 = options }
        #expect(report.passed, "\(report.failures)")
        #expect(report.rejoins == 1 && report.learners.isEmpty)
        let mustRejoin = try #require(time(of: "must rejoin before it votes", at: "n2", in: lines))
        let rejoined = try #require(time(of: "rejoins as a voting member", at: "n2", in: lines))
        #expect(mustRejoin >= 0.7 && mustRejoin < 1.4, "it learns at once that it must rejoin: \(mustRejoin)")
        #expect(rejoined > 1.4, "and votes only once a quorum is back: \(rejoined)")
    }

    @Test(arguments: Mode.allCases)
    func twoNodesWipedAtOnceBothRejoin(mode: Mode) async throws {
        var options = options(nodes: 5, faults: [
            .init(node: NodeID(1), kind: .wipe(restartAfter: 200_000), at: 500_000),
            .init(node: NodeID(2), kind: .wipe(restartAfter: 200_000), at: 500_000),
        ])
        options.mode = mode
        let (report, lines) = try await simulate { $0 = options }
        #expect(report.passed, "\(report.failures)")
        #expect(report.diskCrashes.wipes == 2 && report.rejoins == 2 && report.learners.isEmpty)
        for node in ["n1", "n2"] {
            #expect(time(of: "must rejoin before it votes", at: node, in: lines) != nil, "\(node)")
        }
    }

    @Test(arguments: Mode.allCases)
    func theWipedFounderRejoinsTheClusterItFoundedInsteadOfFoundingAnother(mode: Mode) async throws {
        // n0 is the Seed that founded the cluster, and its first leader: wiped, it comes back as a Seed with
        // empty storage, hears that the cluster runs, and rejoins.
        var options = options(nodes: 3, faults: [.init(node: NodeID(0), kind: .wipe(restartAfter: 300_000), at: 500_000)])
        options.mode = mode
        options.placements = [NodeID(1), NodeID(2)]
        let (report, lines) = try await simulate { $0 = options }
        #expect(report.passed, "\(report.failures)")
        #expect(report.rejoins == 1 && report.learners.isEmpty)
        let founded = lines.filter { $0.contains(" n0  Seed") && $0.contains("joins the cluster at s0") }
        #expect(founded.count == 1, "n0 founded the cluster once: \(founded)")
        #expect(time(of: "rejoins as a voting member", at: "n0", in: lines) ?? 0 > 0.8)
    }
}
