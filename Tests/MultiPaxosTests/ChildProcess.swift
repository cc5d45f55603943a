import Foundation

/// A child process a test starts. It is owned from the moment it runs, so it is stopped on every path out of
/// the test: `stop` sends a signal and, if the child has not exited within a bound, SIGKILL; dropping the last
/// reference kills it too (a test that throws half-way leaves nothing running). Every wait is bounded, and its
/// output is read on a thread of its own, so a child that fills a pipe or never exits cannot hang the test.
final class ChildProcess: @unchecked Sendable {  // its state is behind `condition`; Process is thread-safe enough
    /// Where a standard stream goes.
    enum Stream {
        /// Kept, readable with `output`/`errors` and `waitForOutput`.
        case collect
        /// Thrown away.
        case discard
        /// Written to a file.
        case file(FileHandle)
    }

    let process = Process()
    private let condition = NSCondition()
    private var collected: [[UInt8]] = [[], []]  // standard output, standard error
    /// Per stream: whether it is read and has reached its end (a stream not collected counts as ended).
    private var ended = [true, true]

    /// Starts `executable` with `arguments`; `input` is written to its standard input, which is then closed.
    init(_ executable: URL, _ arguments: [String], directory: String? = nil, environment: [String: String]? = nil,
         input: [UInt8]? = nil, output: Stream = .collect, errors: Stream = .collect) throws {
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        if let environment { process.environment = environment }
        var readers: [(Int, FileHandle)] = []
        for (index, stream) in [output, errors].enumerated() {
            let handle: Any
            switch stream {
            case .collect:
                let pipe = Pipe()
                readers.append((index, pipe.fileHandleForReading))
                ended[index] = false
                handle = pipe
            case .discard: handle = FileHandle.nullDevice
            case .file(let file): handle = file
            }
            if index == 0 { process.standardOutput = handle } else { process.standardError = handle }
        }
        let stdin = input.map { _ in Pipe() }
        process.standardInput = stdin ?? FileHandle.nullDevice
        process.terminationHandler = { [condition] _ in
            condition.lock()
            defer { condition.unlock() }
            condition.broadcast()
        }
        try process.run()
        for (index, handle) in readers {
            Thread { [weak self] in
                while true {
                    let chunk = handle.availableData
                    guard let self else { return }
                    self.condition.lock()
                    self.collected[index] += chunk
                    if chunk.isEmpty { self.ended[index] = true }
                    self.condition.broadcast()
                    self.condition.unlock()
                    if chunk.isEmpty { return }
                }
            }.start()
        }
        if let stdin, let input {
            try? stdin.fileHandleForWriting.write(contentsOf: input)
            try? stdin.fileHandleForWriting.close()
        }
    }

    deinit {
        if process.isRunning { stop(SIGKILL) }
    }

    /// The child's process id.
    var pid: pid_t { process.processIdentifier }
    /// Whether it still runs.
    var isRunning: Bool { process.isRunning }
    /// Its exit status, or the signal that ended it (valid once it has exited).
    var status: Int32 { process.terminationStatus }

    /// Its standard output so far (all of it once it has exited and the pipe is drained).
    var output: String { text(0) }
    /// Its standard error so far.
    var errors: String { text(1) }

    private func text(_ index: Int) -> String {
        condition.lock()
        defer { condition.unlock() }
        return String(decoding: collected[index], as: UTF8.self)
    }

    /// Waits at most `timeout` for it to exit; true if it has.
    @discardableResult
    func wait(timeout: Duration) -> Bool {
        let deadline = Date().addingTimeInterval(Self.seconds(timeout))
        condition.lock()
        defer { condition.unlock() }
        while process.isRunning {
            if !condition.wait(until: deadline) { return !process.isRunning }
        }
        return true
    }

    /// Waits at most `timeout` until its standard output satisfies `done`; returns the output then, nil on timeout
    /// or if it exited without satisfying it.
    func waitForOutput(timeout: Duration, until done: (String) -> Bool) -> String? {
        let deadline = Date().addingTimeInterval(Self.seconds(timeout))
        condition.lock()
        defer { condition.unlock() }
        while true {
            let text = String(decoding: collected[0], as: UTF8.self)
            if done(text) { return text }
            // The output ended (the child exited or closed it) without satisfying it, or time ran out.
            if ended[0] || !condition.wait(until: deadline) { return nil }
        }
    }

    /// Sends `signal`; if it has not exited within `grace`, SIGKILL. Returns whether it exited (false only if even
    /// SIGKILL left it running for ten seconds, which the test then reports).
    @discardableResult
    func stop(_ signal: Int32 = SIGTERM, grace: Duration = .seconds(10)) -> Bool {
        if process.isRunning {
            kill(pid, signal)
            if !wait(timeout: signal == SIGKILL ? .seconds(10) : grace) {
                kill(pid, SIGKILL)
                guard wait(timeout: .seconds(10)) else { return false }
            }
        }
        drain(seconds: 2)
        return true
    }

    /// Runs `executable` to the end, for at most `timeout` (then it is killed and the test fails): its status,
    /// standard output and standard error.
    static func run(_ executable: URL, _ arguments: [String], directory: String? = nil,
                    environment: [String: String]? = nil, input: [UInt8]? = nil,
                    timeout: Duration = .seconds(120)) throws -> (status: Int32, output: String, errors: String) {
        let child = try ChildProcess(executable, arguments, directory: directory, environment: environment, input: input)
        if !child.wait(timeout: timeout) {
            child.stop(SIGKILL)
            throw ChildProcessError.timedOut(arguments, timeout)
        }
        child.drain(seconds: 10)
        return (child.status, child.output, child.errors)
    }

    /// Waits (at most `seconds`: a grandchild may hold a pipe open) until the readers have taken everything the
    /// exited child wrote.
    func drain(seconds: TimeInterval) {
        let deadline = Date().addingTimeInterval(seconds)
        condition.lock()
        defer { condition.unlock() }
        while ended.contains(false), condition.wait(until: deadline) {}
    }

    private static func seconds(_ d: Duration) -> TimeInterval {
        TimeInterval(d.components.seconds) + TimeInterval(d.components.attoseconds) / 1e18
    }
}

/// A child that did not exit within its bound.
enum ChildProcessError: Error, CustomStringConvertible {
    case timedOut([String], Duration)

    var description: String {
        switch self {
        case .timedOut(let arguments, let timeout): "\(arguments.joined(separator: " ")) did not exit within \(timeout); killed"
        }
    }
}
