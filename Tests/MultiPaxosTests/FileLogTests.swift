import Foundation
import Testing
@testable import MultiPaxos

@Suite struct FileLogTests {
    /// A fresh path in a temporary directory of this test's own.
    func path(_ name: String = "node.log") throws -> String {
        let dir = try scratchDirectory("log")
        return dir.appendingPathComponent(name).path
    }

    let records: [[UInt8]] = [Array("promise 3.1".utf8), Array("accept s0".utf8), Array("accept s1 with a longer payload".utf8)]

    func written(_ p: String) throws -> [UInt8] {
        let log = try FileLog(path: p)
        for r in records { try log.append(r) }
        try log.sync()
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: p)))
    }

    @Test func syncedRecordsComeBack() throws {
        let p = try path()
        _ = try written(p)
        let reopened = try FileLog(path: p)
        #expect(reopened.recovered == records)
        #expect(reopened.repairedBytes == 0)
    }

    @Test func aTornFinalRecordIsCutAtEveryByteOffset() throws {
        let p = try path()
        let image = try written(p)
        let lastStart = image.count - (FileLog.recordHeaderSize + records[2].count)
        for cut in lastStart..<image.count {
            try Data(image[0..<cut]).write(to: URL(fileURLWithPath: p))
            let log = try FileLog(path: p)
            #expect(log.recovered == Array(records.prefix(2)), "cut at \(cut)")
            #expect(log.repairedBytes == cut - lastStart)
            // The repair is durable: the file now ends at the last good record, and appending works.
            try log.append(Array("after".utf8))
            try log.sync()
            #expect(try FileLog(path: p).recovered == Array(records.prefix(2)) + [Array("after".utf8)])
        }
    }

    @Test func aFlippedBitInTheFinalRecordIsATornWrite() throws {
        let p = try path()
        var image = try written(p)
        image[image.count - 1] ^= 0x04
        try Data(image).write(to: URL(fileURLWithPath: p))
        let log = try FileLog(path: p)
        #expect(log.recovered == Array(records.prefix(2)))
    }

    @Test func aFlippedBitBeforeTheEndIsRefusedNamingTheOffset() throws {
        let p = try path()
        var image = try written(p)
        let secondRecord = FileLog.headerSize + FileLog.recordHeaderSize + records[0].count
        image[secondRecord + FileLog.recordHeaderSize + 2] ^= 0x01
        try Data(image).write(to: URL(fileURLWithPath: p))
        #expect(throws: FileLogError.self) { try FileLog(path: p) }
        do { _ = try FileLog(path: p) } catch {
            guard case .corruptRecord(let path, let offset, _) = error else { Issue.record("\(error)"); return }
            #expect(path == p && offset == secondRecord)
            #expect(error.description.contains(p) && error.description.contains("offset \(secondRecord)"))
        }
        // Refusing changed nothing on disk.
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: p))) == image)
    }

    @Test func aDamagedLengthIsRefusedNotTakenForATornTail() throws {
        let p = try path()
        var image = try written(p)
        // Make the first record's length point past the end of the file.
        image[FileLog.headerSize + 3] = 0x7F
        try Data(image).write(to: URL(fileURLWithPath: p))
        #expect(throws: FileLogError.corruptRecord(path: p, offset: FileLog.headerSize, reason: "the record length fails its checksum")) {
            try FileLog(path: p)
        }
    }

    @Test(arguments: [1, 11, 12, 4096])
    func aZeroFilledTailIsATornWrite(zeros: Int) throws {
        // A power cut can leave the file longer than what was written, the rest zero-filled: with nothing but
        // zeros after the last good record (or after a record cut short), the tail is a torn write.
        let p = try path()
        let image = try written(p)
        try Data(image + [UInt8](repeating: 0, count: zeros)).write(to: URL(fileURLWithPath: p))
        let log = try FileLog(path: p)
        #expect(log.recovered == records)
        #expect(log.repairedBytes == zeros)
        // The last record's payload zeroed part-way, the file extended with zeros after it.
        let lastStart = image.count - (FileLog.recordHeaderSize + records[2].count)
        var damaged = image
        for i in (image.count - 5)..<image.count { damaged[i] = 0 }
        try Data(damaged + [UInt8](repeating: 0, count: zeros)).write(to: URL(fileURLWithPath: p))
        let cut = try FileLog(path: p)
        #expect(cut.recovered == Array(records.prefix(2)))
        #expect(cut.repairedBytes == image.count - lastStart + zeros)
    }

    @Test func zerosFollowedByARecordAreRefused() throws {
        // Zeros are a torn tail only at the end: a valid record after them means data was lost in the middle.
        let p = try path()
        let image = try written(p)
        let zeros = [UInt8](repeating: 0, count: 16)
        try Data(image + zeros + FileLog.frame(Array("later".utf8))).write(to: URL(fileURLWithPath: p))
        #expect(throws: FileLogError.corruptRecord(path: p, offset: image.count, reason: "the record length fails its checksum")) {
            try FileLog(path: p)
        }
    }

    @Test func emptyForeignAndFutureFilesAreHandled() throws {
        let empty = try path()
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        #expect(try FileLog(path: empty).recovered.isEmpty)
        #expect(try FileLog(path: empty).recovered.isEmpty, "the new header was written")

        let foreign = try path()
        _ = FileManager.default.createFile(atPath: foreign, contents: Data("hello, world\n".utf8))
        #expect(throws: FileLogError.foreignFile(path: foreign)) { try FileLog(path: foreign) }
        #expect(try String(contentsOfFile: foreign, encoding: .utf8) == "hello, world\n")

        let future = try path()
        _ = FileManager.default.createFile(atPath: future, contents: Data(FileLog.magic + FileLog.le32(9)))
        #expect(throws: FileLogError.unsupportedVersion(path: future, version: 9)) { try FileLog(path: future) }
        #expect(FileLogError.unsupportedVersion(path: future, version: 9).description.contains("\(future): log format version 9 at offset 8"))
    }

    @Test func compactionReplacesTheLogWithOneSnapshot() throws {
        let p = try path()
        _ = try written(p)
        let log = try FileLog(path: p)
        try log.compact(to: Array("snapshot".utf8))
        try log.append(Array("later".utf8))
        try log.sync()
        #expect(try FileLog(path: p).recovered == [Array("snapshot".utf8), Array("later".utf8)])
        #expect(!FileManager.default.fileExists(atPath: p + ".compacting"))
    }

    @Test func aCompactionCutShortByACrashLeavesTheOldLogInForce() throws {
        let p = try path()
        _ = try written(p)
        // The crash came after the new snapshot was partly written, before the rename.
        _ = FileManager.default.createFile(atPath: p + ".compacting", contents: Data(FileLog.header() + [1, 2, 3]))
        let log = try FileLog(path: p)
        #expect(log.recovered == records)
        try log.compact(to: Array("snapshot".utf8))
        #expect(try FileLog(path: p).recovered == [Array("snapshot".utf8)])
        #expect(!FileManager.default.fileExists(atPath: p + ".compacting"))
    }

    @Test func checksumsAreCRC32() {
        #expect(FileLog.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(FileLog.crc32([]) == 0)
        // Eight bytes a step gives what a byte a step gives, at every length and alignment of the tail.
        func bytewise(_ bytes: [UInt8]) -> UInt32 {
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in bytes {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
            }
            return ~crc
        }
        let data = (0..<1_000).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
        for length in [1, 2, 7, 8, 9, 15, 16, 17, 63, 64, 65, 999, 1_000] {
            #expect(FileLog.crc32(Array(data.prefix(length))) == bytewise(Array(data.prefix(length))), "length \(length)")
            #expect(FileLog.crc32(Array(data.suffix(length))) == bytewise(Array(data.suffix(length))), "length \(length)")
        }
    }
}

import Foundation

extension ProcessTests {
/// A real writer process, killed at different moments: recovery gives back every record it reported synced,
/// each intact and in order, and at most the ones it wrote after (a kill loses no page cache, so those survive
/// whole or torn, and a torn one is cut).
@Suite struct KilledWriterTests {
    func record(_ i: Int) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: i >> (8 * $0)) } + [UInt8](repeating: UInt8(truncatingIfNeeded: i), count: 500 + i % 97)
    }

    @Test func aWriterKilledMidStreamLeavesExactlyItsSyncedRecordsAndMaybeMore() throws {
        let binary = try multipaxosExecutable()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("killed-\(UInt64.random(in: 1...UInt64.max)).log").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var reported = 0
        for round in 1...6 {
            let writer = try ChildProcess(binary, ["log-writer", path, "100000"], errors: .discard)
            // Let it sync a different number of records each round, then kill it without warning.
            let target = reported + 5 * round
            func synced(_ text: String) -> Int? {
                text.split(separator: "\n").last(where: { $0.hasPrefix("synced ") }).flatMap { Int($0.dropFirst(7)) }
            }
            let text = writer.waitForOutput(timeout: .seconds(60)) { (synced($0) ?? 0) >= target }
            #expect(text != nil, "round \(round): the writer did not report \(target) synced records: \(writer.output)")
            reported = synced(text ?? writer.output) ?? reported
            #expect(writer.stop(SIGKILL))
            #expect(writer.process.terminationReason == .uncaughtSignal)

            let log = try FileLog(path: path)
            #expect(log.recovered.count >= reported, "round \(round): synced \(reported), recovered \(log.recovered.count)")
            for (i, payload) in log.recovered.enumerated() where payload != record(i) {
                Issue.record("round \(round): record \(i) came back different")
                break
            }
            reported = log.recovered.count  // the next writer continues after what recovery kept
        }
    }
}
}

extension ProcessTests {
/// A whole cluster in a process of its own, killed while a client appends: every append it acknowledged is in
/// the log the cluster recovers from its files, exactly once, in order; an unacknowledged one at most once.
@Suite struct KilledClusterTests {
    @Test func aKilledClusterProcessLosesNoAcknowledgedAppend() async throws {
        let binary = try multipaxosExecutable()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("killed-cluster-\(UInt64.random(in: 1...UInt64.max))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var acked: [String: Int] = [:]  // tag -> how many appends were acknowledged
        for (round, tag) in ["a", "b", "c"].enumerated() {
            let writer = try ChildProcess(binary, ["cluster-writer", dir, tag, "100000"], errors: .discard)
            func acknowledged(_ text: String) -> Int { text.split(separator: "\n").filter { $0.hasPrefix("acked ") }.count }
            let enough = writer.waitForOutput(timeout: .seconds(60)) { acknowledged($0) >= 15 + 10 * round }
            #expect(enough != nil, "round \(round): \(writer.output)")
            #expect(writer.stop(SIGKILL))
            acked[tag] = acknowledged(writer.output)  // everything it wrote before the kill
        }
        // Only the files are left. Start the cluster on them and read the log.
        try await withLocalCluster({ try await LocalCluster(nodes: 3, storageDirectory: dir) }) { cluster in
            guard case .value(let log?) = try await cluster.makeClient(giveUpAfter: .seconds(60)).run(.get("log")) else {
                Issue.record("no log after the kills")
                return
            }
            await cluster.shutdown()
            let entries = (log.text ?? "").split(separator: ";").map(String.init)
            for tag in ["a", "b", "c"] {
                let mine = entries.filter { $0.hasPrefix("\(tag)-") }.map { Int($0.dropFirst(2))! }
                let acknowledged = acked[tag] ?? 0
                #expect(acknowledged > 0)
                #expect(Array(mine.prefix(acknowledged)) == Array(0..<acknowledged), "tag \(tag): \(mine.prefix(acknowledged + 1))")
                #expect(mine.count <= acknowledged + 1, "tag \(tag): at most the one in flight besides, got \(mine.count) for \(acknowledged)")
            }
        }
    }
}
}
