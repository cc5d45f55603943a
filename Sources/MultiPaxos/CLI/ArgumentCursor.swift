/// Walks a command line one argument at a time, reading an option's value (`--flag value` or `--flag=value`)
/// and checking its range, with a one-line error that names the option and the bad value. An option given
/// twice is refused (last-one-wins would hide a typo), and so is a value attached to an option that takes none.
struct ArgumentCursor {
    let args: [String]
    private var index = -1
    /// The name of the current argument (without `=value`).
    private var name: String?
    /// The value given with `--flag=value`, not yet read.
    private var attached: String?
    private var seen: Set<String> = []

    init(_ args: [String]) { self.args = args }

    /// Moves to the next argument and returns it (an option without its `=value`), or nil past the end.
    mutating func next() throws(OptionsError) -> String? {
        if let value = attached, let name {
            throw OptionsError("\(name) takes no value (got '\(name)=\(value)')")
        }
        index += 1
        guard index < args.count else { return nil }
        var arg = args[index]
        if arg.hasPrefix("--"), let equals = arg.firstIndex(of: "=") {
            attached = String(arg[arg.index(after: equals)...])
            arg = String(arg[..<equals])
        }
        name = arg
        if Self.isOption(arg) {
            let canonical = Self.aliases[arg] ?? arg
            guard seen.insert(canonical).inserted else { throw OptionsError("\(arg) is given twice (give each option once)") }
        }
        return arg
    }

    /// Whether `arg` names an option (not `-`, which means standard input, nor a negative number).
    static func isOption(_ arg: String) -> Bool {
        arg.hasPrefix("-") && arg != "-" && Double(arg) == nil
    }

    /// Short forms that are the same option as a long one.
    private static let aliases = ["-h": "--help", "-q": "--quiet"]

    /// The value that follows `flag` (or is attached to it with `=`).
    mutating func value(_ flag: String) throws(OptionsError) -> String {
        if let value = attached {
            attached = nil
            return value
        }
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

    /// A leader's window of slots in flight: an integer in 1...65536, or `unlimited` (nil).
    mutating func window(_ flag: String) throws(OptionsError) -> Int? {
        let text = try value(flag)
        if text == "unlimited" { return nil }
        guard let n = Int(text), (1...65_536).contains(n) else {
            throw OptionsError("\(flag) '\(text)' is not an integer in 1...65536 or 'unlimited'")
        }
        return n
    }

    /// A read consistency: `log`, `read-index` or `lease`.
    mutating func reads(_ flag: String) throws(OptionsError) -> ReadConsistency {
        let text = try value(flag)
        guard let reads = ReadConsistency(rawValue: text) else {
            let names = ReadConsistency.allCases.map(\.rawValue)
            throw OptionsError("\(flag) '\(text)' is not \(names.dropLast().joined(separator: ", ")) or \(names.last ?? "")")
        }
        return reads
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
