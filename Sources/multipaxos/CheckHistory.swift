#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import MultiPaxos

/// `multipaxos check-history FILE|- [--svg FILE] [--max-memory MB] [--timeout SECONDS]`: prints the verdict and
/// returns 0 (linearizable), 1 (not, with an explanation), 2 (bad arguments or input, naming the line, or an
/// SVG path that cannot be written) or 3 (not decided within the budget).
func checkHistory(_ args: [String]) -> Int32 {
    let parsed: CheckHistoryOptions?
    do {
        parsed = try CheckHistoryOptions.parse(args)
        try parsed?.checkOutputPaths()
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
        do {
            data = try InputFile.read(options.path, what: "history file")
        } catch {
            let missing = access(options.path, F_OK) != 0 && errno == ENOENT
            complain("\(error)" + (missing ? " (write one with: multipaxos 42 --history \(options.path))" : ""))
            return CheckHistoryOptions.badInputStatus
        }
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
    let start = ContinuousClock.now
    switch Linearizability.check(history, budget: options.budget, elapsed: { ContinuousClock.now - start }) {
    case .linearizable:
        print("linearizable")
        if options.svgPath != nil { complain("no SVG written: the history is linearizable") }
        return CheckHistoryOptions.linearizableStatus
    case .notLinearizable(let key, let explanation):
        print("not linearizable (key \"\(key)\")")
        print(explanation.description)
        if let path = options.svgPath {
            let svg = HistorySVG.render(key: key, explanation: explanation)
            do {
                try OutputPath.write(svg, to: path)
            } catch {
                complain("\(error)")  // still 1: the verdict stands, the picture is missing
            }
        }
        return CheckHistoryOptions.notLinearizableStatus
    case .unknown(let reason):
        print("unknown: not decided within budget (\(reason))")
        return CheckHistoryOptions.undecidedStatus
    }
}
