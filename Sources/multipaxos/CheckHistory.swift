import Foundation
import MultiPaxos

/// `multipaxos check-history FILE`: prints `linearizable` or `not linearizable` and returns 0 or 1; 2 for a
/// missing or malformed file, naming the line.
func checkHistory(_ args: [String]) -> Int32 {
    guard args.count == 1, !args[0].hasPrefix("-") else {
        complain("check-history takes one history file (got \(args.isEmpty ? "none" : args.joined(separator: " ")))")
        return 2
    }
    let path = args[0]
    guard let data = FileManager.default.contents(atPath: path) else {
        complain("cannot read history file '\(path)'")
        return 2
    }
    guard let text = String(data: data, encoding: .utf8) else {
        complain("\(path): not UTF-8 text")
        return 2
    }
    let history: History
    do {
        history = try History.parse(jsonLines: text)
    } catch {
        complain("\(path): \(error)")
        return 2
    }
    let verdict = Linearizability.check(history)
    if verdict.isLinearizable {
        print("linearizable")
        return 0
    }
    print("not linearizable" + (verdict.failingKey.map { " (key \"\($0)\")" } ?? ""))
    return 1
}
