/// A key or value of the key-value store: bytes, kept exactly as written and never decoded as text (Redis
/// strings are binary-safe: clients store serialized objects, compressed blobs, 16-byte UUIDs).
///
/// A string literal (or interpolation) makes one from its UTF-8 bytes, so `.put("colour", "blue")` reads as before; `text` gives the
/// bytes back as text when they are valid UTF-8. Two byte strings are equal only when their bytes are (unlike
/// `String`, which equates canonically equivalent texts), and they order byte by byte.
public struct ByteString: Hashable, Comparable, Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The bytes.
    public var bytes: [UInt8]

    /// The empty byte string.
    public init() { bytes = [] }
    /// These bytes.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    /// These bytes, copied.
    public init(_ bytes: ArraySlice<UInt8>) { self.bytes = Array(bytes) }
    /// The UTF-8 bytes of `text`.
    public init(_ text: String) { bytes = Array(text.utf8) }
    /// The UTF-8 bytes of the literal.
    public init(stringLiteral text: String) { bytes = Array(text.utf8) }
    /// The UTF-8 bytes of the interpolated text (`"k\(i)"`).
    public init(stringInterpolation: DefaultStringInterpolation) {
        bytes = Array(String(stringInterpolation: stringInterpolation).utf8)
    }

    /// How many bytes.
    public var count: Int { bytes.count }
    /// Whether there are no bytes.
    public var isEmpty: Bool { bytes.isEmpty }

    /// The bytes as text when they are valid UTF-8; nil otherwise.
    public var text: String? { String(validating: bytes, as: UTF8.self) }

    /// The text when the bytes are valid UTF-8 (so logs and golden traces read as before); otherwise
    /// `<hex:…>` with every byte in two hex digits.
    public var description: String { text ?? "<hex:\(hex)>" }

    /// Every byte as two lowercase hex digits.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes that `hex` spells (an even number of hex digits, either case); nil for anything else.
    public init?(hex: String) {
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x61...0x66: c - 0x61 + 10
            case 0x41...0x46: c - 0x41 + 10
            default: nil
            }
        }
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var i = 0
        while i < digits.count {
            guard let high = nibble(digits[i]), let low = nibble(digits[i + 1]) else { return nil }
            out.append(high << 4 | low)
            i += 2
        }
        bytes = out
    }

    /// Concatenation.
    public static func + (lhs: ByteString, rhs: ByteString) -> ByteString { ByteString(lhs.bytes + rhs.bytes) }

    public static func < (lhs: ByteString, rhs: ByteString) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(bytes.count)
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}

/// The 64-bit FNV-1a hash of `bytes`: fixed (not seeded per process, unlike `Hasher`), so the same on every node
/// and in every build, for what must agree across them (SCAN's order, WATCH's digests, torture's padding).
func fnv1a<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0100_0000_01b3 }
    return hash
}
