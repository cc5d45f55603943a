import Testing
@testable import MultiPaxos

/// Commands a client pipelines on one RESP connection share one log entry (`KeyValueStore.pipeline`): applied in
/// order, each as if alone, and answered in order.
extension ClientSessionTests {
    @Test func pipelinedCommandsShareOneCommandAndAreAnsweredInOrder() throws {
        var s = session()
        let (none, first) = try feed(&s, [["SET", "a", "1"], ["GET", "a"], ["PING"], ["DEL", "a"], ["GET", "a"]])
        #expect(none.isEmpty)
        // SET and GET share one entry, under the later one's request number; the PING ends the run.
        let packed = try #require(first)
        #expect(KeyValueStore.pipelined(packed.operation)?.count == 2 && packed.key.request == RequestNumber(2))
        var store = KeyValueStore()
        s.complete(packed.key, .result(store.apply(packed.operation)))
        // Then DEL and GET, after the PING's answer.
        let last = try #require(s.nextCall()?.command)
        #expect(KeyValueStore.pipelined(last.operation)?.count == 2 && last.key.request == RequestNumber(4))
        s.complete(last.key, .result(store.apply(last.operation)))
        #expect(s.nextCall() == nil)
        // A command sent alone is not wrapped.
        let (_, alone) = try feed(&s, [["GET", "a"]])
        #expect(try #require(alone).operation == KeyValueOperation.get("a").encoded)
        var parser = RESPReplyParser()
        parser.append(s.out.bytes)
        var replies: [RESPValue] = []
        while let value = try parser.next() { replies.append(value) }
        #expect(replies == [.ok, .bulkString(Array("1".utf8)), .simpleString("PONG"), .integer(1), .null])
    }

    @Test func aPipelineTheClusterCouldNotRunAnswersEachCommandWithTheError() throws {
        var s = session()
        _ = try feed(&s, [["GET", "x"]])
        let bytes = [["SET", "a", "1"], ["SET", "b", "2"], ["SET", "c", "3"]].flatMap { RESPConnection.encode($0.map { Array($0.utf8) }) }
        bytes.withUnsafeBytes { s.received($0) }
        s.complete(RequestKey(client: ClientID(7), request: RequestNumber(1)), .result(KeyValueResult.value(nil).encoded))
        let packed = try #require(s.nextCall()?.command)
        #expect(KeyValueStore.pipelined(packed.operation)?.count == 3)
        s.complete(packed.key, .unavailable("TRYAGAIN no answer"))
        #expect(s.nextCall() == nil)
        var parser = RESPReplyParser()
        parser.append(s.out.bytes)
        var replies: [RESPValue] = []
        while let value = try parser.next() { replies.append(value) }
        #expect(replies == [.null] + Array(repeating: .error("TRYAGAIN no answer"), count: 3))
    }
}

@Suite struct KeyValuePipelineTests {
    @Test func aPipelineAppliesInOrderAndReadsAloneAreAQuery() throws {
        var store = KeyValueStore()
        let ops: [KeyValueOperation] = [.put("k", "1"), .append("k", "2"), .get("k"), .delete("k"), .get("k")]
        let results = try #require(KeyValueStore.pipelined(store.apply(KeyValueStore.pipeline(ops.map(\.encoded)))))
        #expect(try results.map(KeyValueResult.init(decoding:)) == [.ok, .integer(2), .value("12"), .integer(1), .value(nil)])
        store = KeyValueStore()
        _ = store.apply(KeyValueOperation.put("a", "x").encoded)
        let reads = KeyValueStore.pipeline([KeyValueOperation.get("a").encoded, KeyValueOperation.get("b").encoded])
        let answered = try #require(store.query(reads).flatMap(KeyValueStore.pipelined))
        #expect(try answered.map(KeyValueResult.init(decoding:)) == [.value("x"), .value(nil)])
        #expect(store.query(KeyValueStore.pipeline([KeyValueOperation.put("a", "y").encoded])) == nil, "a write goes through the log")
        // Malformed parts, a malformed pipeline, and a pipeline inside a pipeline are refused, never applied.
        let nested = KeyValueStore.pipeline([KeyValueStore.pipeline([KeyValueOperation.put("a", "z").encoded]), [200]])
        #expect(KeyValueStore.pipelined(store.apply(nested)) == [[0xFF], [0xFF]])
        #expect(store.apply([KeyValueStore.pipelineTag, 0, 0, 0, 9]) == [0xFF])
        #expect(store.entries == ["a": "x"])
    }
}

extension LocalClusterTests {
    @Test func aClientsPipelineRunsInOrderOnceAndReadsAloneAreAQuery() async throws {
        try await withLocalCluster({ try await LocalCluster(nodes: 3) }) { cluster in
            let client = await cluster.makeClient(giveUpAfter: .seconds(30))
            let results = try await client.run([.put("p", "1"), .append("p", "2"), .get("p"), .delete("p"), .get("p")])
            #expect(results == [.ok, .integer(2), .value("12"), .integer(1), .value(nil)])
            _ = try await client.run(.put("q", "x"))
            #expect(try await client.run([.get("q"), .get("p")]) == [.value("x"), .value(nil)])
            #expect(try await client.run([]) == [])
            #expect(try await client.run([.get("q")]) == [.value("x")])
        }
        let parsed = try LoadOptions.parse(["--local", "3", "--pipeline", "16"])
        #expect(parsed?.pipeline == 16)
        #expect(throws: OptionsError.self) { try LoadOptions.parse(["--resp", "127.0.0.1:1", "--pipeline", "4"]) }
    }
}
