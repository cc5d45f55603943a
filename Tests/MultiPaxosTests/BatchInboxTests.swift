import Testing
@testable import MultiPaxos

/// The inbox of a real-time node loop: batches in order, wake-ups by empty posts, closing and cancellation.
@Suite struct BatchInboxTests {
    @Test func takesEverythingPostedSinceTheLastTakeInOrder() async {
        let inbox = BatchInbox<Int>()
        inbox.post(1)
        inbox.post([2, 3])
        #expect(inbox.queuedCount == 3)
        #expect(await inbox.next() == [1, 2, 3])
        #expect(inbox.queuedCount == 0)
        inbox.post(4)
        #expect(await inbox.next() == [4])
    }

    @Test func aParkedLoopIsWokenByAPostFromAnotherTask() async {
        let inbox = BatchInbox<Int>()
        async let batch = inbox.next()
        // Posted from another task; the loop may or may not have parked yet: either way it gets the batch.
        await Task.detached { _ = inbox.post(7) }.value
        #expect(await batch == [7])
    }

    @Test func anEmptyPostWakesTheLoopWithAnEmptyBatch() async {
        let inbox = BatchInbox<Int>()
        inbox.post([])
        #expect(await inbox.next() == [])
    }

    @Test func closingLetsTheLastTurnTakeWhatWasPostedUnlessDiscarding() async {
        let kept = BatchInbox<Int>()
        kept.post(1)
        kept.close(discardingPending: false)
        #expect(kept.post(2) == false)
        #expect(await kept.next() == [1])
        #expect(await kept.next() == nil)

        let dropped = BatchInbox<Int>()
        dropped.post(1)
        dropped.close(discardingPending: true)
        #expect(await dropped.next() == nil)
    }

    @Test func closingWakesAParkedLoop() async {
        let inbox = BatchInbox<Int>()
        async let batch = inbox.next()
        await Task.detached { inbox.close(discardingPending: true) }.value
        #expect(await batch == nil)
    }

    @Test func cancellingTheWaitingTaskEndsTheWait() async {
        let inbox = BatchInbox<Int>()
        let loop = Task { await inbox.next() }
        loop.cancel()
        #expect(await loop.value == nil)
        #expect(inbox.post(1), "cancelling the loop does not close the inbox")
    }
}
