import Foundation
import Testing
@testable import MultiPaxos
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Bytes from a hex string (test vectors).
private func hex(_ s: String) -> [UInt8] {
    let digits = Array(s.utf8)
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<($0 + 2)], as: UTF8.self), radix: 16)! }
}

private func hexString(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

@Suite struct HashingTests {
    @Test func sha256MatchesTheFIPS180Vectors() {
        let vectors: [(String, String)] = [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
             "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
            ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
             "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
        ]
        for (message, digest) in vectors {
            #expect(hexString(SHA256.hash(Array(message.utf8))) == digest, "SHA-256 of \(message.debugDescription)")
        }
    }

    @Test func sha256OfOneMillionAs() {
        let expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        #expect(hexString(SHA256.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))) == expected)
        // The same message fed in uneven pieces, through a non-contiguous collection.
        var hasher = SHA256.Hasher()
        var fed = 0
        while fed < 1_000_000 {
            let piece = min(1_000_000 - fed, 777)
            hasher.update(repeatElement(UInt8(ascii: "a"), count: piece))
            fed += piece
        }
        #expect(hexString(hasher.finalize()) == expected)
    }

    @Test func incrementalHashingMatchesOneShotAtEveryBlockBoundary() {
        var generator = SeededGenerator(seed: 18)
        for length in 0...200 {
            let message = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let split = length == 0 ? 0 : Int.random(in: 0...length, using: &generator)
            var hasher = SHA256.Hasher()
            hasher.update(message[..<split])
            for byte in message[split...] { hasher.update(byte: byte) }
            #expect(hasher.finalize() == SHA256.hash(message), "length \(length), split at \(split)")
            #expect(hasher.finalize() == SHA256.hash([]), "finalize leaves the hasher empty")
        }
    }

    @Test func hmacMatchesRFC4231() {
        let largeKey = [UInt8](repeating: 0xaa, count: 131)
        let cases: [(key: [UInt8], data: [UInt8], mac: String)] = [
            ([UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8),
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            ([UInt8](repeating: 0xaa, count: 20), [UInt8](repeating: 0xdd, count: 50),
             "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
            (Array(1...25), [UInt8](repeating: 0xcd, count: 50),
             "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
            (largeKey, Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
            (largeKey, Array(("This is a test using a larger than block-size key and a larger than block-size data. "
                              + "The key needs to be hashed before being used by the HMAC algorithm.").utf8),
             "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
        ]
        for (number, c) in zip([1, 2, 3, 4, 6, 7], cases) {
            #expect(hexString(HMACSHA256.authenticationCode(for: c.data, key: c.key)) == c.mac, "RFC 4231 case \(number)")
        }
        // Case 5: the output truncated to 128 bits.
        let truncated = HMACSHA256.authenticationCode(for: Array("Test With Truncation".utf8),
                                                      key: [UInt8](repeating: 0x0c, count: 20)).prefix(16)
        #expect(hexString(Array(truncated)) == "a3b6167473100ee06e0c796c2955552b")
    }

    @Test func incrementalHMACMatchesOneShotAndFinalizeKeepsTheState() {
        var hasher = HMACSHA256.Hasher(key: Array("Jefe".utf8))
        hasher.update(Array("what do ya want ".utf8))
        let prefixCode = hasher.finalize()
        #expect(prefixCode == HMACSHA256.authenticationCode(for: Array("what do ya want ".utf8), key: Array("Jefe".utf8)))
        hasher.update(Array("for nothing?".utf8))
        #expect(hexString(hasher.finalize()) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func constantTimeEqualityComparesBytesAndLengths() {
        let a: [UInt8] = Array(0..<32)
        var lastDiffers = a
        lastDiffers[31] ^= 1
        var firstDiffers = a
        firstDiffers[0] ^= 0x80
        #expect(constantTimeEquals(a, a))
        #expect(constantTimeEquals([], []))
        #expect(!constantTimeEquals(a, lastDiffers))
        #expect(!constantTimeEquals(a, firstDiffers))
        #expect(!constantTimeEquals(a, Array(a.dropLast())), "a prefix is not equal")
        #expect(!constantTimeEquals([], [0]))
    }
}

@Suite(.serialized) struct KeyFileTests {
    func directory() throws -> String {
        let dir = try scratchDirectory("keys")
        return dir.path
    }

    /// Writes `text` to a new file at `path` with permissions `mode`.
    func write(_ text: String, to path: String, mode: mode_t = 0o600) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        #expect(chmod(path, mode) == 0)
    }

    func mode(of path: String) -> mode_t {
        var info = stat()
        #expect(stat(path, &info) == 0)
        return info.st_mode & 0o7777
    }

    let keyA = String(repeating: "0123456789abcdef", count: 4)
    let keyB = String(repeating: "FEDCBA9876543210", count: 4)

    @Test func generatedKeysRoundTripWithMode0600() throws {
        let dir = try directory()
        try ClusterKeys.generate(path: dir + "/a.key")
        try ClusterKeys.generate(path: dir + "/b.key")
        let text = try String(contentsOfFile: dir + "/a.key", encoding: .utf8)
        #expect(text.count == 65 && text.hasSuffix("\n"))
        #expect(text.dropLast().allSatisfy { "0123456789abcdef".contains($0) })
        #expect(mode(of: dir + "/a.key") == 0o600)
        let a = try ClusterKeys.load(path: dir + "/a.key")
        #expect(a.keys == [hex(String(text.dropLast()))])
        #expect(try ClusterKeys.load(path: dir + "/b.key").keys != a.keys, "two generated keys differ")
        #expect(!"\(a)".contains(String(text.prefix(8))), "a description never shows the key")
    }

    @Test func generateRefusesToOverwriteAFile() throws {
        let path = try directory() + "/cluster.key"
        try write(keyA + "\n", to: path)
        #expect(throws: KeyFileError.alreadyExists(path: path)) { try ClusterKeys.generate(path: path) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == keyA + "\n", "the existing key is untouched")
        #expect(KeyFileError.alreadyExists(path: path).description.contains(path))
    }

    @Test func aKeyFileGroupOrOthersCanReadIsRefused() throws {
        let path = try directory() + "/cluster.key"
        for bad: mode_t in [0o644, 0o640, 0o604, 0o620] {
            try write(keyA + "\n", to: path, mode: bad)
            let error = KeyFileError.tooOpen(.clusterKey, path: path, mode: UInt32(bad))
            #expect(throws: error) { try ClusterKeys.load(path: path) }
            #expect(error.description.contains("\(path) has mode 0\(String(bad, radix: 8))"), "\(error)")
        }
        try write(keyA + "\n", to: path, mode: 0o400)
        #expect(try ClusterKeys.load(path: path).keys == [hex(keyA)], "read-only for the owner is fine")
    }

    @Test func twoKeysBlankLinesAndSpacesAreAccepted() throws {
        let path = try directory() + "/cluster.key"
        try write("\n" + keyB + "\r\n\n  " + keyA + " \n\n", to: path)
        let keys = try ClusterKeys.load(path: path)
        #expect(keys.keys == [hex(keyB), hex(keyA)])
        #expect(keys.presentedKey == hex(keyB))
        try write(keyA, to: path)
        #expect(try ClusterKeys.load(path: path).keys == [hex(keyA)], "no trailing newline is fine")
    }

    @Test func badKeyFilesAreRefusedNamingTheLine() throws {
        let dir = try directory()
        let path = dir + "/cluster.key"
        try write(keyA + "\n" + String(keyB.dropLast()) + "\n", to: path)
        let short = KeyFileError.badLine(path: path, line: 2, reason: "it has 63 characters, not 64 hex digits")
        #expect(throws: short) { try ClusterKeys.load(path: path) }
        #expect(short.description.contains("\(path), line 2"))

        var nonHex = Array(keyA)
        nonHex[4] = "g"
        try write(String(nonHex) + "\n", to: path)
        #expect(throws: KeyFileError.badLine(path: path, line: 1, reason: "character 5 is not a hex digit")) {
            try ClusterKeys.load(path: path)
        }
        try write([keyA, keyB, keyA].joined(separator: "\n"), to: path)
        #expect(throws: KeyFileError.tooManyKeys(path: path, line: 3)) { try ClusterKeys.load(path: path) }
        try write("\n \n", to: path)
        #expect(throws: KeyFileError.noKey(path: path)) { try ClusterKeys.load(path: path) }
        try write(String(repeating: "\n", count: 5000), to: path)
        #expect(throws: KeyFileError.tooLarge(.clusterKey, path: path, bytes: 5000, limitBytes: 4096)) {
            try ClusterKeys.load(path: path)
        }
        #expect(throws: KeyFileError.notARegularFile(.clusterKey, path: dir)) { try ClusterKeys.load(path: dir) }
        #expect(throws: KeyFileError.cannotOpen(.clusterKey, path: dir + "/missing", reason: "No such file or directory")) {
            try ClusterKeys.load(path: dir + "/missing")
        }
        // A FIFO is refused at once (opening it for reading used to wait for a writer for ever).
        let fifo = dir + "/fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(throws: KeyFileError.notARegularFile(.password, path: fifo)) { try SecretFile.readPassword(path: fifo) }
    }

    /// A secret file another user owns is refused: that user controls the key or password. (Giving a file to
    /// another user takes root: without it the check is shown only for files this user owns.)
    @Test func aSecretFileAnotherUserOwnsIsRefused() throws {
        let dir = try scratchDirectory("owner").path
        let path = dir + "/pw"
        try write("secret\n", to: path)
        #expect(try SecretFile.readPassword(path: path) == Array("secret".utf8))
        guard geteuid() == 0 else { return }
        #expect(chown(path, 4242, 4242) == 0)
        #expect(throws: KeyFileError.notOwned(.password, path: path, owner: 4242)) { try SecretFile.readPassword(path: path) }
        #expect("\(KeyFileError.notOwned(.password, path: path, owner: 4242))".contains("belongs to user 4242"))
    }

    @Test func passwordFilesGiveTheirFirstLine() throws {
        let path = try directory() + "/password"
        try write("s3cret pass\r\nsecond line\n", to: path, mode: 0o640)
        #expect(try SecretFile.readPassword(path: path) == Array("s3cret pass".utf8), "a group-readable file is fine")
        try write("only", to: path)
        #expect(try SecretFile.readPassword(path: path) == Array("only".utf8))
        try write("\nlater\n", to: path)
        #expect(throws: KeyFileError.emptyPassword(path: path)) { try SecretFile.readPassword(path: path) }
        try write("pw\n", to: path, mode: 0o644)
        let error = KeyFileError.tooOpen(.password, path: path, mode: 0o644)
        #expect(throws: error) { try SecretFile.readPassword(path: path) }
        #expect(error.description == "password file \(path) has mode 0644: it must not be readable or writable by others (chmod 600)")
    }
}

@Suite struct PeerAuthenticationTests {
    static func keys(_ fill: UInt8...) -> ClusterKeys {
        ClusterKeys(keys: fill.map { [UInt8](repeating: $0, count: 32) })!
    }

    let binding = PeerBinding(clusterID: "test", dialer: NodeID(1), acceptor: NodeID(2))

    /// Both ends of one handshake, with fresh nonces.
    func ends(dialer: ClusterKeys, acceptor: ClusterKeys, seed: UInt64,
              binding: PeerBinding? = nil) -> (PeerHandshake, PeerHandshake) {
        var generator = SeededGenerator(seed: seed)
        let binding = binding ?? self.binding
        return (PeerHandshake(role: .dialer, keys: dialer, binding: binding, ownNonce: .random(using: &generator)),
                PeerHandshake(role: .acceptor, keys: acceptor, binding: binding, ownNonce: .random(using: &generator)))
    }

    /// Runs the exchange: each end checks the other's proof.
    func exchange(_ d: PeerHandshake, _ a: PeerHandshake) -> (Result<PeerSession, PeerAuthError>, Result<PeerSession, PeerAuthError>) {
        let dialerProof = d.proof(peerNonce: a.ownNonce), acceptorProof = a.proof(peerNonce: d.ownNonce)
        return (Result { () throws(PeerAuthError) in try d.verify(peerProof: acceptorProof, peerNonce: a.ownNonce) },
                Result { () throws(PeerAuthError) in try a.verify(peerProof: dialerProof, peerNonce: d.ownNonce) })
    }

    @Test func theSameKeyAuthenticatesBothEndsAndFramesFlowBothWays() throws {
        let (d, a) = ends(dialer: Self.keys(7), acceptor: Self.keys(7), seed: 1)
        let (dialerResult, acceptorResult) = exchange(d, a)
        var dialer = try dialerResult.get(), acceptor = try acceptorResult.get()
        #expect(dialer.sessionKey == acceptor.sessionKey && dialer.sessionKey.count == 32)
        #expect(dialer.sessionKey != Self.keys(7).presentedKey)
        var dumped = ""
        dump(dialer, to: &dumped)
        #expect(!dumped.contains("\(dialer.sessionKey[0...3])".dropFirst().dropLast()), "logs never show the session key")
        #expect(!"\(dialer)".contains("\(dialer.sessionKey[0...3])".dropFirst().dropLast()))
        for payload in [[], [1, 2, 3], [UInt8](repeating: 9, count: 1000)] as [[UInt8]] {
            #expect(try acceptor.incoming.open(dialer.outgoing.seal(payload)) == payload)
            #expect(try dialer.incoming.open(acceptor.outgoing.seal(payload)) == payload)
        }
        #expect(dialer.outgoing.sequence == 3 && acceptor.incoming.sequence == 3)
    }

    @Test func anotherKeyIsRefusedByBothEnds() {
        let (d, a) = ends(dialer: Self.keys(7), acceptor: Self.keys(8), seed: 2)
        let (dialerResult, acceptorResult) = exchange(d, a)
        #expect(throws: PeerAuthError.proofMismatch) { try dialerResult.get() }
        #expect(throws: PeerAuthError.proofMismatch) { try acceptorResult.get() }
    }

    @Test func twoKeyFilesRotateWithoutRefusals() throws {
        // Mid-rotation: the dialer presents the new key (9), the acceptor still the old one (7); each accepts both.
        let (d, a) = ends(dialer: Self.keys(9, 7), acceptor: Self.keys(7, 9), seed: 3)
        let (dialerResult, acceptorResult) = exchange(d, a)
        var dialer = try dialerResult.get(), acceptor = try acceptorResult.get()
        #expect(dialer.sessionKey == acceptor.sessionKey)
        #expect(dialer.peerKeyIndex == 1 && acceptor.peerKeyIndex == 1, "each matched its second key")
        #expect(try acceptor.incoming.open(dialer.outgoing.seal([42])) == [42])
        // A node that has dropped the old key no longer accepts a node that has only the old key.
        let (d2, a2) = ends(dialer: Self.keys(7), acceptor: Self.keys(9), seed: 4)
        #expect(throws: PeerAuthError.proofMismatch) { try exchange(d2, a2).1.get() }
    }

    @Test func aProofReflectedToItsSenderIsRefused() {
        let (d, a) = ends(dialer: Self.keys(7), acceptor: Self.keys(7), seed: 5)
        // The same key, the same nonces, the same binding: only the role byte tells the two proofs apart.
        #expect(throws: PeerAuthError.proofMismatch) {
            try a.verify(peerProof: a.proof(peerNonce: d.ownNonce), peerNonce: d.ownNonce)
        }
        #expect(throws: PeerAuthError.proofMismatch) {
            try d.verify(peerProof: d.proof(peerNonce: a.ownNonce), peerNonce: a.ownNonce)
        }
        // Echoing a node's own nonce back to it is refused outright.
        #expect(throws: PeerAuthError.nonceReflected) {
            try a.verify(peerProof: a.proof(peerNonce: a.ownNonce), peerNonce: a.ownNonce)
        }
    }

    @Test func aRecordedHandshakeCannotBeReplayed() {
        let (d1, a1) = ends(dialer: Self.keys(7), acceptor: Self.keys(7), seed: 6)
        let recordedNonce = d1.ownNonce, recordedProof = d1.proof(peerNonce: a1.ownNonce)
        #expect(throws: Never.self) { try a1.verify(peerProof: recordedProof, peerNonce: recordedNonce) }
        // A later connection: the acceptor's fresh nonce makes the recorded proof worthless.
        let (_, a2) = ends(dialer: Self.keys(7), acceptor: Self.keys(7), seed: 7)
        #expect(throws: PeerAuthError.proofMismatch) { try a2.verify(peerProof: recordedProof, peerNonce: recordedNonce) }
        // And the other way: a recorded acceptor proof to a dialer with a fresh nonce.
        let (d2, _) = ends(dialer: Self.keys(7), acceptor: Self.keys(7), seed: 8)
        #expect(throws: PeerAuthError.proofMismatch) {
            try d2.verify(peerProof: a1.proof(peerNonce: d1.ownNonce), peerNonce: a1.ownNonce)
        }
    }

    @Test func aProofIsBoundToTheClusterAndBothNodes() {
        var generator = SeededGenerator(seed: 9)
        let dn = PeerNonce.random(using: &generator), an = PeerNonce.random(using: &generator)
        let honest = PeerHandshake(role: .dialer, keys: Self.keys(7), binding: binding, ownNonce: dn).proof(peerNonce: an)
        for other in [PeerBinding(clusterID: "test", dialer: NodeID(3), acceptor: NodeID(2)),
                      PeerBinding(clusterID: "test", dialer: NodeID(2), acceptor: NodeID(1)),
                      PeerBinding(clusterID: "other", dialer: NodeID(1), acceptor: NodeID(2))] {
            let acceptor = PeerHandshake(role: .acceptor, keys: Self.keys(7), binding: other, ownNonce: an)
            #expect(throws: PeerAuthError.proofMismatch) { try acceptor.verify(peerProof: honest, peerNonce: dn) }
        }
    }

    @Test func malformedNoncesAndProofsAreRefused() {
        #expect(throws: PeerAuthError.badNonceLength(31)) { try PeerNonce(bytes: [UInt8](repeating: 1, count: 31)) }
        let (d, a) = ends(dialer: Self.keys(7), acceptor: Self.keys(7), seed: 10)
        #expect(throws: PeerAuthError.badProofLength(16)) {
            try a.verify(peerProof: Array(d.proof(peerNonce: a.ownNonce).prefix(16)), peerNonce: d.ownNonce)
        }
        #expect(ClusterKeys(keys: []) == nil && ClusterKeys(keys: [[1, 2]]) == nil)
    }

    func sessions(seed: UInt64) throws -> (PeerSession, PeerSession) {
        let (d, a) = ends(dialer: Self.keys(7), acceptor: Self.keys(7), seed: seed)
        let (dialerResult, acceptorResult) = exchange(d, a)
        return (try dialerResult.get(), try acceptorResult.get())
    }

    @Test func aTamperedFrameIsRefused() throws {
        var (dialer, acceptor) = try sessions(seed: 11)
        let sealed = dialer.outgoing.seal(Array("SET k v".utf8))
        for position in [0, 3, sealed.count - 16, sealed.count - 1] {
            var tampered = sealed
            tampered[position] ^= 0x01
            #expect(throws: PeerAuthError.frameTagMismatch(sequence: 0)) { try acceptor.incoming.open(tampered) }
        }
        #expect(throws: PeerAuthError.frameTooShort(bytes: 15)) { try acceptor.incoming.open(Array(sealed.suffix(15))) }
        #expect(throws: PeerAuthError.frameTagMismatch(sequence: 0)) { try acceptor.incoming.open(Array(sealed.dropFirst())) }
        // Failures leave the sequence alone: the genuine frame still opens (the transport closes the link anyway).
        #expect(try acceptor.incoming.open(sealed) == Array("SET k v".utf8))
    }

    @Test func aReplayedFrameIsRefused() throws {
        var (dialer, acceptor) = try sessions(seed: 12)
        let first = dialer.outgoing.seal([1])
        #expect(try acceptor.incoming.open(first) == [1])
        #expect(throws: PeerAuthError.frameTagMismatch(sequence: 1)) { try acceptor.incoming.open(first) }
        // Nor does a frame from another connection between the same nodes open here.
        var (otherDialer, _) = try sessions(seed: 13)
        _ = otherDialer.outgoing.seal([1])
        #expect(throws: PeerAuthError.frameTagMismatch(sequence: 1)) { try acceptor.incoming.open(otherDialer.outgoing.seal([2])) }
    }

    @Test func reorderedAndReflectedFramesAreRefused() throws {
        var (dialer, acceptor) = try sessions(seed: 14)
        let first = dialer.outgoing.seal([1]), second = dialer.outgoing.seal([2])
        #expect(throws: PeerAuthError.frameTagMismatch(sequence: 0)) { try acceptor.incoming.open(second) }
        #expect(try acceptor.incoming.open(first) == [1])
        #expect(try acceptor.incoming.open(second) == [2])
        // A frame the dialer sealed, sent back to the dialer at the same sequence: only the direction byte differs.
        var (reflecting, _) = try sessions(seed: 15)
        let mine = reflecting.outgoing.seal([3])
        #expect(throws: PeerAuthError.frameTagMismatch(sequence: 0)) { try reflecting.incoming.open(mine) }
    }
}
