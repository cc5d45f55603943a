#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// The client history of a torture run as it happens: every invocation before it is sent and every outcome after
/// it is known, in one lock, so the order of the lines is the real-time order. Each line also goes to a JSON-lines
/// file at once (the format `check-history` reads, plus the node asked and the time in seconds), so an
/// interrupted run leaves what it recorded.
final class TortureRecorder: Sendable {
    /// One recorded line.
    struct Entry: Sendable {
        let event: HistoryEvent
        /// When it was recorded, from the start of the run's clock.
        let time: Duration
        /// The node the operation went to.
        let node: Int?
    }

    private struct State {
        var entries: [Entry] = []
        var fd: Int32
    }
    private let state: Mutex<State>
    private let start: ContinuousClock.Instant

    /// Opens (truncates) the history file at `path`.
    init(path: String, start: ContinuousClock.Instant) throws(TortureError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .folder(path, String(cString: strerror(errno))) }
        state = Mutex(State(fd: fd))
        self.start = start
    }

    /// Records `event`, sent to `node`.
    func record(_ event: HistoryEvent, node: Int?) {
        state.withLock { s in
            let entry = Entry(event: event, time: .now - start, node: node)
            s.entries.append(entry)
            guard s.fd >= 0 else { return }
            var line = History(events: [event]).jsonLines()
            line.removeLast(2)  // "}\n": the extra fields go before it
            if let node { line += ",\"node\":\(node)" }
            line += ",\"time\":\(String(format: "%.6f", entry.time.seconds))}\n"
            let bytes = Array(line.utf8)
            _ = bytes.withUnsafeBytes { write(s.fd, $0.baseAddress, $0.count) }
        }
    }

    /// Everything recorded so far.
    var entries: [Entry] { state.withLock { $0.entries } }

    /// The recorded history.
    var history: History { History(events: entries.map(\.event)) }

    /// Closes the file (records stay in memory).
    func close() {
        state.withLock { s in
            if s.fd >= 0 { Glibc.close(s.fd) }
            s.fd = -1
        }
    }
}
