import Testing
@testable import MultiPaxos

/// The text forms of `NodeMetrics`: the Prometheus exposition format and INFO's lines; and the HTTP request
/// heads the `--metrics` listener reads.
@Suite struct MetricsTextTests {
    /// Checks Prometheus text line by line: every sample is `name{labels} value` (or `name value`) with a value
    /// that parses, and belongs to a family announced by a HELP and a TYPE line before it. Returns the samples.
    static func parsePrometheus(_ text: String) -> [String: Double] {
        var helped = Set<String>(), typed = [String: String]()
        var samples: [String: Double] = [:]
        let sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*\})? (\S+)$/
        #expect(text.hasSuffix("\n"), "the text ends with a line feed")
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            let fields = line.split(separator: " ", maxSplits: 3)
            if line.hasPrefix("# HELP ") {
                #expect(fields.count == 4, "HELP with a text: \(line)")
                helped.insert(String(fields[2]))
            } else if line.hasPrefix("# TYPE ") {
                #expect(fields.count == 4 && ["counter", "gauge", "summary", "histogram", "untyped"].contains(fields[3]), "\(line)")
                if fields.count == 4 { typed[String(fields[2])] = String(fields[3]) }
            } else if let match = line.wholeMatch(of: sample) {
                let name = String(match.1)
                let family = typed[name] != nil ? name : name.replacing(/_(sum|count)$/, with: "")
                #expect(helped.contains(family) && typed[family] != nil, "\(name) has HELP and TYPE before its samples")
                if typed[family] == "counter" { #expect(name.hasSuffix("_total"), "counter \(name) ends in _total") }
                let value = Double(match.4 == "+Inf" ? "inf" : match.4 == "-Inf" ? "-inf" : String(match.4))
                #expect(value != nil, "\(line): the value parses")
                samples[name + (match.2.map(String.init) ?? "")] = value
            } else {
                Issue.record("not a HELP, TYPE or sample line: '\(line)'")
            }
        }
        return samples
    }

    @Test func prometheusTextOfARealNodeParsesLineByLine() async throws {
        let (leader, metrics, all) = try await withLocalCluster({ try await LocalCluster(nodes: 3) }) { cluster in
            let client = await cluster.makeClient()
            for i in 0..<10 { _ = try await client.run(.put("k", "\(i)")) }
            let (leader, metrics) = try #require(await cluster.settledLeader())
            var all: [NodeMetrics] = []
            for i in 0..<3 { if let m = await cluster.metrics(of: NodeID(i)) { all.append(m) } }
            return (leader, metrics, all)
        }
        let samples = Self.parsePrometheus(metrics.prometheusText)
        #expect(samples["multipaxos_node_role{role=\"leader\"}"] == 1 && samples["multipaxos_node_role{role=\"follower\"}"] == 0)
        #expect(samples["multipaxos_node_id"] == Double(leader.value))
        #expect(samples["multipaxos_known_leader"] == Double(leader.value))
        // Each command took an Accept from whoever led then (on a loaded machine leadership may have moved since).
        let accepts = all.map { Self.parsePrometheus($0.prometheusText)["multipaxos_messages_sent_total{kind=\"Accept\"}"] ?? 0 }
        #expect(accepts.reduce(0, +) >= 10, "Accepts sent by each node: \(accepts)")
        #expect((samples["multipaxos_applied_slots"] ?? 0) >= 10)
        // Every kind is listed, zeros too (a Welcome may have been dropped while the cluster formed).
        #expect(samples.keys.filter { $0.hasPrefix("multipaxos_messages_dropped_total{") }.count == MessageKind.allCases.count)
        #expect(samples.keys.filter { $0.hasPrefix("multipaxos_messages_received_total{") }.count == MessageKind.allCases.count)
    }

    @Test func anEmptySummaryHasNaNQuantilesAndValuesAreFormattedAsPrometheusReadsThem() {
        let text = NodeMetrics(node: NodeID(4), role: .joining).prometheusText
        let samples = Self.parsePrometheus(text)
        #expect(samples["multipaxos_commit_latency_seconds{quantile=\"0.99\"}"]?.isNaN == true)
        #expect(samples["multipaxos_commit_latency_seconds_count"] == 0)
        #expect(samples["multipaxos_known_leader"] == -1)
        #expect(PrometheusWriter.format(3) == "3" && PrometheusWriter.format(0.25) == "0.25")
        #expect(PrometheusWriter.format(.infinity) == "+Inf" && PrometheusWriter.format(.nan) == "NaN")
    }

    @Test func infoLinesAreFieldColonValue() {
        var metrics = NodeMetrics(node: NodeID(1), role: .follower)
        metrics.knownLeader = NodeID(0)
        metrics.knownLeaderBallot = Ballot(round: 3, leader: NodeID(0))
        metrics.sentMessages.add(.accepted, 5)
        let lines = metrics.infoLines
        for line in lines { #expect(line.wholeMatch(of: /[a-z0-9_]+:[^\r\n]*/) != nil, "\(line)") }
        #expect(lines.contains("role:follower") && lines.contains("known_leader:n0") && lines.contains("known_leader_ballot:3.0"))
        #expect(lines.contains("ballot:none") && lines.contains("messages_sent:Accepted=5") && lines.contains("messages_sent_total:5"))
        let info = RESPCommands.info(sections: ["multipaxos"], extra: [(NodeMetrics.infoSectionName, lines)])
        #expect(info.hasPrefix("# MultiPaxos\r\nnode:n1\r\n") && !info.contains("# Server"))
        #expect(RESPCommands.info(sections: [], extra: [(NodeMetrics.infoSectionName, lines)]).contains("\r\n\r\n# MultiPaxos\r\n"))
    }

    static func parse(_ text: String) -> HTTPRequestHead.Parse { HTTPRequestHead.parse(Array(text.utf8)) }

    @Test func requestHeadsParseAndBadOnesAreNamed() {
        #expect(Self.parse("GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n")
                == .request(HTTPRequestHead(method: "GET", path: "/metrics")))
        #expect(Self.parse("GET /metrics?name[]=x HTTP/1.0\r\n\r\n") == .request(HTTPRequestHead(method: "GET", path: "/metrics")))
        #expect(Self.parse("GET /metrics HTTP/1.1\r\nHost: x\r\n") == .incomplete)
        #expect(Self.parse("") == .incomplete)
        for (text, reason) in [("garbage\r\n\r\n", "METHOD TARGET"), ("GET /metrics HTTP/2\r\n\r\n", "version 'HTTP/2'"),
                               ("GET metrics HTTP/1.1\r\n\r\n", "start with '/'"), ("GET  /metrics HTTP/1.1\r\n\r\n", "METHOD TARGET"),
                               ("GET /m\u{7}x HTTP/1.1\r\n\r\n", "printable ASCII")] {
            guard case .bad(let why) = Self.parse(text) else {
                Issue.record("\(text.debugDescription) was not refused")
                continue
            }
            #expect(why.contains(reason), "\(why)")
        }
        let long = "GET /" + String(repeating: "a", count: HTTPRequestHead.maxBytes) + " HTTP/1.1\r\n"
        #expect(Self.parse(long) == .bad("request head longer than 8192 bytes"), "bounded before the head ends")
        #expect(Self.parse(long + "\r\n") == .bad("request head longer than 8192 bytes"))
        var rng = XorShift(state: 7)
        for _ in 0..<2000 {  // random bytes never trap
            _ = HTTPRequestHead.parse((0..<rng.below(64)).map { _ in rng.byte() } + [13, 10, 13, 10])
        }
    }

    @Test func responsesCarryTheirStatusAndCloseTheConnection() {
        func status(_ text: String) -> String {
            let response = String(decoding: HTTPRequestHead.response(to: Self.parse(text), body: { "m 1\n" }), as: UTF8.self)
            #expect(response.contains("\r\nConnection: close\r\n"))
            return String(response.split(separator: "\r\n").first ?? "")
        }
        #expect(status("GET /metrics HTTP/1.1\r\n\r\n") == "HTTP/1.1 200 OK")
        #expect(status("GET / HTTP/1.1\r\n\r\n") == "HTTP/1.1 404 Not Found")
        #expect(status("POST /metrics HTTP/1.1\r\n\r\n") == "HTTP/1.1 405 Method Not Allowed")
        #expect(status("nonsense\r\n\r\n") == "HTTP/1.1 400 Bad Request")
        let ok = String(decoding: HTTPRequestHead.response(to: Self.parse("GET /metrics HTTP/1.1\r\n\r\n"), body: { "m 1\n" }), as: UTF8.self)
        #expect(ok.contains("Content-Type: text/plain; version=0.0.4") && ok.hasSuffix("Content-Length: 4\r\nConnection: close\r\n\r\nm 1\n"))
    }
}
