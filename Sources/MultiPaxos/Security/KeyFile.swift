#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The shared secret that authenticates the members of a cluster to each other: one or two 256-bit keys. A node
/// presents the first and accepts either, so a cluster can rotate its key one node at a time.
///
/// Its description and mirror never show the keys, so a stray `print` cannot leak them into a log.
public struct ClusterKeys: Sendable, CustomStringConvertible, CustomReflectable {
    /// Bytes in one key (256 bits).
    public static let keyBytes = 32
    /// The most keys a key file may hold: the current one and the one being rotated in or out.
    public static let maxKeys = 2
    /// The largest key file read, in bytes: two keys with generous room for blank lines and spaces.
    static let maxFileBytes = 4096

    /// One or two keys of 32 bytes each: the first is presented to peers, either is accepted from them.
    public let keys: [[UInt8]]

    /// Makes the keys, or nil unless there are one or two keys of exactly 32 bytes each.
    public init?(keys: [[UInt8]]) {
        guard (1...Self.maxKeys).contains(keys.count), keys.allSatisfy({ $0.count == Self.keyBytes }) else { return nil }
        self.keys = keys
    }

    /// The key this node proves itself with: the first in the file.
    public var presentedKey: [UInt8] { keys[0] }

    public var description: String { keys.count == 1 ? "1 cluster key" : "\(keys.count) cluster keys" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }

    /// Reads a key file: one or two lines of 64 hex digits (blank lines and surrounding spaces are ignored).
    /// A file that its group or others may access at all is refused, as ssh refuses such a private key.
    public static func load(path: String) throws(KeyFileError) -> ClusterKeys {
        let bytes = try SecretFile.readSecret(path: path, kind: .clusterKey, forbiddenModeBits: 0o077,
                                              limitBytes: maxFileBytes)
        return try parse(bytes, path: path)
    }

    /// Parses a key file's contents; errors name `path`, the line and what is wrong, never the key's digits.
    static func parse(_ bytes: [UInt8], path: String) throws(KeyFileError) -> ClusterKeys {
        var keys: [[UInt8]] = []
        for (index, rawLine) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            let isSpace: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") }
            guard let first = rawLine.firstIndex(where: { !isSpace($0) }),
                  let last = rawLine.lastIndex(where: { !isSpace($0) }) else { continue }
            let line = rawLine[first...last]
            guard line.count == 2 * keyBytes else {
                throw .badLine(path: path, line: lineNumber,
                               reason: "it has \(line.count) characters, not \(2 * keyBytes) hex digits")
            }
            var key = [UInt8]()
            key.reserveCapacity(keyBytes)
            var digits = line.makeIterator()
            var position = 0
            while let high = digits.next(), let low = digits.next() {
                // The character itself is not shown: it is part of a secret.
                guard let h = hexValue(high) else {
                    throw .badLine(path: path, line: lineNumber, reason: "character \(position + 1) is not a hex digit")
                }
                guard let l = hexValue(low) else {
                    throw .badLine(path: path, line: lineNumber, reason: "character \(position + 2) is not a hex digit")
                }
                key.append(h << 4 | l)
                position += 2
            }
            guard keys.count < maxKeys else { throw .tooManyKeys(path: path, line: lineNumber) }
            keys.append(key)
        }
        guard let clusterKeys = ClusterKeys(keys: keys) else { throw .noKey(path: path) }
        return clusterKeys
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Writes a new random 256-bit key to `path` as 64 lowercase hex digits and a newline, in a file created with
    /// mode 0600; an existing file is never overwritten (`O_EXCL`), so a key in use cannot be lost by mistake.
    public static func generate(path: String) throws(KeyFileError) {
        var random = SystemRandomNumberGenerator()
        var text = [UInt8]()
        let digits = Array("0123456789abcdef".utf8)
        for _ in 0..<(keyBytes / 8) {
            let word: UInt64 = random.next()
            withUnsafeBytes(of: word) { for byte in $0 { text += [digits[Int(byte >> 4)], digits[Int(byte & 0xf)]] } }
        }
        text.append(UInt8(ascii: "\n"))
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let code = errno
            if code == EEXIST { throw .alreadyExists(path: path) }
            throw .cannotCreate(path: path, reason: SecretFile.errorText(code))
        }
        defer { close(fd) }
        var written = 0
        while written < text.count {
            let count = text.withUnsafeBytes { write(fd, UnsafeRawBufferPointer(rebasing: $0[written...]).baseAddress,
                                                     $0.count - written) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                let reason = count < 0 ? SecretFile.errorText(errno) : "nothing was written"
                unlink(path)
                throw .cannotWrite(path: path, reason: reason)
            }
            written += count
        }
        guard fsync(fd) == 0 else {
            let reason = SecretFile.errorText(errno)
            unlink(path)
            throw .cannotWrite(path: path, reason: reason)
        }
    }
}

/// The two kinds of secret file a node reads, and how it reads them.
public enum SecretFile: Sendable, Equatable, CustomStringConvertible {
    /// A cluster key file (`--cluster-key-file`).
    case clusterKey
    /// A client password file (`--password-file`).
    case password

    /// The largest password file read, in bytes.
    static let maxPasswordFileBytes = 65_536

    public var description: String { self == .clusterKey ? "cluster key file" : "password file" }

    /// Reads a client password: the first line of the file at `path`, without its line ending (`\n` or `\r\n`).
    /// An empty first line is refused, and so is a file others may read or write (its group may, so that a
    /// service's group can share it). The password never comes from a flag, since flags show in `ps`.
    public static func readPassword(path: String) throws(KeyFileError) -> [UInt8] {
        let bytes = try readSecret(path: path, kind: .password, forbiddenModeBits: 0o006,
                                   limitBytes: maxPasswordFileBytes)
        var line = bytes.prefix(while: { $0 != UInt8(ascii: "\n") })
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        guard !line.isEmpty else { throw .emptyPassword(path: path) }
        return Array(line)
    }

    /// Reads at most `limitBytes` of the regular file at `path`, refusing it when its mode has any of
    /// `forbiddenModeBits` or another user than this process's (or root) owns it. Mode and owner are checked on
    /// the opened descriptor, so the file cannot be swapped between the check and the read; it is opened without
    /// blocking, so a FIFO is refused rather than waited on.
    static func readSecret(path: String, kind: SecretFile, forbiddenModeBits: UInt32,
                           limitBytes: Int) throws(KeyFileError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw .cannotOpen(kind, path: path, reason: errorText(errno)) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .cannotRead(kind, path: path, reason: errorText(errno)) }
        let mode = UInt32(info.st_mode)
        guard mode & UInt32(S_IFMT) == UInt32(S_IFREG) else { throw .notARegularFile(kind, path: path) }
        guard info.st_uid == geteuid() || info.st_uid == 0 else { throw .notOwned(kind, path: path, owner: UInt32(info.st_uid)) }
        guard mode & forbiddenModeBits == 0 else { throw .tooOpen(kind, path: path, mode: mode & 0o7777) }
        guard Int(info.st_size) <= limitBytes else {
            throw .tooLarge(kind, path: path, bytes: Int(info.st_size), limitBytes: limitBytes)
        }
        var bytes = [UInt8](repeating: 0, count: limitBytes + 1)
        var filled = 0
        while filled < bytes.count {
            let count = bytes.withUnsafeMutableBytes {
                read(fd, UnsafeMutableRawBufferPointer(rebasing: $0[filled...]).baseAddress, $0.count - filled)
            }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw .cannotRead(kind, path: path, reason: errorText(errno)) }
            if count == 0 { break }
            filled += count
        }
        guard filled <= limitBytes else { throw .tooLarge(kind, path: path, bytes: filled, limitBytes: limitBytes) }
        return Array(bytes[..<filled])
    }

    /// The system's text for an errno value.
    static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }
}
