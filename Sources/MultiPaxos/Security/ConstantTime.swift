/// Whether `a` and `b` hold the same bytes, in a time that does not depend on where they first differ, so that
/// an attacker who can time the answer cannot guess a secret (a password, a MAC) one byte at a time.
///
/// Arrays of different lengths return `false` at once: the length is not treated as secret. Where it is (a
/// password), compare fixed-length digests of both sides instead, e.g. `constantTimeEquals(SHA256.hash(a),
/// SHA256.hash(b))`.
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    // OR together every byte's difference: no branch and no early exit depends on the contents.
    let difference: UInt8 = a.withUnsafeBufferPointer { x in
        b.withUnsafeBufferPointer { y in
            var accumulated: UInt8 = 0
            for i in 0..<x.count { accumulated |= x[i] ^ y[i] }
            return accumulated
        }
    }
    return difference == 0
}
