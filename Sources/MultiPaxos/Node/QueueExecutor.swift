import Dispatch

/// A serial executor over one serial `DispatchQueue`. All actors that share one run one job at a time, in FIFO
/// order, and call each other without a thread hand-off (about 0.1 µs instead of 11 µs on the global pool).
/// A simulation puts every actor on one of these; a real-time cluster gives each node its own.
public final class QueueExecutor: SerialExecutor, @unchecked Sendable {
    private let queue: DispatchQueue

    /// Makes an executor over a new serial queue named `label`.
    public init(label: String) {
        queue = DispatchQueue(label: label)
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }
}
