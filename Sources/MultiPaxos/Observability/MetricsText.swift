/// The two text forms of a metrics snapshot: Redis `INFO` lines and the Prometheus text exposition format.
extension NodeMetrics {
    /// The `INFO multipaxos` section's name (requested in lowercase, as every INFO section).
    public static let infoSectionName = "MultiPaxos"

    /// The section's `field:value` lines, without the `# MultiPaxos` header or line ends. Message counts are
    /// `Kind=count` lists of the kinds counted at least once, as Redis writes `db0:keys=1,expires=0`.
    public var infoLines: [String] {
        func ballotText(_ b: Ballot?) -> String { b.map { $0 == .initial ? "none" : "\($0)" } ?? "none" }
        let l = commitLatency
        return [
            "node:\(node)",
            "role:\(role)",
            "ballot:\(ballotText(ballot))",
            "promised_ballot:\(ballotText(promisedBallot))",
            "known_leader:\(knownLeader.map(\.description) ?? "none")",
            "known_leader_ballot:\(ballotText(knownLeaderBallot))",
            "decided_slots:\(decidedSlots)",
            "applied_slots:\(appliedSlots)",
            "in_flight_slots:\(inFlightSlots)",
            "inbox_inputs:\(inboxInputs)",
            "outbox_bytes:\(outboxBytes)",
            "client_connections:\(clientConnections)",
            "messages_sent_total:\(sentMessages.total)",
            "messages_received_total:\(receivedMessages.total)",
            "messages_dropped_total:\(droppedMessages.total)",
            "messages_sent:\(sentMessages)",
            "messages_received:\(receivedMessages)",
            "messages_dropped:\(droppedMessages)",
            "storage_fsyncs:\(storageFsyncs)",
            "storage_written_bytes:\(storageWrittenBytes)",
            "commit_latency_count:\(l.count)",
            "commit_latency_p50_microseconds:\(l.p50Microseconds)",
            "commit_latency_p90_microseconds:\(l.p90Microseconds)",
            "commit_latency_p99_microseconds:\(l.p99Microseconds)",
            "commit_latency_max_microseconds:\(l.maxMicroseconds)",
        ]
    }

    /// The snapshot in the Prometheus text exposition format (version 0.0.4): a `# HELP` and a `# TYPE` line
    /// per metric, counters ending in `_total`, message counts labelled by `kind` (every kind, zeros included),
    /// and the commit latency as a summary in seconds.
    public var prometheusText: String {
        var out = PrometheusWriter()
        out.metric("multipaxos_node_id", .gauge, "This node's id.", [("", Double(node.value))])
        out.metric("multipaxos_node_role", .gauge, "1 for the role this node has now, 0 for the others.",
                   NodeRole.allCases.map { ("role=\"\($0)\"", $0 == role ? 1 : 0) })
        out.metric("multipaxos_ballot_round", .gauge, "The round of this node's latest ballot (0: it never competed).",
                   [("", Double(ballot.round))])
        out.metric("multipaxos_promised_ballot_round", .gauge, "The round of the highest ballot this node's acceptor promised.",
                   [("", Double(promisedBallot.round))])
        out.metric("multipaxos_known_leader", .gauge, "The id of the node this node believes leads (-1: none known).",
                   [("", Double(knownLeader?.value ?? -1))])
        out.metric("multipaxos_decided_slots", .gauge, "Slots this node's replica knows are decided.", [("", Double(decidedSlots))])
        out.metric("multipaxos_applied_slots", .gauge, "Slots this node's replica has applied.", [("", Double(appliedSlots))])
        out.metric("multipaxos_in_flight_slots", .gauge, "Slots this node's leader proposed and has not seen decided.",
                   [("", Double(inFlightSlots))])
        out.metric("multipaxos_inbox_inputs", .gauge, "Inputs waiting for the node's loop.", [("", Double(inboxInputs))])
        out.metric("multipaxos_outbox_bytes", .gauge, "Bytes queued for peers, not yet written.", [("", Double(outboxBytes))])
        out.metric("multipaxos_client_connections", .gauge, "Open client connections.", [("", Double(clientConnections))])
        for (name, help, counts) in [("sent", "Messages this node's roles sent, by kind.", sentMessages),
                                     ("received", "Messages handed to this node's roles, by kind.", receivedMessages),
                                     ("dropped", "Messages lost before leaving this node (peer queue full or link down), by kind.",
                                      droppedMessages)] {
            out.metric("multipaxos_messages_\(name)_total", .counter, help,
                       MessageKind.allCases.map { ("kind=\"\($0)\"", Double(counts[$0])) })
        }
        out.metric("multipaxos_storage_fsyncs_total", .counter, "fsync calls on the node's durable state.",
                   [("", Double(storageFsyncs))])
        out.metric("multipaxos_storage_written_bytes_total", .counter, "Bytes written to the node's durable state.",
                   [("", Double(storageWrittenBytes))])
        let l = commitLatency
        func seconds(_ us: Microseconds) -> Double { l.count == 0 ? .nan : Double(us) / 1e6 }
        out.metric("multipaxos_commit_latency_seconds", .summary, "Client commands from arrival to reply.",
                   [("quantile=\"0.5\"", seconds(l.p50Microseconds)), ("quantile=\"0.9\"", seconds(l.p90Microseconds)),
                    ("quantile=\"0.99\"", seconds(l.p99Microseconds))],
                   sum: Double(l.sumMicroseconds) / 1e6, count: l.count)
        return out.text
    }
}

/// Writes metrics in the Prometheus text format, one family at a time.
struct PrometheusWriter {
    enum Kind: String { case counter, gauge, summary }
    private(set) var text = ""

    /// A metric family: its HELP and TYPE lines, then one sample per `(labels, value)` (labels as written
    /// inside the braces, empty for none); a summary adds its `_sum` and `_count`.
    mutating func metric(_ name: String, _ kind: Kind, _ help: String, _ samples: [(String, Double)],
                         sum: Double? = nil, count: Int? = nil) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(kind.rawValue)\n"
        for (labels, value) in samples {
            text += labels.isEmpty ? "\(name) \(Self.format(value))\n" : "\(name){\(labels)} \(Self.format(value))\n"
        }
        if let sum { text += "\(name)_sum \(Self.format(sum))\n" }
        if let count { text += "\(name)_count \(count)\n" }
    }

    /// A value as Prometheus reads it: integers without a fraction, `NaN`, `+Inf`, `-Inf`.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
