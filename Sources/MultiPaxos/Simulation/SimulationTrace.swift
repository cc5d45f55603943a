/// The trace: one line per protocol event, with the simulated time, the node and the role (coloured when asked).
extension Simulation {
    func emit(_ node: NodeID?, _ role: String, _ text: String) {
        guard let trace else { return }
        let time = formatSeconds(now)
        let padded = String(repeating: " ", count: max(0, 11 - time.count)) + time
        let name = role.padded(to: 11)
        let column = colors ? "\(Self.color(role))\(name)\u{1B}[0m" : name
        trace("\(padded)  \((node?.description ?? "--").padded(to: 3)) \(column) \(text)")
    }

    private static func color(_ role: String) -> String {
        switch role {
        case "Seed", "Initializer": "\u{1B}[1m"  // bold in the terminal's own colour: readable on dark and light
        case "Acceptor": "\u{1B}[34m"
        case "Scout": "\u{1B}[36m"
        case "Leader": "\u{1B}[33m"
        case "Replica": "\u{1B}[32m"
        case "Requester": "\u{1B}[35m"
        default: "\u{1B}[31m"
        }
    }
}
