import Testing
@testable import MultiPaxos

@Suite struct RequesterTests {
    @Test func sendsOneRequestAtATimeAndRetriesWithTheSameNumber() async {
        let ops = [KeyValueOperation.put("a", "1").encoded, KeyValueOperation.get("a").encoded]
        let r = Requester(client: ClientID(4), node: n(2), operations: ops, requestTimeout: 1000, executor: testExecutor)
        let first = await r.start()
        let key1 = RequestKey(client: ClientID(4), request: RequestNumber(1))
        #expect(sent(first).map { $0.0.request?.command.key } == [key1])
        #expect(sent(first).first?.1 == n(2))
        let retry = await r.handle(.timer(.requestRetry(key1)))
        #expect(sent(retry).first?.0.request?.command.key == key1)
        // A reply to another request is ignored.
        let stray = RequestKey(client: ClientID(4), request: RequestNumber(9))
        #expect(await r.handle(.message(.reply(Reply(key: stray, result: [])), from: n(2))).isEmpty)
        let next = await r.handle(.message(.reply(Reply(key: key1, result: KeyValueResult.ok.encoded)), from: n(2)))
        #expect(sent(next).first?.0.request?.command.key.request == RequestNumber(2))
        // The old retry timer is now stale.
        #expect(await r.handle(.timer(.requestRetry(key1))).isEmpty)
        _ = await r.handle(.message(.reply(Reply(key: RequestKey(client: ClientID(4), request: RequestNumber(2)),
                                                 result: KeyValueResult.value("1").encoded)), from: n(2)))
        #expect(await r.isDone)
        #expect(await r.results.count == 2)
    }
}
