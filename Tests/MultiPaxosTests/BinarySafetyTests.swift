import Foundation
import Testing
@testable import MultiPaxos

/// Byte strings that text would change: empty, NUL, bytes 0x80-0xFF, invalid UTF-8, texts that `String` calls
/// equal (canonically equivalent) though their bytes differ, RESP's own delimiters, and then `count - 12` drawn
/// at random from `seed` (mostly short, some up to 4 KiB), every one distinct.
func awkwardByteStrings(_ count: Int, seed: UInt64) -> [ByteString] {
    var out: [ByteString] = [
        ByteString(), ByteString([0]), ByteString([0xFF]), ByteString([0xFE]), ByteString([0xFF, 0xFE, 0x00, 0x01]),
        ByteString(Array(0x80...0xFF)), ByteString([0xC3]), ByteString([0xED, 0xA0, 0x80]),  // a cut sequence, a surrogate
        "é", "e\u{301}",  // one text to `String`, two byte strings
        "\r\n$-1\r\n*0\r\n", ByteString([0xC0, 0x80]),  // RESP's delimiters; an overlong NUL
    ]
    var seen = Set(out)
    var rng = SeededGenerator(seed: seed)
    while out.count < count {
        let length = rng.chance(0.9) ? Int(rng.upTo(24)) : Int(rng.upTo(4096))
        let bytes = (0..<length).map { _ -> UInt8 in
            switch rng.upTo(3) {
            case 0: UInt8(0x80 + rng.upTo(0x7F))
            case 1: [0x00, 0x0D, 0x0A, 0x3B, 0xFF][Int(rng.upTo(4))]
            default: UInt8(0x20 + rng.upTo(0x5E))
            }
        }
        let candidate = ByteString(bytes)
        if seen.insert(candidate).inserted { out.append(candidate) }
    }
    return out
}

@Suite struct BinarySafetyTests {
    @Test func theStoreKeepsEveryByteAndNeverConfusesTwoKeys() throws {
        let keys = awkwardByteStrings(3_000, seed: 24)
        var kv = KeyValueStore()
        for (i, key) in keys.enumerated() {
            let value = keys[(i + 1) % keys.count]
            let op = KeyValueOperation.put(key, value)
            #expect(try KeyValueOperation(decoding: op.encoded) == op)
            #expect(kv.apply(op.encoded) == KeyValueResult.ok.encoded)
        }
        #expect(kv.entries.count == keys.count, "distinct keys collided")
        for (i, key) in keys.enumerated() {
            let answer = try KeyValueResult(decoding: kv.apply(KeyValueOperation.get(key).encoded))
            #expect(answer == .value(keys[(i + 1) % keys.count]), "key \(key)")
        }
        // Appends and compare-and-sets compare and concatenate bytes.
        #expect(kv.apply(.put("é", ByteString([0xFF]))) == .ok)
        #expect(kv.apply(.append("é", ByteString([0x00, 0xFE]))) == .integer(3))
        #expect(kv.apply(.compareAndSet("e\u{301}", expected: ByteString([0xFF, 0x00, 0xFE]), new: "x"))
                == .mismatch(current: kv.entries["e\u{301}"]), "the other key's value is not this one's")
        #expect(kv.apply(.compareAndSet("é", expected: ByteString([0xFF, 0x00, 0xFE]), new: ByteString([0x80]))) == .ok)
        #expect(kv.entries["é"] == ByteString([0x80]))
        // A megabyte of every byte value, and a snapshot that keeps all of it.
        let big = ByteString((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        #expect(kv.apply(.put(ByteString([0xFF, 0xFF]), big)) == .ok)
        var copy = KeyValueStore()
        try copy.restore(from: kv.snapshot())
        #expect(copy == kv)
        #expect(copy.entries[ByteString([0xFF, 0xFF])] == big)
    }

    @Test func bytesWrittenAsTextByEarlierVersionsDecodeUnchanged() throws {
        // Operations and snapshots written when keys were `String`: a length and the UTF-8 bytes, as now.
        var w = ByteWriter()
        w.byte(1); w.string("clé"); w.string("välue")
        #expect(try KeyValueOperation(decoding: w.bytes) == .put("clé", "välue"))
        var snapshot = ByteWriter()
        snapshot.uint32(1); snapshot.string("k"); snapshot.string("ü")
        var kv = KeyValueStore()
        try kv.restore(from: snapshot.bytes)
        #expect(kv.entries == ["k": "ü"])
        #expect(kv.snapshot() == snapshot.bytes)
    }

    @Test func historiesCarryBytesThatAreNotTextAsHexAndReadTodaysFiles() throws {
        let key = ByteString([0xFF, 0x00]), value = ByteString([0xFE, 0x80, 0x3B])
        let history = History(events: [
            HistoryEvent(process: 1, kind: .invoke, function: .put, key: key, value: value),
            HistoryEvent(process: 1, kind: .ok, function: .put, key: key),
            HistoryEvent(process: 2, kind: .invoke, function: .get, key: key),
            HistoryEvent(process: 2, kind: .ok, function: .get, key: key, value: value),
            HistoryEvent(process: 3, kind: .invoke, function: .cas, key: "text", value: "ü", expected: ByteString([0xC3])),
            HistoryEvent(process: 3, kind: .fail, function: .cas, key: "text", expected: ByteString([0xC3])),
        ])
        let lines = history.jsonLines()
        #expect(lines.contains(#""key":{"hex":"ff00"}"#) && lines.contains(#""value":{"hex":"fe803b"}"#))
        #expect(lines.contains(#""key":"text""#) && lines.contains(#""value":"ü""#), "text stays text")
        #expect(try History.parse(jsonLines: lines) == history)
        #expect(Linearizability.check(history).isLinearizable)
        // A file of today's form (strings only) reads as before.
        let old = try History.parse(jsonLines: #"{"process":0,"type":"invoke","f":"put","key":"k","value":"v"}"#)
        #expect(old.events.first?.value == "v")
        #expect(throws: HistoryError.self) {
            try History.parse(jsonLines: #"{"process":0,"type":"invoke","f":"put","key":{"hex":"zz"},"value":"v"}"#)
        }
    }

    @Test func bytesRoundTripThroughALocalClusterASnapshotAndARestart() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("binary-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let keys = awkwardByteStrings(400, seed: 7)
        let big = try await withLocalCluster({ try await LocalCluster(nodes: 3, storageDirectory: dir) }) { first in
            let client = await first.makeClient(giveUpAfter: .seconds(60))
            for (i, key) in keys.enumerated() { _ = try await client.run(.put(key, keys[(i + 7) % keys.count])) }
            // Nine megabytes of values take the nodes past their snapshot threshold (8 MiB of operations).
            let big = ByteString((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 13) })
            for i in 0..<9 { #expect(try await client.run(.put("big\0" + ByteString([0xFF, UInt8(i)]), big)) == .ok) }
            #expect(try await client.run(.append(ByteString([0xFF]), ByteString([0x00, 0xFF]))) == .integer(Int64(keys[9].count + 2)))
            #expect(try await client.run(.compareAndSet("e\u{301}", expected: "é", new: "x")) == .mismatch(current: keys[16]))
            // The replicas snapshot on a heartbeat after the threshold: wait for one (bounded).
            let snapshotFile = FileStorage.snapshotPath(of: "\(dir)/node-0.log")
            for _ in 0..<200 where !FileManager.default.fileExists(atPath: snapshotFile) { try await Task.sleep(for: .milliseconds(50)) }
            #expect(FileManager.default.fileExists(atPath: snapshotFile), "no snapshot was taken")
            return big
        }

        try await withLocalCluster({ try await LocalCluster(nodes: 3, storageDirectory: dir) }) {
            (second: LocalCluster) async throws in
            let reader = await second.makeClient(giveUpAfter: .seconds(60))
            for (i, key) in keys.enumerated() where key != ByteString([0xFF]) {
                #expect(try await reader.run(.get(key)) == .value(keys[(i + 7) % keys.count]), "key \(key)")
            }
            #expect(try await reader.run(.get(ByteString([0xFF]))) == .value(keys[9] + ByteString([0x00, 0xFF])))
            #expect(try await reader.run(.get("big\0" + ByteString([0xFF, 8]))) == .value(big))
        }
    }
}

/// Binary keys and values through three `serve` processes, over RESP2 and RESP3.
extension ProcessTests {
    @Suite struct ServedBinarySafetyTests {
        /// Sends `commands` in one go on `connection` and returns their replies.
        static func pipeline(_ commands: [[[UInt8]]], on connection: RESPConnection) throws -> [RESPValue] {
            let deadline = ContinuousClock.now + .seconds(60)
            try connection.send(commands.flatMap(RESPConnection.encode), deadline: deadline)
            return try commands.map { _ in try connection.reply(deadline: deadline) }
        }

        static func connect(_ cluster: ServedProcesses, _ node: Int, resp3: Bool) throws -> RESPConnection {
            let connection = try cluster.connect(node)
            if resp3 {
                guard case .map = try connection.call(["HELLO", "3"], deadline: .now + .seconds(30)) else {
                    throw RESPConnection.Failure.timedOut
                }
            }
            return connection
        }

        @Test func bytesRoundTripOverRESP2AndRESP3ThroughEveryNodeASnapshotAndARestart() throws {
            let cluster = try ServedProcesses(nodes: 3)
            defer { cluster.stopAll() }
            // Patient clients: with the whole suite running beside it, a megabyte SET may take seconds. Each call
            // waits longer (30 s) than a node waits for the cluster (20 s), so a slow commit is a -TRYAGAIN, never
            // a client-side timeout.
            cluster.extraArguments = ["--heartbeat-ms", "20", "--leader-timeout-ms", "300", "--client-timeout-ms", "20000"]
            try cluster.startAll()
            for i in 0..<3 { try cluster.waitUntilServing(i) }
            let keys = awkwardByteStrings(600, seed: 11)
            func value(_ i: Int) -> ByteString { keys[(i + 5) % keys.count] + ByteString([0xFF, UInt8(i % 251)]) }
            let set = Array("SET".utf8), get = Array("GET".utf8)
            // Written through every node, a third each, half over RESP3.
            for node in 0..<3 {
                let connection = try Self.connect(cluster, node, resp3: node != 1)
                let mine = keys.indices.filter { $0 % 3 == node }
                let replies = try Self.pipeline(mine.map { [set, keys[$0].bytes, value($0).bytes] }, on: connection)
                #expect(replies.allSatisfy { $0 == .ok }, "node \(node): \(replies.first { $0 != .ok }.map { "\($0)" } ?? "")")
            }
            // Nine megabytes more take every node past its snapshot threshold.
            let big = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 13) }
            let writer = try Self.connect(cluster, 0, resp3: false)
            let bigKey: (Int) -> [UInt8] = { Array("big".utf8) + [0, 0xFF, UInt8($0)] }
            for i in 0..<9 {  // one at a time, again after a -TRYAGAIN (a SET is idempotent): the suite loads the machine
                var reply = RESPValue.null
                for _ in 0..<5 {
                    reply = try writer.call([set, bigKey(i), big], deadline: .now + .seconds(30))
                    guard case .error(let e) = reply, e.hasPrefix("TRYAGAIN") else { break }
                }
                #expect(reply == .ok, "SET of a megabyte: \(reply)")
            }
            // APPEND and SET IFEQ compare and concatenate bytes.
            #expect(try writer.call([Array("APPEND".utf8), keys[2].bytes, [0x00, 0xFE]], deadline: .now + .seconds(30))
                    == .integer(Int64(value(2).count + 2)))
            #expect(try writer.call([set, keys[9].bytes, [0x80], Array("IFEQ".utf8), keys[8].bytes], deadline: .now + .seconds(30))
                    == .null, "IFEQ with another key's value changes nothing")
            #expect(try writer.call([set, keys[9].bytes, [0x80], Array("IFEQ".utf8), value(9).bytes], deadline: .now + .seconds(30))
                    == .ok)

            func expected(_ i: Int) -> [UInt8] {
                i == 2 ? value(2).bytes + [0x00, 0xFE] : i == 9 ? [0x80] : value(i).bytes
            }
            func readAll(from node: Int, resp3: Bool) throws {
                let connection = try Self.connect(cluster, node, resp3: resp3)
                let replies = try Self.pipeline(keys.map { [get, $0.bytes] } + [[get, bigKey(8)]], on: connection)
                for (i, reply) in replies.dropLast().enumerated() where reply != .bulkString(expected(i)) {
                    Issue.record("node \(node) (RESP\(resp3 ? 3 : 2)): key \(keys[i]) answered \(reply)")
                    return
                }
                #expect(replies.last == .bulkString(big), "node \(node): the megabyte value")
            }
            for node in 0..<3 {
                try readAll(from: node, resp3: false)
                try readAll(from: node, resp3: true)
            }
            // A restart (from its data directory, snapshot and log) keeps every byte.
            try cluster.restartOnceItHasASnapshot(2)
            try readAll(from: 2, resp3: true)
        }
    }
}
