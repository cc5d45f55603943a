#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The files a command is asked to write: checked before any work starts, so that a long run never ends with
/// "cannot write" (and the exit status is then 2: nothing was run).
public enum OutputPath {
    /// Throws a one-line error naming `flag`, the path and the reason when a file at `path` could not be
    /// created or replaced: an empty name, a folder, a missing parent folder, or no permission. Creates nothing.
    public static func check(_ path: String, flag: String) throws(OptionsError) {
        guard !path.isEmpty else { throw OptionsError("\(flag) '' is empty: give a file name") }
        var info = stat()
        if stat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) != S_IFDIR else { throw OptionsError("\(flag) '\(path)' is a folder, not a file") }
            guard access(path, W_OK) == 0 else { throw OptionsError("\(flag) '\(path)' cannot be written: \(reason())") }
            return
        }
        let parent = (path as NSString).deletingLastPathComponent
        let folder = parent.isEmpty ? "." : parent
        guard stat(folder, &info) == 0 else {
            throw OptionsError("\(flag) '\(path)' cannot be created: folder '\(folder)': \(reason())")
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw OptionsError("\(flag) '\(path)' cannot be created: '\(folder)' is not a folder")
        }
        guard access(folder, W_OK | X_OK) == 0 else {
            throw OptionsError("\(flag) '\(path)' cannot be created in '\(folder)': \(reason())")
        }
    }

    /// Writes `text` to `path`, replacing it; throws a one-line error naming the path and the reason.
    public static func write(_ text: String, to path: String) throws(OptionsError) {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        } catch {
            throw OptionsError("cannot write '\(path)': \((error as NSError).localizedDescription)")
        }
    }

    static func reason() -> String { String(cString: strerror(errno)) }
}

/// A file a command is asked to read, with distinct one-line errors for a missing file, a folder and a file
/// that cannot be read.
public enum InputFile {
    /// The bytes of the file at `path`; `what` names it in errors ("history file").
    public static func read(_ path: String, what: String) throws(OptionsError) -> Data {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            if errno == ENOENT { throw OptionsError("\(what) '\(path)' does not exist") }
            throw OptionsError("cannot read \(what) '\(path)': \(OutputPath.reason())")
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw OptionsError("cannot read \(what) '\(path)': \(OutputPath.reason())") }
        guard (info.st_mode & S_IFMT) != S_IFDIR else { throw OptionsError("\(what) '\(path)' is a folder, not a file") }
        do {
            return try handle.readToEnd() ?? Data()
        } catch {
            throw OptionsError("cannot read \(what) '\(path)': \((error as NSError).localizedDescription)")
        }
    }
}
