import Testing
@testable import MultiPaxos

/// A RESP connection's session without sockets: requests in, replies (and commands for the node) out.
@Suite struct ClientSessionTests {
    func session(password: String? = nil) -> ClientSession {
        ClientSession(connection: 1, address: "test", client: ClientID(7), nextRequest: 1, limits: TransportLimits(),
                      password: password.map { Array($0.utf8) })
    }

    /// Feeds `commands` and returns the replies written so far, decoded, and the command handed to the node.
    func feed(_ s: inout ClientSession, _ commands: [[String]]) throws -> ([RESPValue], Command?) {
        let bytes = commands.flatMap { RESPConnection.encode($0.map { Array($0.utf8) }) }
        bytes.withUnsafeBytes { s.received($0) }
        let call = s.nextCall()?.command
        var parser = RESPReplyParser()
        parser.append(s.out.bytes)
        var replies: [RESPValue] = []
        while let value = try parser.next() { replies.append(value) }
        return (replies, call)
    }

    @Test func aRequestLargerThanOneReadIsReadToItsEnd() throws {
        var s = session()
        let value = String(repeating: "v", count: 100_000)
        let bytes = RESPConnection.encode([Array("SET".utf8), Array("big".utf8), Array(value.utf8)])
        // Sixteen KiB at a time, as the transport reads: the session keeps asking for more until the SET is whole.
        var offset = 0
        while offset < bytes.count {
            #expect(s.wantsRead, "stopped reading at \(offset) of \(bytes.count) bytes")
            guard s.wantsRead else { return }
            let end = min(offset + (16 << 10), bytes.count)
            bytes[offset..<end].withUnsafeBytes { s.received($0) }
            offset = end
        }
        let call = try #require(s.nextCall()?.command)
        #expect(try KeyValueOperation(decoding: call.operation) == .put("big", ByteString(value)))
    }

    @Test func withAPasswordEveryCommandButAuthHelloAndQuitGetsNoauth() throws {
        var s = session(password: "pw")
        let (replies, call) = try feed(&s, [["PING"], ["GET", "k"], ["MPX.SUBMIT", "1", "1", "x"], ["HELLO", "3"],
                                            ["AUTH", "wrong"], ["AUTH", "default", "wrong"], ["AUTH", "other", "pw"],
                                            ["NOSUCH"], ["AUTH", "pw"], ["PING"]])
        #expect(call == nil)
        #expect(replies.count == 10)
        #expect(replies[0] == RESPCommands.noAuthentication && replies[1] == RESPCommands.noAuthentication)
        #expect(replies[2] == RESPCommands.noAuthentication)
        #expect(replies[3] == RESPCommands.helloNeedsAuthentication)
        #expect(replies[4] == RESPCommands.wrongPassword && replies[5] == RESPCommands.wrongPassword)
        #expect(replies[6] == RESPCommands.wrongPassword)
        if case .error(let unknown) = replies[7] { #expect(unknown.hasPrefix("ERR unknown command")) } else { Issue.record("\(replies[7])") }
        #expect(replies[8] == .ok && replies[9] == .simpleString("PONG"))
    }

    @Test func helloWithAuthAuthenticatesAndSwitchesToResp3() throws {
        var s = session(password: "pw")
        let (replies, call) = try feed(&s, [["HELLO", "3", "AUTH", "default", "pw"], ["SET", "k", "v"]])
        guard case .map = replies.first else {
            Issue.record("HELLO 3 did not answer with a RESP3 map: \(replies)")
            return
        }
        #expect(call?.key == RequestKey(client: ClientID(7), request: RequestNumber(1)))
        #expect(call.map { try? KeyValueOperation(decoding: $0.operation) } == .put("k", "v"))
    }

    /// Before it authenticates a client may send only small requests of a few arguments (Redis's rule since
    /// CVE-2021-32675); once authenticated, the full limits.
    @Test func untilItAuthenticatesAClientMaySendOnlySmallRequests() throws {
        let big = String(repeating: "v", count: 20_000)
        var s = session(password: "pw")
        #expect(s.wantsRead)
        let (refused, _) = try feed(&s, [["SET", "k", big]])
        if case .error(let message)? = refused.first { #expect(message.contains("Protocol error")) } else { Issue.record("\(refused)") }
        #expect(s.closing)
        var many = session(password: "pw")
        let (tooMany, _) = try feed(&many, [["PING"] + Array(repeating: "x", count: 10)])
        #expect(many.closing && tooMany.count == 1, "\(tooMany)")
        var t = session(password: "pw")
        let (replies, call) = try feed(&t, [["AUTH", "pw"], ["SET", "k", big]])
        #expect(replies == [.ok] && !t.closing)
        #expect(call.map { try? KeyValueOperation(decoding: $0.operation) } == .put("k", ByteString(big)))
    }

    @Test func aConnectionIsClosedAfterFiveWrongPasswords() throws {
        var s = session(password: "pw")
        let (replies, _) = try feed(&s, [["AUTH", "a"], ["AUTH", "b"], ["HELLO", "3", "AUTH", "default", "c"], ["AUTH", "d"],
                                         ["AUTH", "e"], ["AUTH", "pw"]])
        #expect(replies == Array(repeating: RESPCommands.wrongPassword, count: 5), "the sixth try is never read")
        #expect(s.closing)
    }

    @Test func withoutAPasswordAuthIsRefusedAsRedisRefusesIt() throws {
        var s = session()
        let (replies, _) = try feed(&s, [["AUTH", "x"], ["PING"]])
        #expect(replies == [RESPCommands.noPasswordConfigured, .simpleString("PONG")])
    }

    @Test func aConnectionKeepsTheNameClientSetnameGivesItUntilReset() throws {
        var s = session()
        let (replies, _) = try feed(&s, [["CLIENT", "GETNAME"], ["CLIENT", "SETNAME", "worker-1"], ["CLIENT", "GETNAME"],
                                         ["CLIENT", "SETNAME", "has space"], ["CLIENT", "INFO"], ["CLIENT", "NO-EVICT", "on"],
                                         ["RESET"], ["CLIENT", "GETNAME"]])
        #expect(replies == [.null, .ok, .bulk("worker-1"),
                            .error("ERR Client names cannot contain spaces, newlines or special characters."),
                            .bulk("id=1 addr= name=worker-1 db=0 lib-name= lib-ver=\n"), .ok, .simpleString("RESET"), .null])
    }

    @Test func pipelinedCommandsRunOneAtATimeAndAreAnsweredInOrder() throws {
        var s = session()
        let (first, call1) = try feed(&s, [["PING"], ["SET", "a", "1"], ["PING", "later"], ["GET", "a"]])
        #expect(first == [.simpleString("PONG")])
        let key1 = try #require(call1).key
        #expect(s.nextCall() == nil, "the second command waits for the first")
        s.complete(key1, .result(KeyValueResult.ok.encoded))
        let next = s.nextCall()
        let call2 = try #require(next)
        #expect(call2.key.request == RequestNumber(2))
        s.complete(call2.key, .unavailable("TRYAGAIN no leader"))
        #expect(s.nextCall() == nil)
        var parser = RESPReplyParser()
        parser.append(s.out.bytes)
        var replies: [RESPValue] = []
        while let value = try parser.next() { replies.append(value) }
        #expect(replies == [.simpleString("PONG"), .ok, .bulk("later"), .error("TRYAGAIN no leader")])
    }

    /// A client that writes its whole pipeline at once sends nothing more: the requests the session held while its
    /// backlog was full must be taken as soon as the backlog drains, not at the client's next write (which never
    /// comes). Every one of 1,000 SETs written in one go is answered, in order, in batches of at most the bound.
    @Test func aWholePipelineWrittenAtOnceIsAnsweredInFull() throws {
        var s = session()
        let count = 1_000
        let bytes = (0..<count).flatMap { RESPConnection.encode([Array("SET".utf8), Array("k\($0)".utf8), Array("v\($0)".utf8)]) }
        bytes.withUnsafeBytes { s.received($0) }
        var calls = 0, applied = 0
        while let call = s.nextCall()?.command, calls <= count {
            calls += 1
            let parts = KeyValueStore.pipelined(call.operation) ?? [call.operation]
            #expect(parts.count <= TransportLimits().maxPipelined)
            for part in parts { #expect(try KeyValueOperation(decoding: part) == .put("k\(applied)", "v\(applied)")); applied += 1 }
            let results = parts.map { _ in KeyValueResult.ok.encoded }
            s.complete(call.key, .result(parts.count == 1 ? results[0] : KeyValueStore.pipeline(results)))
        }
        #expect(applied == count && calls == (count + TransportLimits().maxPipelined - 1) / TransportLimits().maxPipelined)
        var parser = RESPReplyParser()
        parser.append(s.out.bytes)
        var replies = 0
        while let value = try parser.next() { #expect(value == .ok); replies += 1 }
        #expect(replies == count)
    }

    /// Runs `call` on `store` and completes it: what a cluster would answer.
    func run(_ s: inout ClientSession, _ call: Command, on store: inout KeyValueStore) {
        s.complete(call.key, .result(store.apply(call.operation)))
    }

    /// Every reply written so far, once the session has written those that are ready.
    func replies(_ s: inout ClientSession) throws -> [RESPValue] {
        #expect(s.nextCall() == nil)
        var parser = RESPReplyParser()
        parser.append(s.out.bytes)
        var replies: [RESPValue] = []
        while let value = try parser.next() { replies.append(value) }
        return replies
    }

    /// Feeds one request of byte arguments (not UTF-8 text) and returns the command handed to the node.
    func feedBytes(_ s: inout ClientSession, _ args: [[UInt8]]) -> Command? {
        RESPConnection.encode(args).withUnsafeBytes { s.received($0) }
        return s.nextCall()?.command
    }

    @Test func aTransactionRunsNothingBeforeExecThenAllOfItAsOneLogEntry() throws {
        var s = session()
        var store = KeyValueStore()
        let (queued, none) = try feed(&s, [["MULTI"], ["SET", "a", "1"], ["PING"], ["GET", "a"]])
        #expect(none == nil)
        #expect(feedBytes(&s, [Array("APPEND".utf8), Array("a".utf8), [0xFF]]) == nil, "nothing queued runs before EXEC")
        #expect(queued == [.ok] + Array(repeating: .simpleString("QUEUED"), count: 3))
        let (_, exec) = try feed(&s, [["EXEC"], ["GET", "a"]])
        let call = try #require(exec)
        let parts = try #require(KeyValueStore.pipelined(call.operation))
        #expect(try parts.map(KeyValueOperation.init(decoding:)) == [.put("a", "1"), .get("a"), .append("a", ByteString([0xFF]))])
        run(&s, call, on: &store)
        let next = try #require(s.nextCall()?.command)  // the GET after EXEC, alone
        #expect(try KeyValueOperation(decoding: next.operation) == .get("a"))
        run(&s, next, on: &store)
        #expect(try replies(&s).suffix(2) == [.array([.ok, .simpleString("PONG"), .bulk("1"), .integer(2)]),
                                              .bulkString([0x31, 0xFF])])
    }

    @Test func execRunsOnlyIfTheWatchedKeysStillHoldWhatWatchRead() throws {
        var s = session()
        var store = KeyValueStore()
        _ = store.apply(.put("k", "1"))
        // WATCH, MULTI, SET, EXEC in one go: the WATCH reads first, the EXEC carries what it read.
        let (_, watch) = try feed(&s, [["WATCH", "k", "absent"], ["MULTI"], ["SET", "k", "2"], ["EXEC"]])
        let read = try #require(watch)
        #expect(try KeyValueOperation(decoding: read.operation) == .digests(["k", "absent"]))
        run(&s, read, on: &store)
        let exec = try #require(s.nextCall()?.command)
        #expect(exec.operation.first == KeyValueStore.guardedTag)
        _ = store.apply(.put("k", "changed"))  // another client, between the WATCH and the EXEC
        run(&s, exec, on: &store)
        #expect(try replies(&s) == [.ok, .ok, .simpleString("QUEUED"), .null])
        #expect(store.entries["k"] == "changed", "the aborted transaction ran nothing")

        // Unchanged (an absent key still absent), it runs; a key that appears aborts it.
        s = session()
        run(&s, try #require(try feed(&s, [["WATCH", "k", "absent"], ["MULTI"], ["SET", "k", "3"], ["EXEC"]]).1), on: &store)
        run(&s, try #require(s.nextCall()?.command), on: &store)
        #expect(try replies(&s).last == .array([.ok]) && store.entries["k"] == "3")
        s = session()
        run(&s, try #require(try feed(&s, [["WATCH", "absent"], ["MULTI"], ["SET", "k", "4"], ["EXEC"]]).1), on: &store)
        _ = store.apply(.put("absent", "now here"))
        run(&s, try #require(s.nextCall()?.command), on: &store)
        #expect(try replies(&s).last == .null && store.entries["k"] == "3")
    }

    @Test func unwatchForgetsAndAFailedWatchAbortsTheNextExec() throws {
        var s = session()
        var store = KeyValueStore()
        run(&s, try #require(try feed(&s, [["WATCH", "k"], ["UNWATCH"], ["MULTI"], ["SET", "k", "2"], ["EXEC"]]).1), on: &store)
        _ = store.apply(.put("k", "changed"))
        let exec = try #require(s.nextCall()?.command)
        #expect(exec.operation.first == KeyValueStore.pipelineTag, "UNWATCH in turn: the EXEC carries no watched key")
        run(&s, exec, on: &store)
        #expect(try replies(&s) == [.ok, .ok, .ok, .simpleString("QUEUED"), .array([.ok])])

        s = session()
        let watch = try #require(try feed(&s, [["WATCH", "k"], ["MULTI"], ["SET", "k", "5"], ["EXEC"]]).1)
        s.complete(watch.key, .unavailable("TRYAGAIN no leader"))
        run(&s, try #require(s.nextCall()?.command), on: &store)
        #expect(try replies(&s) == [.error("TRYAGAIN no leader"), .ok, .simpleString("QUEUED"), .null])
        #expect(store.entries["k"] == "2", "a WATCH that read nothing makes EXEC run nothing")

        // An EXEC of no operations still checks the watched keys.
        s = session()
        run(&s, try #require(try feed(&s, [["WATCH", "k"], ["MULTI"], ["PING"], ["EXEC"]]).1), on: &store)
        _ = store.apply(.put("k", "changed again"))
        run(&s, try #require(s.nextCall()?.command), on: &store)
        #expect(try replies(&s).suffix(1) == [.null])

        s = session()
        let (refused, none) = try feed(&s, [["MULTI"], ["WATCH", "k"], ["EXEC"]])
        #expect(none == nil)
        #expect(refused == [.ok, .error("ERR WATCH inside MULTI is not allowed"),
                            .error("EXECABORT Transaction discarded because of previous errors.")])
    }

    /// redis-py's transaction pipeline against a server without MULTI got `unknown command 'MULTI'`, then its SET
    /// applied, then `unknown command 'EXEC'`: a partial write. Now a refused command makes EXEC run nothing.
    @Test func aCommandRefusedInATransactionMakesExecRunNothing() throws {
        var s = session()
        let (replies, call) = try feed(&s, [["MULTI"], ["SET", "a", "1"], ["NOSUCH", "x"], ["MPX.SUBMIT", "1", "1", "x"],
                                            ["MULTI"], ["EXEC"], ["EXEC"], ["DISCARD"]])
        #expect(call == nil, "nothing ran")
        #expect(replies.count == 8)
        #expect(replies[0] == .ok && replies[1] == .simpleString("QUEUED"))
        if case .error(let unknown) = replies[2] { #expect(unknown.hasPrefix("ERR unknown command 'NOSUCH'")) } else { Issue.record("\(replies[2])") }
        #expect(replies[3] == .error("ERR Command not allowed inside a transaction"))
        #expect(replies[4] == .error("ERR MULTI calls can not be nested"))
        #expect(replies[5] == .error("EXECABORT Transaction discarded because of previous errors."))
        #expect(replies[6] == .error("ERR EXEC without MULTI") && replies[7] == .error("ERR DISCARD without MULTI"))
        // DISCARD drops what was queued; an empty transaction answers an empty array.
        var t = session()
        let (dropped, nothing) = try feed(&t, [["MULTI"], ["SET", "a", "1"], ["DISCARD"], ["MULTI"], ["EXEC"]])
        #expect(nothing == nil && dropped == [.ok, .simpleString("QUEUED"), .ok, .ok, .array([])])
    }

    @Test func aTransactionIsBoundedByTheRequestLimit() throws {
        var limits = TransportLimits()
        limits.maxRequestBytes = 100
        var s = ClientSession(connection: 1, address: "test", client: ClientID(7), nextRequest: 1, limits: limits, password: nil)
        let value = String(repeating: "v", count: 60)
        let (replies, call) = try feed(&s, [["MULTI"], ["SET", "a", value], ["SET", "b", value], ["EXEC"]])
        #expect(call == nil)
        #expect(replies.count == 4 && replies[1] == .simpleString("QUEUED"))
        if case .error(let bound) = replies[2] { #expect(bound.contains("100 bytes")) } else { Issue.record("\(replies[2])") }
        #expect(replies[3] == .error("EXECABORT Transaction discarded because of previous errors."))
    }

    @Test func commandsOfSeveralKeysRunAsOneLogEntry() throws {
        var s = session()
        var store = KeyValueStore()
        let binary: [UInt8] = [0xFF, 0xFE]
        let requests: [[[UInt8]]] = [
            [Array("MSET".utf8), [0x61], [0x31], [0x62], binary], [Array("MGET".utf8), [0x61], [0x6E], [0x62]],
            [Array("EXISTS".utf8), [0x61], [0x61], [0x6E]], [Array("DEL".utf8), [0x61], [0x62], [0x6E]],
            [Array("STRLEN".utf8), [0x62]],
        ]
        let entries = [2, 3, 3, 3, 1]
        for (request, count) in zip(requests, entries) {
            let c = try #require(feedBytes(&s, request))
            #expect((KeyValueStore.pipelined(c.operation)?.count ?? 1) == count)
            run(&s, c, on: &store)
        }
        #expect(try replies(&s) == [.ok, .array([.bulk("1"), .null, .bulkString(binary)]), .integer(2), .integer(2), .integer(0)])
    }

    @Test func malformedRespGetsAnErrorAndClosesTheConnection() throws {
        var s = session()
        let bytes = Array("*1\r\n$x\r\n".utf8)
        bytes.withUnsafeBytes { s.received($0) }
        #expect(s.nextCall() == nil)
        #expect(s.closing)
        #expect(String(decoding: s.out.bytes, as: UTF8.self).hasPrefix("-ERR Protocol error"))
    }
}
