import Testing
@testable import MultiPaxos

@Suite struct FrameDecoderTests {
    let payloads = wireSamples.map(WireCodec.encode)
    var stream: [UInt8] { payloads.flatMap(Frame.frame) }

    @Test func aFrameIsLengthChecksumPayload() {
        let framed = Frame.frame([1, 2, 3])
        #expect(framed.count == Frame.headerBytes + 3)
        #expect(framed[0..<4] == [3, 0, 0, 0])
        let crc = FileLog.crc32([1, 2, 3])
        #expect(framed[4..<8] == [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: crc >> $0) }[...])
        #expect(framed[8...] == [1, 2, 3])
    }

    @Test func framesFedOneByteAtATimeDecode() throws {
        var decoder = FrameDecoder()
        var got: [[UInt8]] = []
        let largest = payloads.map(\.count).max() ?? 0
        for byte in stream {
            decoder.append([byte])
            got += try drain(&decoder)
            // At most one partial frame stays buffered.
            #expect(decoder.bufferedBytes < Frame.headerBytes + largest)
        }
        #expect(got == payloads)
        #expect(decoder.bufferedBytes == 0)
    }

    @Test func severalFramesInOneChunkDecodeInOrder() throws {
        var decoder = FrameDecoder()
        stream.withUnsafeBytes { decoder.append($0) }
        #expect(try drain(&decoder) == payloads)
        #expect(try decoder.next() == nil)
        let messages = try payloads.map(WireCodec.decode)
        #expect(messages == wireSamples)
    }

    @Test func aTruncatedPayloadWaitsForTheRest() throws {
        let framed = Frame.frame(payloads[8])
        var decoder = FrameDecoder()
        decoder.append(Array(framed.dropLast(3)))
        #expect(try decoder.next() == nil)
        #expect(try decoder.next() == nil)
        decoder.append(Array(framed.suffix(3)) + framed)  // the rest, and the same frame again
        #expect(try decoder.next() == payloads[8])
        #expect(try decoder.next() == payloads[8])
        #expect(try decoder.next() == nil)
    }

    @Test func aCorruptedByteFailsTheChecksumAndEndsTheStream() throws {
        var framed = Frame.frame(payloads[0])
        framed[Frame.headerBytes + 5] ^= 0x10
        var decoder = FrameDecoder()
        decoder.append(Frame.frame(payloads[1]) + framed + Frame.frame(payloads[2]))
        #expect(try decoder.next() == payloads[1])
        let expected = WireError.badChecksum(expected: FileLog.crc32(payloads[0]),
                                             actual: FileLog.crc32(Array(framed[Frame.headerBytes...])))
        #expect(thrown { try decoder.next() } == expected)
        // The framing is lost: the good frame after it is not read, and later bytes are dropped.
        #expect(thrown { try decoder.next() } == expected)
        decoder.append(Frame.frame(payloads[3]))
        #expect(decoder.bufferedBytes == 0 && decoder.failure == expected)
    }

    @Test func anOversizedLengthIsRefusedBeforeItsPayloadArrives() throws {
        var small = FrameDecoder(maxFrameBytes: 100)
        small.append([101, 0, 0])
        #expect(try small.next() == nil)
        small.append([0])
        #expect(thrown { try small.next() } == .oversized(length: 101, limit: 100))
        var standard = FrameDecoder()
        let length = UInt32(Frame.maxFrameBytes + 1)
        standard.append((0..<4).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) })
        #expect(thrown { try standard.next() } == .oversized(length: Frame.maxFrameBytes + 1, limit: 16 << 20))
        #expect(standard.bufferedBytes == 0)
        // A frame exactly at the limit is accepted.
        var exact = FrameDecoder(maxFrameBytes: 100)
        exact.append(Frame.frame([UInt8](repeating: 7, count: 100)))
        #expect(try exact.next() == [UInt8](repeating: 7, count: 100))
    }

    @Test func manySmallReadsKeepTheBufferSmall() throws {
        // 10,000 frames through 7-byte reads: consumed bytes are dropped as reading goes, not kept.
        var decoder = FrameDecoder()
        let one = Frame.frame(payloads[0])
        var count = 0
        var pending: [UInt8] = []
        for _ in 0..<10_000 {
            pending += one
            while pending.count >= 7 {
                decoder.append(Array(pending.prefix(7)))
                pending.removeFirst(7)
                count += try drain(&decoder).count
                #expect(decoder.bufferedBytes < one.count + 7)
            }
        }
        decoder.append(pending)
        count += try drain(&decoder).count
        #expect(count == 10_000)
    }
}

@Suite struct HandshakeTests {
    let hello = try! Handshake(clusterID: "prod-east", node: NodeID(5))

    @Test func aHandshakeFedOneByteAtATimeDecodesThenMessagesFollow() throws {
        let bytes = hello.encoded()
        #expect(Array(bytes.prefix(10)) == Array("MPAXNET".utf8) + [0, 6, 0])
        var decoder = FrameDecoder()
        for (i, byte) in bytes.enumerated() {
            decoder.append([byte])
            let got = try decoder.nextHandshake()
            #expect((got == nil) == (i < bytes.count - 1))
            if let got { #expect(got == hello && got.version == Handshake.protocolVersion) }
        }
        let join = WireCodec.encode(.join(Join()))
        decoder.append(Frame.frame(join))
        #expect(try decoder.next() == join)
    }

    @Test func theHandshakeAndFirstMessagesInOneChunk() throws {
        var decoder = FrameDecoder()
        let messages = wireSamples.prefix(3).map(WireCodec.encode)
        decoder.append(hello.encoded() + messages.flatMap(Frame.frame))
        #expect(try decoder.nextHandshake() == hello)
        #expect(try drain(&decoder) == messages)
    }

    @Test func foreignBytesAreRefusedAsSoonAsTheyDiffer() throws {
        var http = FrameDecoder()
        http.append(Array("GET / HTTP/1.1\r\n".utf8))
        let error = thrown { try http.nextHandshake() }
        #expect(error == .foreignPeer(firstBytes: Array("GET / HT".utf8)))
        #expect(error?.description == #"foreign peer: the connection began with 47 45 54 20 2f 20 48 54 "GET / HT", not the magic 4d 50 41 58 4e 45 54 00 "MPAXNET.""#)
        // One wrong byte is enough; a matching prefix waits.
        var early = FrameDecoder()
        early.append(Array("MPAX".utf8))
        #expect(try early.nextHandshake() == nil)
        early.append([0x21])
        #expect(thrown { try early.nextHandshake() } == .foreignPeer(firstBytes: Array("MPAX!".utf8)))
        // Random bytes.
        var rng = XorShift(state: 42)
        for _ in 0..<100 {
            var decoder = FrameDecoder()
            let noise = (0..<(1 + rng.below(32))).map { _ in rng.byte() }
            decoder.append(noise)
            guard noise.first != Handshake.magic[0] else { continue }
            #expect(thrown { try decoder.nextHandshake() } == .foreignPeer(firstBytes: Array(noise.prefix(8))))
        }
    }

    @Test func anotherVersionIsRefusedBeforeItsFrame() throws {
        var decoder = FrameDecoder()
        decoder.append(Handshake.magic + [1, 0])  // version 1: Prepare and Promise without their report slots
        #expect(thrown { try decoder.nextHandshake() } == .unsupportedVersion(1))
        #expect(WireError.unsupportedVersion(1).description == "unsupported protocol version 1 (this node speaks 6)")
        var future = FrameDecoder()
        future.append(try Handshake(clusterID: "c", node: NodeID(0), version: 0x0102).encoded())
        #expect(thrown { try future.nextHandshake() } == .unsupportedVersion(0x0102))
    }

    @Test func badClusterIDsAndNodeIDsAreRefused() {
        let long = String(repeating: "é", count: 33)  // 66 bytes
        #expect(thrown { try Handshake(clusterID: "", node: NodeID(0)) }
            == .badHandshake(#"cluster id "" is 0 bytes, not 1 to 64"#))
        #expect(thrown { try Handshake(clusterID: long, node: NodeID(0)) }
            == .badHandshake("cluster id \(long.debugDescription) is 66 bytes, not 1 to 64"))
        #expect(thrown { try Handshake(clusterID: "a\nb", node: NodeID(0)) }
            == .badHandshake(#"cluster id "a\nb" contains a control character"#))
        #expect(thrown { try Handshake(clusterID: String(repeating: "x", count: 64), node: NodeID(63)) } == nil)

        func received(_ payload: [UInt8]) -> WireError? {
            var decoder = FrameDecoder()
            decoder.append(Handshake.magic + [6, 0] + Frame.frame(payload))
            return thrown { try decoder.nextHandshake() }
        }
        var node64 = hello.payload
        node64[node64.count - 4] = 64
        #expect(received(node64) == .badHandshake("node id 64 is not a node id (0..<64)"))
        #expect(received(hello.payload + [0]) == .badHandshake("1 trailing bytes after the node id"))
        #expect(received([2, 0, 0, 0, 0xC3, 0x28, 0, 0, 0, 0])
            == .badHandshake(#"cluster id c3 28 ".(" is not UTF-8"#))
        #expect(received([9, 0, 0, 0]) == .badHandshake("payload of 4 bytes is cut short: blob of 9 bytes at offset 4 runs past the end (4)"))
        // A peer not yet identified may not make a node buffer a large frame.
        #expect(received([UInt8](repeating: 0, count: 73)) == .oversized(length: 73, limit: 72))
    }

    @Test func descriptionsAreOneLineAndNameTheValue() {
        let errors: [WireError] = [
            .foreignPeer(firstBytes: [0x0A, 0x0D]), .unsupportedVersion(9), .oversized(length: 20_000_000, limit: 16 << 20),
            .badChecksum(expected: 0xABCD, actual: 1), .malformed("Accept: slot 1 at offset 13 is out of range"),
            .badHandshake(#"cluster id "a\nb" contains a control character"#),
        ]
        for e in errors { #expect(!e.description.contains("\n"), "\(e)") }
        #expect(errors[2].description == "frame of 20000000 bytes is over the limit of 16777216 bytes")
        #expect(errors[3].description == "frame checksum 0x0000abcd does not match its payload's 0x00000001")
        #expect(errors[0].description.hasSuffix(#"0a 0d "..", not the magic 4d 50 41 58 4e 45 54 00 "MPAXNET.""#))
    }
}
