/// What `multipaxos torture` was asked for.
public struct TortureOptions: Sendable {
    /// The run.
    public var configuration = TortureConfiguration()

    /// The text `torture --help` prints.
    public static let usage = """
        usage: multipaxos torture [--nodes 3|5] [--clients C] [--keys K] [--seconds S] [--seed N] [--mode M]
                                  [--out DIR] [--wipe] [--value-bytes MIN-MAX] [--pause-ms P]

        Fault testing of real processes. Starts N `multipaxos serve` children on 127.0.0.1 whose peer links all go
        through a fault proxy in this process, runs C clients against random nodes for S seconds (get, put, append
        and compare-and-set on K registers, appends of unique tokens to two logs, every invocation and outcome
        recorded), while a nemesis drawn from the seed kills the leader and others with kill -9, pauses nodes with
        SIGSTOP, partitions the cluster (a minority, the leader alone, a bridge node, one way), delays, slows and
        cuts links, and with --wipe wipes a node's data before it restarts. Then it heals everything, lets the
        cluster converge and checks: the history is linearizable, every acknowledged append is read back, every
        node answers the same values, no node exited but by the nemesis. Prints a summary and leaves the history
        (history.jsonl), the nemesis log, each node's log and data in the folder.

        Exit status: 0 every check holds, 1 a check failed, 2 bad flags or an unusable folder, 3 the
        linearizability checker ran out of time, 130 interrupted (Ctrl-C stops every node and the proxy).

        options:
          --nodes N          cluster members: 3 or 5 (default 3)
          --clients C        concurrent clients, 1...64 (default 4)
          --keys K           registers at a time, 1...1000 (default 4); two append-only logs come on top;
                             each register and log moves to a fresh key every 5 s
          --seconds S        how long the clients and the nemesis run, 1...86400 (default 30)
          --seed N           draws the nemesis's schedule and the clients' choices (default: random, printed)
          --mode M           stable-leader or per-slot (default stable-leader)
          --out DIR          the run's folder (default: a new one in the temporary directory)
          --wipe             the nemesis also wipes data directories (restarted with the usual flags: the
                             node finds out that it must rejoin before it votes)
          --value-bytes A-B  every value a client writes carries A to B bytes of filler after its token
                             (1...8388608), checked byte for byte when read: large values and a large state,
                             while the history keeps tokens only (default: tokens alone, a few bytes)
          --pause-ms P       each client waits P ms between operations, 0...10000 (default 0: closed loop);
                             with large values, what paces the state's growth
        """

    /// Parses the arguments after `torture`; nil for `--help`. Throws a one-line error naming the bad value.
    public static func parse(_ args: [String]) throws(OptionsError) -> TortureOptions? {
        var result = TortureOptions()
        var seed: UInt64?
        var cursor = ArgumentCursor(args)
        while let arg = try cursor.next() {
            switch arg {
            case "--help", "-h": return nil
            case "--nodes":
                let text = try cursor.value(arg)
                guard let n = Int(text), n == 3 || n == 5 else { throw OptionsError("--nodes '\(text)' is not 3 or 5") }
                result.configuration.nodes = n
            case "--clients": result.configuration.clients = try cursor.integer(arg, 1...64)
            case "--keys": result.configuration.keys = try cursor.integer(arg, 1...1000)
            case "--seconds":
                let text = try cursor.value(arg)
                guard let s = Double(text), s.isFinite, (1...86_400).contains(s) else {
                    throw OptionsError("--seconds '\(text)' is not a number of seconds in 1...86400")
                }
                result.configuration.seconds = s
            case "--seed":
                let text = try cursor.value(arg)
                guard let s = UInt64(text) else { throw OptionsError("--seed '\(text)' is not an integer in 0...18446744073709551615") }
                seed = s
            case "--mode":
                let text = try cursor.value(arg)
                guard let mode = Mode(rawValue: text) else { throw OptionsError("--mode '\(text)' is not stable-leader or per-slot") }
                result.configuration.mode = mode
            case "--out":
                let text = try cursor.value(arg)
                guard !text.isEmpty else { throw OptionsError("--out '' is empty: give a folder") }
                result.configuration.outDirectory = text
            case "--wipe": result.configuration.wipe = true
            case "--value-bytes":
                let text = try cursor.value(arg)
                let parts = text.split(separator: "-", omittingEmptySubsequences: false)
                guard parts.count == 2, let low = Int(parts[0]), let high = Int(parts[1]), 1 <= low, low <= high, high <= 8 << 20 else {
                    throw OptionsError("--value-bytes '\(text)' is not MIN-MAX with 1 <= MIN <= MAX <= 8388608")
                }
                result.configuration.valueBytes = low...high
            case "--pause-ms": result.configuration.clientPause = .milliseconds(try cursor.integer(arg, 0...10_000))
            case "--flaw":  // hidden: switch a deliberate bug on in every node (tests of torture itself)
                let text = try cursor.value(arg)
                guard let flaw = ServeFlaw(rawValue: text) else {
                    throw OptionsError("--flaw '\(text)' is not one of \(ServeFlaw.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                result.configuration.flaw = flaw
            default: throw OptionsError("unknown option '\(arg)'")
            }
        }
        result.configuration.seed = seed ?? UInt64.random(in: 0...UInt64.max)
        return result
    }
}
