import Testing
@testable import MultiPaxos

/// One message of every kind, with fields that are not all zero: commands with operations, no-ops, snapshots
/// with replies and rejoins, both scopes, a refused promise and a refused accept.
let wireSamples: [Message] = {
    let put = command(7, 3, .put("key", "value"))
    let cas = command(1 << 40, 99, .compareAndSet("k", expected: nil, new: "ü"))
    let ballot = Ballot(round: 2 << 32 | 5, leader: n(2))
    let higher = Ballot(round: 2 << 32 | 9, leader: n(63))
    let snapshot = Snapshot(
        nextSlot: Slot(41), machine: KeyValueStore().snapshot() + [1, 2, 3],
        replies: [ReplyCacheEntry(client: ClientID(7), request: RequestNumber(3), result: Array("old".utf8)),
                  ReplyCacheEntry(client: ClientID(.max), request: RequestNumber(1), result: [])],
        membershipEpoch: 2,
        rejoins: [RejoinEntry(node: n(4), nonce: 0xDEAD_BEEF, epoch: 1), RejoinEntry(node: n(63), nonce: .max, epoch: 2)])
    let pvalues = [PValue(ballot: ballot, slot: Slot(41), value: .command(put)),
                   PValue(ballot: higher, slot: Slot(42), value: .noop)]
    return [
        .request(Request(command: put)),
        .request(Request(command: cas, consistency: .readIndex)),
        .request(Request(command: put, consistency: .log)),
        .request(Request(command: cas, consistency: .lease)),
        .reply(Reply(key: put.key, result: Array("old".utf8))),
        .propose(Propose(command: cas, forwarded: true)),
        .propose(Propose(command: put, forwarded: false)),
        .fillHole(FillHole(slot: Slot(12))),
        .decision(Decision(ballot: ballot, slot: Slot(40), value: .command(cas))),
        .decision(Decision(ballot: ballot, slot: Slot(Int64.max - 1), value: .noop)),
        .catchUpRequest(CatchUpRequest(from: Slot(3))),
        .catchUpRequest(CatchUpRequest(from: Slot(3), resume: SnapshotCursor(nextSlot: Slot(90), offset: 1 << 20))),
        .catchUpReply(CatchUpReply(snapshot: nil, first: Slot(90), values: [],
                                   chunk: SnapshotChunk(nextSlot: Slot(90), total: 9, offset: 0, bytes: [0xFF, 0],
                                                        header: Snapshot(nextSlot: Slot(90), machine: [], replies: [])))),
        .catchUpReply(CatchUpReply(snapshot: nil, first: Slot(90), values: [],
                                   chunk: SnapshotChunk(nextSlot: Slot(90), total: 9, offset: 2, bytes: [1, 2, 3, 4, 5, 6, 7], header: nil))),
        .catchUpReply(CatchUpReply(snapshot: snapshot, first: Slot(41), values: [.command(put), .noop])),
        .catchUpReply(CatchUpReply(snapshot: nil, first: Slot(7), values: [.noop, .command(cas), .command(put)])),
        .startPhase1(StartPhase1(ballot: ballot, scope: .from(Slot(5)))),
        .prepare(Prepare(ballot: ballot, scope: .only(Slot(9)))),
        .prepare(Prepare(ballot: higher, scope: .from(.zero))),
        .promise(Promise(ballot: ballot, promised: ballot, scope: .from(Slot(40)), accepted: pvalues,
                         trimmedBelow: Slot(30), slotsEnd: Slot(43))),
        .promise(Promise(ballot: ballot, promised: higher, scope: .only(Slot(8)), accepted: [],
                         trimmedBelow: .zero, slotsEnd: Slot(Int64.max))),
        .adopted(Adopted(ballot: higher, scope: .from(Slot(1)), accepted: pvalues, trimmedBelow: Slot(1), slotsEnd: Slot(43))),
        .preempted(Preempted(ballot: ballot, by: higher)),
        .accept(Accept(ballot: higher, slot: Slot(17), value: .command(put))),
        .accepted(Accepted(ballot: higher, promised: higher, slot: Slot(17))),
        .accepted(Accepted(ballot: ballot, promised: higher, slot: Slot(18))),
        .heartbeat(Heartbeat(ballot: higher, nextSlot: Slot(44), trimBelow: Slot(30))),
        .heartbeatReply(HeartbeatReply(ballot: higher, applied: Slot(41), acceptedEnd: Slot(44))),
        .join(Join()),
        .welcome(Welcome(snapshot: snapshot, leader: higher)),
        .welcome(Welcome(snapshot: emptySnapshot, leader: .initial)),
        .welcome(Welcome(snapshot: nil, leader: higher, founders: [n(1): 7, n(4): UInt64.max])),
        .join(Join(nonce: 0xFEED_FACE_CAFE_BEEF, isNew: false)),
        .preVote(PreVote(ballot: higher, applied: Slot(77))),
        .preVoteGrant(PreVoteGrant(ballot: higher, highest: ballot)),
        .transferLeadership(TransferLeadership(target: n(63))),
        .transferLeadership(TransferLeadership(target: n(2), forwarded: true)),
        .timeoutNow(TimeoutNow(ballot: higher, nextSlot: Slot(44))),
        .readIndexRequest(ReadIndexRequest(key: cas.key)),
        .readIndexRequest(ReadIndexRequest(key: put.key, lease: true)),
        .readIndexReply(ReadIndexReply(key: put.key, index: Slot(Int64.max), leader: higher)),
        .readIndexReply(ReadIndexReply(key: cas.key, index: nil, leader: .initial)),
        .readConfirm(ReadConfirm(ballot: higher, round: ReadRound(.max))),
        .readConfirmReply(ReadConfirmReply(ballot: ballot, round: ReadRound(7), promised: ballot, acceptedEnd: Slot(44))),
        .readConfirmReply(ReadConfirmReply(ballot: ballot, round: ReadRound(8), promised: higher, acceptedEnd: .zero)),
    ]
}()

/// The wire error `body` throws, or nil; any other error fails the test.
func thrown<R>(_ body: () throws -> R) -> WireError? {
    do {
        _ = try body()
        return nil
    } catch let error as WireError {
        return error
    } catch {
        Issue.record("not a WireError: \(error)")
        return nil
    }
}

/// Every payload `decoder` has complete, in order.
func drain(_ decoder: inout FrameDecoder) throws(WireError) -> [[UInt8]] {
    var payloads: [[UInt8]] = []
    while let p = try decoder.next() { payloads.append(p) }
    return payloads
}

/// A small deterministic generator (xorshift64), so that a failing mutation can be replayed.
@Suite struct WireCodecTests {
    @Test func everyKindRoundTripsWithEveryField() throws {
        #expect(Set(wireSamples.map(\.kind)) == Set(MessageKind.allCases))
        for message in wireSamples {
            let payload = WireCodec.encode(message)
            let decoded = try WireCodec.decode(payload)
            #expect(decoded == message, "\(message)")
            #expect(String(describing: decoded) == String(describing: message))
            #expect(payload.first == WireCodec.tag(of: message.kind))
        }
    }

    /// The size the simulation holds messages to (Message.encodedSizeEstimate) is at least what the codec
    /// writes, for every kind and for messages whose values are large, and not wildly more.
    @Test func theSizeEstimateBoundsTheEncodedPayload() {
        let big = ByteString(Array(repeating: 0xFF, count: 100_000))
        let commands = (0..<50).map { command(UInt64($0 + 1), 1, .put("key\($0)", big)) }
        let ballot = Ballot(round: 7, leader: n(1))
        let pvalues = commands.enumerated().map { PValue(ballot: ballot, slot: Slot(Int64($0.offset)), value: .command($0.element)) }
        let large: [Message] = [
            .request(Request(command: commands[0])),
            .accept(Accept(ballot: ballot, slot: Slot(3), value: .batch(commands))),
            .decision(Decision(ballot: ballot, slot: Slot(3), value: .batch(commands))),
            .promise(Promise(ballot: ballot, promised: ballot, scope: .from(.zero), accepted: pvalues,
                             trimmedBelow: .zero, slotsEnd: Slot(50))),
            .catchUpReply(CatchUpReply(snapshot: nil, first: .zero, values: commands.map { .command($0) })),
            .catchUpReply(CatchUpReply(snapshot: nil, first: .zero, values: [],
                                       chunk: SnapshotChunk(nextSlot: Slot(9), total: 1 << 30, offset: 0, bytes: big.bytes, header: nil))),
        ]
        for message in wireSamples + large {
            let encoded = WireCodec.encode(message).count
            #expect(encoded <= message.encodedSizeEstimate, "\(message.kind): \(encoded) bytes, estimated \(message.encodedSizeEstimate)")
            #expect(message.encodedSizeEstimate <= 2 * encoded + 256, "\(message.kind): \(encoded) bytes, estimated \(message.encodedSizeEstimate)")
        }
    }

    @Test func tagsAreDistinctFixedAndBelowTheReservedRange() {
        let tags = MessageKind.allCases.map(WireCodec.tag(of:))
        #expect(Set(tags).count == tags.count)
        #expect(tags.allSatisfy { $0 >= 1 && $0 < WireCodec.firstReservedTag })
        #expect(WireCodec.tag(of: .request) == 1 && WireCodec.tag(of: .promise) == 10 && WireCodec.tag(of: .welcome) == 18
                && WireCodec.tag(of: .preVote) == 19 && WireCodec.tag(of: .preVoteGrant) == 20
                && WireCodec.tag(of: .readIndexRequest) == 21 && WireCodec.tag(of: .readConfirmReply) == 24
                && WireCodec.tag(of: .transferLeadership) == 25 && WireCodec.tag(of: .timeoutNow) == 26)
    }

    @Test func unknownAndReservedTagsAndEmptyPayloadsAreMalformed() {
        for tag: UInt8 in [0, 27, 0x7F, 0x80, 0xFF] {
            guard case .malformed(let reason)? = thrown({ try WireCodec.decode([tag]) }) else {
                Issue.record("tag \(tag) was accepted")
                continue
            }
            #expect(reason.contains("tag \(tag)"))
        }
        #expect(thrown { try WireCodec.decode([]) } == .malformed("the payload is empty (no message tag)"))
    }

    @Test func aNodeIDOf64IsMalformed() {
        // Prepare: tag, ballot round (8 bytes), ballot leader (4 bytes) at offset 9.
        var payload = WireCodec.encode(.prepare(Prepare(ballot: Ballot(round: 3, leader: n(1)), scope: .from(.zero))))
        payload[9] = 64
        #expect(thrown { try WireCodec.decode(payload) }
            == .malformed("Prepare: ballot leader 64 at offset 9 is not a node id (0..<64)"))
        // A rejoined node inside a Welcome's snapshot.
        let snapshot = Snapshot(nextSlot: .zero, machine: [], replies: [], rejoins: [RejoinEntry(node: n(63), nonce: 1, epoch: 1)])
        var welcome = WireCodec.encode(.welcome(Welcome(snapshot: snapshot, leader: .initial)))
        let nodeAt = welcome.count - 4 - 12 - 4 - 20  // before the voter count, the leader ballot and founders: node, nonce, epoch
        #expect(welcome[nodeAt] == 63)
        welcome[nodeAt] = 64
        guard case .malformed(let reason)? = thrown({ try WireCodec.decode(welcome) }) else {
            Issue.record("a rejoined node 64 was accepted")
            return
        }
        #expect(reason.contains("rejoined node 64"))
    }

    @Test func aTransferToNode64OrWithABadFlagIsMalformed() {
        // TransferLeadership: tag, target (4 bytes) at offset 1, forwarded flag at offset 5.
        var payload = WireCodec.encode(.transferLeadership(TransferLeadership(target: n(5))))
        #expect(payload == [WireCodec.tag(of: .transferLeadership), 5, 0, 0, 0, 0])
        payload[1] = 64
        #expect(thrown { try WireCodec.decode(payload) }
            == .malformed("TransferLeadership: transfer target 64 at offset 1 is not a node id (0..<64)"))
        payload[1...4] = [0xFF, 0xFF, 0xFF, 0xFF]
        #expect(thrown { try WireCodec.decode(payload) }
            == .malformed("TransferLeadership: transfer target 4294967295 at offset 1 is not a node id (0..<64)"))
        let flagged = [WireCodec.tag(of: .transferLeadership), 1, 0, 0, 0, 7]
        #expect(thrown { try WireCodec.decode(flagged) }
            == .malformed("TransferLeadership: forwarded flag 7 at offset 5 is neither 0 nor 1"))
        // TimeoutNow: tag, ballot (12), next slot (8); cut short, and with a slot past Int64.max.
        let timeoutNow = WireCodec.encode(.timeoutNow(TimeoutNow(ballot: Ballot(round: 4, leader: n(1)), nextSlot: Slot(9))))
        #expect(timeoutNow.count == 21 && WireCodec.tag(of: .timeoutNow) == 26 && WireCodec.tag(of: .transferLeadership) == 25)
        #expect(thrown { try WireCodec.decode(Array(timeoutNow.prefix(20))) } != nil)
        var far = timeoutNow
        far[20] = 0x80
        #expect(thrown { try WireCodec.decode(far) }
            == .malformed("TimeoutNow: slot 9223372036854775817 at offset 13 is out of range"))
    }

    @Test func trailingBytesAreMalformed() {
        for message in wireSamples {
            guard case .malformed(let reason)? = thrown({ try WireCodec.decode(WireCodec.encode(message) + [0]) }) else {
                Issue.record("\(message) with a trailing byte was accepted")
                continue
            }
            #expect(reason.contains("1 trailing bytes"), "\(reason)")
        }
    }

    @Test func slotsFlagsAndCountsOutOfRangeAreMalformed() {
        func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        let fillHole = WireCodec.tag(of: .fillHole)
        #expect(thrown { try WireCodec.decode([fillHole] + le64(1 << 63)) }
            == .malformed("FillHole: slot 9223372036854775808 at offset 1 is out of range"))
        // A slot that holds a value must have a successor; an end may be Int64.max.
        #expect(thrown { try WireCodec.decode([fillHole] + le64(UInt64(Int64.max))) }
            == .malformed("FillHole: slot 9223372036854775807 at offset 1 has no successor"))
        var propose = WireCodec.encode(.propose(Propose(command: command(1, 1), forwarded: true)))
        propose[propose.count - 1] = 2
        #expect(thrown { try WireCodec.decode(propose) }
            == .malformed("Propose: forwarded flag 2 at offset \(propose.count - 1) is neither 0 nor 1"))
        // CatchUpReply without snapshot: tag, flag, first slot (8), value count (4) at offset 10, chunk flag.
        var reply = WireCodec.encode(.catchUpReply(CatchUpReply(snapshot: nil, first: Slot(5), values: [.noop])))
        reply[10...13] = [0x40, 0x42, 0x0F, 0x00]  // a million values in one byte
        #expect(thrown { try WireCodec.decode(reply) }
            == .malformed("CatchUpReply: value count 1000000 at offset 10 needs more than the 2 bytes left"))
        let pastEnd = [WireCodec.tag(of: .catchUpReply), 0] + le64(UInt64(Int64.max)) + [1, 0, 0, 0, 0]
        #expect(thrown { try WireCodec.decode(pastEnd) }
            == .malformed("CatchUpReply: 1 values from slot 9223372036854775807 at offset 2 run past Int64.max"))
        // A request's consistency is 0, 1, 2 or 3; a read index request's lease flag 0 or 1; a read index
        // reply's index flag 0 or 1, and its index a slot.
        var request = WireCodec.encode(.request(Request(command: command(1, 1), consistency: .lease)))
        #expect(request.last == 3)
        request[request.count - 1] = 4
        #expect(thrown { try WireCodec.decode(request) }
            == .malformed("Request: read consistency 4 at offset \(request.count - 1) is not 0, 1, 2 or 3"))
        let key = RequestKey(client: ClientID(1), request: RequestNumber(1))
        var indexRequest = WireCodec.encode(.readIndexRequest(ReadIndexRequest(key: key, lease: true)))
        #expect(indexRequest.count == 18 && indexRequest[17] == 1)
        indexRequest[17] = 2
        #expect(thrown { try WireCodec.decode(indexRequest) }
            == .malformed("ReadIndexRequest: lease flag 2 at offset 17 is not 0 or 1"))
        var indexReply = WireCodec.encode(.readIndexReply(ReadIndexReply(key: key, index: nil, leader: .initial)))
        indexReply[17] = 2  // tag, client (8), request (8), then the flag
        #expect(thrown { try WireCodec.decode(indexReply) }
            == .malformed("ReadIndexReply: index flag 2 at offset 17 is neither 0 nor 1"))
        let pastInt64 = [WireCodec.tag(of: .readIndexReply)] + le64(1) + le64(1) + [1] + le64(1 << 63) + le64(0) + [0, 0, 0, 0]
        #expect(thrown { try WireCodec.decode(pastInt64) }
            == .malformed("ReadIndexReply: slot 9223372036854775808 at offset 18 is out of range"))
        let confirm = [WireCodec.tag(of: .readConfirm)] + le64(1) + [64, 0, 0, 0] + le64(1)
        #expect(thrown { try WireCodec.decode(confirm) }
            == .malformed("ReadConfirm: ballot leader 64 at offset 9 is not a node id (0..<64)"))
        #expect(thrown { try WireCodec.decode(Array(WireCodec.encode(.readConfirm(ReadConfirm(ballot: .initial, round: ReadRound(1)))).dropLast())) }
            == .malformed("ReadConfirm: input ends at byte 20, expected more"))
        let operation = Command(key: RequestKey(client: ClientID(1), request: RequestNumber(1)), operation: Array(1...8))
        let cut = Array(WireCodec.encode(.decision(Decision(ballot: .initial, slot: .zero, value: .command(operation)))).dropLast())
        #expect(thrown { try WireCodec.decode(cut) }
            == .malformed("Decision: blob of 8 bytes at offset \(cut.count - 7) runs past the end (\(cut.count))"))
    }

    /// Random mutations of valid payloads, frames and handshakes never trap: each gives a message or a WireError,
    /// and a payload that decodes is the canonical encoding of what it decoded to.
    @Test func randomMutationsNeverTrap() throws {
        var rng = XorShift(state: 0x9E37_79B9_7F4A_7C15)
        let payloads = wireSamples.map(WireCodec.encode)
        let handshake = try Handshake(clusterID: "fuzz", node: n(3)).encoded()
        var decoded = 0, refused = 0
        for _ in 0..<2_000 {
            let payload = payloads[rng.below(payloads.count)]
            let mutated = mutate(payload, &rng)
            do {
                let message = try WireCodec.decode(mutated)
                #expect(WireCodec.encode(message) == mutated)
                decoded += 1
            } catch {
                refused += 1
            }
            // The same through a frame (mutated after framing) and through a handshake stream, in random pieces.
            let streams = [(mutate(Frame.frame(payload), &rng), true), (mutate(handshake + Frame.frame(payload), &rng), false)]
            for (stream, framesOnly) in streams {
                var decoder = FrameDecoder(maxFrameBytes: 1 << 12)
                var at = 0, greeted = framesOnly
                do throws(WireError) {
                    while at < stream.count {
                        let piece = min(stream.count - at, 1 + rng.below(40))
                        decoder.append(Array(stream[at..<(at + piece)]))
                        at += piece
                        if !greeted { greeted = try decoder.nextHandshake() != nil }
                        if greeted { for p in try drain(&decoder) { _ = thrown { try WireCodec.decode(p) } } }
                    }
                } catch {
                    #expect(decoder.failure == error && decoder.bufferedBytes == 0)
                }
            }
        }
        #expect(decoded > 0 && refused > 0, "decoded \(decoded), refused \(refused)")
    }

    private func mutate(_ bytes: [UInt8], _ rng: inout XorShift) -> [UInt8] {
        var b = bytes
        for _ in 0...rng.below(3) {
            let at = rng.below(max(b.count, 1))
            switch rng.below(7) {
            case 0 where !b.isEmpty: b[at] ^= 1 << UInt8(rng.below(8))
            case 1 where !b.isEmpty: b[at] = rng.byte()
            case 2: b = Array(b.prefix(at))
            case 3: b.insert(rng.byte(), at: min(at, b.count))
            case 4 where !b.isEmpty: b.remove(at: at)
            case 5 where b.count >= at + 4:
                let interesting: [UInt32] = [0, 1, 63, 64, 0x7FFF_FFFF, 0xFFFF_FFFF]
                let v = interesting[rng.below(interesting.count)]
                for i in 0..<4 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
            default: b.append(contentsOf: b[at...].prefix(rng.below(16)))
            }
        }
        return b
    }
}
