/// The introspection commands clients send on connect (CLIENT, CONFIG GET, COMMAND, INFO), answered well
/// enough for `redis-cli`, `redis-benchmark` and redis-py.
extension RESPCommands {
    /// The configuration `CONFIG GET` reports: `redis-benchmark` asks for `save` and `appendonly`, GUIs for
    /// `databases`. Nothing can be set.
    static let configuration: [(name: String, value: String)] = [("save", ""), ("appendonly", "no"), ("databases", "1")]

    /// `CLIENT SETINFO | SETNAME | ID | GETNAME | INFO | LIST | NO-EVICT | NO-TOUCH`, for a connection named
    /// `name` (a served connection keeps the name SETNAME gives; see `ClientSession`). Library information is
    /// accepted and not kept; LIST shows the calling connection only. Other subcommands get Redis's
    /// unknown-subcommand error, which redis-py ignores.
    static func client(_ args: [[UInt8]], connection: ConnectionID, name: String = "") -> RESPValue {
        let line = "id=\(connection.value) addr= name=\(name) db=0 lib-name= lib-ver=\n"
        switch lowercased(args[1]) {
        case "setinfo": return args.count == 4 ? .ok : wrongArity("client|setinfo")
        case "setname":
            guard args.count == 3 else { return wrongArity("client|setname") }
            guard args[2].allSatisfy({ (0x21...0x7E).contains($0) }) else {
                return .error("ERR Client names cannot contain spaces, newlines or special characters.")
            }
            return .ok
        case "id": return args.count == 2 ? .integer(connection.value) : wrongArity("client|id")
        case "getname": return args.count == 2 ? (name.isEmpty ? .null : .bulk(name)) : wrongArity("client|getname")
        case "info": return args.count == 2 ? .bulk(line) : wrongArity("client|info")
        case "list": return args.count == 2 ? .bulk(line) : .error("ERR CLIENT LIST's filters are not supported by this server")
        case "no-evict", "no-touch":
            guard args.count == 3 else { return wrongArity("client|\(lowercased(args[1]))") }
            return ["on", "off"].contains(lowercased(args[2])) ? .ok : .error("ERR syntax error")
        default: return unknownSubcommand(args)
        }
    }

    /// `TIME`: this node's clock, as seconds and microseconds since 1970 (a real-time shell's answer: it is
    /// not replicated and differs between nodes).
    static func time(now: Double) -> RESPValue {
        let seconds = Int64(now.rounded(.down))
        return .array([.bulk(String(seconds)), .bulk(String(Int64((now - Double(seconds)) * 1_000_000)))])
    }

    /// `CONFIG GET pattern [pattern ...]`: the matching entries of `configuration` as a map (a flat array
    /// of names and values in RESP2, as Redis sends).
    static func config(_ args: [[UInt8]]) -> RESPValue {
        switch lowercased(args[1]) {
        case "get":
            guard args.count >= 3 else { return wrongArity("config|get") }
            let patterns = args.dropFirst(2).map(lowercased)
            let matching = configuration.filter { entry in patterns.contains { globMatches($0[...], entry.name[...]) } }
            return .map(matching.map { (RESPValue.bulk($0.name), RESPValue.bulk($0.value)) })
        case "set": return .error("ERR CONFIG SET is not supported by this server")
        case "resetstat": return .ok
        default: return unknownSubcommand(args)
        }
    }

    /// `COMMAND` (an empty array: clients then assume nothing), `COMMAND COUNT`, `COMMAND LIST`,
    /// `COMMAND DOCS` (an empty map) and `COMMAND INFO name ...` (a null per name).
    static func command(_ args: [[UInt8]]) -> RESPValue {
        guard args.count >= 2 else { return .array([]) }
        switch lowercased(args[1]) {
        case "count": return args.count == 2 ? .integer(Int64(names.count)) : wrongArity("command|count")
        case "list": return .array(names.map(RESPValue.bulk))
        case "docs": return .map([])
        case "info": return .array(args.dropFirst(2).map { _ in .null })
        default: return unknownSubcommand(args)
        }
    }

    /// INFO's text for `sections` (lowercase; none, `default`, `all` or `everything`: every section), in
    /// Redis's format: `# Name` lines, `field:value` lines, CRLF line ends, a blank line between sections.
    /// `extra` sections (a served node's `MultiPaxos` metrics) follow the built-in ones.
    static func info(sections requested: [String], extra: [(name: String, lines: [String])] = []) -> String {
        let all: [(name: String, lines: [String])] = [
            ("Server", ["redis_version:\(redisVersion)", "redis_mode:\(serverMode)", "server_name:multipaxos",
                        "os:\(operatingSystem)", "arch_bits:\(Int.bitWidth)"]),
            ("Replication", ["role:master", "connected_slaves:0"]),
            ("Cluster", ["cluster_enabled:0"]),
        ] + extra
        let everything = requested.isEmpty || requested.contains { ["default", "all", "everything"].contains($0) }
        let chosen = all.filter { everything || requested.contains($0.name.lowercased()) }
        return chosen.map { section in
            "# \(section.name)\r\n" + section.lines.map { $0 + "\r\n" }.joined()
        }.joined(separator: "\r\n")
    }

    private static var operatingSystem: String {
#if os(Linux)
        "Linux"
#elseif os(macOS)
        "Darwin"
#else
        "unknown"
#endif
    }

    /// Whether `text` matches the glob `pattern`, as CONFIG GET matches names (Redis's globs, as KEYS has them).
    static func globMatches(_ pattern: Substring, _ text: Substring) -> Bool {
        Glob.matches(Array(pattern.utf8)[...], Array(text.utf8)[...])
    }
}
