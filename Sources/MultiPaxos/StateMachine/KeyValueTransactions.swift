/// WATCH's part in the store: a digest of what a key holds, and a transaction that runs only if the watched
/// keys still hold what they held when watched.
///
/// Redis aborts EXEC when a watched key was written at all; here it aborts when a watched key holds something
/// else than when it was watched (a key written and written back to the same value does not abort it). For the
/// check-and-set that WATCH exists for, that is the same guarantee: the transaction runs only on the state its
/// client read.
extension KeyValueStore {
    /// The tag of a guarded transaction: the watched keys with their digests, then a pipeline.
    static let guardedTag: UInt8 = 31
    /// A guarded transaction's result when a watched key changed: nothing ran (EXEC answers null).
    static let abortedTransaction: [UInt8] = [guardedTag]

    /// A fixed 64-bit hash (FNV-1a) of what `key` holds (its type and contents); nil when it holds nothing. Equal
    /// values give equal digests on every node and in every build.
    func digest(of key: ByteString) -> ByteString? {
        var w = ByteWriter()
        if let string = entries[key] {
            w.byte(0)
            w.bytes += string.bytes
        } else if let collection = collections[key] {
            KeyValueSnapshot.write(collection, into: &w)
        } else {
            return nil
        }
        var out = ByteWriter()
        out.uint64(fnv1a(w.bytes))
        return ByteString(out.bytes)
    }

    /// A transaction (`pipeline`, as `pipeline(_:)` makes) that runs only if each watched key's digest is still
    /// the one given (nil: it still holds nothing).
    static func guarded(_ watched: [(key: ByteString, digest: ByteString?)], _ pipeline: [UInt8]) -> [UInt8] {
        var w = ByteWriter()
        w.byte(guardedTag)
        w.uint32(UInt32(watched.count))
        for entry in watched { w.byteString(entry.key); w.optionalByteString(entry.digest) }
        w.blob(pipeline)
        return w.bytes
    }

    /// Applies a guarded transaction; nil when the bytes are not one.
    mutating func applyGuarded(_ bytes: [UInt8]) -> [UInt8]? {
        guard bytes.first == Self.guardedTag else { return nil }
        var r = ByteReader(bytes)
        do {
            _ = try r.byte()
            let count = try r.count(of: "watched key", minimumBytes: 5)
            var unchanged = true
            for _ in 0..<count {
                let key = try r.byteString()
                if digest(of: key) != (try r.optionalByteString()) { unchanged = false }
            }
            guard let operations = Self.pipelined(try r.blob()), r.isAtEnd else { return [0xFF] }
            return unchanged ? applyPipeline(operations) : Self.abortedTransaction
        } catch {
            return [0xFF]  // malformed: refused alike by every replica
        }
    }
}
