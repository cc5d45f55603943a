// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "MultiPaxos",
    // Synchronization's Mutex needs these; Linux needs nothing more than Swift 6.
    platforms: [.macOS(.v15), .iOS(.v18), .tvOS(.v18), .watchOS(.v11), .visionOS(.v2)],
    products: [
        .library(name: "MultiPaxos", targets: ["MultiPaxos"]),
        .executable(name: "multipaxos", targets: ["multipaxos"]),
    ],
    targets: [
        .target(name: "MultiPaxos"),
        .executableTarget(name: "multipaxos", dependencies: ["MultiPaxos"]),
        .testTarget(name: "MultiPaxosTests", dependencies: ["MultiPaxos"], exclude: ["Golden", "Histories"]),
    ],
    swiftLanguageModes: [.v6]
)
