/// An operation on the built-in key-value store (the linearizable register that the per-slot total-order
/// broadcast builds, with more verbs).
public enum KeyValueOperation: Hashable, Sendable, CustomStringConvertible {
    /// Read a key.
    case get(ByteString)
    /// Set a key.
    case put(ByteString, ByteString)
    /// Remove a key.
    case delete(ByteString)
    /// Concatenate onto a key's value (an absent key counts as empty).
    case append(ByteString, ByteString)
    /// Set `key` to `new` if it holds `expected` (nil: absent); otherwise change nothing.
    case compareAndSet(ByteString, expected: ByteString?, new: ByteString)

    /// The operation's bytes, as the replicated log carries them.
    public var encoded: [UInt8] {
        var w = ByteWriter()
        switch self {
        case .get(let k): w.byte(0); w.byteString(k)
        case .put(let k, let v): w.byte(1); w.byteString(k); w.byteString(v)
        case .delete(let k): w.byte(2); w.byteString(k)
        case .append(let k, let v): w.byte(3); w.byteString(k); w.byteString(v)
        case .compareAndSet(let k, let e, let n): w.byte(4); w.byteString(k); w.optionalByteString(e); w.byteString(n)
        }
        return w.bytes
    }

    /// Decodes an operation, or throws naming what is wrong.
    public init(decoding bytes: [UInt8]) throws {
        var r = ByteReader(bytes)
        switch try r.byte() {
        case 0: self = .get(try r.byteString())
        case 1: self = .put(try r.byteString(), try r.byteString())
        case 2: self = .delete(try r.byteString())
        case 3: self = .append(try r.byteString(), try r.byteString())
        case 4: self = .compareAndSet(try r.byteString(), expected: try r.optionalByteString(), new: try r.byteString())
        case let tag: throw ByteDecodingError("unknown key-value operation tag \(tag)")
        }
        guard r.isAtEnd else { throw ByteDecodingError("\(bytes.count - r.offset) stray bytes after operation") }
    }

    /// The key the operation touches.
    public var key: ByteString {
        switch self {
        case .get(let k), .put(let k, _), .delete(let k), .append(let k, _), .compareAndSet(let k, _, _): k
        }
    }

    public var description: String {
        switch self {
        case .get(let k): "get \(k)"
        case .put(let k, let v): "put \(k)=\(v)"
        case .delete(let k): "delete \(k)"
        case .append(let k, let v): "append \(k)+=\(v)"
        case .compareAndSet(let k, let e, let n): "cas \(k) \(e ?? "∅")→\(n)"
        }
    }
}

/// The result of a key-value operation.
public enum KeyValueResult: Hashable, Sendable, CustomStringConvertible {
    /// A get's value; nil when the key is absent.
    case value(ByteString?)
    /// A put or successful compare-and-set took effect (in results recorded by earlier versions, a delete or
    /// append too).
    case ok
    /// A compare-and-set found another value (nil: absent) and changed nothing.
    case mismatch(current: ByteString?)
    /// A count: a delete's number of keys removed (1 or 0), an append's new value length in bytes.
    case integer(Int64)

    /// The result's bytes, as replies carry them.
    public var encoded: [UInt8] {
        var w = ByteWriter()
        switch self {
        case .value(let v): w.byte(0); w.optionalByteString(v)
        case .ok: w.byte(1)
        case .mismatch(let c): w.byte(2); w.optionalByteString(c)
        case .integer(let n): w.byte(3); w.uint64(UInt64(bitPattern: n))
        }
        return w.bytes
    }

    /// Decodes a result, or throws naming what is wrong.
    public init(decoding bytes: [UInt8]) throws {
        var r = ByteReader(bytes)
        switch try r.byte() {
        case 0: self = .value(try r.optionalByteString())
        case 1: self = .ok
        case 2: self = .mismatch(current: try r.optionalByteString())
        case 3: self = .integer(Int64(bitPattern: try r.uint64()))
        case let tag: throw ByteDecodingError("unknown key-value result tag \(tag)")
        }
    }

    public var description: String {
        switch self {
        case .value(let v): v.map { "\"\($0)\"" } ?? "absent"
        case .ok: "ok"
        case .mismatch(let c): "mismatch (holds \(c.map { "\"\($0)\"" } ?? "absent"))"
        case .integer(let n): "\(n)"
        }
    }
}

/// The built-in replicated key-value store: get, put, delete, append and compare-and-set on byte-string keys and values.
public struct KeyValueStore: StateMachine, Equatable {
    /// The current contents.
    public private(set) var entries: [ByteString: ByteString] = [:]

    /// An empty store.
    public init() {}

    /// Applies `operation` and returns its result; the typed form of `apply(_:)`.
    public mutating func apply(_ operation: KeyValueOperation) -> KeyValueResult {
        switch operation {
        case .get(let k):
            return .value(entries[k])
        case .put(let k, let v):
            entries[k] = v
            return .ok
        case .delete(let k):
            return .integer(entries.removeValue(forKey: k) == nil ? 0 : 1)
        case .append(let k, let v):
            entries[k, default: ByteString()].bytes.append(contentsOf: v.bytes)
            return .integer(Int64(entries[k]?.count ?? 0))
        case .compareAndSet(let k, let expected, let new):
            guard entries[k] == expected else { return .mismatch(current: entries[k]) }
            entries[k] = new
            return .ok
        }
    }

    public mutating func apply(_ operation: [UInt8]) -> [UInt8] {
        if let operations = Self.pipelined(operation) {
            // In order, each as if alone; a pipeline inside a pipeline is refused (no recursion on input).
            return Self.pipeline(operations.map { Self.pipelined($0) == nil ? apply($0) : [0xFF] })
        }
        // A malformed operation is a value like any other: every replica rejects it identically.
        guard let op = try? KeyValueOperation(decoding: operation) else { return [0xFF] }
        return apply(op).encoded
    }

    /// A `get`'s result, read without changing anything, or a pipeline's of `get`s only; nil for every other
    /// operation (and for bytes that are no operation, which the log must reject like any replica would).
    public func query(_ operation: [UInt8]) -> [UInt8]? {
        // Only a get (tag 0) or a pipeline can be a read: anything else is answered without decoding it.
        guard let tag = operation.first, tag == 0 || tag == Self.pipelineTag else { return nil }
        if let operations = Self.pipelined(operation) {
            var results: [[UInt8]] = []
            for op in operations {
                guard let result = query(op), Self.pipelined(op) == nil else { return nil }
                results.append(result)
            }
            return Self.pipeline(results)
        }
        guard case .get(let k)? = try? KeyValueOperation(decoding: operation) else { return nil }
        return KeyValueResult.value(entries[k]).encoded
    }

    /// The tag of a pipeline: several operations (or, as a result, their results) in one log entry, applied in
    /// order. A served node packs the commands a client pipelined on one connection into one, so that they share
    /// a slot and a round trip (the operations' own tags are below it).
    static let pipelineTag: UInt8 = 5

    /// A pipeline of `parts` (operations or results).
    static func pipeline(_ parts: [[UInt8]]) -> [UInt8] {
        var w = ByteWriter()
        w.byte(pipelineTag)
        w.uint32(UInt32(parts.count))
        for part in parts { w.blob(part) }
        return w.bytes
    }

    /// The parts of a pipeline, or nil when the bytes are not one (or not a well-formed one).
    static func pipelined(_ bytes: [UInt8]) -> [[UInt8]]? {
        guard bytes.first == pipelineTag else { return nil }
        var r = ByteReader(bytes)
        _ = try? r.byte()
        guard let count = try? r.count(of: "pipeline part", minimumBytes: 4) else { return nil }
        var parts: [[UInt8]] = []
        parts.reserveCapacity(count)
        for _ in 0..<count {
            guard let part = try? r.blob() else { return nil }
            parts.append(part)
        }
        return r.isAtEnd ? parts : nil
    }

    /// Encodes a copy of the store when called: the copy shares the dictionary until the store next changes, when
    /// the store copies its table (not the keys' and values' bytes), so the loop never pays for the encoding.
    public func snapshotEncoder() -> @Sendable () -> [UInt8] {
        let copy = self
        return { copy.snapshot() }
    }

    public func snapshot() -> [UInt8] {
        var w = ByteWriter()
        w.uint32(UInt32(entries.count))
        for key in entries.keys.sorted() {
            w.byteString(key)
            w.byteString(entries[key]!)
        }
        return w.bytes
    }

    public mutating func restore(from snapshot: [UInt8]) throws {
        var r = ByteReader(snapshot)
        let count = try r.uint32()
        var restored: [ByteString: ByteString] = [:]
        for _ in 0..<count {
            let k = try r.byteString()
            restored[k] = try r.byteString()
        }
        guard r.isAtEnd else { throw ByteDecodingError("\(snapshot.count - r.offset) stray bytes after key-value snapshot") }
        entries = restored
    }
}
