import Testing
@testable import MultiPaxos

/// The checker at scale: large many-client histories of each verdict, keys that cannot hide a failing key, the
/// budget after which the verdict is unknown, and the explanation and picture of a failure.
@Suite struct LinearizabilityBudgetTests {
    /// A deterministic budget that every history here must be decided well within (a few seconds even in a
    /// debug build); a regression to exhaustive search would exceed it.
    static let budget = Linearizability.Budget(maxSteps: 3_000_000)

    func history(_ lines: String) throws -> History { try History.parse(jsonLines: lines) }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func fiftyClientHistoriesOfEachVerdict(seed: UInt64) {
        var generator = HistoryGenerator(seed: seed)
        let good = generator.history
        #expect(good.events.count == 4_000)
        #expect(Linearizability.check(good, budget: Self.budget) == .linearizable)

        let key = generator.breakARead()
        let verdict = Linearizability.check(generator.history, budget: Self.budget)
        #expect(verdict.failingKey == key, "\(verdict)")
    }

    /// `n` appends to `key` all at once, then a read of a value they cannot make: every order of the appends is
    /// a different value, so the search must try them all (n! of them) before it gives up on the key. One value
    /// starts the others, so the key is no list whose reads reveal the order (`ListAppend`): it is searched.
    func intractable(_ key: ByteString, appends n: Int, firstProcess: Int = 0) -> [HistoryEvent] {
        var events: [HistoryEvent] = []
        for i in 0..<n {
            events.append(HistoryEvent(process: firstProcess + i, kind: .invoke, function: .append, key: key,
                                       value: i == n - 1 ? "<" : "<\(i)>"))
        }
        for i in 0..<n { events.append(HistoryEvent(process: firstProcess + i, kind: .ok, function: .append, key: key)) }
        events.append(HistoryEvent(process: firstProcess, kind: .invoke, function: .get, key: key))
        events.append(HistoryEvent(process: firstProcess, kind: .ok, function: .get, key: key, value: "<0>"))
        return events
    }

    /// A stale read on `key`: found at once.
    func staleRead(_ key: ByteString, process: Int) -> [HistoryEvent] {
        [HistoryEvent(process: process, kind: .invoke, function: .put, key: key, value: "1"),
         HistoryEvent(process: process, kind: .ok, function: .put, key: key),
         HistoryEvent(process: process, kind: .invoke, function: .get, key: key),
         HistoryEvent(process: process, kind: .ok, function: .get, key: key, value: nil)]
    }

    @Test func anIntractableKeyDoesNotHideAFailingOne() {
        let hard = History(events: intractable("a", appends: 12))
        let budget = Linearizability.Budget(maxSteps: 200_000)
        // Alone, key "a" is beyond the budget...
        guard case .unknown(let reason) = Linearizability.check(hard, budget: budget) else {
            Issue.record("key a was decided")
            return
        }
        #expect(reason.contains("search steps") && reason.contains("\"a\""), "\(reason)")
        // ...but keys take turns, so "b" (after "a" in key order, interleaved with it) is found to fail.
        let both = History(events: intractable("a", appends: 12) + staleRead("b", process: 99))
        #expect(Linearizability.check(both, budget: budget).failingKey == "b")
    }

    @Test func eachLimitOfTheBudgetEndsInUnknown() {
        let hard = History(events: intractable("a", appends: 12))
        let limits: [(Linearizability.Budget, String)] = [
            (.init(maxCacheEntries: 10_000), "10000 cached configurations"),
            (.init(maxMemoryBytes: 4 << 20), "memory limit of 4 MB"),
            (.init(maxSteps: 1), "limit of 1 search steps"),
            (.init(timeout: .zero), "time limit"),
        ]
        for (budget, fragment) in limits {
            let verdict = Linearizability.check(hard, budget: budget, elapsed: { .zero })
            #expect(!verdict.isDecided && !verdict.isLinearizable && verdict.failingKey == nil)
            if case .unknown(let reason) = verdict { #expect(reason.contains(fragment), "\(reason)") }
        }
        // A history decided in the first turn needs no more than that.
        #expect(Linearizability.check(History(events: staleRead("b", process: 0)), budget: .init(timeout: .zero),
                                         elapsed: { .zero }).failingKey == "b")
    }

    @Test func explainsTheLongestPrefixAndWhatCannotFollowIt() throws {
        let h = try history("""
            {"process":0,"type":"invoke","f":"put","key":"x","value":"1"}
            {"process":0,"type":"ok","f":"put","key":"x"}
            {"process":1,"type":"invoke","f":"append","key":"x","value":"2"}
            {"process":1,"type":"ok","f":"append","key":"x"}
            {"process":2,"type":"invoke","f":"get","key":"x"}
            {"process":3,"type":"invoke","f":"cas","key":"x","value":"9","expected":"12"}
            {"process":3,"type":"fail","f":"cas","key":"x"}
            {"process":2,"type":"ok","f":"get","key":"x","value":"1"}
            """)
        guard case .notLinearizable(let key, let explanation) = Linearizability.check(h) else {
            Issue.record("not found to fail")
            return
        }
        #expect(key == "x")
        #expect(explanation.linearized == [0, 1])
        #expect(explanation.valueAfterPrefix == "12")
        #expect(explanation.unplaceable == [2, 3])
        let text = explanation.description
        #expect(text.contains("2 of its 4 operations"))
        #expect(text.contains("1. process 0: put \"1\" (events 0-1)"))
        #expect(text.contains("2. process 1: append \"2\" (events 2-3)"))
        #expect(text.contains("process 2: get -> \"1\" (events 4-7): the key holds \"12\""))
        #expect(text.contains("process 3: cas \"12\"->\"9\" failed (events 5-6): the key holds the expected value"))
    }

    @Test func drawsTheFailingKeyWithTheLinearizationNumberedAndTheBlockedOperationsRed() throws {
        var events = staleRead("<k&\"ey>", process: 4)
        events.insert(HistoryEvent(process: 7, kind: .invoke, function: .append, key: "<k&\"ey>", value: "z"), at: 0)
        guard case .notLinearizable(let key, let explanation) = Linearizability.check(History(events: events)) else {
            Issue.record("not found to fail")
            return
        }
        let svg = HistorySVG.render(key: key, explanation: explanation)
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.hasSuffix("</svg>\n"))
        #expect(svg.contains("&lt;k&amp;&quot;ey&gt;") && !svg.contains("<k&"))
        #expect(svg.contains(">client 4<") && svg.contains(">client 7<"))
        // One bar per operation; the red one is the read, whose title says why; the others are numbered in the
        // order they linearize (the append first: it is called first).
        #expect(svg.components(separatedBy: "<g><title>").count - 1 == explanation.operations.count)
        #expect(svg.components(separatedBy: "fill=\"#e53935\" stroke=\"#b71c1c\"").count - 1 == 1)
        #expect(svg.contains("get -&gt; absent (events 3-4); cannot come next: the key holds"))
        #expect(svg.contains("put &quot;1&quot; (events 1-2); linearized #2"))
        #expect(svg.contains(">1 append"))
        // The append never completed: dashed, to the right edge.
        #expect(svg.contains("stroke-dasharray=\"4 2\" fill-opacity=\"0.5\""))
    }

    @Test func theSimulationReportsAnUndecidedCheckApartFromFailures() async throws {
        let (report, _) = try await simulate { options in
            options.seed = 3
            options.linearizabilityBudget = .init(maxSteps: 1)
        }
        #expect(report.passed, "\(report.failures)")
        #expect(report.linearizabilityUndecided?.contains("limit of 1 search steps") == true)
        #expect(report.summary.contains { $0.contains("linearizability      not decided within budget") })
        let outcomes = await Sweep.run(seeds: 5...6, optionsFor: { seed in
            var options = SimulationOptions.sweep(seed: seed, mode: .stableLeader, nodes: 3, clients: 3, requestsPerClient: 5)
            options.linearizabilityBudget = .init(maxSteps: 1)
            return options
        })
        #expect(outcomes.allSatisfy { $0.failures.isEmpty && $0.linearizabilityUndecided != nil })
    }
}
