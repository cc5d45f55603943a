// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "MultiPaxos",
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
