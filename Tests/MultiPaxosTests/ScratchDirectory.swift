import Foundation

/// A fresh directory under the system's temporary directory for one test, removed with everything in it when
/// the value goes away (on every path out of the test, pass or fail).
final class ScratchDirectory: Sendable {
    /// Its absolute path.
    let path: String

    /// Makes a new, empty directory whose name starts with `prefix`.
    init(_ prefix: String = "multipaxos-test") throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(prefix)-\(UInt64.random(in: 1...UInt64.max))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
