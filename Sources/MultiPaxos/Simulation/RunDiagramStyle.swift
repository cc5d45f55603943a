/// The look of `RunDiagram`: a colour per message kind, the legend, the time axis's steps and the numbers as
/// SVG writes them (integer arithmetic only, so the same recording gives the same bytes on every machine).
enum RunDiagramStyle {
    /// A colour for each message kind, grouped by phase: client and proposals orange, Phase 1 purple and pink,
    /// Phase 2 blue and cyan, decisions green, catch-up teal, heartbeats grey, membership slate.
    static func color(_ kind: MessageKind) -> String {
        switch kind {
        case .request: "#8d6e63"
        case .reply: "#6d4c41"
        case .propose: "#fb8c00"
        case .fillHole: "#ffb300"
        case .decision: "#43a047"
        case .catchUpRequest: "#00838f"
        case .catchUpReply: "#26a69a"
        case .startPhase1: "#5e35b1"
        case .prepare: "#8e24aa"
        case .promise: "#d81b60"
        case .adopted: "#3949ab"
        case .preempted: "#e53935"
        case .accept: "#1e88e5"
        case .accepted: "#00acc1"
        case .heartbeat: "#9e9e9e"
        case .heartbeatReply: "#b0b0b0"
        case .join: "#546e7a"
        case .welcome: "#263238"
        case .preVote: "#c0ca33"
        case .preVoteGrant: "#7cb342"
        case .transferLeadership: "#ff7043"
        case .timeoutNow: "#d81b60"
        case .readIndexRequest: "#f06292"
        case .readIndexReply: "#ad1457"
        case .readConfirm: "#78909c"
        case .readConfirmReply: "#90a4ae"
        }
    }

    /// Kinds drawn faint when the window is crowded: they say only "still here".
    static func isRoutine(_ kind: MessageKind) -> Bool { kind == .heartbeat || kind == .heartbeatReply }

    /// The style sheet: one class per kind present, plus the looks of faint, copied, lost and unfinished arrows.
    static func styleSheet(kinds: [MessageKind]) -> String {
        var rules = [
            ".msg{stroke-width:1.3;fill:none}",
            ".swatch{stroke-width:2.5}",
            ".thin{stroke-width:.8;stroke-opacity:.35}",
            ".copy{stroke-dasharray:5 2}",
            ".open{stroke-dasharray:2 2}",
            ".drop{stroke:#d50000;stroke-width:1.8;fill:none}",
            ".lane{stroke:#9e9e9e;stroke-width:1}",
            ".down{stroke:#e57373;stroke-width:2;stroke-dasharray:3 3}",
        ]
        for kind in kinds { rules.append(".k\(kind.rawValue){stroke:\(color(kind))}") }
        return "<style>\n" + rules.joined(separator: "\n") + "\n</style>"
    }

    /// An arrowhead per kind present, coloured like its arrows.
    static func markers(kinds: [MessageKind]) -> String {
        var out = ["<defs>"]
        for kind in kinds {
            out.append("<marker id=\"h\(kind.rawValue)\" viewBox=\"0 0 8 8\" refX=\"8\" refY=\"4\" markerWidth=\"7\" "
                       + "markerHeight=\"7\" markerUnits=\"userSpaceOnUse\" orient=\"auto\">"
                       + "<path d=\"M0,0L8,4L0,8z\" fill=\"\(color(kind))\"/></marker>")
        }
        out.append("</defs>")
        return out.joined(separator: "\n")
    }

    /// The spacing of the time axis's ticks: 1, 2 or 5 times a power of ten microseconds, about `count` ticks
    /// across `span`.
    static func step(for span: Microseconds, count: Int64) -> Microseconds {
        let target = max(1, span / max(1, count))
        var unit: Microseconds = 1
        while true {
            for multiple: Microseconds in [1, 2, 5] where unit * multiple >= target { return unit * multiple }
            unit *= 10
        }
    }

    /// Simulated seconds as the title and axis print them: no trailing zeros ("0.45", "1").
    static func seconds(_ t: Microseconds) -> String {
        var text = formatSeconds(t)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// A coordinate given in tenths of a pixel, as SVG reads it ("123.4").
    static func px(_ tenths: Int64) -> String {
        let sign = tenths < 0 ? "-" : ""
        let a = abs(tenths)
        return a % 10 == 0 ? "\(sign)\(a / 10)" : "\(sign)\(a / 10).\(a % 10)"
    }

    /// A text element, escaped.
    static func text(_ x: Int64, _ y: Int64, _ content: String, size: Int, fill: String = "#333333",
                     weight: String = "normal", anchor: String = "start") -> String {
        "<text x=\"\(px(x))\" y=\"\(px(y))\" font-size=\"\(size)\" font-weight=\"\(weight)\" fill=\"\(fill)\" "
            + "text-anchor=\"\(anchor)\">\(HistorySVG.escape(content))</text>"
    }

    /// The legend's entries for the kinds of messages and marks present, wrapped to `width`; returns the SVG
    /// and the height it takes (all in tenths of a pixel).
    static func legend(kinds: [MessageKind], present: Set<String>, x left: Int64, y top: Int64,
                       width: Int64) -> (svg: String, height: Int64) {
        var entries: [(swatch: String, label: String)] = kinds.map { kind in
            ("<line x1=\"0\" y1=\"-4\" x2=\"22\" y2=\"-4\" class=\"swatch k\(kind.rawValue)\"/>", kind.description)
        }
        let others: [(key: String, swatch: String, label: String)] = [
            ("lost", "<path d=\"M7,-8L15,0M7,0L15,-8\" stroke=\"#d50000\" stroke-width=\"1.8\"/>", "lost"),
            ("copy", "<line x1=\"0\" y1=\"-4\" x2=\"22\" y2=\"-4\" class=\"swatch copy\" stroke=\"#555555\"/>", "duplicate or replay"),
            ("open", "<line x1=\"0\" y1=\"-4\" x2=\"22\" y2=\"-4\" class=\"swatch open\" stroke=\"#555555\"/>", "in flight at the end"),
            ("elected", MarkShape.elected.path(x: 110, y: -40), "leader elected"),
            ("decided", MarkShape.decided.path(x: 110, y: -40), "decided"),
            ("leadershipLost", MarkShape.leadershipLost.path(x: 110, y: -40), "leader lost or suspected"),
            ("joined", MarkShape.joined.path(x: 110, y: -40), "joined"),
            ("crashed", MarkShape.crashed.path(x: 110, y: -40), "crash / disk lost"),
            ("restarted", MarkShape.restarted.path(x: 110, y: -40), "restart"),
            ("down", "<line x1=\"0\" y1=\"-4\" x2=\"22\" y2=\"-4\" class=\"down\"/>", "node down"),
            ("paused", "<rect x=\"0\" y=\"-9\" width=\"22\" height=\"10\" fill=\"#ffb74d\" fill-opacity=\"0.45\"/>", "paused"),
            ("cut", "<rect x=\"0\" y=\"-9\" width=\"22\" height=\"10\" fill=\"#7e57c2\" fill-opacity=\"0.2\"/>", "network cut"),
        ]
        entries += others.filter { present.contains($0.key) }.map { ($0.swatch, $0.label) }
        var out: [String] = []
        var x = left
        var y = top
        for entry in entries {
            let advance = Int64(34 + entry.label.count * 6 + 14) * 10
            if x + advance > left + width {
                x = left
                y += 170
            }
            out.append("<g transform=\"translate(\(px(x)),\(px(y)))\">\(entry.swatch)\(text(280, 0, entry.label, size: 11))</g>")
            x += advance
        }
        return (out.joined(separator: "\n"), y - top + 170)
    }
}

/// The symbols of marks on a node's lane; `path` draws one centred at (x, y), both in tenths of a pixel.
enum MarkShape {
    case elected, decided, leadershipLost, joined, crashed, restarted

    func path(x: Int64, y: Int64) -> String {
        let p = RunDiagramStyle.px
        switch self {
        case .elected:
            return "<path d=\"M\(p(x)),\(p(y - 70))L\(p(x + 60)),\(p(y))L\(p(x)),\(p(y + 70))L\(p(x - 60)),\(p(y))z\" "
                + "fill=\"#ffca28\" stroke=\"#8d6e00\"/>"
        case .decided:
            return "<line x1=\"\(p(x))\" y1=\"\(p(y - 60))\" x2=\"\(p(x))\" y2=\"\(p(y + 60))\" stroke=\"#1b5e20\" stroke-width=\"2\"/>"
        case .leadershipLost:
            return "<path d=\"M\(p(x - 50)),\(p(y - 45))L\(p(x + 50)),\(p(y - 45))L\(p(x)),\(p(y + 45))z\" "
                + "fill=\"#ff7043\" stroke=\"#bf360c\"/>"
        case .joined:
            return "<circle cx=\"\(p(x))\" cy=\"\(p(y))\" r=\"4\" fill=\"white\" stroke=\"#263238\" stroke-width=\"1.5\"/>"
        case .crashed:
            return "<path d=\"M\(p(x - 60)),\(p(y - 60))L\(p(x + 60)),\(p(y + 60))M\(p(x - 60)),\(p(y + 60))L\(p(x + 60)),\(p(y - 60))\" "
                + "stroke=\"#b71c1c\" stroke-width=\"3\"/>"
        case .restarted:
            return "<circle cx=\"\(p(x))\" cy=\"\(p(y))\" r=\"5\" fill=\"#66bb6a\" stroke=\"#1b5e20\" stroke-width=\"1.5\"/>"
        }
    }
}
