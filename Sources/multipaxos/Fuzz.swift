import Foundation
import MultiPaxos

/// `multipaxos fuzz --target resp|frame|storage [--seed N] [--seconds S] [--count C]`: feeds generated and
/// mutated inputs to a decoder of untrusted bytes; exits 0 when every check held.
func fuzzCommand(_ args: [String]) -> Int32 {
    let usage = """
        usage: multipaxos fuzz --target resp|frame|storage [--seed N] [--seconds S] [--count C]

        Feeds inputs generated from the seed (valid ones, then mutated) to the RESP request parser, the peer
        stream decoder (handshake, frames, messages) or storage recovery (log files), and checks that nothing
        traps, no decoder holds more than it was given, and every refusal is a typed error. Prints inputs per
        second; a failure names the seed and the input's index, which reproduce it.

        options:
          --target T     resp, frame or storage
          --seed N       the first seed (default 1)
          --seconds S    stop after S seconds (default 10)
          --count C      stop after C inputs (default: unlimited within --seconds)
        """
    var target: FuzzTarget?
    var seed: UInt64 = 1
    var seconds = 10.0
    var count = Int.max
    var i = 0
    func value() -> String? {
        i += 1
        return i < args.count ? args[i] : nil
    }
    while i < args.count {
        switch args[i] {
        case "--help", "-h":
            print(usage)
            return 0
        case "--target":
            guard let text = value(), let t = FuzzTarget(rawValue: text) else {
                complain("fuzz: --target '\(i < args.count ? args[i] : "")' is not resp, frame or storage")
                return 2
            }
            target = t
        case "--seed":
            guard let text = value(), let n = UInt64(text) else { complain("fuzz: --seed needs an unsigned integer"); return 2 }
            seed = n
        case "--seconds":
            guard let text = value(), let s = Double(text), s.isFinite, s > 0, s <= 86_400 else {
                complain("fuzz: --seconds needs a number in (0, 86400]")
                return 2
            }
            seconds = s
        case "--count":
            guard let text = value(), let c = Int(text), c > 0 else { complain("fuzz: --count needs a positive integer"); return 2 }
            count = c
        default:
            complain("fuzz: unknown option '\(args[i])' (see multipaxos fuzz --help)")
            return 2
        }
        i += 1
    }
    guard let target else {
        complain("fuzz: missing --target (resp, frame or storage)")
        return 2
    }
    let start = ContinuousClock.now
    let report = Fuzzer.run(target, seed: seed, count: count, deadline: start + .milliseconds(Int64(seconds * 1000)))
    let elapsed = ContinuousClock.now - start
    let secs = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    print(report)
    print("\(Int((Double(report.inputs) / max(secs, 1e-9)).rounded())) inputs per second over \(String(format: "%.1f", secs)) s")
    return report.failure == nil ? 0 : 1
}
