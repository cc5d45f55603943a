/// Renders benchmark results as an aligned table, JSON, CSV and an SVG chart (drawn here, no packages).
public enum BenchmarkReport {
    static func fixed(_ x: Double, _ digits: Int) -> String {
        guard x.isFinite else { return "-" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let rounded = (x * scale).rounded() / scale
        var text = String(rounded)
        if let dot = text.firstIndex(of: ".") {
            let decimals = text.distance(from: dot, to: text.endIndex) - 1
            if digits == 0 { text = String(text[..<dot]) } else if decimals < digits {
                text += String(repeating: "0", count: digits - decimals)
            }
        }
        return text
    }

    private static func pad(_ s: String, _ width: Int, left: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - s.count))
        return left ? s + fill : fill + s
    }

    /// The aligned table, with the stable/per-slot ratios under each scenario.
    public static func table(_ results: [Benchmark.Result]) -> String {
        let header = ["scenario", "mode", "commands", "net msg/cmd", "phase1", "p50 ms", "p99 ms", "p50 RTT",
                      "cmds/s (wall)", "peak MiB", "checks"]
        let widths = [26, 13, 9, 12, 7, 8, 8, 8, 14, 9, 7]
        var lines = [zip(header, widths).enumerated().map { pad($0.element.0, $0.element.1, left: $0.offset < 2) }
            .joined(separator: " ")]
        lines.append(String(repeating: "-", count: widths.reduce(0, +) + widths.count - 1))
        var byScenario: [String: [Mode: Benchmark.Result]] = [:]
        var order: [String] = []
        for r in results {
            if byScenario[r.scenario] == nil { order.append(r.scenario) }
            byScenario[r.scenario, default: [:]][r.mode] = r
        }
        for name in order {
            for mode in Mode.allCases {
                guard let r = byScenario[name]?[mode] else { continue }
                let cells = [r.scenario, r.mode.rawValue, "\(r.commands)", fixed(r.networkMessagesPerCommand, 2),
                             "\(r.phase1Rounds)", fixed(r.latencyMedianMilliseconds, 2), fixed(r.latencyP99Milliseconds, 2),
                             fixed(r.latencyMedianRoundTrips, 2), fixed(r.commandsPerWallSecond, 0),
                             fixed(r.peakMemoryMiB, 0), r.passed ? "ok" : "FAILED"]
                lines.append(zip(cells, widths).enumerated().map { pad($0.element.0, $0.element.1, left: $0.offset < 2) }
                    .joined(separator: " "))
            }
            if let s = byScenario[name]?[.stableLeader], let p = byScenario[name]?[.perSlot] {
                lines.append(pad("", 27) + "stable/per-slot: messages ×" + fixed(s.networkMessagesPerCommand / p.networkMessagesPerCommand, 2)
                             + ", median latency ×" + fixed(s.latencyMedianMilliseconds / p.latencyMedianMilliseconds, 2))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// One line per message kind that any result sent: messages per command, per scenario and mode.
    public static func kindTable(_ results: [Benchmark.Result]) -> String {
        let kinds = MessageKind.allCases.filter { k in results.contains { $0.networkMessagesPerCommandByKind[k.rawValue] > 0 } }
        var lines = [pad("scenario", 26, left: true) + " " + pad("mode", 13, left: true) + " "
                     + kinds.map { pad($0.description, max(8, $0.description.count)) }.joined(separator: " ")]
        for r in results {
            lines.append(pad(r.scenario, 26, left: true) + " " + pad(r.mode.rawValue, 13, left: true) + " "
                         + kinds.map { pad(fixed(r.networkMessagesPerCommandByKind[$0.rawValue], 2), max(8, $0.description.count)) }
                .joined(separator: " "))
        }
        return lines.joined(separator: "\n")
    }

    /// Every figure as CSV, one row per scenario and mode.
    public static func csv(_ results: [Benchmark.Result]) -> String {
        let kinds = MessageKind.allCases
        var out = "scenario,mode,nodes,clients,drop,commands,passed,net_msgs_per_cmd,local_msgs_per_cmd,phase1_rounds,"
            + "p50_ms,p99_ms,p50_rtt,cmds_per_wall_s,simulated_s,wall_s,peak_mib,"
            + kinds.map { "net_\($0.description)_per_cmd" }.joined(separator: ",") + "\n"
        for r in results {
            let fields: [String] = [r.scenario, r.mode.rawValue, "\(r.nodes)", "\(r.clients)", "\(r.dropRate)", "\(r.commands)",
                                    "\(r.passed)", fixed(r.networkMessagesPerCommand, 4), fixed(r.localMessagesPerCommand, 4),
                                    "\(r.phase1Rounds)", fixed(r.latencyMedianMilliseconds, 3), fixed(r.latencyP99Milliseconds, 3),
                                    fixed(r.latencyMedianRoundTrips, 3), fixed(r.commandsPerWallSecond, 0),
                                    fixed(r.simulatedSeconds, 3), fixed(r.wallSeconds, 3), fixed(r.peakMemoryMiB, 1)]
            out += (fields + r.networkMessagesPerCommandByKind.map { fixed($0, 4) }).joined(separator: ",") + "\n"
        }
        return out
    }

    /// Every figure as JSON: an array of objects, one per scenario and mode.
    public static func json(_ results: [Benchmark.Result]) -> String {
        let rows = results.map { r -> String in
            let kinds = MessageKind.allCases.map { "\"\($0.description)\": \(fixed(r.networkMessagesPerCommandByKind[$0.rawValue], 4))" }
            return """
                  {"scenario": "\(r.scenario)", "mode": "\(r.mode.rawValue)", "nodes": \(r.nodes), "clients": \(r.clients), \
                "drop": \(r.dropRate), "commands": \(r.commands), "passed": \(r.passed), \
                "net_msgs_per_cmd": \(fixed(r.networkMessagesPerCommand, 4)), "local_msgs_per_cmd": \(fixed(r.localMessagesPerCommand, 4)), \
                "phase1_rounds": \(r.phase1Rounds), "p50_ms": \(fixed(r.latencyMedianMilliseconds, 3)), \
                "p99_ms": \(fixed(r.latencyP99Milliseconds, 3)), "p50_rtt": \(fixed(r.latencyMedianRoundTrips, 3)), \
                "cmds_per_wall_s": \(fixed(r.commandsPerWallSecond, 0)), "simulated_s": \(fixed(r.simulatedSeconds, 3)), \
                "wall_s": \(fixed(r.wallSeconds, 3)), "peak_mib": \(fixed(r.peakMemoryMiB, 1)), \
                "net_msgs_per_cmd_by_kind": {\(kinds.joined(separator: ", "))}}
                """
        }
        return "[\n" + rows.joined(separator: ",\n") + "\n]\n"
    }

    /// A two-panel grouped bar chart: network messages per command (16 clients, no loss) and median latency
    /// (1 client on the leader's node, no loss), by mode and cluster size.
    public static func svg(_ results: [Benchmark.Result]) -> String {
        func pick(_ clients: Int, _ nodes: Int, _ mode: Mode) -> Benchmark.Result? {
            results.first { $0.scenario == "n\(nodes)-c\(clients)-lossless" && $0.mode == mode }
        }
        let panels: [(title: String, unit: String, value: (Benchmark.Result) -> Double, clients: Int)] = [
            ("Network messages per command (16 clients, no loss)", "messages", { $0.networkMessagesPerCommand }, 16),
            ("Median latency (1 client on the leader's node, no loss)", "ms", { $0.latencyMedianMilliseconds }, 1),
        ]
        let colors: [Mode: String] = [.stableLeader: "#2b6cb0", .perSlot: "#dd6b20"]
        let panelWidth = 420.0, panelHeight = 260.0, top = 50.0, left = 50.0
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(2 * panelWidth + 60))" height="\(Int(panelHeight + 110))" \
            font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>

            """
        for (p, panel) in panels.enumerated() {
            let x0 = 20 + Double(p) * (panelWidth + 20)
            let values = [3, 5, 7].flatMap { n in Mode.allCases.compactMap { pick(panel.clients, n, $0).map(panel.value) } }
            let maxValue = max(values.max() ?? 1, 1e-9) * 1.15
            svg += "<text x=\"\(fixed(x0 + panelWidth / 2, 1))\" y=\"24\" text-anchor=\"middle\" font-weight=\"bold\">\(panel.title)</text>\n"
            let plotLeft = x0 + left, plotBottom = top + panelHeight - 30, plotHeight = panelHeight - 50
            svg += "<line x1=\"\(fixed(plotLeft, 1))\" y1=\"\(fixed(plotBottom, 1))\" x2=\"\(fixed(x0 + panelWidth - 10, 1))\" "
                + "y2=\"\(fixed(plotBottom, 1))\" stroke=\"#333\"/>\n"
            svg += "<line x1=\"\(fixed(plotLeft, 1))\" y1=\"\(fixed(top, 1))\" x2=\"\(fixed(plotLeft, 1))\" y2=\"\(fixed(plotBottom, 1))\" stroke=\"#333\"/>\n"
            for tick in 0...4 {
                let v = maxValue * Double(tick) / 4
                let y = plotBottom - plotHeight * Double(tick) / 4
                svg += "<text x=\"\(fixed(plotLeft - 6, 1))\" y=\"\(fixed(y + 4, 1))\" text-anchor=\"end\">\(fixed(v, 1))</text>\n"
            }
            svg += "<text x=\"\(fixed(x0 + 12, 1))\" y=\"\(fixed(top - 10, 1))\">\(panel.unit)</text>\n"
            let groupWidth = (panelWidth - left - 20) / 3
            for (g, nodes) in [3, 5, 7].enumerated() {
                let gx = plotLeft + Double(g) * groupWidth + 14
                for (m, mode) in Mode.allCases.enumerated() {
                    guard let r = pick(panel.clients, nodes, mode) else { continue }
                    let v = panel.value(r)
                    let h = plotHeight * v / maxValue
                    let x = gx + Double(m) * (groupWidth - 28) / 2
                    let w = (groupWidth - 28) / 2 - 4
                    svg += "<rect x=\"\(fixed(x, 1))\" y=\"\(fixed(plotBottom - h, 1))\" width=\"\(fixed(w, 1))\" height=\"\(fixed(h, 1))\" "
                        + "fill=\"\(colors[mode]!)\"/>\n"
                    svg += "<text x=\"\(fixed(x + w / 2, 1))\" y=\"\(fixed(plotBottom - h - 4, 1))\" text-anchor=\"middle\">\(fixed(v, 1))</text>\n"
                }
                svg += "<text x=\"\(fixed(gx + (groupWidth - 28) / 2, 1))\" y=\"\(fixed(plotBottom + 16, 1))\" text-anchor=\"middle\">\(nodes) nodes</text>\n"
            }
        }
        let legendY = top + panelHeight + 10
        for (m, mode) in Mode.allCases.enumerated() {
            let x = 40.0 + Double(m) * 160
            svg += "<rect x=\"\(fixed(x, 1))\" y=\"\(fixed(legendY, 1))\" width=\"14\" height=\"14\" fill=\"\(colors[mode]!)\"/>\n"
            svg += "<text x=\"\(fixed(x + 20, 1))\" y=\"\(fixed(legendY + 12, 1))\">\(mode.rawValue)</text>\n"
        }
        return svg + "</svg>\n"
    }
}
