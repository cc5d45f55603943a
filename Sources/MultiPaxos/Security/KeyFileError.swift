#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a cluster key file or a password file was refused; each description is one line that names the file.
public enum KeyFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be opened (missing, not permitted); `reason` is the system's.
    case cannotOpen(SecretFile, path: String, reason: String)
    /// Reading the file failed; `reason` is the system's.
    case cannotRead(SecretFile, path: String, reason: String)
    /// The path names a directory, device, FIFO or other non-regular file.
    case notARegularFile(SecretFile, path: String)
    /// The file belongs to another user than the one running the node (or root): someone else controls it.
    case notOwned(SecretFile, path: String, owner: UInt32)
    /// The file's permission bits (`mode`, e.g. 0o644) let others, or for a key file its group, reach the secret.
    case tooOpen(SecretFile, path: String, mode: UInt32)
    /// The file is longer than any valid one.
    case tooLarge(SecretFile, path: String, bytes: Int, limitBytes: Int)
    /// A line of a key file is not 64 hex digits; `reason` says what is wrong without showing the secret.
    case badLine(path: String, line: Int, reason: String)
    /// A key file holds no key (empty, or only blank lines).
    case noKey(path: String)
    /// A key file holds a third key, at `line`.
    case tooManyKeys(path: String, line: Int)
    /// `keygen` was asked to write a file that exists: it never overwrites a key.
    case alreadyExists(path: String)
    /// A new key file could not be created; `reason` is the system's.
    case cannotCreate(path: String, reason: String)
    /// Writing a new key file failed and the partial file was removed; `reason` is the system's.
    case cannotWrite(path: String, reason: String)
    /// A password file's first line is empty.
    case emptyPassword(path: String)

    public var description: String {
        switch self {
        case .cannotOpen(let kind, let path, let reason): "cannot open \(kind) \(path): \(reason)"
        case .cannotRead(let kind, let path, let reason): "cannot read \(kind) \(path): \(reason)"
        case .notARegularFile(let kind, let path): "\(kind) \(path) is not a regular file"
        case .notOwned(let kind, let path, let owner):
            "\(kind) \(path) belongs to user \(owner), not to the user running this node (\(geteuid())) or root: chown it"
        case .tooOpen(.clusterKey, let path, let mode):
            "cluster key file \(path) has mode \(Self.octal(mode)): it must not be readable or writable by group or others (chmod 600)"
        case .tooOpen(.password, let path, let mode):
            "password file \(path) has mode \(Self.octal(mode)): it must not be readable or writable by others (chmod 600)"
        case .tooLarge(let kind, let path, let bytes, let limit):
            "\(kind) \(path) is \(bytes) bytes, over the limit of \(limit) bytes"
        case .badLine(let path, let line, let reason):
            "cluster key file \(path), line \(line): \(reason) (expected 64 hex digits, as `multipaxos keygen` writes)"
        case .noKey(let path): "cluster key file \(path) holds no key (expected one or two lines of 64 hex digits)"
        case .tooManyKeys(let path, let line):
            "cluster key file \(path), line \(line): a third key (a key file holds one key, or two while rotating)"
        case .alreadyExists(let path): "key file \(path) already exists: refusing to overwrite it"
        case .cannotCreate(let path, let reason): "cannot create key file \(path): \(reason)"
        case .cannotWrite(let path, let reason): "cannot write key file \(path): \(reason)"
        case .emptyPassword(let path): "password file \(path) has an empty first line"
        }
    }

    /// A permission mode as four octal digits, as `ls` and `chmod` users read it (0644).
    static func octal(_ mode: UInt32) -> String {
        let digits = String(mode & 0o7777, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
