/// SHA-256 (FIPS 180-4, section 6.2), written here because the project takes no package dependencies; it is the
/// hash under HMAC-SHA256, which authenticates peers and their frames.
public enum SHA256 {
    /// Bytes in a digest.
    public static let digestBytes = 32
    /// Bytes in a message block; HMAC pads its key to this length.
    public static let blockBytes = 64

    /// The 32-byte SHA-256 digest of `bytes`.
    public static func hash(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var hasher = Hasher()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// An incremental SHA-256 computation: feed it bytes in any number of pieces, then take the digest. It holds
    /// no heap storage, so copying one (to reuse a common prefix, as HMAC does) costs nothing.
    public struct Hasher: Sendable {
        /// The eight working words H0...H7 (FIPS 180-4, 5.3.3 gives their initial values).
        private var state = State()
        /// The bytes of the current, not yet full, block (64 bytes).
        private var block: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        /// How many bytes of `block` are filled (0..<64).
        private var blockFill = 0
        /// How many bytes were fed in all; its bit count ends the padded message.
        private var totalBytes: UInt64 = 0

        /// Starts the digest of an empty message.
        public init() {}

        /// Appends `bytes` to the message; contiguous collections (arrays, slices) are read in place.
        public mutating func update(_ bytes: some Collection<UInt8>) {
            let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
                update(raw: UnsafeRawBufferPointer(buffer))
            }
            if done == nil {
                Array(bytes).withUnsafeBytes { update(raw: $0) }
            }
        }

        /// Appends one byte to the message.
        public mutating func update(byte: UInt8) {
            withUnsafeBytes(of: byte) { update(raw: $0) }
        }

        /// Pads the message (a 1 bit, zeros, the 64-bit big-endian bit length; FIPS 180-4, 5.1.1) and returns its
        /// 32-byte digest. The hasher is left reset to an empty message.
        public mutating func finalize() -> [UInt8] {
            let bitLength = totalBytes &* 8  // FIPS 180-4 counts the length modulo 2^64 bits.
            update(byte: 0x80)
            while blockFill != 56 { update(byte: 0) }
            withUnsafeBytes(of: bitLength.bigEndian) { update(raw: $0) }
            let words = [state.h0, state.h1, state.h2, state.h3, state.h4, state.h5, state.h6, state.h7]
            var digest = [UInt8]()
            digest.reserveCapacity(SHA256.digestBytes)
            for word in words { withUnsafeBytes(of: word.bigEndian) { digest.append(contentsOf: $0) } }
            self = Hasher()
            return digest
        }

        /// Feeds raw bytes: tops up the partial block, compresses whole blocks straight from the input, and keeps
        /// the tail for later.
        private mutating func update(raw input: UnsafeRawBufferPointer) {
            totalBytes &+= UInt64(input.count)
            var offset = 0
            if blockFill > 0 {
                let take = min(SHA256.blockBytes - blockFill, input.count)
                let fill = blockFill
                withUnsafeMutableBytes(of: &block) { dst in
                    UnsafeMutableRawBufferPointer(rebasing: dst[fill..<(fill + take)])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: input[0..<take]))
                }
                blockFill += take
                offset = take
                if blockFill == SHA256.blockBytes {
                    var full = block
                    withUnsafeBytes(of: &full) { Self.compress(&state, $0) }
                    blockFill = 0
                }
            }
            while input.count - offset >= SHA256.blockBytes {
                Self.compress(&state, UnsafeRawBufferPointer(rebasing: input[offset..<(offset + SHA256.blockBytes)]))
                offset += SHA256.blockBytes
            }
            let rest = input.count - offset
            if rest > 0 {
                withUnsafeMutableBytes(of: &block) { dst in
                    UnsafeMutableRawBufferPointer(rebasing: dst[0..<rest])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: input[offset...]))
                }
                blockFill = rest
            }
        }

        /// The hash value H0...H7, initially the first 32 bits of the fractional parts of the square roots of
        /// the first eight primes.
        private struct State: Sendable {
            var h0: UInt32 = 0x6a09_e667, h1: UInt32 = 0xbb67_ae85, h2: UInt32 = 0x3c6e_f372, h3: UInt32 = 0xa54f_f53a
            var h4: UInt32 = 0x510e_527f, h5: UInt32 = 0x9b05_688c, h6: UInt32 = 0x1f83_d9ab, h7: UInt32 = 0x5be0_cd19
        }

        /// The 64 round constants: the first 32 bits of the fractional parts of the cube roots of the first 64 primes.
        private static let roundConstants: [UInt32] = [
            0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
            0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
            0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
            0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
            0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
            0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
            0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
            0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
        ]

        @inline(__always) private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }

        /// Processes one 64-byte block (FIPS 180-4, 6.2.2): expands it into the 64-word message schedule, runs
        /// the 64 rounds, and adds the result into the hash value.
        private static func compress(_ state: inout State, _ block: UnsafeRawBufferPointer) {
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
                for t in 0..<16 {
                    w[t] = block.loadUnaligned(fromByteOffset: t * 4, as: UInt32.self).bigEndian
                }
                for t in 16..<64 {
                    let s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)
                    let s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)
                    w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
                }
                var a = state.h0, b = state.h1, c = state.h2, d = state.h3
                var e = state.h4, f = state.h5, g = state.h6, h = state.h7
                roundConstants.withUnsafeBufferPointer { k in
                    for t in 0..<64 {
                        let bigSigma1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                        let choose = (e & f) ^ (~e & g)
                        let t1 = h &+ bigSigma1 &+ choose &+ k[t] &+ w[t]
                        let bigSigma0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                        let majority = (a & b) ^ (a & c) ^ (b & c)
                        let t2 = bigSigma0 &+ majority
                        h = g
                        g = f
                        f = e
                        e = d &+ t1
                        d = c
                        c = b
                        b = a
                        a = t1 &+ t2
                    }
                }
                state.h0 &+= a; state.h1 &+= b; state.h2 &+= c; state.h3 &+= d
                state.h4 &+= e; state.h5 &+= f; state.h6 &+= g; state.h7 &+= h
            }
        }
    }
}

/// HMAC-SHA256 (RFC 2104 over SHA-256): a message authentication code that only holders of the key can compute,
/// used for the peer handshake's proofs, its session key and every authenticated frame.
public enum HMACSHA256 {
    /// Bytes in a full authentication code.
    public static let codeBytes = SHA256.digestBytes

    /// The 32-byte HMAC-SHA256 of `message` under `key` (a key longer than 64 bytes is first hashed, as RFC 2104
    /// says).
    public static func authenticationCode(for message: some Collection<UInt8>, key: some Collection<UInt8>) -> [UInt8] {
        var hasher = Hasher(key: key)
        hasher.update(message)
        return hasher.finalize()
    }

    /// An incremental HMAC-SHA256 under one key. The key's two padded blocks are hashed once at `init`, so a
    /// copy of a prepared hasher authenticates each further message for the cost of the message alone. Its state
    /// is as good as the key, so its mirror shows nothing.
    public struct Hasher: Sendable, CustomReflectable {
        /// SHA-256 already fed `key XOR ipad`; the message goes here.
        private var inner = SHA256.Hasher()
        /// SHA-256 already fed `key XOR opad`; the inner digest goes here.
        private var outer = SHA256.Hasher()

        /// Prepares the inner and outer hashes for `key` (RFC 2104, steps 1 to 3 and the first block of step 6).
        public init(key: some Collection<UInt8>) {
            var padded = key.count > SHA256.blockBytes ? SHA256.hash(key) : Array(key)
            padded.append(contentsOf: repeatElement(0, count: SHA256.blockBytes - padded.count))
            inner.update(padded.map { $0 ^ 0x36 })
            outer.update(padded.map { $0 ^ 0x5c })
        }

        public var customMirror: Mirror { Mirror(self, children: [:]) }

        /// Appends `bytes` to the message being authenticated.
        public mutating func update(_ bytes: some Collection<UInt8>) { inner.update(bytes) }

        /// Appends one byte to the message being authenticated.
        public mutating func update(byte: UInt8) { inner.update(byte: byte) }

        /// The 32-byte code of the message fed so far; the hasher is unchanged, so more bytes may follow.
        public func finalize() -> [UInt8] {
            var inner = inner, outer = outer
            outer.update(inner.finalize())
            return outer.finalize()
        }
    }
}
