/// How many bytes messages take on the wire, estimated without encoding them (an upper bound on the wire
/// codec's payload, checked in WireCodecTests): what the simulation holds every message to against the frame
/// limit, so that a message the network would refuse is a failed check there rather than a silent stall here.
extension Message {
    /// About how many bytes the message's payload takes (at least the codec's).
    public var encodedSizeEstimate: Int {
        let fixed = 64
        switch self {
        case .request(let r): return fixed + r.command.operation.count
        case .reply(let r): return fixed + r.result.count
        case .propose(let p): return fixed + p.command.operation.count
        case .decision(let d): return fixed + d.value.encodedSizeEstimate
        case .accept(let a): return fixed + a.value.encodedSizeEstimate
        case .promise(let p): return fixed + p.accepted.reduce(0) { $0 + $1.encodedSizeEstimate }
        case .adopted(let a): return fixed + a.accepted.reduce(0) { $0 + $1.encodedSizeEstimate }
        case .catchUpReply(let r):
            return fixed + r.values.reduce(0) { $0 + $1.catchUpSizeEstimate }
                + (r.snapshot?.encodedSizeEstimate ?? 0)
                + (r.chunk.map { 64 + $0.bytes.count + ($0.header?.encodedSizeEstimate ?? 0) } ?? 0)
        case .welcome(let w): return fixed + 16 * w.founders.count + (w.snapshot?.encodedSizeEstimate ?? 0)
        case .fillHole, .catchUpRequest, .startPhase1, .prepare, .preempted, .accepted, .heartbeat, .heartbeatReply,
             .join, .preVote, .preVoteGrant, .transferLeadership, .timeoutNow, .readIndexRequest, .readIndexReply,
             .readConfirm, .readConfirmReply:
            return fixed
        }
    }
}

extension Snapshot {
    /// About how many bytes the snapshot takes in a message; a state machine not encoded yet counts as empty
    /// (no message carries a deferred one: snapshots travel in chunks of encoded bytes).
    var encodedSizeEstimate: Int {
        64 + (machineBytes.encodedCount ?? 0) + replies.reduce(0) { $0 + 24 + $1.result.count }
            + 24 * rejoins.count + voters.reduce(0) { $0 + 24 + 2 * $1.voters.count }
    }
}

extension PValue {
    /// About how many bytes the pvalue takes in a Promise: its value, and a slot and a ballot (many no-ops weigh too).
    public var encodedSizeEstimate: Int { value.encodedSizeEstimate + 32 }
}

extension Value {
    /// About how many bytes the value takes in a catch-up reply: what bounds a reply, sender and receiver alike.
    var catchUpSizeEstimate: Int { encodedSizeEstimate + 8 }
}
