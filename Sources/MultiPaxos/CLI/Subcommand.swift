/// The commands of the `multipaxos` program besides the demo (`multipaxos <seed>`): the one list that the
/// program dispatches on (a `switch` over every case), that `--help` shows, and that a mistyped command is
/// matched against.
public enum Subcommand: String, CaseIterable, Sendable {
    /// Many seeds, each with its own fault plan.
    case simulate
    /// The two modes side by side.
    case bench
    /// Checks a client history for linearizability.
    case checkHistory = "check-history"
    /// One member of a cluster of processes.
    case serve
    /// N `serve` processes on 127.0.0.1.
    case cluster
    /// Closed-loop load against a served cluster.
    case load
    /// A new cluster key.
    case keygen
    /// Generated and mutated inputs for a decoder of untrusted bytes.
    case fuzz
    /// Real processes under kill -9, pauses and partitions, every history checked.
    case torture
    /// Plants each known bug in turn and checks that a sweep catches it.
    case mutants
    /// Appends synced records to a log (for crash tests).
    case logWriter = "log-writer"
    /// Appends through a 3-node cluster stored in a folder (for crash tests).
    case clusterWriter = "cluster-writer"
    /// The usage, or a command's.
    case help
    /// The program's version.
    case version

    /// How the command is called.
    public var synopsis: String {
        switch self {
        case .simulate: "simulate [--seeds A..B] [options]"
        case .bench: "bench [options]"
        case .checkHistory: "check-history FILE|-"
        case .serve: "serve --id I --peers ... [options]"
        case .cluster: "cluster [--nodes N] [options]"
        case .load: "load --resp HOST:PORT,... [options]"
        case .keygen: "keygen FILE"
        case .fuzz: "fuzz --target T [options]"
        case .torture: "torture [--nodes 3|5] [options]"
        case .mutants: "mutants [--seeds A..B] [--mode M]"
        case .logWriter: "log-writer FILE COUNT"
        case .clusterWriter: "cluster-writer DIR TAG COUNT"
        case .help: "help [COMMAND]"
        case .version: "version"
        }
    }

    /// What the command does, in a few words.
    public var summary: String {
        switch self {
        case .simulate: "many seeds, each with its own fault plan"
        case .bench: "the two modes side by side"
        case .checkHistory: "check a JSON-lines client history for linearizability"
        case .serve: "one member of a cluster of processes (Redis protocol)"
        case .cluster: "N serve processes on 127.0.0.1, stopped together"
        case .load: "closed-loop load against a served cluster"
        case .keygen: "write a new cluster key for serve --cluster-key-file"
        case .fuzz: "feed generated inputs to a decoder of untrusted bytes"
        case .torture: "real processes under kill -9, pauses and partitions, checked"
        case .mutants: "plant each known bug and check that a sweep catches it"
        case .logWriter: "append COUNT synced records to a log (for crash tests)"
        case .clusterWriter: "append to a 3-node cluster stored in DIR (for crash tests)"
        case .help: "this text, or a command's (same as COMMAND --help)"
        case .version: "the version (also --version)"
        }
    }

    /// The usage's list of commands, one a line.
    public static var overview: String {
        let width = allCases.map(\.synopsis.count).max() ?? 0
        return allCases.map { "  multipaxos \($0.synopsis.padded(to: width))  \($0.summary)" }.joined(separator: "\n")
    }

    /// The command `word` was probably meant to be: the one fewest edits away (a letter added, removed, changed
    /// or two swapped), if it is close enough to be a typo; or the only command `word` is a prefix of.
    public static func nearest(to word: String) -> Subcommand? {
        guard !word.isEmpty, Subcommand(rawValue: word) == nil else { return nil }
        let lowered = word.lowercased()
        if let exact = Subcommand(rawValue: lowered) { return exact }
        let scored = allCases.map { ($0, editDistance(lowered, $0.rawValue)) }
        if let (best, distance) = scored.min(by: { $0.1 < $1.1 }), distance <= max(1, min(2, best.rawValue.count / 3)) {
            return best
        }
        let prefixed = allCases.filter { $0.rawValue.hasPrefix(lowered) }
        return lowered.count >= 2 && prefixed.count == 1 ? prefixed[0] : nil
    }

    /// The optimal-string-alignment distance: insertions, deletions, substitutions and swaps of neighbours.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[a.count][b.count]
    }
}

/// The program's version, which `multipaxos --version` prints; release tags are `v` followed by it.
public enum MultiPaxosVersion {
    /// The version of this build.
    public static let current = "0.1.0"
}

/// The exit statuses every `multipaxos` command uses: one rule, so scripts can tell a failed check from a
/// mistyped command. (`check-history` adds 3: no verdict within its budget.)
public enum ExitStatus {
    /// Everything asked for was done and every check held.
    public static let success: Int32 = 0
    /// The command ran but a check failed, or the work failed as it ran (a node, a disk, a write that had
    /// been possible when checked).
    public static let failure: Int32 = 1
    /// Nothing was done: bad arguments, an input that cannot be read or parsed, or an output path that cannot
    /// be written (checked before any work starts).
    public static let usage: Int32 = 2

    /// The rule, as the usage texts and docs state it.
    public static let rule = "exit status: 0 ok; 1 a check failed or the run failed; 2 bad arguments, unreadable\n"
        + "input, or an output path that cannot be written (all checked before anything runs)"
}
