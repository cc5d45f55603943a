#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MultiPaxos

/// `multipaxos keygen FILE`: writes a new random 256-bit cluster key (64 hex digits) with mode 0600, refusing
/// to overwrite an existing file.
func keygenCommand(_ args: [String]) -> Int32 {
    if args == ["--help"] || args == ["-h"] {
        print("""
            usage: multipaxos keygen FILE

            Writes a new random 256-bit cluster key to FILE (64 hex digits, mode 0600) for serve --cluster-key-file.
            Refuses to overwrite an existing file. To rotate a cluster's key, see Docs/Security.md.

            \(ExitStatus.rule)
            """)
        return ExitStatus.success
    }
    guard args.count == 1, !args[0].hasPrefix("-") else {
        complain("keygen takes one file name (got \(args.isEmpty ? "none" : args.joined(separator: " "))) (see multipaxos keygen --help)")
        return ExitStatus.usage
    }
    // Bad output paths are bad input (2), found before anything is made.
    if access(args[0], F_OK) == 0 {
        complain("keygen: '\(args[0])' exists; a key is never overwritten (remove it first, or give another name)")
        return ExitStatus.usage
    }
    do {
        try OutputPath.check(args[0], flag: "keygen")
    } catch {
        complain("\(error)")
        return ExitStatus.usage
    }
    do {
        try ClusterKeys.generate(path: args[0])
    } catch {
        complain("keygen: \(error)")
        return ExitStatus.failure
    }
    print("wrote a new cluster key to \(args[0]) (mode 0600)")
    return ExitStatus.success
}
