/// Draws why a key is not linearizable, after porcupine's visualisation: the key's operations as bars from call
/// to completion, one row per client, on a time axis of the history's event indices (only the indices where
/// one of this key's operations starts or ends, each one column wide, so a few hundred operations stay
/// readable). The longest linearization found is numbered in green, the operations that cannot come after it
/// are red, the rest grey; an operation of unknown outcome has a dashed outline and a dashed tail to the right edge.
/// Hovering a bar shows the operation in full.
public enum HistorySVG {
    static let column = 18
    static let rowHeight = 26
    static let barHeight = 18
    static let left = 70
    static let top = 74

    /// The SVG document for `key`, whose search stopped as `explanation` says.
    public static func render(key: ByteString, explanation: Linearizability.Explanation) -> String {
        let ops = explanation.operations
        let processes = Array(Set(ops.map(\.process))).sorted()
        var row: [Int: Int] = [:]
        for (i, p) in processes.enumerated() { row[p] = i }
        let times = Array(Set(ops.flatMap { [$0.callEvent] + ($0.returnEvent.map { [$0] } ?? []) })).sorted()
        var columnOf: [Int: Int] = [:]
        for (i, t) in times.enumerated() { columnOf[t] = i }
        var order: [Int: Int] = [:]
        for (n, i) in explanation.linearized.enumerated() { order[i] = n + 1 }
        let red = Set(explanation.unplaceable)

        let width = left + (times.count + 1) * column + 20
        let height = top + processes.count * rowHeight + 20
        var out: [String] = []
        out.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" "
                   + "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"11\">")
        out.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>")
        let summary = explanation.headline.map { "key \(KeyOperation.show(key)) is not linearizable: \($0) (red)" }
            ?? "key \(KeyOperation.show(key)) is not linearizable: \(explanation.linearized.count) of its "
            + "\(ops.count) operations linearize (green, in order), after which "
            + "\(Linearizability.Explanation.holds(explanation.valueAfterPrefix)) and none of the red ones can come next"
        out.append(text(8, 18, summary, size: 13, weight: "bold"))
        out.append(legend(y: 38))

        // The time axis: a tick and a faint line at every tenth column, labelled with the event index.
        let axisY = top - 8
        for (i, t) in times.enumerated() where i % 10 == 0 {
            let x = left + i * column
            out.append("<line x1=\"\(x)\" y1=\"\(axisY)\" x2=\"\(x)\" y2=\"\(height - 16)\" stroke=\"#eeeeee\"/>")
            out.append(text(x, axisY - 3, "\(t)", size: 9, fill: "#777777"))
        }
        out.append(text(8, axisY - 3, "event", size: 9, fill: "#777777"))

        for (i, p) in processes.enumerated() {
            let y = top + i * rowHeight
            if i % 2 == 1 {
                out.append("<rect x=\"0\" y=\"\(y - 4)\" width=\"\(width)\" height=\"\(rowHeight)\" fill=\"#fafafa\"/>")
            }
            out.append(text(8, y + barHeight - 5, "client \(p)", size: 11, fill: "#333333"))
        }

        for (i, op) in ops.enumerated() {
            let y = top + (row[op.process] ?? 0) * rowHeight
            let start = left + (columnOf[op.callEvent] ?? 0) * column + 1
            let edge = left + times.count * column + column - 1
            let end = op.returnEvent.map { left + (columnOf[$0] ?? 0) * column + column - 1 } ?? edge
            let fill = order[i] != nil ? "#66bb6a" : red.contains(i) ? "#e53935" : "#cfd8dc"
            let stroke = order[i] != nil ? "#2e7d32" : red.contains(i) ? "#b71c1c" : "#90a4ae"
            let dash = op.isUnknown || op.returnEvent == nil ? " stroke-dasharray=\"4 2\" fill-opacity=\"0.5\"" : ""
            var title = "client \(op.process): \(op) (\(Linearizability.Explanation.span(op)))"
            if let n = order[i] { title += "; linearized #\(n)" }
            if red.contains(i) {
                title += "; cannot come next: \(Linearizability.Explanation.conflict(op, explanation.valueAfterPrefix))"
            }
            out.append("<g><title>\(escape(title))</title>")
            if op.isUnknown && end < edge {
                // It may take effect any time after its call: a thin dashed tail to the right edge.
                let mid = y + barHeight / 2
                out.append("<line x1=\"\(end)\" y1=\"\(mid)\" x2=\"\(edge)\" y2=\"\(mid)\" stroke=\"\(stroke)\" "
                           + "stroke-dasharray=\"2 3\"/>")
            }
            out.append("<rect x=\"\(start)\" y=\"\(y)\" width=\"\(max(4, end - start))\" height=\"\(barHeight)\" rx=\"3\" "
                       + "fill=\"\(fill)\" stroke=\"\(stroke)\"\(dash)/>")
            var label = order[i].map { "\($0) " } ?? ""
            label += op.description
            let fits = max(0, (end - start - 4) / 6)
            if fits > 0 {
                let shown = label.count <= fits ? label : String(label.prefix(max(0, fits - 1))) + "…"
                out.append(text(start + 3, y + barHeight - 5, shown, size: 10,
                                fill: (red.contains(i) || order[i] != nil) && dash.isEmpty ? "white" : "#263238"))
            }
            out.append("</g>")
        }
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    private static func legend(y: Int) -> String {
        let items = [("#66bb6a", "linearized, numbered in order"), ("#e53935", "cannot come next"),
                     ("#cfd8dc", "not reached"), ("none", "dashed: outcome unknown, may take effect any time after its call")]
        var x = 8
        var parts: [String] = []
        for (color, label) in items {
            let dash = color == "none" ? " stroke-dasharray=\"4 2\"" : ""
            parts.append("<rect x=\"\(x)\" y=\"\(y)\" width=\"22\" height=\"12\" rx=\"2\" fill=\"\(color)\" stroke=\"#555555\"\(dash)/>")
            parts.append(text(x + 28, y + 10, label, size: 11, fill: "#333333"))
            x += 40 + label.count * 6
        }
        return parts.joined(separator: "\n")
    }

    private static func text(_ x: Int, _ y: Int, _ content: String, size: Int, fill: String = "black",
                             weight: String = "normal") -> String {
        "<text x=\"\(x)\" y=\"\(y)\" font-size=\"\(size)\" font-weight=\"\(weight)\" fill=\"\(fill)\">\(escape(content))</text>"
    }

    /// Text as XML character data or an attribute value.
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default:
                // XML 1.0 allows no control characters other than tab, newline and carriage return.
                if c.value < 0x20 && c != "\t" && c != "\n" && c != "\r" { out += "?" } else { out.unicodeScalars.append(c) }
            }
        }
        return out
    }
}
