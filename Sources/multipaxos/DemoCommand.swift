#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import MultiPaxos

/// `multipaxos <seed> [options]`: one simulated run, traced, then its summary (see `CommandLineOptions.usage`).
func demoCommand(_ rawArguments: [String]) async -> Int32 {
    let arguments: CommandLineOptions
    do {
        arguments = try CommandLineOptions.parse(rawArguments)
        try arguments.checkOutputPaths()
    } catch {
        complain("\(error) (see multipaxos --help)")
        return ExitStatus.usage
    }
    if arguments.help {
        print(CommandLineOptions.usage)
        return ExitStatus.success
    }
    if arguments.version { return versionCommand([]) }
    let colors = Terminal.colors(flag: arguments.color, isTerminal: Terminal.isTerminal(1),
                                 environment: ProcessInfo.processInfo.environment)
    let trace: (@Sendable (String) -> Void)? = arguments.quiet ? nil : printLine
    let simulation: Simulation
    do {
        simulation = try Simulation(options: arguments.options, trace: trace, colors: colors,
                                    recordsRun: arguments.svgPath != nil)
    } catch {
        complain("\(error)")
        return ExitStatus.usage
    }
    let report = await simulation.run()
    // The summary first: a history that cannot be written after all must not cost the run's result.
    if !arguments.quiet { print("") }
    for line in report.summary { print(line) }
    fflush(nil)
    var status = report.passed ? ExitStatus.success : ExitStatus.failure
    if let path = arguments.historyPath {
        do {
            try OutputPath.write(report.history.jsonLines(), to: path)
        } catch {
            complain("\(error)")
            status = ExitStatus.failure
        }
    }
    if let path = arguments.svgPath, let recording = report.recording {
        let command = (["multipaxos"] + arguments.arguments).joined(separator: " ")
        do {
            try OutputPath.write(RunDiagram.render(recording, from: arguments.svgFrom ?? 0, to: arguments.svgTo,
                                                   command: command), to: path)
        } catch {
            complain("\(error)")
            status = ExitStatus.failure
        }
    }
    if report.passed, report.linearizabilityUndecided != nil {
        complain("every check holds, but linearizability was not decided within budget")
    }
    if !report.passed {
        complain("\(report.failures.count) check(s) failed; rerun to reproduce, with the full event log: \(arguments.rerunCommand)")
    }
    return status
}
