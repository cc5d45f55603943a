import Foundation
import MultiPaxos

/// `multipaxos check-history FILE|- [--svg FILE] [--max-memory MB] [--timeout SECONDS]`: prints the verdict and
/// returns 0 (linearizable), 1 (not, with an explanation), 2 (bad arguments or input, naming the line) or 3 (not
/// decided within the budget).
func checkHistory(_ args: [String]) -> Int32 {
    let parsed: CheckHistoryOptions?
    do {
        parsed = try CheckHistoryOptions.parse(args)
    } catch {
        complain("\(error) (see multipaxos check-history --help)")
        return CheckHistoryOptions.badInputStatus
    }
    guard let options = parsed else {
        print(CheckHistoryOptions.usage)
        return 0
    }
    let name = options.path == "-" ? "standard input" : options.path
    let data: Data
    if options.path == "-" {
        data = FileHandle.standardInput.readDataToEndOfFile()
    } else {
        guard let contents = FileManager.default.contents(atPath: options.path) else {
            complain("cannot read history file '\(options.path)'")
            return CheckHistoryOptions.badInputStatus
        }
        data = contents
    }
    guard let text = String(data: data, encoding: .utf8) else {
        complain("\(name): not UTF-8 text")
        return CheckHistoryOptions.badInputStatus
    }
    let history: History
    do {
        history = try History.parse(jsonLines: text)
    } catch {
        complain("\(name): \(error)")
        return CheckHistoryOptions.badInputStatus
    }
    switch Linearizability.check(history, budget: options.budget) {
    case .linearizable:
        print("linearizable")
        if options.svgPath != nil { complain("no SVG written: the history is linearizable") }
        return CheckHistoryOptions.linearizableStatus
    case .notLinearizable(let key, let explanation):
        print("not linearizable (key \"\(key)\")")
        print(explanation.description)
        if let path = options.svgPath {
            let svg = HistorySVG.render(key: key, explanation: explanation)
            guard FileManager.default.createFile(atPath: path, contents: Data(svg.utf8)) else {
                complain("cannot write SVG file '\(path)'")
                return CheckHistoryOptions.badInputStatus
            }
        }
        return CheckHistoryOptions.notLinearizableStatus
    case .unknown(let reason):
        print("unknown: not decided within budget (\(reason))")
        return CheckHistoryOptions.undecidedStatus
    }
}
