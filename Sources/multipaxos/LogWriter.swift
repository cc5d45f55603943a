#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MultiPaxos

/// `multipaxos log-writer FILE COUNT`: a helper for crash tests. Opens (and so recovers) the log at FILE, then
/// appends COUNT more records, syncing each and printing `synced N` (N records in all) once it is durable, so
/// that a test can kill the process at any moment and check what recovery gives back. Record i is its index as
/// 8 little-endian bytes followed by 500 + i mod 97 bytes of the value i mod 256.
func logWriter(_ args: [String]) -> Int32 {
    let options: LogWriterOptions
    do {
        guard let parsed = try LogWriterOptions.parse(args) else {
            print(LogWriterOptions.usage)
            return ExitStatus.success
        }
        options = parsed
    } catch {
        complain("\(error) (see multipaxos log-writer --help)")
        return ExitStatus.usage
    }
    let count = options.count
    do {
        let log = try FileLog(path: options.path)
        for i in log.recovered.count..<(log.recovered.count + count) {
            try log.append(logWriterRecord(i))
            try log.sync()
            let line = Array("synced \(i + 1)\n".utf8)  // unbuffered: the line is out before the next write
            _ = line.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        }
        return ExitStatus.success
    } catch {
        complain("\(error)")
        return ExitStatus.failure
    }
}

/// Record `i` of `log-writer`.
func logWriterRecord(_ i: Int) -> [UInt8] {
    (0..<8).map { UInt8(truncatingIfNeeded: i >> (8 * $0)) } + [UInt8](repeating: UInt8(truncatingIfNeeded: i), count: 500 + i % 97)
}
