import MultiPaxos

/// `multipaxos load ...`: closed-loop RESP load against a served cluster (see `LoadOptions.usage`).
func loadCommand(_ args: [String]) async -> Int32 {
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
    if let nodes = options.localNodes {
        do {
            let report = try await LocalLoad.run(options)
            print("load: \(options.clients) clients, LocalCluster of \(nodes) nodes \(options.mode.rawValue), "
                  + "\(options.batching), \(options.dataDirectory == nil ? "in memory" : "fsync"), "
                  + "get ratio \(options.getRatio), \(options.valueBytes)-byte values")
            print(report)
            return report.load.operations > 0 ? 0 : 1
        } catch {
            complain("load: \(error)")
            return 1
        }
    }
    let report = LoadGenerator.run(options)
    print("load: \(options.clients) clients, \(options.addresses.count) nodes, get ratio \(options.getRatio), "
          + "\(options.valueBytes)-byte values")
    print(report)
    return report.operations > 0 ? 0 : 1
}
