/// Draws a recorded run as a space-time diagram in SVG: one horizontal lane per node, time running left to
/// right, an arrow per network message from its send to its delivery (a lost one ends short of its target in a
/// red cross), coloured by kind, and marks for elections, decisions, crashes, restarts, lost disks, pauses and
/// cut links. A pure function of the recording and the window: the same run gives the same bytes.
public enum RunDiagram {
    // Every length is in tenths of a pixel.
    static let left: Int64 = 700
    static let plot: Int64 = 16_000
    static let right: Int64 = 400
    static var width: Int64 { left + plot + right }
    /// More arrows than this in the window, and heartbeats are drawn faint and a zoom is suggested.
    static let crowded = 400
    /// A suggested zoom holds about this many messages.
    static let zoomMessages = 120

    /// The SVG document for the part of `recording` from `from` to `to` (simulated time; nil: the end of the
    /// run). `command` is the command line that made the run, shown in the title.
    public static func render(_ recording: RunRecording, from: Microseconds = 0, to: Microseconds? = nil,
                              command: String) -> String {
        let start = from
        let stop = max(to ?? recording.end, start + 1)
        let span = stop - start
        let shown = recording.transmissions.filter { start <= $0.sentAt && $0.sentAt <= stop }
        let marks = recording.marks.filter { start <= $0.at && $0.at <= stop }
        let kinds = MessageKind.allCases.filter { kind in shown.contains { $0.kind == kind } }
        let crowded = shown.count > Self.crowded

        // Header: title, what the window holds, the zoom hint, the legend.
        var header: [String] = []
        var y: Int64 = 220
        header.append(RunDiagramStyle.text(100, y, "\(command): a simulated run of \(recording.nodes) node(s), "
            + "\(RunDiagramStyle.seconds(start))–\(RunDiagramStyle.seconds(stop)) s of \(RunDiagramStyle.seconds(recording.end)) s",
            size: 15, fill: "black", weight: "bold"))
        y += 200
        let after = start >= recording.end ? "The run ended before this window began: nothing to draw. " : ""
        header.append(RunDiagramStyle.text(100, y, after + summary(shown, marks), size: 12))
        if crowded {
            y += 180
            var hint = "Crowded: heartbeats are drawn faint. Zoom in with --from S --to S (simulated seconds)"
            if let (a, b) = busiest(recording.transmissions.map(\.sentAt), start: start, stop: stop) {
                hint += ", e.g. --from \(RunDiagramStyle.seconds(a)) --to \(RunDiagramStyle.seconds(b)) (the busiest stretch)"
            }
            header.append(RunDiagramStyle.text(100, y, hint + ".", size: 12, fill: "#b71c1c", weight: "bold"))
        }
        y += 280
        let legend = RunDiagramStyle.legend(kinds: kinds, present: present(shown, recording, start: start, stop: stop),
                                            x: 100, y: y, width: width - 200)
        header.append(legend.svg)
        let axisY = y + legend.height + 150
        let lanesTop = axisY + 300
        let gap = recording.nodes <= 8 ? 800 : max(180, 6_400 / Int64(max(1, recording.nodes)))
        let lanesBottom = lanesTop + Int64(max(0, recording.nodes - 1)) * gap
        let height = lanesBottom + 600
        let lane = { (node: NodeID) in lanesTop + Int64(node.value) * gap }
        let x = { (t: Microseconds) in left + (min(max(t, start - span), stop + span) - start) * plot / span }
        let p = RunDiagramStyle.px

        var out = ["<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(p(width))\" height=\"\(p(height))\" "
                   + "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"11\">",
                   RunDiagramStyle.styleSheet(kinds: kinds), RunDiagramStyle.markers(kinds: kinds),
                   "<clipPath id=\"plot\"><rect x=\"\(p(left))\" y=\"0\" width=\"\(p(plot))\" height=\"\(p(height))\"/></clipPath>",
                   "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>"]
        out += header

        // The time axis: a faint line and a label at every step.
        let step = RunDiagramStyle.step(for: span, count: 10)
        var tick = (start + step - 1) / step * step
        out.append(RunDiagramStyle.text(100, axisY, "time (s)", size: 10, fill: "#777777"))
        while tick <= stop {
            out.append("<line x1=\"\(p(x(tick)))\" y1=\"\(p(axisY + 80))\" x2=\"\(p(x(tick)))\" y2=\"\(p(lanesBottom + 250))\" "
                       + "stroke=\"#eeeeee\"/>")
            out.append(RunDiagramStyle.text(x(tick), axisY, RunDiagramStyle.seconds(tick), size: 10, fill: "#777777",
                                            anchor: "middle"))
            tick += step
        }

        // Pauses and cuts, behind everything else.
        out.append("<g clip-path=\"url(#plot)\">")
        for mark in recording.marks where mark.at <= stop && (mark.until ?? mark.at) >= start {
            guard let until = mark.until else { continue }
            let x0 = x(mark.at), x1 = x(until)
            if mark.kind == .cut {
                let title = "network from \(formatSeconds(mark.at)) s to \(formatSeconds(until)) s: \(mark.label)"
                out.append("<g class=\"mark\"><title>\(HistorySVG.escape(title))</title>"
                    + "<rect x=\"\(p(x0))\" y=\"\(p(lanesTop - 200))\" width=\"\(p(max(10, x1 - x0)))\" "
                    + "height=\"\(p(lanesBottom - lanesTop + 400))\" fill=\"#7e57c2\" fill-opacity=\"0.1\"/>"
                    + RunDiagramStyle.text(max(x0, left) + 40, lanesTop - 80, mark.label, size: 10, fill: "#4527a0")
                    + "</g>")
            } else if let node = mark.node {
                let title = "\(node) paused from \(formatSeconds(mark.at)) s to \(formatSeconds(until)) s"
                out.append("<g class=\"mark\"><title>\(HistorySVG.escape(title))</title>"
                    + "<rect x=\"\(p(x0))\" y=\"\(p(lane(node) - 90))\" width=\"\(p(max(10, x1 - x0)))\" height=\"18\" "
                    + "fill=\"#ffb74d\" fill-opacity=\"0.45\"/></g>")
            }
        }
        out.append("</g>")

        // The lanes: solid while the node is up, dashed red while it is down.
        for i in 0..<recording.nodes {
            let node = NodeID(i)
            let y = lane(node)
            out.append(RunDiagramStyle.text(100, y + 40, "\(node)", size: 13, fill: "black", weight: "bold"))
            for (from, to, up) in laneSegments(node, recording, start: start, stop: stop) {
                out.append("<line class=\"\(up ? "lane" : "down")\" x1=\"\(p(x(from)))\" y1=\"\(p(y))\" "
                           + "x2=\"\(p(x(to)))\" y2=\"\(p(y))\"/>")
            }
        }

        // The messages.
        out.append("<g clip-path=\"url(#plot)\">")
        for m in shown {
            out.append(arrow(m, crowded: crowded, end: recording.end, x: x, lane: lane))
        }
        out.append("</g>")

        // The marks on the lanes, above the arrows (a lost disk's crash is labelled once).
        let wipes = marks.filter { $0.kind == .wiped }
        for mark in marks {
            guard let node = mark.node, let shape = shape(mark.kind) else { continue }
            let mx = x(mark.at), my = lane(node)
            var label = ""
            switch mark.kind {
            case .elected: label = "leader"
            case .crashed: label = wipes.contains { $0.node == node && $0.at == mark.at } ? "" : "crash"
            case .wiped: label = "disk lost"
            case .restarted: label = "restart"
            default: break
            }
            let caption = label.isEmpty ? "" : RunDiagramStyle.text(mx, my - 110, label, size: 10, fill: "black", anchor: "middle")
            out.append("<g class=\"mark\"><title>\(HistorySVG.escape("\(node) at \(formatSeconds(mark.at)) s: \(mark.label)"))"
                       + "</title>\(shape.path(x: mx, y: my))\(caption)</g>")
        }
        out.append(RunDiagramStyle.text(100, lanesBottom + 450, "Each arrow goes from a message's sending to its delivery; "
            + "hover an arrow or a mark for the message or the event as the trace prints it.", size: 11, fill: "#777777"))
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    /// One message: a line from sender to target (to a red cross short of the target if it was lost), with a
    /// tooltip.
    static func arrow(_ m: RunRecording.Transmission, crowded: Bool, end: Microseconds,
                      x: (Microseconds) -> Int64, lane: (NodeID) -> Int64) -> String {
        let p = RunDiagramStyle.px
        let x1 = x(m.sentAt), y1 = lane(m.from), target = lane(m.to)
        let faint = crowded && RunDiagramStyle.isRoutine(m.kind)
        var classes = "msg k\(m.kind.rawValue)"
        if faint { classes += " thin" }
        if m.isCopy { classes += " copy" }
        let route = "\(m.from)→\(m.to) \(m.label)\(m.isCopy ? " (a copy)" : ""): sent \(formatSeconds(m.sentAt)) s, "
        let x2: Int64, y2: Int64, tip: String, what: String
        switch m.fate {
        case .delivered(let at):
            (x2, y2) = (x(at), target)
            tip = faint ? "" : " marker-end=\"url(#h\(m.kind.rawValue))\""
            what = "delivered \(formatSeconds(at)) s"
        case .dropped(let at, let why):
            (x2, y2) = (x(at), y1 + (target - y1) * 6 / 10)
            tip = ""
            what = "lost \(formatSeconds(at)) s (\(why))"
        case .inFlight:
            (x2, y2) = (x(max(end, m.sentAt)), y1 + (target - y1) / 2)
            classes += " open"
            tip = ""
            what = "still in flight when the run ended"
        }
        var svg = "<line class=\"\(classes)\" x1=\"\(p(x1))\" y1=\"\(p(y1))\" x2=\"\(p(x2))\" y2=\"\(p(y2))\"\(tip)>"
            + "<title>\(HistorySVG.escape(route + what))</title></line>"
        if case .dropped = m.fate {
            svg += "<path class=\"drop\" d=\"M\(p(x2 - 40)),\(p(y2 - 40))L\(p(x2 + 40)),\(p(y2 + 40))"
                + "M\(p(x2 - 40)),\(p(y2 + 40))L\(p(x2 + 40)),\(p(y2 - 40))\"/>"
        }
        return svg
    }

    /// The symbol of a mark on a lane (pauses and cuts are bands instead).
    static func shape(_ kind: RunRecording.Mark.Kind) -> MarkShape? {
        switch kind {
        case .elected: .elected
        case .decided: .decided
        case .leadershipLost: .leadershipLost
        case .joined: .joined
        case .crashed, .wiped: .crashed
        case .restarted: .restarted
        case .paused, .cut: nil
        }
    }

    /// The node's lane from `start` to `stop` in pieces, each up or down (between a crash and its restart).
    static func laneSegments(_ node: NodeID, _ recording: RunRecording, start: Microseconds,
                             stop: Microseconds) -> [(Microseconds, Microseconds, Bool)] {
        var pieces: [(Microseconds, Microseconds, Bool)] = []
        var up = true
        var since = start
        for mark in recording.marks where mark.node == node && (mark.kind == .crashed || mark.kind == .restarted) {
            let nowUp = mark.kind == .restarted
            guard nowUp != up else { continue }
            if mark.at > since && mark.at <= stop { pieces.append((since, mark.at, up)) }
            since = max(since, mark.at)
            up = nowUp
        }
        if since < stop { pieces.append((since, stop, up)) }
        return pieces
    }

    /// What the legend explains besides the kinds of messages: the looks and marks the window shows.
    static func present(_ shown: [RunRecording.Transmission], _ recording: RunRecording, start: Microseconds,
                        stop: Microseconds) -> Set<String> {
        var keys = Set<String>()
        for m in shown {
            if m.isCopy { keys.insert("copy") }
            switch m.fate {
            case .dropped: keys.insert("lost")
            case .inFlight: keys.insert("open")
            case .delivered: break
            }
        }
        for mark in recording.marks where mark.at <= stop && (mark.until ?? mark.at) >= start {
            keys.insert(mark.kind == .wiped ? "crashed" : "\(mark.kind)")
        }
        for node in 0..<recording.nodes where laneSegments(NodeID(node), recording, start: start, stop: stop).contains(where: { !$0.2 }) {
            keys.insert("down")
        }
        return keys
    }

    /// One line on what the window holds.
    static func summary(_ shown: [RunRecording.Transmission], _ marks: [RunRecording.Mark]) -> String {
        let lost = shown.filter { if case .dropped = $0.fate { true } else { false } }.count
        let copies = shown.filter(\.isCopy).count
        func count(_ kind: RunRecording.Mark.Kind) -> Int { marks.filter { $0.kind == kind }.count }
        var parts = ["\(shown.count) network message(s) sent in this window, \(lost) lost (red ×)"]
        if copies > 0 { parts.append("\(copies) duplicated or replayed (dashed)") }
        parts.append("\(count(.elected)) leader election(s)")
        parts.append("\(count(.decided)) decision(s)")
        if count(.crashed) > 0 { parts.append("\(count(.crashed)) crash(es)") }
        if count(.cut) > 0 { parts.append("\(count(.cut)) cut(s) of the network (shaded)") }
        return parts.joined(separator: ", ") + "; a node's messages to itself are not drawn."
    }

    /// The shortest stretch of 1, 2 or 5 times a power of ten microseconds, aligned to half its length, that
    /// holds about `zoomMessages` sends, at its busiest; nil when none does. `sends` is in ascending order.
    static func busiest(_ sends: [Microseconds], start: Microseconds, stop: Microseconds) -> (Microseconds, Microseconds)? {
        func firstIndex(atOrAfter t: Microseconds) -> Int {
            var low = 0, high = sends.count
            while low < high {
                let mid = (low + high) / 2
                if sends[mid] < t { low = mid + 1 } else { high = mid }
            }
            return low
        }
        var length = max(1_000, RunDiagramStyle.step(for: stop - start, count: 400))
        while length < stop - start {
            let half = length / 2
            var best: (count: Int, at: Microseconds)?
            var a = start / half * half
            while a < stop {
                let n = firstIndex(atOrAfter: min(a + length, stop + 1)) - firstIndex(atOrAfter: max(a, start))
                if n > (best?.count ?? 0) { best = (n, a) }
                a += half
            }
            if let best, best.count >= zoomMessages { return (best.at, best.at + length) }
            length = RunDiagramStyle.step(for: length + 1, count: 1)
        }
        return nil
    }
}
