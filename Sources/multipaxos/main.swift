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

/// Runs `command` with the arguments after its name; every command of `Subcommand` is dispatched here (the
/// switch is exhaustive, so a new command cannot be listed without being run, nor run without being listed).
func run(_ command: Subcommand, _ args: [String]) async -> Int32 {
    switch command {
    case .simulate: await simulateCommand(args)
    case .bench: await benchCommand(args)
    case .checkHistory: checkHistory(args)
    case .serve: await serveCommand(args)
    case .cluster: await clusterCommand(args)
    case .load: await loadCommand(args)
    case .keygen: keygenCommand(args)
    case .fuzz: fuzzCommand(args)
    case .torture: tortureCommand(args)
    case .mutants: await mutantsCommand(args)
    case .logWriter: logWriter(args)
    case .clusterWriter: await clusterWriter(args)
    case .help: await helpCommand(args)
    case .version: versionCommand(args)
    }
}

/// `multipaxos help [COMMAND]`: the usage, or the command's own (as `COMMAND --help`).
func helpCommand(_ args: [String]) async -> Int32 {
    guard let name = args.first else {
        print(CommandLineOptions.usage)
        return ExitStatus.success
    }
    guard args.count == 1 else {
        complain("help takes one command name (got \(args.count) arguments)")
        return ExitStatus.usage
    }
    guard let command = Subcommand(rawValue: name) else {
        let hint = Subcommand.nearest(to: name).map { "; did you mean '\($0.rawValue)'?" } ?? ""
        complain("help: unknown command '\(name)'\(hint) (commands: \(Subcommand.allCases.map(\.rawValue).joined(separator: ", ")))")
        return ExitStatus.usage
    }
    switch command {
    case .help:
        print(CommandLineOptions.usage)
        return ExitStatus.success
    case .version:
        print("usage: multipaxos version (or --version): prints the version")
        return ExitStatus.success
    default:
        return await run(command, ["--help"])
    }
}

/// `multipaxos version` and `--version`.
func versionCommand(_ args: [String]) -> Int32 {
    guard args.isEmpty || args == ["--version"] else {
        complain("version takes no arguments (got \(args.joined(separator: " ")))")
        return ExitStatus.usage
    }
    print("multipaxos \(MultiPaxosVersion.current)")
    return ExitStatus.success
}

let rawArguments = Array(CommandLine.arguments.dropFirst())
if rawArguments.contains("--version") {
    exit(versionCommand([]))
}
if let first = rawArguments.first, let command = Subcommand(rawValue: first) {
    exit(await run(command, Array(rawArguments.dropFirst())))
}
exit(await demoCommand(rawArguments))
