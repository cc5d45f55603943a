#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Checks an append-only key the way Elle checks a list-append workload (Kingsbury and Alvaro, VLDB 2020): every
/// read returns the whole list, so the reads *reveal* the order of the appends instead of leaving it to a search,
/// and the check is one pass over the key's operations, linear in their number and in the bytes read.
///
/// A key is checked this way when its operations are only appends and gets, and its appended values are distinct,
/// non-empty and prefix-free (no value starts another): then a value read splits into appended values in exactly
/// one way (torture's tokens end with `;` for this). Any other key goes to the linearizability search.
///
/// The rule is exact for such a key. The longest value read fixes the order of every append it holds; every other
/// read must be a prefix of it, ending at an append's boundary. Lay the operations out in that order, each read
/// right after the appends it saw (reads that saw as many in order of completion), the appends no read saw after
/// them all (an unknown one may also never have taken effect: it is left out). A linearization exists exactly when
/// no operation in that sequence completed before an operation ahead of it was called, since then each can take
/// effect at the later of its call and its predecessor's point. So the check names, when there is none, the two
/// operations that contradict each other, or the read that no order can explain.
enum ListAppend {
    /// Whether `operations` (one key's, as `KeyOperation.partition` gives them) can be checked as a list.
    static func applies(to operations: [KeyOperation]) -> Bool {
        var values: [ByteString] = []
        for op in operations {
            switch op.function {
            case .get: continue
            case .append:
                guard let value = op.value, !value.isEmpty else { return false }
                values.append(value)
            case .put, .delete, .cas: return false
            }
        }
        // Sorted, a value that starts another sits right before it (or before values that all start with it).
        values.sort()
        for (a, b) in zip(values, values.dropFirst()) where b.bytes.starts(with: a.bytes) { return false }
        return true
    }

    /// nil when `operations` are linearizable as a list; else why not. `failed` holds the values of this key's
    /// appends that failed (they certainly did not take effect, so none may be read).
    static func check(_ operations: [KeyOperation], failed: Set<ByteString>) -> Linearizability.Explanation? {
        var appendOf: [ArraySlice<UInt8>: Int] = [:]  // looked up by slices of a read, without copying them
        var lengths = Set<Int>()
        for (i, op) in operations.enumerated() where op.function == .append {
            appendOf[op.value!.bytes[...]] = i
            lengths.insert(op.value!.count)
        }
        let sortedLengths = lengths.sorted()
        let failed = failed.filter { appendOf[$0.bytes[...]] == nil }  // a value another append wrote may be read
        let reads = operations.indices.filter { operations[$0].function == .get && !operations[$0].isUnknown }
        func read(_ i: Int) -> [UInt8] { operations[i].output?.bytes ?? [] }

        // The order: the longest value read, split into appended values.
        guard let longestRead = reads.max(by: { (read($0).count, -$0) < (read($1).count, -$1) }) else { return nil }
        let longest = read(longestRead)
        var order: [Int] = []        // indices of appends, in the order read
        var boundaries: [Int: Int] = [0: 0]  // byte offset in `longest` -> appends before it
        var position: [Int: Int] = [:]       // append index -> its place in `order`
        var offset = 0
        while offset < longest.count {
            var found: Int?
            for length in sortedLengths where offset + length <= longest.count {
                if let i = appendOf[longest[offset..<offset + length]] { found = i; break }
            }
            if found == nil, let value = failed.sorted().first(where: { longest[offset...].starts(with: $0.bytes) }) {
                return explain(operations, [], "append \(KeyOperation.show(value)) failed, yet process "
                               + "\(operations[longestRead].process)'s read (\(span(operations[longestRead]))) holds it",
                               involved: [longestRead])
            }
            guard let i = found else {
                return explain(operations, [], "process \(operations[longestRead].process)'s read (\(span(operations[longestRead]))) "
                               + "holds bytes no append wrote, from byte \(offset) of \(longest.count)", involved: [longestRead])
            }
            if let earlier = position[i] {
                return explain(operations, [], "\(operations[i]) (\(span(operations[i]))) was applied twice: process "
                               + "\(operations[longestRead].process)'s read (\(span(operations[longestRead]))) holds it "
                               + "at places \(earlier + 1) and \(order.count + 1)", involved: [i, longestRead])
            }
            position[i] = order.count
            order.append(i)
            offset += operations[i].value!.count
            boundaries[offset] = order.count
        }

        func startsLongest(_ bytes: [UInt8]) -> Bool {
            bytes.isEmpty || bytes.withUnsafeBytes { b in longest.withUnsafeBytes { l in memcmp(b.baseAddress!, l.baseAddress!, b.count) == 0 } }
        }
        // Every other read: a prefix of the longest, ending where an append ends. A key no append reached is
        // absent; an empty value is no list the appends could make.
        var seen: [Int: Int] = [:]  // read index -> appends it saw
        for r in reads {
            if let output = operations[r].output, output.isEmpty {
                return explain(operations, [], "process \(operations[r].process)'s read (\(span(operations[r]))) found the key "
                               + "holding an empty value, which no append makes", involved: [r])
            }
            let bytes = read(r)
            guard bytes.count <= longest.count, startsLongest(bytes),
                  let count = boundaries[bytes.count] else {
                return explain(operations, [], "two reads disagree on the order of the appends: process "
                               + "\(operations[r].process)'s \(operations[r]) (\(span(operations[r]))) is no prefix of "
                               + "process \(operations[longestRead].process)'s \(operations[longestRead]) (\(span(operations[longestRead])))",
                               involved: [r, longestRead])
            }
            seen[r] = count
        }

        // The sequence: reads after the appends they saw, in order of completion; the appends no read saw last.
        let readsBySeen = Dictionary(grouping: reads, by: { seen[$0]! })
            .mapValues { $0.sorted { (returnTime(operations[$0]), $0) < (returnTime(operations[$1]), $1) } }
        var sequence: [Int] = []
        for (place, append) in order.enumerated() {
            sequence += readsBySeen[place] ?? []
            sequence.append(append)
        }
        sequence += readsBySeen[order.count] ?? []
        let unread = operations.indices.filter {
            operations[$0].function == .append && position[$0] == nil && !operations[$0].isUnknown
        }
        sequence += unread.sorted { (returnTime(operations[$0]), $0) < (returnTime(operations[$1]), $1) }

        // No operation may have completed before one ahead of it was called.
        var latestCall = -1, latest = -1
        for (k, op) in sequence.enumerated() {
            if latest >= 0, returnTime(operations[op]) < latestCall {
                let earlier = operations[latest], later = operations[op]
                let why: String
                switch (later.function, earlier.function) {
                case (.get, .get):
                    why = "that read began after this one ended, yet saw fewer appends (\(seen[latest]!), not \(seen[op]!)): a stale read"
                case (.get, _): why = "this read ended before that append was called, yet holds it"
                case (_, .get) where position[op] != nil:
                    why = "this append was acknowledged before that read began, yet that read does not hold it"
                case (_, .get): why = "this append was acknowledged before that read began, yet no read holds it: it was lost"
                default:
                    why = position[op] == nil
                        ? "this append was acknowledged before that one was called, yet reads hold that one and not this: it was lost"
                        : "this append was acknowledged before that one was called, yet reads hold it after that one"
                }
                return explain(operations, Array(sequence[..<k]),
                               "process \(later.process)'s \(later) (\(span(later))) cannot come after process "
                               + "\(earlier.process)'s \(earlier) (\(span(earlier))): \(why)", involved: [latest, op])
            }
            if operations[op].callEvent > latestCall { (latestCall, latest) = (operations[op].callEvent, op) }
        }
        return nil
    }

    /// The values of the appends that failed, per key (`KeyOperation.partition` leaves them out: they did not
    /// take effect, which is exactly what a read must not contradict).
    static func failedAppends(_ history: History) -> [ByteString: Set<ByteString>] {
        var failed: [ByteString: Set<ByteString>] = [:]
        var open: [Int: HistoryEvent] = [:]
        for event in history.events {
            if event.kind == .invoke {
                open[event.process] = event
            } else if let call = open.removeValue(forKey: event.process), event.kind == .fail, call.function == .append,
                      let value = call.value {
                failed[call.key, default: []].insert(value)
            }
        }
        return failed
    }

    private static func returnTime(_ op: KeyOperation) -> Int { Linearizability.Explanation.returnTime(op) }
    private static func span(_ op: KeyOperation) -> String { Linearizability.Explanation.span(op) }

    /// The explanation of a contradiction: `prefix` linearizes (reads fit it by construction, so the value after it
    /// is its appends' values in order), and `involved` are the operations named in `headline`.
    private static func explain(_ operations: [KeyOperation], _ prefix: [Int], _ headline: String,
                                involved: [Int]) -> Linearizability.Explanation {
        var value: [UInt8]?
        for i in prefix where operations[i].function == .append {
            if value == nil { value = [] }
            value!.append(contentsOf: operations[i].value!.bytes)
        }
        return Linearizability.Explanation(operations: operations, linearized: prefix, valueAfterPrefix: value.map { ByteString($0) },
                                           unplaceable: involved, headline: headline)
    }
}
