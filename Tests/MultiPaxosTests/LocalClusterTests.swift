import Synchronization
import Testing
@testable import MultiPaxos

/// The embedding API on the real clock: the same roles, each node on its own executor.
@Suite(.serialized) struct LocalClusterTests {
    /// Records a client history in real-time order, for the linearizability checker.
    final class Recorder: Sendable {
        let history = Mutex(History())
        func invoke(_ process: Int, _ op: KeyValueOperation) {
            history.withLock { $0.events.append(Simulation.invocation(of: op, client: ClientID(UInt64(process)))) }
        }
        func complete(_ process: Int, _ op: KeyValueOperation, _ result: KeyValueResult?) {
            history.withLock { $0.events.append(Simulation.completion(of: op, result: result, client: ClientID(UInt64(process)))) }
        }
    }

    /// 50 tasks, each with its own client, each sending `perTask` operations on shared and private keys.
    func load(_ cluster: LocalCluster, perTask: Int, recorder: Recorder,
              midway: (@Sendable () async -> Void)? = nil) async throws -> Int {
        // A generous deadline: on a loaded machine (the whole suite runs in parallel on 2 cores) elections can take
        // seconds; what this test checks is exactly-once and linearizability, not speed.
        let clients = await (0..<50).asyncMap { _ in await cluster.makeClient(giveUpAfter: .seconds(60)) }
        return try await withThrowingTaskGroup(of: Int.self) { group in
            for (t, client) in clients.enumerated() {
                group.addTask {
                    for i in 0..<perTask {
                        // Ten shared keys, five clients on each: real contention, and a history the
                        // linearizability search can decide (it is exponential in concurrency per key).
                        let shared: ByteString = "shared\(t % 10)"
                        let op: KeyValueOperation = switch i % 4 {
                        case 0: .append(shared, "\(t).\(i);")
                        case 1: .get(shared)
                        case 2: .put("own\(t)", "\(i)")
                        default: .compareAndSet("register\(t % 10)", expected: nil, new: "\(t)")
                        }
                        recorder.invoke(t + 1, op)
                        let result = try await client.run(op)
                        recorder.complete(t + 1, op, result)
                    }
                    return perTask
                }
            }
            if let midway {
                group.addTask {
                    await midway()
                    return 0
                }
            }
            return try await group.reduce(0, +)
        }
    }

    /// The appends `load` made to the ten shared keys, read back through a new client: each must appear once.
    func appendedTokens(_ cluster: LocalCluster) async throws -> [Substring] {
        let check = await cluster.makeClient(giveUpAfter: .seconds(60))
        var tokens: [Substring] = []
        for k in 0..<10 {
            guard case .value(let shared?) = try await check.run(.get("shared\(k)")) else {
                Issue.record("shared\(k) holds no value")
                continue
            }
            tokens += (shared.text ?? "").split(separator: ";")
        }
        return tokens
    }

    @Test func aThousandCommandsFromFiftyTasksRunExactlyOnceAndLinearizably() async throws {
        try await withLocalCluster({ try await LocalCluster(nodes: 3) }) { cluster in
            let recorder = Recorder()
            let log = cluster.committedLog()
            let completed = try await load(cluster, perTask: 20, recorder: recorder)
            #expect(completed == 1000)
            let history = recorder.history.withLock { $0 }
            #expect(Linearizability.check(history).isLinearizable)
            // Every append landed exactly once.
            let tokens = try await appendedTokens(cluster)
            #expect(tokens.count == 250)
            #expect(Set(tokens).count == 250)
            await cluster.shutdown()
            // The committed log delivered every slot in order (a batch's commands one after another), and every
            // command at most once per slot.
            var slots: [Slot] = []
            var keys = Set<RequestKey>()
            var placed = 0
            var entries = Set<String>()
            for await entry in log {
                slots.append(entry.slot)
                if case .command(let c) = entry.value {
                    keys.insert(c.key)
                    placed += 1
                    entries.insert("\(entry.slot) \(c.key)")
                }
            }
            #expect(slots == slots.sorted())
            #expect(entries.count == placed)
            // Every write is in the log; the 250 gets are not (the cluster serves reads by read index).
            #expect(keys.count >= 750)
        }
    }

    @Test func stoppingTheLeaderMidLoadLosesNoCommand() async throws {
        try await withLocalCluster({ try await LocalCluster(nodes: 3) }) { cluster in
            let recorder = Recorder()
            let stopped = Mutex<NodeID?>(nil)
            let completed = try await load(cluster, perTask: 20, recorder: recorder) {
                // Stop the leader once 300 of the 1,000 commands are done.
                while recorder.history.withLock({ $0.events.count }) < 600 { try? await Task.sleep(for: .milliseconds(1)) }
                if let leader = await cluster.leader() {
                    try? await cluster.stop(leader)
                    stopped.withLock { $0 = leader }
                }
            }
            #expect(stopped.withLock { $0 } != nil, "the leader was stopped mid-load")
            #expect(recorder.history.withLock { $0.events.count } == 2000)
            #expect(completed == 1000)
            #expect(await cluster.runningNodes.count == 2)
            #expect(Linearizability.check(recorder.history.withLock { $0 }).isLinearizable)
        }
    }

    /// Issue 34's shape in memory: 200 MB, then the leader stopped; a survivor takes writes again within a few
    /// leader timeouts (liveness, not speed), in both modes, and holds the last megabyte.
    @Test(arguments: Mode.allCases)
    func aClusterHolding200MBWritesAgainSoonAfterItsLeaderStops(mode: Mode) async throws {
        try await withLocalCluster({ try await LocalCluster(nodes: 3, mode: mode) }) { cluster in
            let client = await cluster.makeClient(requestTimeout: .seconds(5), giveUpAfter: .seconds(60))
            func value(_ i: Int) -> ByteString { ByteString([UInt8](repeating: UInt8(truncatingIfNeeded: i), count: 1 << 20)) }
            for i in 0..<200 { #expect(try await client.run(.put(ByteString("big\(i)"), value(i))) == .ok) }
            let leader = try #require(await cluster.leader())
            try await cluster.stop(leader)
            let stopped = ContinuousClock.now
            #expect(try await client.run(.put("after", "stop")) == .ok)
            let took = ContinuousClock.now - stopped
            #expect(took < .seconds(10), "the first write after the stop took \(took)")
            #expect(try await client.run(.get("big199")) == .value(value(199)))
        }
    }

    /// A counter: "add N" returns the new total.
    struct Counter: StateMachine {
        var total: Int64 = 0
        mutating func apply(_ operation: [UInt8]) -> [UInt8] {
            total += Int64(operation.first ?? 0)
            return Array(String(total).utf8)
        }
        func snapshot() -> [UInt8] { Array(String(total).utf8) }
        mutating func restore(from snapshot: [UInt8]) throws {
            guard let value = Int64(String(decoding: snapshot, as: UTF8.self)) else { throw ByteDecodingError("bad counter") }
            total = value
        }
    }

    @Test func aCustomStateMachineWorksThroughTheSameAPI() async throws {
        try await withLocalCluster({ try await LocalCluster(nodes: 3, makeStateMachine: { Counter() }) }) { cluster in
            let client = await cluster.makeClient()
            var last: [UInt8] = []
            for _ in 0..<10 { last = try await client.submit([5]) }
            #expect(String(decoding: last, as: UTF8.self) == "50")
        }
    }

    @Test func aStoppedNodeRestartsFromItsDurableStateAndCatchesUp() async throws {
        try await withLocalCluster({ try await LocalCluster(nodes: 3) }) { cluster in
            let client = await cluster.makeClient()
            try await cluster.stop(NodeID(2))
            for i in 0..<20 { _ = try await client.run(.put("k", "\(i)")) }
            try await cluster.restart(NodeID(2))
            #expect(await cluster.runningNodes.count == 3)
            // With the other two stopped, only the restarted node and one peer form a majority: it must have caught up.
            try await cluster.stop(NodeID(0))
            #expect(try await client.run(.get("k")) == .value("19"))
        }
    }

    @Test func shutdownEndsEveryTaskAndFailsLaterRequests() async throws {
        try await withLocalCluster({ try await LocalCluster(nodes: 3) }) { cluster in
            let client = await cluster.makeClient(requestTimeout: .milliseconds(50), giveUpAfter: .seconds(30))
            _ = try await client.run(.put("a", "1"))
            await cluster.shutdown()
            #expect(await cluster.runningNodes.isEmpty)
            await #expect(throws: ClusterError.shutDown) { try await client.run(.get("a")) }
            await #expect(throws: ClusterError.unknownNode(NodeID(9))) { try await cluster.stop(NodeID(9)) }
        }
    }

    @Test func aBadNodeCountIsRefusedNamingIt() async {
        await #expect(throws: ClusterError.invalidConfiguration("nodes 0 is not in 1...64")) { try await LocalCluster(nodes: 0) }
    }

    @Test func aClientGivesUpWithATypedErrorWithoutAMajority() async throws {
        try await withLocalCluster({ try await LocalCluster(nodes: 3) }) { cluster in
            let client = await cluster.makeClient(requestTimeout: .milliseconds(50), giveUpAfter: .milliseconds(400))
            try await cluster.stop(NodeID(1))
            try await cluster.stop(NodeID(2))
            await #expect(throws: ClusterError.timeout(after: .milliseconds(400))) { try await client.run(.put("x", "1")) }
        }
    }

    @Test func cancellingTheCallingTaskStopsTheWaitWithATypedError() async throws {
        try await withLocalCluster({ try await LocalCluster(nodes: 3) }) { cluster in
            // Without a majority nothing is answered, and the client would wait a minute before giving up.
            let client = await cluster.makeClient(requestTimeout: .seconds(30), giveUpAfter: .seconds(60))
            try await cluster.stop(NodeID(1))
            try await cluster.stop(NodeID(2))
            let waiting = Task { try await client.run(.put("x", "1")) }
            // Cancelled once the request is in flight (node 0 has it), so that this is the mid-wait path.
            func received() async -> UInt64 { await cluster.metrics(of: NodeID(0))?.receivedMessages[.request] ?? 0 }
            let deadline = ContinuousClock.now + .seconds(10)
            while await received() == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
            #expect(await received() > 0, "the request never reached node 0")
            waiting.cancel()
            await #expect(throws: ClusterError.cancelled) { try await waiting.value }
            // Cancelled before it starts: the same.
            let early = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return try await client.run(.get("x"))
            }
            await #expect(throws: ClusterError.cancelled) { try await early.value }
        }
    }
}

extension Sequence where Element: Sendable {
    func asyncMap<T>(_ transform: (Element) async -> T) async -> [T] {
        var out: [T] = []
        for e in self { out.append(await transform(e)) }
        return out
    }
}
