/// What `multipaxos log-writer FILE COUNT` was asked for (a helper the crash tests kill mid-write).
public struct LogWriterOptions: Sendable, Equatable {
    /// The log file (recovered first, then appended to).
    public var path: String
    /// How many records to append.
    public var count: Int

    /// The text `log-writer --help` prints.
    public static let usage = """
        usage: multipaxos log-writer FILE COUNT

        Opens (and so recovers) the log at FILE, then appends COUNT more records, syncing each and printing
        `synced N` (N records in all) once it is durable. A helper for crash tests: they kill it at any moment
        and check what recovery gives back.

        \(ExitStatus.rule)
        """

    /// Parses the arguments after `log-writer`; nil for `--help`. Throws a one-line error naming what is missing
    /// or wrong.
    public static func parse(_ args: [String]) throws(OptionsError) -> LogWriterOptions? {
        let words = try positionals(args, command: "log-writer")
        guard let words else { return nil }
        guard words.count == 2 else {
            throw OptionsError("log-writer takes a log file and a record count; "
                               + (words.isEmpty ? "both are missing" : words.count == 1 ? "the count is missing"
                                  : "got \(words.count) arguments: \(quoted(words))"))
        }
        guard !words[0].isEmpty else { throw OptionsError("log-writer: the log file name '' is empty") }
        guard let count = Int(words[1]), count >= 0 else {
            throw OptionsError("log-writer: the record count '\(words[1])' is not an integer >= 0")
        }
        return LogWriterOptions(path: words[0], count: count)
    }
}

/// What `multipaxos cluster-writer DIR TAG COUNT` was asked for (a helper the crash tests kill mid-write).
public struct ClusterWriterOptions: Sendable, Equatable {
    /// The storage folder of the 3-node cluster.
    public var directory: String
    /// The prefix of each appended value.
    public var tag: String
    /// How many appends.
    public var count: Int

    /// The text `cluster-writer --help` prints.
    public static let usage = """
        usage: multipaxos cluster-writer DIR TAG COUNT

        Starts a 3-node LocalCluster on the storage folder DIR (resuming whatever is there), then appends
        `TAG-i;` to the key `log` for i in 0..<COUNT, one at a time, printing `acked i` as soon as each is
        acknowledged. A helper for crash tests: they kill it at any moment and check that every acknowledged
        append survived, exactly once.

        \(ExitStatus.rule)
        """

    /// Parses the arguments after `cluster-writer`; nil for `--help`. Throws a one-line error naming what is
    /// missing or wrong.
    public static func parse(_ args: [String]) throws(OptionsError) -> ClusterWriterOptions? {
        let words = try positionals(args, command: "cluster-writer")
        guard let words else { return nil }
        let names = ["a storage folder", "a tag", "a count"]
        guard words.count == 3 else {
            let detail = words.count < 3 ? "missing: \(names[words.count...].joined(separator: ", "))"
                                         : "got \(words.count) arguments: \(quoted(words))"
            throw OptionsError("cluster-writer takes a storage folder, a tag and a count; \(detail)")
        }
        guard !words[0].isEmpty else { throw OptionsError("cluster-writer: the storage folder '' is empty") }
        guard let count = Int(words[2]), count >= 0 else {
            throw OptionsError("cluster-writer: the count '\(words[2])' is not an integer >= 0")
        }
        return ClusterWriterOptions(directory: words[0], tag: words[1], count: count)
    }
}

/// The positional arguments of a command that takes no options but `--help`; nil when help was asked for.
private func positionals(_ args: [String], command: String) throws(OptionsError) -> [String]? {
    var words: [String] = []
    var cursor = ArgumentCursor(args)
    while let arg = try cursor.next() {
        switch arg {
        case "--help", "-h": return nil
        default:
            if ArgumentCursor.isOption(arg) { throw OptionsError("unknown \(command) option '\(arg)'") }
            words.append(arg)
        }
    }
    return words
}

private func quoted(_ words: [String]) -> String { words.map { "'\($0)'" }.joined(separator: " ") }
