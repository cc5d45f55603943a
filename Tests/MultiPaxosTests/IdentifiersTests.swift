import Testing
@testable import MultiPaxos

@Suite struct BallotTests {
    @Test func ballotsOrderByEpochThenRoundThenLeader() {
        let fence = Ballot.fence(epoch: 1, node: NodeID(2))
        #expect(fence.epoch == 1 && fence.description == "1:0.2")
        #expect(Ballot(round: 4_000_000, leader: NodeID(9)) < fence)
        #expect(fence < fence.successor(for: NodeID(0)) && fence.successor(for: NodeID(0)).epoch == 1)
    }

    @Test func runningOutOfRoundsInAnEpochStopsRatherThanStartingTheNext() async {
        await #expect(processExitsWith: .failure) {
            _ = Ballot(round: (1 << 32) - 1, leader: NodeID(0)).successor(for: NodeID(1))
        }
    }
}
