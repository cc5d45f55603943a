import Testing
@testable import MultiPaxos

/// Colour only where it can be read and is wanted, and progress only where someone watches.
@Suite struct TerminalTests {
    @Test func coloursFollowTheFlagNoColorAndTerm() {
        #expect(Terminal.colors(flag: nil, isTerminal: true, environment: [:]))
        #expect(!Terminal.colors(flag: nil, isTerminal: false, environment: [:]))
        #expect(!Terminal.colors(flag: false, isTerminal: true, environment: [:]))
        #expect(!Terminal.colors(flag: nil, isTerminal: true, environment: ["NO_COLOR": "1"]))
        // no-color.org: set but empty does not count.
        #expect(Terminal.colors(flag: nil, isTerminal: true, environment: ["NO_COLOR": ""]))
        #expect(!Terminal.colors(flag: nil, isTerminal: true, environment: ["TERM": "dumb"]))
        #expect(Terminal.colors(flag: nil, isTerminal: true, environment: ["TERM": "xterm-256color"]))
    }

    @Test func seedAndInitializerAreNotWhite() async throws {
        let lines = TraceCollector()
        var options = SimulationOptions()
        options.seed = 3
        options.nodes = 3
        options.requestsPerClient = 1
        _ = try await Simulation(options: options, trace: { lines.append($0) }, colors: true).run()
        let trace = lines.lines
        #expect(!trace.joined().contains("\u{1B}[37m"))
        #expect(trace.contains { $0.contains("\u{1B}[1mSeed") } && trace.contains { $0.contains("\u{1B}[1mInitializer") })
    }

    @Test func progressIsThrottledAndSilentWhenDisabled() {
        let clock = ContinuousClock()
        let start = clock.now
        var written: [String] = []
        var meter = ProgressMeter(enabled: true, interval: .seconds(2)) { written.append($0) }
        meter.report("a", now: start + .seconds(1), start: start)
        meter.report("b", now: start + .seconds(2), start: start)
        meter.report("c", now: start + .seconds(3), start: start)
        meter.report("d", now: start + .seconds(4), start: start)
        meter.always("e", now: start + .seconds(4))
        #expect(written == ["b", "d", "e"])
        var silent = ProgressMeter(enabled: false) { written.append($0) }
        silent.report("x", now: start + .seconds(60), start: start)
        silent.always("y", now: start)
        #expect(written == ["b", "d", "e"])
    }

    @Test func theSummaryHeaderShowsANonDefaultDuplicateRate() async throws {
        var options = SimulationOptions()
        options.nodes = 3
        options.requestsPerClient = 1
        options.duplicateRate = 0.02
        let report = try await Simulation(options: options).run()
        #expect(report.summary[0].hasSuffix("drop 0.05, duplicate 0.02)"))
        options.duplicateRate = 0
        #expect(try await Simulation(options: options).run().summary[0].hasSuffix("drop 0.05)"))
    }
}
