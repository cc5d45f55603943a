import MultiPaxos

/// `multipaxos load ...`: closed-loop RESP load against a served cluster (see `LoadOptions.usage`).
func loadCommand(_ args: [String]) -> Int32 {
    let options: LoadOptions
    do {
        guard let parsed = try LoadOptions.parse(args) else {
            print(LoadOptions.usage)
            return 0
        }
        options = parsed
    } catch {
        complain("load: \(error) (see multipaxos load --help)")
        return 2
    }
    let report = LoadGenerator.run(options)
    print("load: \(options.clients) clients, \(options.addresses.count) nodes, get ratio \(options.getRatio), "
          + "\(options.valueBytes)-byte values")
    print(report)
    return report.operations > 0 ? 0 : 1
}
