/// Walks a command line one argument at a time, reading an option's value and checking its range, with a
/// one-line error that names the option and the bad value.
struct ArgumentCursor {
    let args: [String]
    private(set) var index = 0

    init(_ args: [String]) { self.args = args }

    /// The current argument, or nil past the end.
    var current: String? { index < args.count ? args[index] : nil }

    /// Moves to the next argument.
    mutating func advance() { index += 1 }

    /// The value that follows `flag`.
    mutating func value(_ flag: String) throws(OptionsError) -> String {
        index += 1
        guard index < args.count else { throw OptionsError("\(flag) needs a value") }
        return args[index]
    }

    /// An integer value in `range`.
    mutating func integer(_ flag: String, _ range: ClosedRange<Int>) throws(OptionsError) -> Int {
        let text = try value(flag)
        guard let n = Int(text), range.contains(n) else {
            throw OptionsError("\(flag) '\(text)' is not an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return n
    }

    /// A time in seconds (0...1,000,000), as simulated microseconds.
    mutating func seconds(_ flag: String) throws(OptionsError) -> Microseconds {
        let text = try value(flag)
        guard let seconds = Double(text), seconds.isFinite, (0...1_000_000).contains(seconds) else {
            throw OptionsError("\(flag) '\(text)' is not a number of seconds in 0...1000000")
        }
        return Microseconds(seconds * 1_000_000)
    }

    /// A probability in 0...1.
    mutating func probability(_ flag: String) throws(OptionsError) -> Double {
        let text = try value(flag)
        guard let p = Double(text), p.isFinite, (0...1).contains(p) else {
            throw OptionsError("\(flag) '\(text)' is not a probability in 0...1")
        }
        return p
    }

    /// A range of seeds `A..B` (or `A` alone for `A..A`).
    mutating func seeds(_ flag: String) throws(OptionsError) -> ClosedRange<UInt64> {
        let text = try value(flag)
        let parts = text.split(separator: ".", omittingEmptySubsequences: true)
        let bounds = text.contains("..") ? parts.map { UInt64($0) } : [UInt64(text), UInt64(text)]
        guard bounds.count == 2, let a = bounds[0], let b = bounds[1], a <= b else {
            throw OptionsError("\(flag) '\(text)' is not a range A..B of integers with A <= B")
        }
        return a...b
    }
}
