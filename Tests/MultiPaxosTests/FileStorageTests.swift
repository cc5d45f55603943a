import Foundation
import Testing
@testable import MultiPaxos

@Suite(.serialized) struct FileStorageTests {
    func directory() throws -> String {
        let dir = try scratchDirectory("storage")
        return dir.path
    }

    @Test func durableStateRoundTrips() throws {
        let state = DurableState()
        state.membership = .member
        state.ballotRound = 7
        state.acceptor.promised = Ballot(round: 7, leader: NodeID(2))
        state.acceptor.highestPromised = Ballot(round: 8, leader: NodeID(1))
        state.acceptor.slotPromised[Slot(4)] = Ballot(round: 9, leader: NodeID(0))
        state.acceptor.accepted[Slot(3)] = PValue(ballot: Ballot(round: 7, leader: NodeID(2)), slot: Slot(3),
                                                  value: .command(command(5, 6, .append("k", "v"))))
        state.acceptor.accepted[Slot(2)] = PValue(ballot: Ballot(round: 6, leader: NodeID(1)), slot: Slot(2), value: .noop)
        state.acceptor.trimmedBelow = Slot(2)
        state.acceptor.slotsEnd = Slot(4)
        state.replicaSnapshot = Snapshot(nextSlot: Slot(2), machine: [1, 2, 3],
                                         replies: [ReplyCacheEntry(client: ClientID(5), request: RequestNumber(4), result: [9])],
                                         membershipEpoch: 2, rejoins: [RejoinEntry(node: NodeID(1), nonce: 77, epoch: 2)])
        let decoded = try DurableState.decode(state.encoded())
        #expect(decoded.encoded() == state.encoded())
        #expect(decoded.acceptor.accepted[Slot(3)]?.value == .command(command(5, 6, .append("k", "v"))))
        #expect(decoded.replicaSnapshot == state.replicaSnapshot)
        #expect(throws: ByteDecodingError.self) { try DurableState.decode(Array(state.encoded().dropLast())) }
    }

    @Test func aStepWritesOnlyWhatChangedNotTheStateMachine() throws {
        let path = try directory() + "/node.log"
        let storage = try FileStorage(path: path)
        let big = [UInt8](repeating: 7, count: 100_000)
        storage.state.replicaSnapshot = Snapshot(nextSlot: Slot(10), machine: big, replies: [])
        try storage.persist()
        let afterSnapshot = storage.bytesWritten
        #expect(afterSnapshot > 100_000)
        // The snapshot is in a file of its own, the log holds the core.
        #expect(try FileLog(path: storage.snapshotPath).recovered.count == 1)
        #expect(try FileLog(path: path).recovered.allSatisfy { $0.count < 1_000 })
        // Forty steps that each change a promise: none of them rewrites the 100 KB snapshot.
        for round in 1...40 as ClosedRange<UInt64> {
            storage.state.acceptor.promised = Ballot(round: round, leader: NodeID(1))
            try storage.persist()
        }
        #expect(storage.bytesWritten - afterSnapshot < 40 * 200, "\(storage.bytesWritten - afterSnapshot) bytes for 40 steps")
        // Recovery puts the pieces back together: the latest core and the latest snapshot.
        let reopened = try FileStorage(path: path)
        #expect(reopened.state.acceptor.promised == Ballot(round: 40, leader: NodeID(1)))
        #expect(reopened.state.replicaSnapshot?.machine == big && reopened.state.replicaSnapshot?.nextSlot == Slot(10))
        // Each new snapshot replaces the file (one record), and the log never holds one.
        for round in 41...100 as ClosedRange<UInt64> {
            storage.state.acceptor.promised = Ballot(round: round, leader: NodeID(1))
            storage.state.replicaSnapshot = Snapshot(nextSlot: Slot(Int64(round)), machine: big, replies: [])
            try storage.persist()
        }
        let later = try FileStorage(path: path)
        #expect(later.state.acceptor.promised == Ballot(round: 100, leader: NodeID(1)))
        #expect(later.state.replicaSnapshot?.machine == big)
        #expect(later.state.replicaSnapshot?.nextSlot == Slot(100))
        #expect(try FileLog(path: storage.snapshotPath).recovered.count == 1)
        #expect(try FileLog(path: path).recovered.allSatisfy { $0.count < 1_000 })
    }

    /// Records in `storage` a vote at ballot 2.0 for slot `i`, of a command of `bytes` operation bytes.
    func vote(_ storage: FileStorage, _ i: Int64, bytes: Int) {
        let ballot = Ballot(round: 2, leader: NodeID(0))
        storage.state.updateAcceptor(slot: Slot(i)) { record in
            record.promised = ballot
            record.accepted[Slot(i)] = PValue(ballot: ballot, slot: Slot(i), value: .command(
                Command(key: RequestKey(client: ClientID(1), request: RequestNumber(UInt64(i) + 1)),
                        operation: [UInt8](repeating: 3, count: bytes))))
            record.slotsEnd = Slot(i).next
        }
    }

    @Test func aLargeUntrimmedCoreIsCompactedOnlyOnceATrimHasShrunkIt() throws {
        let storage = try FileStorage(path: try directory() + "/node.log")
        func vote(_ i: Int64) throws {
            self.vote(storage, i, bytes: 100_000)
            try persist()
        }
        func trim(below slot: Int64) throws {
            storage.state.updateAcceptor { record in
                for s in record.accepted.keys where s < Slot(slot) { record.accepted[s] = nil }
                record.trimmedBelow = Slot(slot)
            }
            try persist()
        }
        var compactions: [Int] = []
        func persist() throws {
            try storage.persist()
            if storage.lastWrite.compactedBytes > 0 { compactions.append(storage.lastWrite.compactedBytes) }
        }
        // 10 MB of votes, then a trim that keeps 2 MB: a fifth of what was appended, still too large to rewrite.
        for i in 0..<100 as Range<Int64> { try vote(i) }
        try trim(below: 80)
        for i in 100..<110 as Range<Int64> { try vote(i) }
        #expect(compactions.isEmpty, "a core of a fifth of the log is not rewritten: \(compactions)")
        // A trim that leaves one vote: the log is compacted at once, to about that vote.
        try trim(below: 109)
        try vote(110)
        #expect(compactions.count == 1 && compactions[0] < 300_000, "\(compactions)")
        #expect(try FileStorage(path: storage.path).state.acceptor.accepted.keys.sorted() == [Slot(109), Slot(110)])
    }

    @Test func aSnapshotBeingReceivedIsWrittenAsItArrivesAndTakenUpAfterARestart() throws {
        let path = try directory() + "/node.log"
        let storage = try FileStorage(path: path)
        storage.state.replicaSnapshot = Snapshot(nextSlot: Slot(1), machine: [1], replies: [])
        try storage.persist(always: true)
        let header = Snapshot(nextSlot: Slot(900), machine: [], replies: [], membershipEpoch: 2)
        var transfer = IncomingSnapshot(peer: NodeID(2), header: header, total: 10)
        transfer.machine = [0xFF, 0x00, 0x01]
        storage.state.incomingSnapshot = transfer
        try storage.persist()
        transfer.machine += [0x02, 0x03]
        storage.state.incomingSnapshot = transfer
        try storage.persist()
        // A crash here: the file holds the header and both chunks.
        let reopened = try FileStorage(path: path)
        let resumed = try #require(reopened.state.incomingSnapshot)
        #expect(resumed.peer == NodeID(2) && resumed.header == header && resumed.total == 10)
        #expect(resumed.machine == [0xFF, 0x00, 0x01, 0x02, 0x03])
        // Over (installed, or dropped): the file goes.
        reopened.state.incomingSnapshot = nil
        try reopened.persist()
        #expect(!FileManager.default.fileExists(atPath: FileStorage.incomingPath(of: path)))
        #expect(try FileStorage(path: path).state.incomingSnapshot == nil)
        // A file that is no transfer is removed, not trusted.
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: FileStorage.incomingPath(of: path)))
        #expect(try FileStorage(path: path).state.incomingSnapshot == nil)
        #expect(!FileManager.default.fileExists(atPath: FileStorage.incomingPath(of: path)))
    }

    @Test func compactionRewritesTheVotesNotTheSnapshot() throws {
        let path = try directory() + "/node.log"
        let storage = try FileStorage(path: path)
        let big = [UInt8](repeating: 7, count: 1_000_000)
        storage.state.replicaSnapshot = Snapshot(nextSlot: Slot(1), machine: big, replies: [])
        try storage.persist()
        let start = storage.bytesWritten
        // 6,000 steps of 1 KB votes, trimmed 100 slots behind: 6 MB appended, past the 4 MiB floor.
        for i in 0..<6_000 as Range<Int64> {
            vote(storage, i, bytes: 1_000)
            if i >= 100 {
                storage.state.updateAcceptor { record in
                    record.accepted[Slot(i - 100)] = nil
                    record.trimmedBelow = Slot(i - 99)
                }
            }
            try storage.persist()
        }
        let written = storage.bytesWritten - start
        #expect(try FileLog(path: path).recovered.count < 6_000, "compacted at least once")
        // The votes once, and compactions of about a hundred of them: no rewrite of the 1 MB state machine.
        #expect(written < 6_000 * 1_250 + 500_000, "\(written) bytes")
        let reopened = try FileStorage(path: path)
        #expect(reopened.state.replicaSnapshot?.machine == big)
        #expect(reopened.state.acceptor.accepted == storage.state.acceptor.accepted)
        #expect(reopened.state.acceptor.trimmedBelow == Slot(5_900))
    }

    @Test func aSnapshotKeptInTheLogByAnEarlierVersionMovesToItsOwnFile() throws {
        let path = try directory() + "/node.log"
        let old = DurableState()
        old.membership = .member
        old.replicaSnapshot = Snapshot(nextSlot: Slot(7), machine: [1, 2, 3], replies: [])
        let log = try FileLog(path: path)
        try log.append(old.encoded())  // the whole state in one record, as compactions wrote it before
        try log.sync()
        let storage = try FileStorage(path: path)
        #expect(storage.state.replicaSnapshot == old.replicaSnapshot && !storage.wasEmpty)
        #expect(access(storage.snapshotPath, F_OK) != 0)
        try storage.persist()  // nothing else changed: the snapshot is written to its own file all the same
        #expect(try FileLog(path: storage.snapshotPath).recovered.count == 1)
        #expect(try FileStorage(path: path).state.replicaSnapshot == old.replicaSnapshot)
    }

    @Test func aSnapshotFileBesideAnEmptyLogIsNotTheNodesState() throws {
        let path = try directory() + "/node.log"
        let first = try FileStorage(path: path)
        first.state.membership = .member
        first.state.replicaSnapshot = Snapshot(nextSlot: Slot(9), machine: [4], replies: [])
        try first.persist()
        unlink(path)  // the log lost (a wipe of that file alone, or a crash in the node's first step)
        let again = try FileStorage(path: path)
        #expect(again.wasEmpty && again.state.replicaSnapshot == nil)
        // The file is gone before the log holds anything: the next start does not take it for the node's.
        #expect(access(again.snapshotPath, F_OK) != 0)
        again.state.membership = .learner
        try again.persist(always: true)
        #expect(try FileStorage(path: path).state.replicaSnapshot == nil)
        // A damaged leftover is removed the same way, rather than stopping the node's first snapshot.
        try Array("not a log".utf8).withUnsafeBytes { bytes in
            try Data(bytes).write(to: URL(fileURLWithPath: again.snapshotPath))
        }
        unlink(path)
        let third = try FileStorage(path: path)
        third.state.replicaSnapshot = Snapshot(nextSlot: Slot(2), machine: [5], replies: [])
        try third.persist(always: true)  // as the shells' first step on an empty log does: the core goes in too
        #expect(try FileStorage(path: path).state.replicaSnapshot?.nextSlot == Slot(2))
    }

    @Test func aDamagedSnapshotFileIsRefusedNamingIt() throws {
        let path = try directory() + "/node.log"
        let storage = try FileStorage(path: path)
        storage.state.membership = .member
        storage.state.replicaSnapshot = Snapshot(nextSlot: Slot(9), machine: [4], replies: [])
        try storage.persist()
        let snapshot = try FileLog(path: storage.snapshotPath)
        try snapshot.compact(toRecords: [[99, 1]])
        #expect(throws: ClusterError.storage("\(storage.snapshotPath): record 1 at offset \(FileLog.headerSize) is not a "
                                             + "node's durable state: durable state encoding version 99 is not supported")) {
            try FileStorage(path: path)
        }
    }

    @Test(arguments: Mode.allCases)
    func aStepWritesTheSlotItChangedNotEveryValueAcceptedSinceTheTrim(mode: Mode) throws {
        let path = try directory() + "/node.log"
        let storage = try FileStorage(path: path)
        let value = [UInt8](repeating: 3, count: 1_000)
        let ballot = Ballot(round: 2, leader: NodeID(0))
        try storage.persist(always: true)
        let start = storage.bytesWritten
        // 300 steps, each accepting a 1 KB value in a new slot (and, per slot, a promise): no step rewrites the
        // values accepted before it.
        for i in 0..<300 as Range<Int64> {
            let slot = Slot(i)
            storage.state.updateAcceptor(slot: slot) { record in
                if mode == .perSlot { record.slotPromised[slot] = ballot } else { record.promised = ballot }
                record.accepted[slot] = PValue(ballot: ballot, slot: slot,
                                               value: .command(Command(key: RequestKey(client: ClientID(1), request: RequestNumber(UInt64(i) + 1)),
                                                                       operation: value)))
                record.slotsEnd = slot.next
            }
            try storage.persist()
        }
        let perStep = (storage.bytesWritten - start) / 300
        #expect(perStep < 1_200, "\(perStep) bytes per step")
        // A trim needs no entries: replay drops what lies below the watermark.
        storage.state.updateAcceptor { record in
            record.trimmedBelow = Slot(100)
            record.accepted = record.accepted.filter { $0.key >= Slot(100) }
            record.slotPromised = record.slotPromised.filter { $0.key >= Slot(100) }
        }
        try storage.persist()
        let reopened = try FileStorage(path: path)
        let (now, then) = (reopened.state.acceptor, storage.state.acceptor)
        #expect(now.accepted == then.accepted && now.slotPromised == then.slotPromised)
        #expect(now.accepted.count == 200 && now.trimmedBelow == Slot(100) && now.promised == then.promised)
        #expect(now.slotsEnd == Slot(300))
        // A record replaced as a whole (as a rejoin does) is written whole, and reads back the same.
        var replacement = AcceptorRecord()
        replacement.promised = Ballot(round: 9, leader: NodeID(2))
        replacement.accepted[Slot(400)] = PValue(ballot: replacement.promised, slot: Slot(400), value: .noop)
        reopened.state.acceptor = replacement
        try reopened.persist()
        let third = try FileStorage(path: path)
        #expect(third.state.acceptor.accepted.keys.sorted() == [Slot(400)])
        #expect(third.state.acceptor.promised == replacement.promised)
    }

    @Test func aRecordThatIsNotANodesStateIsRefusedNamingFileAndOffset() throws {
        let path = try directory() + "/node.log"
        let first = DurableState().encoded()
        let log = try FileLog(path: path)
        try log.append(first)
        try log.append([99, 9, 9])  // checksums fine, contents not a state
        try log.sync()
        let offset = FileLog.headerSize + FileLog.recordHeaderSize + first.count
        #expect(throws: ClusterError.storage("\(path): record 2 at offset \(offset) is not a node's durable state: "
                                             + "durable state encoding version 99 is not supported")) { try FileStorage(path: path) }
    }

    @Test func stateWrittenByTheFirstEncodingVersionStillReads() throws {
        // Version 1 (before rejoins): version, membership, ballot round, promises, trim, end, no slot promises,
        // no accepted values, and a snapshot without membership epoch.
        var w = ByteWriter()
        w.byte(1); w.byte(1); w.uint64(3)
        w.ballot(Ballot(round: 3, leader: NodeID(1))); w.ballot(Ballot(round: 3, leader: NodeID(1)))
        w.uint64(0); w.uint64(0); w.uint32(0); w.uint32(0)
        w.byte(1); w.uint64(5); w.blob([4, 2]); w.uint32(0)
        let old = try DurableState.decode(w.bytes)
        #expect(old.membership == .member && old.ballotRound == 3)
        #expect(old.replicaSnapshot == Snapshot(nextSlot: Slot(5), machine: [4, 2], replies: []))
        var bad = w.bytes
        bad[1] = 9
        #expect(throws: ByteDecodingError("membership 9 is not 0, 1 or 2")) { try DurableState.decode(bad) }
    }

    @Test func aClusterStartedAgainOnItsFilesResumesWithItsData() async throws {
        let dir = try directory()
        try await withLocalCluster({ try await LocalCluster(nodes: 3, storageDirectory: dir) }) { first in
            let client = await first.makeClient()
            for i in 0..<25 { _ = try await client.run(.append("log", "\(i),")) }
        }
        for i in 0..<3 { #expect(FileManager.default.fileExists(atPath: "\(dir)/node-\(i).log")) }

        // Every process is gone; only the files remain.
        try await withLocalCluster({ try await LocalCluster(nodes: 3, storageDirectory: dir) }) { second in
            let reader = await second.makeClient()
            let expected = (0..<25).map { "\($0)," }.joined()
            #expect(try await reader.run(.get("log")) == .value(ByteString(expected)))
            _ = try await reader.run(.append("log", "more"))
            #expect(try await reader.run(.get("log")) == .value(ByteString(expected + "more")))
        }
    }

    @Test func aCorruptNodeFileRefusesToStartNamingTheFileAndOffset() async throws {
        let dir = try directory()
        try await withLocalCluster({ try await LocalCluster(nodes: 3, storageDirectory: dir) }) { cluster in
            let client = await cluster.makeClient()
            for i in 0..<5 { _ = try await client.run(.put("k", "\(i)")) }
        }
        let path = "\(dir)/node-1.log"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[FileLog.headerSize + FileLog.recordHeaderSize + 1] ^= 0x10  // inside the first record, more follow
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            let unexpected = try await LocalCluster(nodes: 3, storageDirectory: dir)
            await unexpected.shutdown()
            Issue.record("a corrupt file was trusted")
        } catch {
            #expect(error.description.contains(path))
            #expect(error.description.contains("offset \(FileLog.headerSize)"))
        }
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) == bytes, "nothing was changed")
    }

    @Test(arguments: Mode.allCases)
    func aNodeWhoseFileIsLostRejoinsAsAFreshMemberAndVotesAgain(mode: Mode) async throws {
        let dir = try directory()
        try await withLocalCluster({ try await LocalCluster(nodes: 3, mode: mode, storageDirectory: dir) }) { first in
            #expect(try await first.membership(of: NodeID(2)) == .member)
            let client = await first.makeClient()
            for i in 0..<10 { _ = try await client.run(.append("log", "\(i),")) }
        }
        try FileManager.default.removeItem(atPath: "\(dir)/node-2.log")

        // Its file is gone but the others' are there: it comes back as a learner and rejoins through the log.
        try await withLocalCluster({ try await LocalCluster(nodes: 3, mode: mode, storageDirectory: dir) }) { second in
            let expected = (0..<10).map { "\($0)," }.joined()
            let reader = await second.makeClient()
            #expect(try await reader.run(.get("log")) == .value(ByteString(expected)))
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(10)
            while try await second.membership(of: NodeID(2)) != .member, clock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(try await second.membership(of: NodeID(2)) == .member)
            // It votes again: with node 0 stopped, nodes 1 and 2 are a majority.
            try await second.stop(NodeID(0))
            let writer = await second.makeClient(giveUpAfter: .seconds(20))
            #expect(try await writer.run(.append("log", "after")) == .integer(Int64(expected.utf8.count + 5)))
            #expect(try await writer.run(.get("log")) == .value(ByteString(expected + "after")))
        }

        // Its file says so: it starts as a member next time.
        try await withLocalCluster({ try await LocalCluster(nodes: 3, mode: mode, storageDirectory: dir) }) {
            (third: LocalCluster) async throws in
            #expect(try await third.membership(of: NodeID(2)) == .member)
        }
    }

    @Test func losingAMajorityOfFilesRefusesToStartAndChangesNothing() async throws {
        let dir = try directory()
        try await withLocalCluster({ try await LocalCluster(nodes: 3, storageDirectory: dir) }) { cluster in
            _ = try await cluster.makeClient().run(.put("k", "v"))
        }
        for i in [0, 2] { try FileManager.default.removeItem(atPath: "\(dir)/node-\(i).log") }
        let kept = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/node-1.log"))
        do {
            let unexpected = try await LocalCluster(nodes: 3, storageDirectory: dir)
            await unexpected.shutdown()
            Issue.record("a cluster that lost a majority of its state started")
        } catch {
            #expect(error.description.contains("node-0.log") && error.description.contains("node-2.log"))
            #expect(error.description.contains("2 of 3 nodes lost their state"), "\(error)")
        }
        // Nothing was created or changed.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["node-1.log"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/node-1.log")) == kept)
    }

    /// The data-loss bug of the reliability issue: with other node counts accepted on one directory, a write
    /// acknowledged by a one-node cluster was lost when three nodes came back. Each node file now records its
    /// cluster's identity, and another one is refused, naming both.
    @Test func aDirectoryRefusesAnotherNodeCountOrModeNamingBoth() async throws {
        let dir = try directory()
        try await withLocalCluster({ try await LocalCluster(nodes: 3, storageDirectory: dir) }) { first in
            _ = try await first.makeClient().run(.append("log", "a"))
        }
        let before = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        let bytes = try before.map { try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\($0)")) }
        for (count, mode) in [(1, Mode.stableLeader), (2, .stableLeader), (5, .stableLeader), (3, .perSlot)] {
            do {
                let cluster = try await LocalCluster(nodes: count, mode: mode, storageDirectory: dir)
                await cluster.shutdown()
                Issue.record("\(count) nodes in \(mode) started on a directory of 3 in stable-leader mode")
            } catch {
                #expect(error.description.contains("3 members (n0,n1,n2), stable-leader"), "\(error)")
                if count != 5 { #expect(error.description.contains("\(mode.rawValue)"), "\(error)") }
            }
            // Nothing was created or changed.
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == before)
            #expect(try before.map { try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\($0)")) } == bytes)
        }
        try await withLocalCluster({ try await LocalCluster(nodes: 3, storageDirectory: dir) }) {
            (again: LocalCluster) async throws in
            #expect(try await again.makeClient().run(.get("log")) == .value("a"))
        }
    }

    @Test func aDirectoryOfALargerClusterIsRefusedToo() async throws {
        let dir = try directory()
        try await withLocalCluster({ try await LocalCluster(nodes: 5, storageDirectory: dir) }) { _ in }
        do {
            let unexpected = try await LocalCluster(nodes: 3, storageDirectory: dir)
            await unexpected.shutdown()
            Issue.record("3 nodes started on a directory of 5")
        } catch {
            #expect(error.description.contains("node-3.log") || error.description.contains("5 members"), "\(error)")
        }
    }

    @Test func aMissingDirectoryIsCreatedAndAnEmptyPathRefused() async throws {
        let dir = try directory() + "/a/b"
        try await withLocalCluster({ try await LocalCluster(nodes: 1, storageDirectory: dir) }) { _ in }
        #expect(FileManager.default.fileExists(atPath: "\(dir)/node-0.log"))
        await #expect(throws: ClusterError.invalidConfiguration("storageDirectory is empty (give a folder's path)")) {
            _ = try await LocalCluster(nodes: 1, storageDirectory: "")
        }
        let file = try directory() + "/plain"
        #expect(FileManager.default.createFile(atPath: file, contents: Data()))
        await #expect(throws: ClusterError.storage("\(file) is not a directory")) {
            _ = try await LocalCluster(nodes: 1, storageDirectory: file)
        }
    }

    @Test func anIdentityRoundTripsThroughEveryRecordKindAndOldStateTakesOne() throws {
        let state = DurableState()
        let identity = ClusterIdentity(clusterID: "c", members: ["127.0.0.1:1", "127.0.0.1:2"], node: NodeID(1), mode: .perSlot)
        state.identity = identity
        #expect(try DurableState.decode(state.encoded()).identity == identity)
        let other = DurableState()
        try other.absorb(state.encodedIdentity())
        #expect(other.identity == identity)
        #expect(try DurableState.decode(DurableState().encoded()).identity == nil)
        var bad = state.encodedIdentity()
        bad[bad.count - 1] = UInt8(ascii: "x")  // the mode's last letter
        #expect(throws: ByteDecodingError("mode 'per-slox' is unknown")) { try DurableState().absorb(bad) }

        let path = try directory() + "/old.log"
        let old = try FileStorage(path: path)
        try old.persist(always: true)  // a file written before identities were recorded
        let reopened = try FileStorage(path: path)
        try reopened.claim(identity)
        try reopened.persist()
        #expect(try FileStorage(path: path).state.identity == identity)
        #expect(throws: ClusterError.self) {
            try FileStorage(path: path).claim(ClusterIdentity(clusterID: "c", members: ["x"], node: NodeID(0), mode: .perSlot))
        }
    }
}
