#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import MultiPaxos

/// Prints one trace line; a plain function so that it is `Sendable` and runs on the simulation's thread.
@Sendable func printLine(_ line: String) {
    print(line)
}

/// Writes to standard error.
func complain(_ text: String) {
    let line = Array("multipaxos: \(text)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

let rawArguments = Array(CommandLine.arguments.dropFirst())
if rawArguments.first == "check-history" {
    exit(checkHistory(Array(rawArguments.dropFirst())))
}
if rawArguments.first == "bench" {
    exit(await benchCommand(Array(rawArguments.dropFirst())))
}
if rawArguments.first == "cluster-writer" {
    exit(await clusterWriter(Array(rawArguments.dropFirst())))
}
if rawArguments.first == "log-writer" {
    exit(logWriter(Array(rawArguments.dropFirst())))
}
if rawArguments.first == "serve" {
    exit(await serveCommand(Array(rawArguments.dropFirst())))
}
if rawArguments.first == "cluster" {
    exit(await clusterCommand(Array(rawArguments.dropFirst())))
}
if rawArguments.first == "load" {
    exit(loadCommand(Array(rawArguments.dropFirst())))
}
if rawArguments.first == "mutants" {
    exit(await mutantsCommand(Array(rawArguments.dropFirst())))
}
if rawArguments.first == "simulate" {
    exit(await simulateCommand(Array(rawArguments.dropFirst())))
}

let arguments: CommandLineOptions
do {
    arguments = try CommandLineOptions.parse(rawArguments)
} catch {
    complain("\(error) (see multipaxos --help)")
    exit(2)
}
if arguments.help {
    print(CommandLineOptions.usage)
    exit(0)
}

let colors = arguments.color ?? (isatty(1) == 1 && getenv("NO_COLOR") == nil)
let trace: (@Sendable (String) -> Void)? = arguments.quiet ? nil : printLine
let simulation: Simulation
do {
    simulation = try Simulation(options: arguments.options, trace: trace, colors: colors)
} catch {
    complain("\(error)")
    exit(2)
}
let report = await simulation.run()
if let path = arguments.historyPath {
    guard FileManager.default.createFile(atPath: path, contents: Data(report.history.jsonLines().utf8)) else {
        complain("cannot write history file '\(path)'")
        exit(2)
    }
}
if !arguments.quiet { print("") }
for line in report.summary { print(line) }
if !report.passed {
    complain("\(report.failures.count) check(s) failed; rerun to reproduce, with the full event log: \(arguments.rerunCommand)")
}
exit(report.passed ? 0 : 1)
