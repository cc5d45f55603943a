/// Encodes a ``Message`` as a frame payload and decodes one, for nodes that talk over TCP. A payload is one tag
/// byte naming the kind, then the message's fields in declaration order, with the field encodings the durable
/// state uses (all integers little-endian):
///
/// - ballot: round (8 bytes), leader node id (4 bytes, below 64); slot: index (8 bytes, at most `Int64.max`; a
///   slot that holds a value — a decision's, an accept's, a pvalue's, a hole's, a single-slot scope's — is below
///   it, since the roles take its successor);
/// - value: 0 (no-op), or 1 and a command: client (8), request number (8), operation (4-byte length, bytes);
/// - node id: 4 bytes, below 64;
/// - scope: 0 and a slot (`from`), or 1 and a slot (`only`); flag: 0 or 1; optional snapshot: 0, or 1 and the
///   snapshot as the durable state writes it (next slot, machine, reply cache, membership epoch, rejoins,
///   voter configurations: a count, then each one's number, first slot and voters as a 64-bit mask);
/// - lists: a 4-byte count, then the elements.
///
/// | tag | message | fields |
/// | --- | --- | --- |
/// | 1 | Request | command, consistency (0: the cluster's, 1: log, 2: read index, 3: lease) |
/// | 2 | Reply | client, request number, result (4-byte length, bytes) |
/// | 3 | Propose | command, forwarded flag |
/// | 4 | FillHole | slot |
/// | 5 | Decision | ballot, slot, value |
/// | 6 | CatchUpRequest | from slot, optional resume cursor (snapshot slot, byte offset) |
/// | 7 | CatchUpReply | optional snapshot, first slot, values, optional chunk (snapshot slot, total, offset, bytes, optional header snapshot) |
/// | 8 | StartPhase1 (local only) | ballot, scope |
/// | 9 | Prepare | ballot, scope, optional report-from slot |
/// | 10 | Promise | ballot, promised ballot, scope, pvalues (ballot, slot, value), trimmed-below slot, slots end, optional report-from slot, optional more slot |
/// | 11 | Adopted (local only) | ballot, scope, pvalues, trimmed-below slot, slots end |
/// | 12 | Preempted (local only) | ballot, by ballot |
/// | 13 | Accept | ballot, slot, value |
/// | 14 | Accepted | ballot, promised ballot, slot |
/// | 15 | Heartbeat | ballot, next slot, trim-below slot |
/// | 16 | HeartbeatReply | ballot, applied slot, accepted end |
/// | 17 | Join | nonce (8 bytes), new flag |
/// | 18 | Welcome | optional snapshot, leader ballot, founders (count, then node id and 8-byte nonce each, by node) |
/// | 19 | PreVote | ballot, the candidate's applied slot |
/// | 20 | PreVoteGrant | ballot, highest known ballot |
/// | 21 | ReadIndexRequest | client, request number, lease flag (0 or 1) |
/// | 22 | ReadIndexReply | client, request number, optional slot (0, or 1 and the index), leader ballot |
/// | 23 | ReadConfirm | ballot, round (8 bytes) |
/// | 24 | ReadConfirmReply | ballot, round, promised ballot, accepted-end slot |
/// | 25 | TransferLeadership | target node id (4 bytes, below 64), forwarded flag |
/// | 26 | TimeoutNow | ballot, next slot |
///
/// Tag 0 is never used, so a zeroed payload is refused; tags from 0x80 up are kept for connection-level frames
/// (authentication, issue 18). The numbers are fixed: a new kind takes a new tag. "Local only" kinds never leave
/// their node; they are encoded for completeness, and a shell should drop them when a peer sends one.
public enum WireCodec {
    /// The first tag kept for connection-level frames; no message kind uses it or any above.
    public static let firstReservedTag: UInt8 = 0x80

    /// The byte a request's read consistency travels as (0 is kept for "the cluster's").
    static func consistencyTag(_ consistency: ReadConsistency) -> UInt8 {
        switch consistency {
        case .log: 1
        case .readIndex: 2
        case .lease: 3
        }
    }

    /// The tag byte of each kind (the table above).
    public static func tag(of kind: MessageKind) -> UInt8 {
        switch kind {
        case .request: 1
        case .reply: 2
        case .propose: 3
        case .fillHole: 4
        case .decision: 5
        case .catchUpRequest: 6
        case .catchUpReply: 7
        case .startPhase1: 8
        case .prepare: 9
        case .promise: 10
        case .adopted: 11
        case .preempted: 12
        case .accept: 13
        case .accepted: 14
        case .heartbeat: 15
        case .heartbeatReply: 16
        case .join: 17
        case .welcome: 18
        case .preVote: 19
        case .preVoteGrant: 20
        case .readIndexRequest: 21
        case .readIndexReply: 22
        case .readConfirm: 23
        case .readConfirmReply: 24
        case .transferLeadership: 25
        case .timeoutNow: 26
        }
    }

    /// The kind of each tag byte, nil for tags no kind uses.
    static let kindsByTag: [MessageKind?] = (0...255).map { tag in MessageKind.allCases.first { Self.tag(of: $0) == tag } }

    /// The message as a frame payload.
    public static func encode(_ message: Message) -> [UInt8] {
        var w = ByteWriter()
        w.byte(tag(of: message.kind))
        switch message {
        case .request(let m):
            w.command(m.command)
            w.byte(m.consistency.map { WireCodec.consistencyTag($0) } ?? 0)
        case .reply(let m):
            w.requestKey(m.key)
            w.blob(m.result)
        case .propose(let m):
            w.command(m.command)
            w.byte(m.forwarded ? 1 : 0)
        case .fillHole(let m): w.slot(m.slot)
        case .decision(let m): w.decided(m.ballot, m.slot, m.value)
        case .catchUpRequest(let m):
            w.slot(m.from)
            if let cursor = m.resume {
                w.byte(1); w.slot(cursor.nextSlot); w.uint64(UInt64(bitPattern: cursor.offset))
            } else {
                w.byte(0)
            }
        case .catchUpReply(let m):
            if let snapshot = m.snapshot {
                w.byte(1)
                w.snapshot(snapshot)
            } else {
                w.byte(0)
            }
            w.slot(m.first)
            w.uint32(UInt32(m.values.count))
            for v in m.values { w.value(v) }
            if let chunk = m.chunk {
                w.byte(1)
                w.slot(chunk.nextSlot)
                w.uint64(UInt64(bitPattern: chunk.total))
                w.uint64(UInt64(bitPattern: chunk.offset))
                w.blob(chunk.bytes)
                if let header = chunk.header { w.byte(1); w.snapshot(header) } else { w.byte(0) }
            } else {
                w.byte(0)
            }
        case .startPhase1(let m): w.scoped(m.ballot, m.scope)
        case .prepare(let m):
            w.scoped(m.ballot, m.scope)
            w.optionalSlot(m.reportFrom)
        case .promise(let m):
            w.ballot(m.ballot)
            w.ballot(m.promised)
            w.phase1(m.scope, m.accepted, m.trimmedBelow, m.slotsEnd)
            w.optionalSlot(m.reportFrom)
            w.optionalSlot(m.more)
        case .adopted(let m):
            w.ballot(m.ballot)
            w.phase1(m.scope, m.accepted, m.trimmedBelow, m.slotsEnd)
        case .preempted(let m):
            w.ballot(m.ballot)
            w.ballot(m.by)
        case .accept(let m): w.decided(m.ballot, m.slot, m.value)
        case .accepted(let m):
            w.ballot(m.ballot)
            w.ballot(m.promised)
            w.slot(m.slot)
        case .heartbeat(let m):
            w.ballot(m.ballot)
            w.slot(m.nextSlot)
            w.slot(m.trimBelow)
        case .heartbeatReply(let m):
            w.ballot(m.ballot)
            w.slot(m.applied)
            w.slot(m.acceptedEnd)
        case .join(let m):
            w.uint64(m.nonce)
            w.byte(m.isNew ? 1 : 0)
        case .welcome(let m):
            if let snapshot = m.snapshot {
                w.byte(1)
                w.snapshot(snapshot)
            } else {
                w.byte(0)
            }
            w.ballot(m.leader)
            w.uint32(UInt32(m.founders.count))
            for node in m.founders.keys.sorted() {
                w.uint32(UInt32(node.value))
                w.uint64(m.founders[node]!)
            }
        case .preVote(let m):
            w.ballot(m.ballot)
            w.slot(m.applied)
        case .preVoteGrant(let m):
            w.ballot(m.ballot)
            w.ballot(m.highest)
        case .transferLeadership(let m):
            w.uint32(UInt32(m.target.value))
            w.byte(m.forwarded ? 1 : 0)
        case .timeoutNow(let m):
            w.ballot(m.ballot)
            w.slot(m.nextSlot)
        case .readIndexRequest(let m):
            w.requestKey(m.key)
            w.byte(m.lease ? 1 : 0)
        case .readIndexReply(let m):
            w.requestKey(m.key)
            if let index = m.index {
                w.byte(1)
                w.slot(index)
            } else {
                w.byte(0)
            }
            w.ballot(m.leader)
        case .readConfirm(let m):
            w.ballot(m.ballot)
            w.uint64(m.round.value)
        case .readConfirmReply(let m):
            w.ballot(m.ballot)
            w.uint64(m.round.value)
            w.ballot(m.promised)
            w.slot(m.acceptedEnd)
        }
        return w.bytes
    }

    /// Decodes a frame payload, or throws ``WireError/malformed(_:)`` naming the kind, the field or offset and
    /// the bad value: an unknown tag, a node id of 64 or more, a slot past `Int64.max`, a count larger than the
    /// bytes left, a flag that is neither 0 nor 1, a payload cut short, or bytes after the message.
    public static func decode(_ payload: [UInt8]) throws(WireError) -> Message {
        var r = ByteReader(payload)
        var kind: MessageKind?
        do {
            guard let tag = payload.first else { throw ByteDecodingError("the payload is empty (no message tag)") }
            _ = try r.byte()
            guard let known = kindsByTag[Int(tag)] else {
                throw ByteDecodingError("tag \(tag) is not a message kind"
                    + (tag >= firstReservedTag ? " (it is kept for connection-level frames)" : ""))
            }
            kind = known
            let message = try r.message(of: known)
            guard r.isAtEnd else {
                throw ByteDecodingError("\(payload.count - r.offset) trailing bytes at offset \(r.offset)")
            }
            return message
        } catch {
            let reason = (error as? ByteDecodingError)?.message ?? "\(error)"
            throw .malformed(kind.map { "\($0): \(reason)" } ?? reason)
        }
    }
}

// MARK: Fields the message kinds share

extension ByteWriter {
    fileprivate mutating func decided(_ ballot: Ballot, _ slot: Slot, _ value: Value) {
        self.ballot(ballot)
        self.slot(slot)
        self.value(value)
    }
    fileprivate mutating func optionalSlot(_ slot: Slot?) {
        if let slot { byte(1); self.slot(slot) } else { byte(0) }
    }
    fileprivate mutating func scoped(_ ballot: Ballot, _ scope: PrepareScope) {
        self.ballot(ballot)
        self.scope(scope)
    }
    fileprivate mutating func scope(_ scope: PrepareScope) {
        switch scope {
        case .from(let s): byte(0); slot(s)
        case .only(let s): byte(1); slot(s)
        }
    }
    fileprivate mutating func phase1(_ scope: PrepareScope, _ accepted: [PValue], _ trimmedBelow: Slot, _ slotsEnd: Slot) {
        self.scope(scope)
        uint32(UInt32(accepted.count))
        for pv in accepted { decided(pv.ballot, pv.slot, pv.value) }
        slot(trimmedBelow)
        slot(slotsEnd)
    }
}

extension ByteReader {
    fileprivate mutating func message(of kind: MessageKind) throws -> Message {
        switch kind {
        case .request: return .request(Request(command: try command(), consistency: try consistency()))
        case .reply: return .reply(Reply(key: try requestKey(), result: try blob()))
        case .propose: return .propose(Propose(command: try command(), forwarded: try bool("forwarded flag")))
        case .fillHole: return .fillHole(FillHole(slot: try valueSlot()))
        case .decision:
            return .decision(Decision(ballot: try ballot(), slot: try valueSlot(), value: try value()))
        case .catchUpRequest:
            let from = try slot()
            guard try bool("resume flag") else { return .catchUpRequest(CatchUpRequest(from: from)) }
            let cursor = SnapshotCursor(nextSlot: try slot(), offset: try nonNegative("snapshot offset"))
            return .catchUpRequest(CatchUpRequest(from: from, resume: cursor))
        case .catchUpReply:
            let snapshot = try bool("snapshot flag") ? try self.snapshot() : nil
            let at = offset
            let first = try slot()
            let count = try self.count(of: "value", minimumBytes: 1)
            guard Int64(count) <= Int64.max - first.index else {
                throw ByteDecodingError("\(count) values from slot \(first.index) at offset \(at) run past Int64.max")
            }
            var values: [Value] = []
            values.reserveCapacity(count)
            for _ in 0..<count { values.append(try value()) }
            var chunk: SnapshotChunk?
            if try bool("chunk flag") {
                let slot = try self.slot(), total = try nonNegative("snapshot total"), at = try nonNegative("chunk offset")
                let bytes = try blob()
                guard at <= total, Int64(bytes.count) <= total - at else {
                    throw ByteDecodingError("chunk of \(bytes.count) bytes at \(at) runs past the snapshot's \(total)")
                }
                let header = try bool("header flag") ? try self.snapshot() : nil
                chunk = SnapshotChunk(nextSlot: slot, total: total, offset: at, bytes: bytes, header: header)
            }
            return .catchUpReply(CatchUpReply(snapshot: snapshot, first: first, values: values, chunk: chunk))
        case .startPhase1: return .startPhase1(StartPhase1(ballot: try ballot(), scope: try scope()))
        case .prepare:
            return .prepare(Prepare(ballot: try ballot(), scope: try scope(), reportFrom: try optionalSlot("report-from flag")))
        case .promise:
            let (ballot, promised) = (try ballot(), try ballot())
            let (scope, accepted, trimmed, end) = try phase1()
            return .promise(Promise(ballot: ballot, promised: promised, scope: scope, accepted: accepted,
                                    trimmedBelow: trimmed, slotsEnd: end, reportFrom: try optionalSlot("report-from flag"),
                                    more: try optionalSlot("more flag")))
        case .adopted:
            let ballot = try ballot()
            let (scope, accepted, trimmed, end) = try phase1()
            return .adopted(Adopted(ballot: ballot, scope: scope, accepted: accepted, trimmedBelow: trimmed, slotsEnd: end))
        case .preempted: return .preempted(Preempted(ballot: try ballot(), by: try ballot()))
        case .accept: return .accept(Accept(ballot: try ballot(), slot: try valueSlot(), value: try value()))
        case .accepted: return .accepted(Accepted(ballot: try ballot(), promised: try ballot(), slot: try valueSlot()))
        case .heartbeat: return .heartbeat(Heartbeat(ballot: try ballot(), nextSlot: try slot(), trimBelow: try slot()))
        case .heartbeatReply:
            return .heartbeatReply(HeartbeatReply(ballot: try ballot(), applied: try slot(), acceptedEnd: try slot()))
        case .join: return .join(Join(nonce: try uint64(), isNew: try bool("new flag")))
        case .welcome:
            let snapshot = try bool("snapshot flag") ? try self.snapshot() : nil
            let leader = try ballot()
            var founders: [NodeID: UInt64] = [:]
            var last: NodeID?
            for _ in 0..<(try count(of: "founder", minimumBytes: 12)) {
                let at = offset
                let node = try nodeID("founder")
                guard last.map({ $0 < node }) ?? true else {
                    throw ByteDecodingError("founder \(node) at offset \(at) does not follow \(last!) (founders go by node, once each)")
                }
                last = node
                founders[node] = try uint64()
            }
            return .welcome(Welcome(snapshot: snapshot, leader: leader, founders: founders))
        case .preVote: return .preVote(PreVote(ballot: try ballot(), applied: try slot()))
        case .preVoteGrant: return .preVoteGrant(PreVoteGrant(ballot: try ballot(), highest: try ballot()))
        case .transferLeadership:
            return .transferLeadership(TransferLeadership(target: try nodeID("transfer target"), forwarded: try bool("forwarded flag")))
        case .timeoutNow: return .timeoutNow(TimeoutNow(ballot: try ballot(), nextSlot: try slot()))
        case .readIndexRequest:
            let key = try requestKey()
            let at = offset
            switch try byte() {
            case 0: return .readIndexRequest(ReadIndexRequest(key: key))
            case 1: return .readIndexRequest(ReadIndexRequest(key: key, lease: true))
            case let flag: throw ByteDecodingError("lease flag \(flag) at offset \(at) is not 0 or 1")
            }
        case .readIndexReply:
            let key = try requestKey()
            let index = try bool("index flag") ? try slot() : nil
            return .readIndexReply(ReadIndexReply(key: key, index: index, leader: try ballot()))
        case .readConfirm: return .readConfirm(ReadConfirm(ballot: try ballot(), round: ReadRound(try uint64())))
        case .readConfirmReply:
            return .readConfirmReply(ReadConfirmReply(ballot: try ballot(), round: ReadRound(try uint64()),
                                                      promised: try ballot(), acceptedEnd: try slot()))
        }
    }

    /// A request's read consistency: 0 (the cluster's), 1 (log), 2 (read index) or 3 (lease).
    fileprivate mutating func consistency() throws -> ReadConsistency? {
        let at = offset
        switch try byte() {
        case 0: return nil
        case 1: return .log
        case 2: return .readIndex
        case 3: return .lease
        case let tag: throw ByteDecodingError("read consistency \(tag) at offset \(at) is not 0, 1, 2 or 3")
        }
    }

    /// A node id: below 64, the most a cluster has.
    fileprivate mutating func nodeID(_ field: String) throws -> NodeID {
        let at = offset
        let value = try uint32()
        guard value < UInt32(NodeSet.capacity) else {
            throw ByteDecodingError("\(field) \(value) at offset \(at) is not a node id (0..<\(NodeSet.capacity))")
        }
        return NodeID(Int(value))
    }

    /// A 64-bit count or offset that must not be negative.
    fileprivate mutating func nonNegative(_ field: String) throws -> Int64 {
        let at = offset
        let v = Int64(bitPattern: try uint64())
        guard v >= 0 else { throw ByteDecodingError("\(field) \(v) at offset \(at) is negative") }
        return v
    }

    /// A slot behind a flag byte (0: none, 1: a slot follows).
    fileprivate mutating func optionalSlot(_ field: String) throws -> Slot? {
        try bool(field) ? try valueSlot() : nil
    }

    /// A slot that holds a value: below `Int64.max`, so that the roles can take its successor.
    fileprivate mutating func valueSlot() throws -> Slot {
        let at = offset
        let s = try slot()
        guard s.index < Int64.max else { throw ByteDecodingError("slot \(s.index) at offset \(at) has no successor") }
        return s
    }

    fileprivate mutating func scope() throws -> PrepareScope {
        let at = offset
        switch try byte() {
        case 0: return .from(try slot())
        case 1: return .only(try valueSlot())
        case let tag: throw ByteDecodingError("scope tag \(tag) at offset \(at) is neither 0 nor 1")
        }
    }

    fileprivate mutating func phase1() throws -> (PrepareScope, [PValue], Slot, Slot) {
        let scope = try scope()
        let count = try self.count(of: "pvalue", minimumBytes: 12 + 8 + 1)
        var accepted: [PValue] = []
        accepted.reserveCapacity(count)
        for _ in 0..<count { accepted.append(PValue(ballot: try ballot(), slot: try valueSlot(), value: try value())) }
        return (scope, accepted, try slot(), try slot())
    }
}
