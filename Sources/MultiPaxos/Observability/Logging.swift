/// How much a log record matters, from the most detailed to the most severe; the names are swift-log's, so an
/// adapter maps them by raw value.
public enum LogLevel: String, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    /// Every input a node takes (a message or a timer): for following one run step by step.
    case trace
    /// Protocol events: elections, lost leadership, catch-up, snapshots, nodes stopped and restarted.
    case debug
    /// Not used by the library (it leaves info and above to the application).
    case info
    /// Not used by the library.
    case warning
    /// Not used by the library.
    case error

    private var rank: Int { LogLevel.allCases.firstIndex(of: self)! }
    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rank < b.rank }
    public var description: String { rawValue }
}

/// One log record: its level, its text, and the node it is about.
public struct LogRecord: Sendable {
    /// How much it matters.
    public let level: LogLevel
    /// The text, one line.
    public let message: String
    /// The node whose shell logged it.
    public let node: NodeID
}

/// Where a `LocalCluster` sends its log records (`LocalCluster(logger:)`); the default is none. The library
/// logs at `.debug` and `.trace` only, as the Swift server guidelines ask of libraries, and builds a record's
/// text only when `level` lets it through, so a logger that wants `.debug` costs nothing per message.
public protocol MultiPaxosLogger: Sendable {
    /// The lowest level wanted; records below it are never built.
    var level: LogLevel { get }
    /// Takes one record; called from the node's loop, so it must not block for long.
    func log(_ record: LogRecord)
}

/// A logger made of a closure: `ClosureLogger(level: .debug) { print($0.node, $0.message) }`.
public struct ClosureLogger: MultiPaxosLogger {
    /// The lowest level wanted.
    public let level: LogLevel
    private let handler: @Sendable (LogRecord) -> Void

    /// Makes a logger that hands every record at `level` or above to `handler`.
    public init(level: LogLevel, _ handler: @escaping @Sendable (LogRecord) -> Void) {
        self.level = level
        self.handler = handler
    }

    public func log(_ record: LogRecord) { handler(record) }
}

extension Optional where Wrapped == any MultiPaxosLogger {
    /// Logs `message` at `level` for `node`, building the text only when the logger wants that level.
    func log(_ level: LogLevel, _ node: NodeID, _ message: @autoclosure () -> String) {
        guard let logger = self, level >= logger.level else { return }
        logger.log(LogRecord(level: level, message: message(), node: node))
    }
}
