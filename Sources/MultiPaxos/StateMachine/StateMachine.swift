/// The state machine that the cluster replicates. Every replica applies the same operations in the same order,
/// so `apply` must be deterministic: same state and operation, same result and next state.
public protocol StateMachine: Sendable {
    /// Applies one operation (in the machine's own encoding) and returns its result.
    mutating func apply(_ operation: [UInt8]) -> [UInt8]
    /// Encodes the whole state; equal states must give equal bytes.
    func snapshot() -> [UInt8]
    /// Replaces the state with a decoded snapshot, or throws without changing anything.
    mutating func restore(from snapshot: [UInt8]) throws
    /// The result of `operation` if it is a read (it would change nothing), without changing the state; nil for
    /// any other operation. Reads may then be served without a log slot (`ReadConsistency.readIndex`); a machine
    /// that answers nil for everything (the default) has every operation go through the log.
    func query(_ operation: [UInt8]) -> [UInt8]?
    /// A function that returns `snapshot()` of the state as it is now, when called later and on another thread:
    /// shells that write snapshots off the node loop encode them there. The default encodes at once; a machine
    /// whose copies are cheap and independent (a struct of copy-on-write collections) returns one that encodes
    /// a copy of itself, so that a large state is not serialized while the node stops answering.
    func snapshotEncoder() -> @Sendable () -> [UInt8]
}

extension StateMachine {
    /// Encodes now; the function returns those bytes.
    public func snapshotEncoder() -> @Sendable () -> [UInt8] {
        let bytes = snapshot()
        return { bytes }
    }

    /// No operation is known to be a read: everything goes through the log.
    public func query(_ operation: [UInt8]) -> [UInt8]? { nil }
}

/// Why bytes could not be decoded.
public struct ByteDecodingError: Error, Equatable, CustomStringConvertible {
    /// What was wrong, naming the bad value.
    public let message: String
    /// Makes an error.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Appends length-prefixed fields to a byte array.
struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func byte(_ b: UInt8) { bytes.append(b) }
    mutating func uint32(_ v: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt32(shift))) }
    }
    mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        uint32(UInt32(utf8.count))
        bytes.append(contentsOf: utf8)
    }
    mutating func optionalString(_ s: String?) {
        if let s { byte(1); string(s) } else { byte(0) }
    }
    mutating func byteString(_ s: ByteString) { blob(s.bytes) }
    mutating func optionalByteString(_ s: ByteString?) {
        if let s { byte(1); byteString(s) } else { byte(0) }
    }
    mutating func uint64(_ v: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }
    mutating func blob(_ b: [UInt8]) {
        uint32(UInt32(b.count))
        bytes.append(contentsOf: b)
    }
}

/// Reads what `ByteWriter` wrote, throwing on anything short or malformed.
struct ByteReader {
    let bytes: [UInt8]
    var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    var isAtEnd: Bool { offset == bytes.count }
    mutating func byte() throws -> UInt8 {
        guard offset < bytes.count else { throw ByteDecodingError("input ends at byte \(offset), expected more") }
        defer { offset += 1 }
        return bytes[offset]
    }
    mutating func uint32() throws -> UInt32 {
        var v: UInt32 = 0
        for shift in stride(from: 0, to: 32, by: 8) { v |= UInt32(try byte()) << UInt32(shift) }
        return v
    }
    mutating func string() throws -> String {
        let count = Int(try uint32())
        guard count <= bytes.count - offset else {
            throw ByteDecodingError("string of \(count) bytes at offset \(offset) runs past the end (\(bytes.count))")
        }
        defer { offset += count }
        return String(decoding: bytes[offset..<offset + count], as: UTF8.self)
    }
    mutating func uint64() throws -> UInt64 {
        var v: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 8) { v |= UInt64(try byte()) << UInt64(shift) }
        return v
    }
    mutating func blob() throws -> [UInt8] {
        let count = Int(try uint32())
        guard count <= bytes.count - offset else {
            throw ByteDecodingError("blob of \(count) bytes at offset \(offset) runs past the end (\(bytes.count))")
        }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }
    /// Reads a 4-byte element count and checks that that many elements of at least `minimumBytes` each fit in
    /// the rest of the input, so that a caller may reserve room for them without trusting the input.
    mutating func count(of field: String, minimumBytes: Int) throws -> Int {
        let at = offset
        let count = Int(try uint32())
        guard count <= (bytes.count - offset) / max(minimumBytes, 1) else {
            throw ByteDecodingError("\(field) count \(count) at offset \(at) needs more than the \(bytes.count - offset) bytes left")
        }
        return count
    }
    mutating func bool(_ field: String) throws -> Bool {
        let at = offset
        switch try byte() {
        case 0: return false
        case 1: return true
        case let b: throw ByteDecodingError("\(field) \(b) at offset \(at) is neither 0 nor 1")
        }
    }
    mutating func byteString() throws -> ByteString { ByteString(try blob()) }
    mutating func optionalByteString() throws -> ByteString? {
        switch try byte() {
        case 0: return nil
        case 1: return try byteString()
        case let tag: throw ByteDecodingError("optional tag \(tag) at offset \(offset - 1) is neither 0 nor 1")
        }
    }
    mutating func optionalString() throws -> String? {
        switch try byte() {
        case 0: return nil
        case 1: return try string()
        case let tag: throw ByteDecodingError("optional tag \(tag) at offset \(offset - 1) is neither 0 nor 1")
        }
    }
}
