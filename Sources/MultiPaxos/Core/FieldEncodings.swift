// Field encodings shared by the durable state and the wire format (Network/WireCodec.swift): changing one
// changes both, so each is fixed once written.

extension ByteWriter {
    mutating func ballot(_ b: Ballot) {
        uint64(b.round)
        uint32(UInt32(b.leader.value))
    }
    mutating func slot(_ s: Slot) { uint64(UInt64(s.index)) }
    mutating func requestKey(_ k: RequestKey) {
        uint64(k.client.value)
        uint64(k.request.value)
    }
    mutating func command(_ c: Command) {
        requestKey(c.key)
        blob(c.operation)
    }
    mutating func value(_ v: Value) {
        switch v {
        case .noop: byte(0)
        case .command(let c):
            byte(1)
            command(c)
        case .batch(let cs):
            byte(2)
            uint32(UInt32(cs.count))
            for c in cs { command(c) }
        }
    }
    /// A snapshot's fields (without a presence byte), the epoch and rejoins included.
    mutating func snapshot(_ snap: Snapshot) {
        slot(snap.nextSlot)
        blob(snap.machine)
        uint32(UInt32(snap.replies.count))
        for r in snap.replies {
            uint64(r.client.value)
            uint64(r.request.value)
            blob(r.result)
        }
        uint64(snap.membershipEpoch)
        uint32(UInt32(snap.rejoins.count))
        for entry in snap.rejoins {
            uint32(UInt32(entry.node.value))
            uint64(entry.nonce)
            uint64(entry.epoch)
        }
        uint32(UInt32(snap.voters.count))
        for c in snap.voters {
            uint64(c.number)
            slot(c.from)
            uint64(c.voters.bits)
        }
    }
}

extension ByteReader {
    mutating func ballot() throws -> Ballot {
        let round = try uint64()
        let at = offset
        let leader = Int(try uint32())
        guard leader < NodeSet.capacity else {
            throw ByteDecodingError("ballot leader \(leader) at offset \(at) is not a node id (0..<\(NodeSet.capacity))")
        }
        return Ballot(round: round, leader: NodeID(leader))
    }
    mutating func slot() throws -> Slot {
        let at = offset
        let index = try uint64()
        guard index <= UInt64(Int64.max) else { throw ByteDecodingError("slot \(index) at offset \(at) is out of range") }
        return Slot(Int64(index))
    }
    mutating func requestKey() throws -> RequestKey {
        RequestKey(client: ClientID(try uint64()), request: RequestNumber(try uint64()))
    }
    mutating func command() throws -> Command {
        Command(key: try requestKey(), operation: try blob())
    }
    mutating func value() throws -> Value {
        let at = offset
        switch try byte() {
        case 0: return .noop
        case 1: return .command(try command())
        case 2:
            let size = try count(of: "batch", minimumBytes: 20)
            guard size >= 2 else { throw ByteDecodingError("batch at offset \(at) holds \(size) commands (at least 2)") }
            var commands: [Command] = []
            commands.reserveCapacity(size)
            for _ in 0..<size { commands.append(try command()) }
            return .batch(commands)
        case let tag: throw ByteDecodingError("value tag \(tag) at offset \(at) is not 0, 1 or 2")
        }
    }
    /// A snapshot's fields as `ByteWriter.snapshot` wrote them (version 1 of the durable state had no epoch).
    mutating func snapshot(withEpoch: Bool = true, withVoters: Bool = true) throws -> Snapshot {
        let next = try slot()
        let machine = try blob()
        let replyCount = try count(of: "reply cache", minimumBytes: 20)
        var replies: [ReplyCacheEntry] = []
        replies.reserveCapacity(replyCount)
        for _ in 0..<replyCount {
            replies.append(ReplyCacheEntry(client: ClientID(try uint64()), request: RequestNumber(try uint64()),
                                           result: try blob()))
        }
        var epoch: UInt64 = 0
        var rejoins: [RejoinEntry] = []
        if withEpoch {
            epoch = try uint64()
            let rejoinCount = try count(of: "rejoin", minimumBytes: 20)
            rejoins.reserveCapacity(rejoinCount)
            for _ in 0..<rejoinCount {
                let at = offset
                let id = Int(try uint32())
                guard id < NodeSet.capacity else {
                    throw ByteDecodingError("rejoined node \(id) at offset \(at) is not a node id (0..<\(NodeSet.capacity))")
                }
                rejoins.append(RejoinEntry(node: NodeID(id), nonce: try uint64(), epoch: try uint64()))
            }
        }
        var voters: [VoterConfiguration] = []
        if withVoters {
            let count = try count(of: "voter configuration", minimumBytes: 24)
            for _ in 0..<count {
                let number = try uint64(), from = try slot(), at = offset, bits = try uint64()
                guard bits != 0 else { throw ByteDecodingError("voter configuration #\(number) at offset \(at) has no voters") }
                guard voters.last.map({ $0.number + 1 == number && $0.from <= from }) ?? true else {
                    throw ByteDecodingError("voter configuration #\(number) from \(from) does not follow the one before it")
                }
                voters.append(VoterConfiguration(number: number, from: from, voters: NodeSet(bits: bits)))
            }
        }
        return Snapshot(nextSlot: next, machine: machine, replies: replies, membershipEpoch: epoch, rejoins: rejoins,
                        voters: voters)
    }
}
