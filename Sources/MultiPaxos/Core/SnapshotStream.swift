/// The bytes a snapshot transfer carries in its chunks: the state machine's encoding, then the reply cache, then
/// the cache's length in 8 bytes. The reply cache grows with the clients and their results (a read's result is
/// a value), so it travels in chunks too rather than in the first chunk's header, which is one message and must
/// fit a frame whatever the cache holds. At the end, so that the receiver cuts it off its buffer without copying
/// the state machine's bytes.
enum SnapshotStream {
    /// The bytes after the state machine's: the reply cache and its length.
    static func trailer(_ replies: [ReplyCacheEntry]) -> [UInt8] {
        var w = ByteWriter()
        w.uint32(UInt32(replies.count))
        for r in replies {
            w.uint64(r.client.value)
            w.uint64(r.request.value)
            w.blob(r.result)
        }
        let body = w.bytes.count
        w.uint64(UInt64(body))
        return w.bytes
    }

    /// Cuts the trailer off a whole received stream, leaving the state machine's bytes, and returns the reply
    /// cache; nil (the stream unchanged) if the trailer is malformed.
    static func split(_ stream: inout [UInt8]) -> [ReplyCacheEntry]? {
        guard stream.count >= 8 else { return nil }
        var tail = ByteReader(Array(stream[(stream.count - 8)...]))
        guard let body = try? tail.uint64(), body <= UInt64(stream.count - 8) else { return nil }
        let start = stream.count - 8 - Int(body)
        var reader = ByteReader(Array(stream[start..<(stream.count - 8)]))
        guard let replies = try? Self.replies(&reader), reader.isAtEnd else { return nil }
        stream.removeSubrange(start...)
        return replies
    }

    private static func replies(_ reader: inout ByteReader) throws -> [ReplyCacheEntry] {
        let count = try reader.count(of: "reply cache", minimumBytes: 20)
        var replies: [ReplyCacheEntry] = []
        replies.reserveCapacity(count)
        for _ in 0..<count {
            replies.append(ReplyCacheEntry(client: ClientID(try reader.uint64()), request: RequestNumber(try reader.uint64()),
                                           result: try reader.blob()))
        }
        return replies
    }
}

/// A snapshot a replica sends a lagging peer, with the trailer its stream ends with (see `SnapshotStream`).
struct OutgoingSnapshot {
    let snapshot: Snapshot
    let trailer: [UInt8]
    /// The state machine's bytes (encoded by now).
    let machineCount: Int

    init(_ snapshot: Snapshot) {
        self.snapshot = snapshot
        trailer = SnapshotStream.trailer(snapshot.replies)
        machineCount = snapshot.machineBytes.encodedCount ?? snapshot.machine.count
    }

    /// The stream's length: what a chunk's `total` says.
    var total: Int { machineCount + trailer.count }

    /// The stream's bytes in `range` (within `0..<total`).
    func bytes(_ range: Range<Int>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        if range.lowerBound < machineCount {
            out += snapshot.machine[range.lowerBound..<min(range.upperBound, machineCount)]
        }
        if range.upperBound > machineCount {
            out += trailer[max(range.lowerBound, machineCount) - machineCount..<(range.upperBound - machineCount)]
        }
        return out
    }
}
