import Testing
@testable import MultiPaxos

/// The list-append check: planted violations of each kind caught and named, and the same verdict as the
/// linearizability search on thousands of small histories, honest and corrupted.
@Suite struct ListAppendTests {
    /// A history written event by event: `call` opens an operation of `process`, `done` completes it.
    struct Script {
        var events: [HistoryEvent] = []
        mutating func append(_ process: Int, _ token: String) {
            events.append(HistoryEvent(process: process, kind: .invoke, function: .append, key: "log", value: ByteString(token + ";")))
        }
        mutating func get(_ process: Int) {
            events.append(HistoryEvent(process: process, kind: .invoke, function: .get, key: "log"))
        }
        mutating func ok(_ process: Int, read: String? = nil) {
            events.append(HistoryEvent(process: process, kind: .ok, function: read == nil ? .append : .get, key: "log",
                                       value: read.map { ByteString($0) }))
        }
        mutating func fail(_ process: Int) {
            events.append(HistoryEvent(process: process, kind: .fail, function: .append, key: "log"))
        }
        var verdict: Linearizability.Verdict { Linearizability.check(History(events: events)) }
    }

    func headline(_ verdict: Linearizability.Verdict) -> String {
        if case .notLinearizable(_, let explanation) = verdict { return explanation.headline ?? "(no headline)" }
        return "\(verdict)"
    }

    @Test func concurrentAppendsInAnyOrderTheReadsShowAreLinearizable() {
        var s = Script()
        s.append(0, "a"); s.append(1, "b"); s.get(2)
        s.ok(1); s.ok(2, read: "b;"); s.ok(0)
        s.get(2); s.ok(2, read: "b;a;")
        #expect(s.verdict == .linearizable)
    }

    @Test func aLostAcknowledgedAppendIsCaught() {
        var s = Script()
        s.append(0, "a"); s.ok(0)
        s.append(1, "b"); s.ok(1)
        s.get(2); s.ok(2, read: "b;")  // began after a was acknowledged
        #expect(headline(s.verdict).contains("append \"a;\"") && headline(s.verdict).contains("it was lost"), "\(s.verdict)")
        // The picture names the same two operations, in red.
        guard case .notLinearizable(let key, let explanation) = s.verdict else { return }
        #expect(explanation.unplaceable.map { explanation.operations[$0].function }.sorted { "\($0)" < "\($1)" } == [.append, .get])
        #expect(HistorySVG.render(key: key, explanation: explanation).contains("it was lost"))
    }

    @Test func aDuplicatedAppendIsCaught() {
        var s = Script()
        s.append(0, "a"); s.ok(0)
        s.append(1, "b"); s.ok(1)
        s.get(2); s.ok(2, read: "a;b;a;")
        #expect(headline(s.verdict).contains("applied twice"), "\(s.verdict)")
    }

    @Test func twoReadersSeeingTheAppendsInOtherOrdersAreCaught() {
        var s = Script()
        s.append(0, "a"); s.append(1, "b")
        s.get(2); s.get(3)
        s.ok(2, read: "a;b;"); s.ok(3, read: "b;a;")
        s.ok(0); s.ok(1)
        #expect(headline(s.verdict).contains("disagree on the order"), "\(s.verdict)")
    }

    @Test func aStaleReadIsCaught() {
        var s = Script()
        s.append(0, "a"); s.append(1, "b")
        s.get(2); s.ok(2, read: "a;b;")
        s.get(3); s.ok(3, read: "a;")  // began after a read that saw more had ended
        s.ok(0); s.ok(1)
        #expect(headline(s.verdict).contains("a stale read"), "\(s.verdict)")
    }

    @Test func aReadThatSeesAnAppendBeforeItsCallIsCaught() {
        var s = Script()
        s.get(2); s.ok(2, read: "a;")
        s.append(0, "a"); s.ok(0)
        #expect(headline(s.verdict).contains("ended before that append was called, yet holds it"), "\(s.verdict)")
    }

    @Test func aFailedAppendThatIsReadIsCaughtAndAnUnknownOneMayBeReadOrNot() {
        var s = Script()
        s.append(0, "a"); s.fail(0)
        s.get(2); s.ok(2, read: "a;")
        #expect(headline(s.verdict).contains("failed"), "\(s.verdict)")
        for read in ["", "u;"] {
            var unknown = Script()
            unknown.append(0, "u")  // never completes: unknown
            unknown.get(2)
            unknown.events.append(HistoryEvent(process: 2, kind: .ok, function: .get, key: "log", value: read.isEmpty ? nil : ByteString(read)))
            #expect(unknown.verdict == .linearizable, "read \"\(read)\"")
        }
    }

    @Test func bytesNoAppendWroteAreCaught() {
        var s = Script()
        s.append(0, "a"); s.ok(0)
        s.get(2); s.ok(2, read: "a;z;")
        #expect(headline(s.verdict).contains("bytes no append wrote"), "\(s.verdict)")
    }

    @Test func keysThatAreNotAppendOnlyGoToTheSearch() {
        func ops(_ values: [ByteString], put: Bool = false) -> [KeyOperation] {
            values.enumerated().map { KeyOperation(process: $0.offset, function: put && $0.offset == 0 ? .put : .append,
                                                   value: $0.element, outcome: .ok, callEvent: 2 * $0.offset, returnEvent: 2 * $0.offset + 1) }
        }
        #expect(ListAppend.applies(to: ops(["a;", "b;"])))
        #expect(!ListAppend.applies(to: ops(["a", "ab"])), "a value that starts another")
        #expect(!ListAppend.applies(to: ops(["a;", "a;"])), "the same value twice")
        #expect(!ListAppend.applies(to: ops(["a;", ""])), "an empty append")
        #expect(!ListAppend.applies(to: ops(["a;", "b;"], put: true)), "a put")
    }

    /// Random histories of one append-only key (concurrent clients, each operation taking effect at a random
    /// instant inside its span; some left unknown), honest or with one read corrupted: the list check and the
    /// search always agree.
    @Test func agreesWithTheSearchOnThousandsOfHistories() {
        var disagreements: [String] = []
        var violations = 0
        for seed in UInt64(1)...3_000 {
            var random = SeededGenerator(seed: seed)
            struct Op { let process: Int; let append: String?; let call: UInt64; let effect: UInt64; let end: UInt64; var read = ""; var unknown = false }
            var ops: [Op] = []
            for client in 0..<3 {
                var t = random.upTo(20)
                for i in 0..<Int(random.upTo(4) + 1) {
                    let effect = t + 1 + random.upTo(20), end = effect + 1 + random.upTo(20)
                    ops.append(Op(process: client, append: random.chance(0.5) ? "\(client).\(i)" : nil, call: t, effect: effect, end: end))
                    t = end + 1 + random.upTo(10)
                }
            }
            var list = ""
            for i in ops.indices.sorted(by: { (ops[$0].effect, $0) < (ops[$1].effect, $1) }) {
                if let token = ops[i].append { list += token + ";" } else { ops[i].read = list }
            }
            // Corruptions: a read loses its last token, or an append's outcome is left unknown.
            if random.chance(0.5), let r = ops.indices.filter({ ops[$0].append == nil && !ops[$0].read.isEmpty }).randomElement(using: &random) {
                ops[r].read = String(ops[r].read.dropLast().split(separator: ";", omittingEmptySubsequences: false).dropLast().joined(separator: ";"))
                if !ops[r].read.isEmpty { ops[r].read += ";" }
            }
            if random.chance(0.3), let a = ops.indices.filter({ ops[$0].append != nil }).randomElement(using: &random) { ops[a].unknown = true }
            var timeline: [(UInt64, Int, Bool)] = []
            for i in ops.indices { timeline.append((ops[i].call, i, true)); if !ops[i].unknown { timeline.append((ops[i].end, i, false)) } }
            var events: [HistoryEvent] = []
            for (_, i, isCall) in timeline.sorted(by: { ($0.0, $0.2 ? 1 : 0, $0.1) < ($1.0, $1.2 ? 1 : 0, $1.1) }) {
                let op = ops[i]
                let function: HistoryEvent.Function = op.append == nil ? .get : .append
                events.append(isCall ? HistoryEvent(process: op.process, kind: .invoke, function: function, key: "log",
                                                    value: op.append.map { ByteString($0 + ";") })
                                     : HistoryEvent(process: op.process, kind: .ok, function: function, key: "log",
                                                    value: op.append == nil && !op.read.isEmpty ? ByteString(op.read) : nil))
            }
            let keyOps = KeyOperation.partition(History(events: events)).first?.operations ?? []
            guard ListAppend.applies(to: keyOps) else { continue }
            var search = KeySearch(operations: keyOps)
            var status = KeySearch.Status.searching
            while status == .searching { status = search.run(steps: 100_000) }
            let byList = ListAppend.check(keyOps, failed: []) == nil
            if byList != (status == .linearizable) {
                disagreements.append("seed \(seed): list \(byList), search \(status): \(keyOps.map { "\($0.process):\($0) \($0.callEvent)-\($0.returnEvent ?? -1)" })")
            }
            if !byList { violations += 1 }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
        #expect(violations > 300, "only \(violations) corrupted histories were violations")
    }
}

/// A history of the shape `torture` makes at scale: many clients appending unique tokens to logs that rotate, and
/// reading them whole, 130,000 operations. The search could not decide such logs; the list check does at once.
@Suite struct ListAppendScaleTests {
    /// The events, and the index of one read to corrupt.
    static func tortureShaped(seed: UInt64, operations: Int = 130_000, clients: Int = 16) -> [HistoryEvent] {
        var random = SeededGenerator(seed: seed)
        struct Op { let client: Int; let key: ByteString; let token: ByteString?; let call: UInt64; let effect: UInt64; let end: UInt64; var read: ByteString? }
        var ops: [Op] = []
        var clock = [UInt64](repeating: 0, count: clients)
        for n in 0..<operations {
            let client = Int(random.upTo(UInt64(clients - 1)))
            let key = ByteString("log\(n / 2_000).\(random.upTo(1))")  // two logs at a time, fresh ones as time goes on
            let call = clock[client] + random.upTo(50), effect = call + 1 + random.upTo(200), end = effect + 1 + random.upTo(200)
            clock[client] = end + 1
            ops.append(Op(client: client, key: key, token: random.chance(0.6) ? ByteString("c\(client)-\(n);") : nil,
                          call: call, effect: effect, end: end))
        }
        var lists: [ByteString: [UInt8]] = [:]
        for i in ops.indices.sorted(by: { (ops[$0].effect, $0) < (ops[$1].effect, $1) }) {
            if let token = ops[i].token { lists[ops[i].key, default: []] += token.bytes } else { ops[i].read = lists[ops[i].key].map { ByteString($0) } }
        }
        var timeline: [(UInt64, Int, Int)] = []  // time, 1 for a call and 0 for a completion, op
        for i in ops.indices { timeline.append((ops[i].call, 1, i)); timeline.append((ops[i].end, 0, i)) }
        return timeline.sorted { ($0.0, $0.1, $0.2) < ($1.0, $1.1, $1.2) }.map { (_, isCall, i) in
            let op = ops[i]
            let function: HistoryEvent.Function = op.token == nil ? .get : .append
            return HistoryEvent(process: op.client, kind: isCall == 1 ? .invoke : .ok, function: function, key: op.key,
                                value: isCall == 1 ? op.token : op.read)
        }
    }

    @Test func aTortureSizedHistoryOfLogsIsDecidedAndOneStaleReadInItIsFound() {
        var events = Self.tortureShaped(seed: 31)
        #expect(events.count == 260_000)
        #expect(Linearizability.check(History(events: events), budget: .init(maxSteps: 1)) == .linearizable,
                "decided without a single search step")
        // A late read that lost its last token: stale (or an append lost), and named.
        let late = events.indices.last { events[$0].kind == .ok && events[$0].function == .get && (events[$0].value?.count ?? 0) > 20 }!
        let value = events[late].value!.bytes
        let shorter = Array(value.dropLast().split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false).dropLast()
            .joined(separator: [UInt8(ascii: ";")])) + [UInt8(ascii: ";")]
        events[late] = HistoryEvent(process: events[late].process, kind: .ok, function: .get, key: events[late].key, value: ByteString(shorter))
        let verdict = Linearizability.check(History(events: events), budget: .init(maxSteps: 1))
        #expect(verdict.failingKey == events[late].key, "\(verdict)")
    }
}
