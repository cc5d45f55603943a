import Testing
@testable import MultiPaxos

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
private func words(_ list: String...) -> [[UInt8]] { list.map(bytes) }

/// Every request `parser` yields from its buffer until it needs more bytes.
private func drain(_ parser: inout RESPRequestParser) throws(RESPError) -> [[[UInt8]]] {
    var out: [[[UInt8]]] = []
    while let request = try parser.next() { out.append(request) }
    return out
}

/// The error parsing `input` (in one piece) throws, if any.
private func requestError(_ input: String, maxRequestBytes: Int = 1_572_864) -> RESPError? {
    var parser = RESPRequestParser(maxRequestBytes: maxRequestBytes)
    parser.append(bytes(input))
    do { _ = try drain(&parser); return nil } catch { return error }
}

/// Every reply `parser` yields from its buffer until it needs more bytes.
private func drain(_ parser: inout RESPReplyParser) throws(RESPError) -> [RESPValue] {
    var out: [RESPValue] = []
    while let reply = try parser.next() { out.append(reply) }
    return out
}

private func replyError(_ input: [UInt8], maxReplyBytes: Int = 1 << 24) -> RESPError? {
    var parser = RESPReplyParser(maxReplyBytes: maxReplyBytes)
    parser.append(input)
    do { _ = try drain(&parser); return nil } catch { return error }
}

/// A small xorshift generator, so that the fuzz loop is the same on every run.
@Suite struct RESPTests {
    /// A pipeline with every request form: multibulk (binary-safe, CRLF inside a value), inline, quoted,
    /// an empty line, and the `*0` that Redis ignores.
    static let pipeline = bytes("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n" + "PING\r\n" + "\r\n" +
                                "*0\r\n" + "set \"a b\" 'c'\n" + "*2\r\n$3\r\nGET\r\n$0\r\n\r\n" + "  \t \r\n" +
                                "*1\r\n$4\r\nPING\r\n")
    static let pipelineRequests = [words("SET", "k", "a\r\nb"), words("PING"), words("set", "a b", "c"),
                                   words("GET", ""), words("PING")]

    @Test func pipelinedRequestsSplitAtEveryByteBoundaryParseTheSame() throws {
        for cut in 0...Self.pipeline.count {
            var parser = RESPRequestParser()
            parser.append(Array(Self.pipeline[..<cut]))
            var got = try drain(&parser)
            parser.append(Array(Self.pipeline[cut...]))
            got += try drain(&parser)
            #expect(got == Self.pipelineRequests, "split at byte \(cut)")
            #expect(parser.bufferedBytes == 0)
        }
        var parser = RESPRequestParser()
        var got: [[[UInt8]]] = []
        for b in Self.pipeline {
            parser.append([b])
            got += try drain(&parser)
        }
        #expect(got == Self.pipelineRequests, "byte by byte")
    }

    @Test func bufferedBytesCountWhatIsNotYetARequest() throws {
        var parser = RESPRequestParser()
        parser.append(bytes("PING\r\n*2\r\n$3\r\nGET"))
        #expect(parser.bufferedBytes == 17)
        #expect(try parser.next() == words("PING"))
        #expect(try parser.next() == nil)
        #expect(parser.bufferedBytes == 11, "the headers read of a request under way count")
        // Thousands of requests through one parser: consumed bytes are dropped, not kept.
        for _ in 0..<5000 { parser.append(bytes("\r\n$1\r\nk\r\n*2\r\n$3\r\nGET")) }
        #expect(try drain(&parser).count == 5000)
        #expect(parser.bufferedBytes == 11)
    }

    @Test func inlineCommandsFollowRedisQuotingRules() {
        func split(_ s: String) -> [[UInt8]]? { RESPRequestParser.splitInline(bytes(s)[...]) }
        #expect(split("SET \"a b\" 'c d'") == words("SET", "a b", "c d"))
        #expect(split("\tGET   k  ") == words("GET", "k"))
        #expect(split("\"\\x41\\x4a\\n\\t\\\"q\\\\\"") == [bytes("AJ\n\t\"q\\")])
        #expect(split("'it\\'s' '\\n'") == words("it's", "\\n"), "single quotes keep backslashes but \\'")
        #expect(split("a\"b c\" d") == words("ab c", "d"), "a quote inside a word opens a quoted part")
        #expect(split("\"\"") == [[]], "an empty quoted word")
        #expect(split("") == [])
        #expect(split("\"abc") == nil)
        #expect(split("'abc") == nil)
        #expect(split("\"a\"b") == nil, "a closing quote must be followed by a blank")
        #expect(split("GET a\0b c") == words("GET", "a"), "a NUL byte ends the line, as in C")
    }

    @Test func eachProtocolErrorHasRedissText() {
        let invalidMultibulk = RESPError.protocolError("Protocol error: invalid multibulk length")
        #expect(requestError("*x\r\n") == invalidMultibulk)
        #expect(requestError("*01\r\n") == invalidMultibulk)
        #expect(requestError("*1048577\r\n") == invalidMultibulk)
        #expect(requestError("*1\rx") == invalidMultibulk)
        #expect(requestError("*1\r\nx") == .protocolError("Protocol error: expected '$', got 'x'"))
        #expect(requestError("*1\r\n\u{1}") == .protocolError("Protocol error: expected '$', got '\\x01'"))
        #expect(requestError("*1\r\n$-1\r\n") == .protocolError("Protocol error: invalid bulk length"))
        #expect(requestError("*1\r\n$1a\r\n") == .protocolError("Protocol error: invalid bulk length"))
        #expect(requestError("*1\r\n$1\r\nabc\r\n")
                == .protocolError("Protocol error: expected CRLF after a bulk argument of 1 bytes, got 'b'"))
        #expect(requestError("SET \"a\r\n") == .protocolError("Protocol error: unbalanced quotes in request"))
        #expect(requestError(String(repeating: "a", count: 65 * 1024)) == .protocolError("Protocol error: too big inline request"))
        #expect(requestError("*" + String(repeating: "1", count: 65 * 1024))
                == .protocolError("Protocol error: too big mbulk count string"))
        #expect(requestError("*1\r\n$" + String(repeating: "1", count: 65 * 1024))
                == .protocolError("Protocol error: too big bulk count string"))
        #expect(RESPError.protocolError("Protocol error: invalid bulk length").reply
                == .error("ERR Protocol error: invalid bulk length"))
        // Incomplete input is no error.
        #expect(requestError("*2\r\n$3\r\nGET\r\n$1\r") == nil)
        #expect(requestError(String(repeating: "a", count: 1000)) == nil)
    }

    @Test func aFailedParserStaysFailed() {
        var parser = RESPRequestParser()
        parser.append(bytes("*1\r\n%"))
        #expect(throws: RESPError.protocolError("Protocol error: expected '$', got '%'")) { try parser.next() }
        parser.append(bytes("*1\r\n$4\r\nPING\r\n"))
        #expect(throws: RESPError.protocolError("Protocol error: expected '$', got '%'")) { try parser.next() }
    }

    @Test func anOversizedRequestIsRefusedBeforeItsBodyArrives() throws {
        var parser = RESPRequestParser(maxRequestBytes: 1024)
        parser.append(bytes("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1000\r\n"))
        #expect(throws: RESPError.tooLarge(declaredBytes: 1029, limitBytes: 1024)) { try parser.next() }
        // Just at the limit is accepted.
        var fits = RESPRequestParser(maxRequestBytes: 1029)
        fits.append(bytes("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1000\r\n") + Array(repeating: 0x61, count: 1000) + bytes("\r\n"))
        #expect(try fits.next()?.last?.count == 1000)
        // A huge declared length does not overflow, a count alone can declare too much, and many small
        // arguments add up.
        #expect(requestError("*1\r\n$9223372036854775807\r\n") == .tooLarge(declaredBytes: .max, limitBytes: 1_572_864))
        #expect(requestError("*1000\r\n", maxRequestBytes: 1024) == .tooLarge(declaredBytes: 6007, limitBytes: 1024))
        let many = "*100\r\n" + String(repeating: "$8\r\nabcdefgh\r\n", count: 100)
        #expect(requestError(many, maxRequestBytes: 1024) == .tooLarge(declaredBytes: 1028, limitBytes: 1024))
        #expect(requestError(String(repeating: "a", count: 600), maxRequestBytes: 512)
                == .protocolError("Protocol error: too big inline request"))
    }

    static let everyKind: [RESPValue] = [
        .simpleString("OK"), .error("ERR bad"), .integer(-42), .integer(.max), .bulkString(bytes("a\r\nb")), .bulk(""),
        .null, .array([]), .array([.integer(1), .array([.bulk("x"), .null])]),
        .map([(.bulk("k"), .integer(1)), (.simpleString("s"), .array([]))]), .set([.bulk("m")]), .push([.bulk("message")]),
        .double(1.5), .double(-.infinity), .double(.nan), .boolean(true), .boolean(false),
        .bigNumber("-123456789012345678901234567890"), .verbatim(format: "txt", text: bytes("some text")),
    ]

    @Test func repliesAreEncodedByteExactlyInRESP2AndRESP3() {
        func both(_ v: RESPValue) -> (String, String) {
            (String(decoding: v.encoded(protocolVersion: 2), as: UTF8.self), String(decoding: v.encoded(protocolVersion: 3), as: UTF8.self))
        }
        #expect(both(.null) == ("$-1\r\n", "_\r\n"))
        #expect(both(.ok) == ("+OK\r\n", "+OK\r\n"))
        #expect(both(.error("ERR bad\r\nthing")) == ("-ERR bad  thing\r\n", "-ERR bad  thing\r\n"), "CR and LF cannot break framing")
        #expect(both(.integer(-1234567)) == (":-1234567\r\n", ":-1234567\r\n"))
        #expect(both(.integer(.min)).0 == ":-9223372036854775808\r\n")
        #expect(both(.integer(0)).0 == ":0\r\n")
        #expect(both(.bulk("héllo")) == ("$6\r\nhéllo\r\n", "$6\r\nhéllo\r\n"))
        #expect(both(.array([.bulk("a"), .null, .integer(2)])) == ("*3\r\n$1\r\na\r\n$-1\r\n:2\r\n", "*3\r\n$1\r\na\r\n_\r\n:2\r\n"))
        #expect(both(.map([(.bulk("proto"), .integer(3)), (.bulk("modules"), .array([]))]))
                == ("*4\r\n$5\r\nproto\r\n:3\r\n$7\r\nmodules\r\n*0\r\n", "%2\r\n$5\r\nproto\r\n:3\r\n$7\r\nmodules\r\n*0\r\n"))
        #expect(both(.set([.integer(1)])) == ("*1\r\n:1\r\n", "~1\r\n:1\r\n"))
        #expect(both(.push([])) == ("*0\r\n", ">0\r\n"))
        #expect(both(.double(2.5)) == ("$3\r\n2.5\r\n", ",2.5\r\n"))
        #expect(both(.double(-.infinity)) == ("$4\r\n-inf\r\n", ",-inf\r\n"))
        #expect(both(.boolean(true)) == (":1\r\n", "#t\r\n"))
        #expect(both(.bigNumber("12")) == ("$2\r\n12\r\n", "(12\r\n"))
        #expect(both(.verbatim(format: "txt", text: bytes("hi"))) == ("$2\r\nhi\r\n", "=6\r\ntxt:hi\r\n"))
        var batch: [UInt8] = []
        RESPValue.ok.encode(into: &batch, protocolVersion: 2)
        RESPValue.integer(1).encode(into: &batch, protocolVersion: 2)
        #expect(batch == bytes("+OK\r\n:1\r\n"), "replies gather in one buffer")
    }

    @Test func theReplyParserRoundTripsEveryKind() throws {
        let stream = Self.everyKind.flatMap { $0.encoded(protocolVersion: 3) }
        for cut in 0...stream.count {
            var parser = RESPReplyParser()
            parser.append(Array(stream[..<cut]))
            var got = try drain(&parser)
            parser.append(Array(stream[cut...]))
            got += try drain(&parser)
            #expect(got == Self.everyKind, "split at byte \(cut)")
        }
        // In RESP2 each value comes back as Redis sends it to a RESP2 client.
        var parser = RESPReplyParser()
        for v in Self.everyKind { parser.append(v.encoded(protocolVersion: 2)) }
        let downgraded = try drain(&parser)
        #expect(downgraded.count == Self.everyKind.count)
        #expect(downgraded[9] == .array([.bulk("k"), .integer(1), .simpleString("s"), .array([])]))
        #expect(downgraded[12] == .bulk("1.5"))
        #expect(downgraded[15] == .integer(1))
        #expect(downgraded[18] == .bulk("some text"))
    }

    @Test func theReplyParserReadsNullFormsAttributesAndBlobErrors() throws {
        var parser = RESPReplyParser()
        parser.append(bytes("$-1\r\n*-1\r\n_\r\n!9\r\nERR oops!\r\n|1\r\n+ttl\r\n:3\r\n:7\r\n,1e3\r\n"))
        #expect(try drain(&parser) == [.null, .null, .null, .error("ERR oops!"), .integer(7), .double(1000)])
        #expect(parser.bufferedBytes == 0)
    }

    @Test func theReplyParserRejectsMalformedAndOversizedReplies() {
        #expect(replyError(bytes("?x\r\n")) == .protocolError("Protocol error: unknown reply type '?'"))
        #expect(replyError(bytes(":1x\r\n")) == .protocolError("Protocol error: invalid integer reply '1x'"))
        #expect(replyError(bytes("$-2\r\n")) == .protocolError("Protocol error: invalid bulk length '-2'"))
        #expect(replyError(bytes("*-2\r\n")) == .protocolError("Protocol error: invalid multibulk length '-2'"))
        #expect(replyError(bytes("#x\r\n")) == .protocolError("Protocol error: invalid boolean reply 'x'"))
        #expect(replyError(bytes(",one\r\n")) == .protocolError("Protocol error: invalid double reply 'one'"))
        #expect(replyError(bytes("(1.5\r\n")) == .protocolError("Protocol error: invalid big number reply '1.5'"))
        #expect(replyError(bytes("_x\r\n")) == .protocolError("Protocol error: null reply with text 'x'"))
        #expect(replyError(bytes("=2\r\nhi\r\n")) == .protocolError("Protocol error: verbatim string 'hi' lacks its 'fmt:' prefix"))
        #expect(replyError(bytes("+a\rb")) == .protocolError("Protocol error: expected LF after CR in a reply line, got 'b'"))
        #expect(replyError(bytes(String(repeating: "*1\r\n", count: 100) + ":1\r\n"))
                == .protocolError("Protocol error: reply nested deeper than 64 levels"))
        #expect(replyError(bytes("$2000\r\n"), maxReplyBytes: 1024) == .tooLarge(declaredBytes: 2009, limitBytes: 1024))
        #expect(replyError(bytes("*1000\r\n"), maxReplyBytes: 1024) == .tooLarge(declaredBytes: 3007, limitBytes: 1024))
        #expect(replyError(bytes("%9223372036854775807\r\n")) == .tooLarge(declaredBytes: .max, limitBytes: 1 << 24))
        #expect(replyError(bytes("+" + String(repeating: "a", count: 2000)), maxReplyBytes: 1024)
                == .tooLarge(declaredBytes: 2001, limitBytes: 1024))
        #expect(replyError(bytes("*2\r\n:1\r\n")) == nil, "incomplete is no error")
    }

    @Test func randomAndMutatedBytesNeverTrapAndEveryRejectionIsARESPError() {
        var random = XorShift(state: 0x9E37_79B9_7F4A_7C15)
        let requestSeeds = [Self.pipeline, bytes("*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n"), bytes("SET k \"v\\x41\" 'w'\r\n")]
        let replySeeds = [Self.everyKind.flatMap { $0.encoded(protocolVersion: 3) }, Self.everyKind.flatMap { $0.encoded(protocolVersion: 2) }]
        let alphabet = bytes("*$%+-:_#,(!=|~>\r\n0123456789-\"' \\x")
        var rejected = 0, parsed = 0
        for iteration in 0..<2000 {
            let seeds = iteration % 2 == 0 ? requestSeeds : replySeeds
            var input: [UInt8]
            if random.below(4) == 0 {
                input = (0..<random.below(300)).map { _ in random.below(2) == 0 ? UInt8(truncatingIfNeeded: random.next()) : alphabet[random.below(alphabet.count)] }
            } else {
                input = seeds[random.below(seeds.count)]
                for _ in 0..<(1 + random.below(4)) where !input.isEmpty {
                    let at = random.below(input.count)
                    switch random.below(4) {
                    case 0: input[at] = UInt8(truncatingIfNeeded: random.next())
                    case 1: input[at] = alphabet[random.below(alphabet.count)]
                    case 2: input.insert(alphabet[random.below(alphabet.count)], at: at)
                    default: input.removeSubrange(at..<min(input.count, at + 1 + random.below(8)))
                    }
                }
            }
            var requests = RESPRequestParser(maxRequestBytes: 256, maxArguments: 64)
            var replies = RESPReplyParser(maxReplyBytes: 256)
            var offset = 0
            var requestFailure: RESPError?, replyFailure: RESPError?
            while offset < input.count {
                let end = min(input.count, offset + 1 + random.below(40))
                let chunk = Array(input[offset..<end])
                offset = end
                requests.append(chunk)
                replies.append(chunk)
                do { parsed += try drain(&requests).count } catch { requestFailure = requestFailure ?? error }
                do { parsed += try drain(&replies).count } catch { replyFailure = replyFailure ?? error }
                #expect(requests.bufferedBytes <= offset && replies.bufferedBytes <= offset)
            }
            for failure in [requestFailure, replyFailure].compactMap({ $0 }) {
                rejected += 1
                #expect(!failure.description.isEmpty && !failure.description.contains("\n"), "\(failure)")
            }
        }
        // The loop exercised both outcomes.
        #expect(rejected > 1000)
        #expect(parsed > 5000)
    }
}
