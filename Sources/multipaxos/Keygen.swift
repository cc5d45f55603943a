import MultiPaxos

/// `multipaxos keygen FILE`: writes a new random 256-bit cluster key (64 hex digits) with mode 0600, refusing
/// to overwrite an existing file.
func keygenCommand(_ args: [String]) -> Int32 {
    if args == ["--help"] || args == ["-h"] {
        print("""
            usage: multipaxos keygen FILE

            Writes a new random 256-bit cluster key to FILE (64 hex digits, mode 0600) for serve --cluster-key-file.
            Refuses to overwrite an existing file. To rotate a cluster's key, see Docs/Security.md.
            """)
        return 0
    }
    guard args.count == 1, !args[0].hasPrefix("-") else {
        complain("keygen takes one file name (got \(args.isEmpty ? "none" : args.joined(separator: " ")))")
        return 2
    }
    do {
        try ClusterKeys.generate(path: args[0])
    } catch {
        complain("keygen: \(error)")
        return 1
    }
    print("wrote a new cluster key to \(args[0]) (mode 0600)")
    return 0
}
