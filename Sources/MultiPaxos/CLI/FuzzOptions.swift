/// What `multipaxos fuzz` was asked for: a decoder of untrusted bytes, a seed and a budget.
public struct FuzzOptions: Sendable, Equatable {
    /// The decoder to feed.
    public var target: FuzzTarget
    /// The first seed.
    public var seed: UInt64 = 1
    /// Stop after this many seconds.
    public var seconds = 10.0
    /// Stop after this many inputs.
    public var count = Int.max

    /// The text `fuzz --help` prints.
    public static let usage = """
        usage: multipaxos fuzz --target resp|frame|storage [--seed N] [--seconds S] [--count C]

        Feeds inputs generated from the seed (valid ones, then mutated) to the RESP request parser, the peer
        stream decoder (handshake, frames, messages) or storage recovery (log files), and checks that nothing
        traps, no decoder holds more than it was given, and every refusal is a typed error. Prints inputs per
        second; a failure names the seed and the input's index, which reproduce it.

        options:
          --target T     resp, frame or storage
          --seed N       the first seed (default 1)
          --seconds S    stop after S seconds, in (0, 86400] (default 10)
          --count C      stop after C inputs (default: unlimited within --seconds)

        \(ExitStatus.rule)
        """

    /// Parses the arguments after `fuzz`; nil for `--help`. Throws a one-line error naming the bad value.
    public static func parse(_ args: [String]) throws(OptionsError) -> FuzzOptions? {
        var target: FuzzTarget?
        var result = FuzzOptions(target: .resp)
        var cursor = ArgumentCursor(args)
        while let arg = try cursor.next() {
            switch arg {
            case "--help", "-h": return nil
            case "--target":
                let text = try cursor.value(arg)
                guard let t = FuzzTarget(rawValue: text) else { throw OptionsError("--target '\(text)' is not resp, frame or storage") }
                target = t
            case "--seed":
                let text = try cursor.value(arg)
                guard let n = UInt64(text) else { throw OptionsError("--seed '\(text)' is not an integer in 0...18446744073709551615") }
                result.seed = n
            case "--seconds":
                let text = try cursor.value(arg)
                guard let s = Double(text), s.isFinite, s > 0, s <= 86_400 else {
                    throw OptionsError("--seconds '\(text)' is not a number in (0, 86400]")
                }
                result.seconds = s
            case "--count": result.count = try cursor.integer(arg, 1...Int.max)
            default: throw OptionsError("unknown fuzz option '\(arg)'")
            }
        }
        guard let target else { throw OptionsError("missing --target (resp, frame or storage)") }
        result.target = target
        return result
    }
}
