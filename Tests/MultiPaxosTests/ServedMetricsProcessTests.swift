import Foundation
import Testing
@testable import MultiPaxos

/// A served node's metrics, from outside: `GET /metrics` on its `--metrics` listener, and `INFO multipaxos`
/// over RESP.
extension ProcessTests {
@Suite struct ServedMetricsProcessTests {
    /// Sends `request` to 127.0.0.1:`port` and reads until the server closes the connection (bounded).
    static func http(port: UInt16, _ request: String, seconds: Int = 10) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RESPConnection.Failure.timedOut }
        defer { close(fd) }
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        _ = inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw RESPConnection.Failure.timedOut }
        let bytes = Array(request.utf8)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }  // closed by the server (or the bounded timeout)
            response += buffer[0..<n]
        }
        return String(decoding: response, as: UTF8.self)
    }

    /// Node `port`'s metrics as Prometheus samples, checked line by line.
    static func scrape(_ port: UInt16) throws -> [String: Double] {
        let response = try http(port: port, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(response.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(response.prefix(200))")
        let body = response.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        return MetricsTextTests.parsePrometheus(body)
    }

    /// INFO's `field:value` lines of `sections` from node `i`, by field.
    static func info(_ cluster: ServedProcesses, _ i: Int, _ sections: [String] = ["multipaxos"]) throws -> [String: String] {
        guard case .bulkString(let bytes) = try cluster.call(i, ["INFO"] + sections) else { return [:] }
        var fields: [String: String] = [:]
        for line in String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n") {
            guard let colon = line.firstIndex(of: ":"), !line.hasPrefix("#") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return fields
    }

    @Test func aServedNodeAnswersMetricsOverHTTPAndInINFO() async throws {
        let cluster = try ServedProcesses(nodes: 3)
        defer { cluster.stopAll() }
        let reservation = try reservePorts(3)
        let ports = reservation.ports
        defer { withExtendedLifetime(reservation) {} }
        for i in 0..<3 { try cluster.start(i, arguments: cluster.arguments(i) + ["--metrics", "127.0.0.1:\(ports[i])"]) }
        for i in 0..<3 { try cluster.waitUntilServing(i) }
        let count = 20
        for i in 0..<count { #expect(try cluster.call(0, ["SET", "k\(i)", "\(i)"]) == .ok) }

        // The roles' part is refreshed after the node's batches: wait (bounded) until it shows the commands.
        let deadline = ContinuousClock.now + .seconds(10)
        var samples = try Self.scrape(ports[0])
        while (samples["multipaxos_applied_slots"] ?? 0) < Double(count), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            samples = try Self.scrape(ports[0])
        }
        #expect((samples["multipaxos_applied_slots"] ?? 0) >= Double(count))
        #expect((samples["multipaxos_commit_latency_seconds_count"] ?? 0) >= Double(count), "the SETs were answered by node 0")
        let p50 = samples["multipaxos_commit_latency_seconds{quantile=\"0.5\"}"] ?? .nan
        let p99 = samples["multipaxos_commit_latency_seconds{quantile=\"0.99\"}"] ?? .nan
        #expect(p50 > 0 && p50 <= p99, "p50 \(p50) ≤ p99 \(p99)")
        #expect((samples["multipaxos_storage_fsyncs_total"] ?? 0) > 0 && (samples["multipaxos_storage_written_bytes_total"] ?? 0) > 0)
        #expect((samples["multipaxos_messages_received_total{kind=\"Request\"}"] ?? 0) >= Double(count))
        #expect((samples["multipaxos_client_connections"] ?? -1) >= 0)

        // The leader sent an Accept per command (at least), and says it leads.
        let leader = try #require(cluster.leader(), "a node logged its election")
        let leaderSamples = try Self.scrape(ports[leader])
        #expect((leaderSamples["multipaxos_messages_sent_total{kind=\"Accept\"}"] ?? 0) >= Double(count))
        #expect(leaderSamples["multipaxos_node_role{role=\"leader\"}"] == 1)

        // INFO multipaxos over RESP: the same snapshot, in Redis's format; plain INFO includes it.
        let fields = try Self.info(cluster, 0)
        #expect(fields["node"] == "n0" && fields["known_leader"] == "n\(leader)")
        #expect(Int(fields["decided_slots"] ?? "") ?? 0 >= count && Int(fields["commit_latency_count"] ?? "") ?? 0 >= count)
        let p50us = Int(fields["commit_latency_p50_microseconds"] ?? "") ?? -1
        let p99us = Int(fields["commit_latency_p99_microseconds"] ?? "") ?? -1
        #expect(p50us > 0 && p50us <= p99us)
        #expect(fields["redis_version"] == nil, "INFO multipaxos is that section only")
        let all = try Self.info(cluster, 1, [])
        #expect(all["redis_version"] != nil && all["node"] == "n1" && all["role"] != nil)

        // Other paths get 404, other methods 405, a bad request 400; each connection is closed after it.
        #expect(try Self.http(port: ports[0], "GET /other HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 404 Not Found\r\n"))
        #expect(try Self.http(port: ports[0], "DELETE /metrics HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 405 "))
        #expect(try Self.http(port: ports[0], "hello there\r\n\r\n").hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        let huge = "GET /" + String(repeating: "m", count: 20_000)
        #expect(try Self.http(port: ports[0], huge).hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "an oversized head is refused")
        #expect(try Self.scrape(ports[0])["multipaxos_node_id"] == 0, "the listener still serves")
    }
}
}
