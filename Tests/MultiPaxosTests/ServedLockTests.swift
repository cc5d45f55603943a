import Foundation
import Synchronization
import Testing
@testable import MultiPaxos

/// Docs/Locks.md's recipe under contention and a leader kill: two hundred clients (each its own connection and
/// token, eight at a time on eight threads) take the lock with `SET NX PX`, get a fencing number with `INCR`,
/// write to a resource that refuses a number lower than the highest it accepted, and release with `DELEX IFEQ`.
/// A client whose write is refused while it believes it holds the lock found someone else holding it at the same
/// time: mutual exclusion broke. One client takes the lock and "dies" holding it: the lock is free again once
/// its time has passed, and its late write is refused by its fencing number.
extension ProcessTests {
    @Suite struct ServedLockTests {
        /// The protected resource: it keeps the highest fencing number it accepted.
        final class Resource: Sendable {
            private let state = Mutex((highest: Int64(0), accepted: 0, refusedHolders: [String]()))
            /// Accepts a write with fencing number `fence` unless a higher one came first.
            func write(_ fence: Int64, by token: String) -> Bool {
                state.withLock { s in
                    guard fence > s.highest else { s.refusedHolders.append("\(token) with \(fence) after \(s.highest)"); return false }
                    s.highest = fence
                    s.accepted += 1
                    return true
                }
            }
            var accepted: Int { state.withLock { $0.accepted } }
            var refused: [String] { state.withLock { $0.refusedHolders } }
        }

        /// What the client threads share with the test.
        final class Shared: Sendable {
            let stop = Atomic<Bool>(false)
            let acquisitions = Atomic<Int>(0)
            let failures = Mutex([String]())
            var stopped: Bool { stop.load(ordering: .relaxed) }
            func fail(_ why: String) { failures.withLock { $0.append(why) } }
        }

        /// One client's connection, moved to the next node when its node does not answer.
        final class Client {
            let cluster: ServedProcesses
            let shared: Shared
            var node: Int
            var connection: RESPConnection?
            init(_ cluster: ServedProcesses, node: Int, shared: Shared) {
                self.cluster = cluster
                self.node = node
                self.shared = shared
            }

            /// The reply to `args`, trying other nodes (at most 20 times, until the test says stop) until one
            /// answers with no error; nil if none did.
            func call(_ args: [String]) -> RESPValue? {
                for _ in 0..<20 where !shared.stopped {
                    do {
                        if connection == nil { connection = try cluster.connect(node, seconds: 2) }
                        let reply = try connection!.call(args, deadline: .now + .seconds(10))
                        if case .error(let e) = reply, e.hasPrefix("TRYAGAIN") || e.hasPrefix("CLUSTERDOWN") { continue }
                        return reply
                    } catch {
                        connection = nil
                        node = (node + 1) % 3
                        usleep(50_000)
                    }
                }
                return nil
            }
        }

        @Test func twoHundredClientsUnderALeaderKillNeverHoldTheLockTogether() throws {
            let shared = Shared()
            let cluster = try ServedProcesses(nodes: 3)
            defer { cluster.stopAll() }
            cluster.extraArguments = ["--heartbeat-ms", "20", "--leader-timeout-ms", "300", "--client-timeout-ms", "20000"]
            try cluster.startAll()
            for i in 0..<3 { try cluster.waitUntilServing(i) }
            let resource = Resource()
            // The client that dies holding the lock: 1.5 s from now it is free.
            let dead = Client(cluster, node: 0, shared: shared)
            #expect(dead.call(["SET", "lock", "dead", "NX", "PX", "1500"]) == .ok)
            guard case .integer(let deadFence)? = dead.call(["INCR", "lock:fence"]) else {
                Issue.record("INCR answered nothing")
                return
            }
            #expect(resource.write(deadFence, by: "dead"))

            let threads = 8, clientsPerThread = 25, times = 1
            let group = DispatchGroup()
            for t in 0..<threads {
                group.enter()
                DispatchQueue.global().async {
                    defer { group.leave() }
                    let clients = (0..<clientsPerThread).map { Client(cluster, node: ($0 + t) % 3, shared: shared) }
                    let deadline = ContinuousClock.now + .seconds(90)
                    // Each client in turn tries once; a thread goes round until each of its clients took the lock.
                    var taken = Array(repeating: 0, count: clientsPerThread)
                    while taken.contains(where: { $0 < times }), ContinuousClock.now < deadline, !shared.stopped {
                        for (c, client) in clients.enumerated() where taken[c] < times {
                            let token = "t\(t)c\(c)n\(taken[c])"
                            // Long enough that no holder's lock expires under it (a refused write is then a broken lock).
                            guard let reply = client.call(["SET", "lock", token, "NX", "PX", "60000"]) else { continue }
                            var holds = reply == .ok
                            if !holds, reply == .null {
                                // A retried SET may have taken effect before the retry found the key: ask.
                                holds = client.call(["GET", "lock"]) == .bulk(token)
                            }
                            guard holds else { continue }
                            guard case .integer(let fence)? = client.call(["INCR", "lock:fence"]) else {
                                shared.fail("\(token): INCR answered nothing")
                                return
                            }
                            if !resource.write(fence, by: token) {
                                shared.fail("\(token) held the lock but its write with \(fence) was refused")
                            }
                            guard client.call(["DELEX", "lock", "IFEQ", token]) == .integer(1) else {
                                shared.fail("\(token): the lock was not its own to release")
                                return
                            }
                            taken[c] += 1
                            shared.acquisitions.add(1, ordering: .relaxed)
                        }
                    }
                }
            }
            // The leader dies once the contention is under way.
            for _ in 0..<600 where shared.acquisitions.load(ordering: .relaxed) < 50 { usleep(20_000) }
            if let leader = cluster.leader() { cluster.kill(leader) }
            let finished = group.wait(timeout: .now() + 120) == .success
            shared.stop.store(true, ordering: .relaxed)
            #expect(finished, "the clients did not finish within two minutes")
            if !finished { _ = group.wait(timeout: .now() + 30) }  // bounded: each call gives up once told to stop
            #expect(shared.failures.withLock { $0 } == [])
            #expect(shared.acquisitions.load(ordering: .relaxed) == threads * clientsPerThread * times,
                    "every client took the lock: \(shared.acquisitions.load(ordering: .relaxed))")
            // The dead holder wakes up: its fencing number is older than every later holder's.
            #expect(!resource.write(deadFence, by: "dead (late)"))
            #expect(resource.accepted == 1 + threads * clientsPerThread * times)
        }
    }
}
