import Foundation
import MultiPaxos

/// `multipaxos fuzz --target resp|frame|storage [--seed N] [--seconds S] [--count C]`: feeds generated and
/// mutated inputs to a decoder of untrusted bytes; exits 0 when every check held.
func fuzzCommand(_ args: [String]) -> Int32 {
    let options: FuzzOptions
    do {
        guard let parsed = try FuzzOptions.parse(args) else {
            print(FuzzOptions.usage)
            return ExitStatus.success
        }
        options = parsed
    } catch {
        complain("fuzz: \(error) (see multipaxos fuzz --help)")
        return ExitStatus.usage
    }
    let start = ContinuousClock.now
    let report = Fuzzer.run(options.target, seed: options.seed, count: options.count,
                            deadline: start + .milliseconds(Int64(options.seconds * 1000)))
    let elapsed = ContinuousClock.now - start
    let secs = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    print(report)
    print("\(Int((Double(report.inputs) / max(secs, 1e-9)).rounded())) inputs per second over \(String(format: "%.1f", secs)) s")
    return report.failure == nil ? ExitStatus.success : ExitStatus.failure
}
