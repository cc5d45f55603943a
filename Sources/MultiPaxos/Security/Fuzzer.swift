#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a fuzz target feeds: the RESP request parser, the peer stream (handshake, frames, messages), or
/// storage recovery (log files).
public enum FuzzTarget: String, Sendable, CaseIterable {
    case resp, frame, storage
}

/// What a fuzz run did: inputs fed, how many were accepted and refused (each refusal a typed error), and the
/// largest buffer a decoder held compared with the input it was given.
public struct FuzzReport: Sendable, CustomStringConvertible {
    /// The target.
    public let target: FuzzTarget
    /// Inputs fed.
    public let inputs: Int
    /// Inputs that decoded to something, and inputs refused with a typed error.
    public let accepted: Int, refused: Int
    /// The first check that failed, with the seed and input index that reproduce it; nil when all held.
    public let failure: String?

    public var description: String {
        "\(target.rawValue): \(inputs) inputs, \(accepted) accepted, \(refused) refused with a typed error"
            + (failure.map { "; FAILED: \($0)" } ?? "; every check held")
    }
}

/// A seeded fuzzer for the decoders that read untrusted bytes. Every input is generated from the seed and its
/// index (valid inputs, then mutated: bytes flipped, cut, repeated, spliced, lengths made huge), so a failing
/// one is reproduced by its seed and index. A trap would stop the process (which is itself the finding); every
/// other check is counted: nothing decodes that re-encodes differently, and no decoder buffers more than the
/// bytes it was given.
public enum Fuzzer {
    /// Runs `count` inputs (or until `deadline`) for `target`, from `seed`.
    public static func run(_ target: FuzzTarget, seed: UInt64, count: Int,
                           deadline: ContinuousClock.Instant? = nil, scratchDirectory: String = "/tmp") -> FuzzReport {
        var accepted = 0, refused = 0, fed = 0
        var failure: String?
        let file = "\(scratchDirectory)/multipaxos-fuzz-\(getpid())-\(seed).log"
        defer { unlink(file) }
        for index in 0..<count {
            if let deadline, index % 64 == 0, ContinuousClock.now >= deadline { break }
            var rng = SeededGenerator(seed: seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
            fed += 1
            let outcome: Bool?
            switch target {
            case .resp: outcome = resp(&rng, failure: &failure)
            case .frame: outcome = frame(&rng, failure: &failure)
            case .storage: outcome = storage(&rng, path: file)
            }
            switch outcome {
            case true?: accepted += 1
            case false?: refused += 1
            case nil: break
            }
            if let found = failure {
                failure = "seed \(seed) input \(index): \(found)"
                break
            }
        }
        return FuzzReport(target: target, inputs: fed, accepted: accepted, refused: refused, failure: failure)
    }

    // MARK: Inputs

    static func mutate(_ bytes: [UInt8], _ rng: inout SeededGenerator) -> [UInt8] {
        var out = bytes
        for _ in 0..<(1 + Int(rng.upTo(3))) {
            switch rng.upTo(6) {
            case 0 where !out.isEmpty: out[Int(rng.upTo(UInt64(out.count - 1)))] ^= UInt8(truncatingIfNeeded: 1 << rng.upTo(7))
            case 1 where !out.isEmpty: out.removeLast(Int(rng.upTo(UInt64(out.count))))
            case 2 where !out.isEmpty:
                let at = Int(rng.upTo(UInt64(out.count - 1)))
                out.insert(contentsOf: out[at...].prefix(16), at: at)
            case 3: out.insert(UInt8(truncatingIfNeeded: rng.next()), at: Int(rng.upTo(UInt64(out.count))))
            case 4 where out.count >= 4:
                let at = Int(rng.upTo(UInt64(out.count - 4)))
                for i in 0..<4 { out[at + i] = 0xFF }  // a length field made huge
            default: out += (0..<Int(rng.upTo(8))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            }
        }
        return out
    }

    private static func word(_ rng: inout SeededGenerator) -> [UInt8] {
        let words = ["SET", "GET", "DEL", "PING", "HELLO", "3", "AUTH", "k", "value", "IFEQ", "MPX.SUBMIT", "1", ""]
        return Array(words[Int(rng.upTo(UInt64(words.count - 1)))].utf8)
    }

    private static func resp(_ rng: inout SeededGenerator, failure: inout String?) -> Bool {
        var bytes: [UInt8] = []
        for _ in 0...rng.upTo(3) {
            let args = (0...rng.upTo(3)).map { _ in word(&rng) }
            bytes += rng.chance(0.2) ? Array((args.map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ") + "\r\n").utf8)
                                     : RESPConnection.encode(args)
        }
        if rng.chance(0.8) { bytes = mutate(bytes, &rng) }
        var parser = RESPRequestParser(maxRequestBytes: 4096)
        var refusedOnce = false
        var at = 0
        while at < bytes.count {
            let piece = 1 + Int(rng.upTo(UInt64(min(64, bytes.count - at) - 1)))
            parser.append(Array(bytes[at..<at + piece]))
            at += piece
            do {
                while let args = try parser.next() { _ = RESPCommands.action(for: args, protocolVersion: 2) }
            } catch {
                refusedOnce = true
                break
            }
            if parser.bufferedBytes > bytes.count { failure = "the RESP parser holds \(parser.bufferedBytes) bytes of \(bytes.count)" }
        }
        return !refusedOnce
    }

    private static func sampleMessage(_ rng: inout SeededGenerator) -> Message {
        let ballot = Ballot(round: rng.upTo(1000), leader: NodeID(Int(rng.upTo(4))))
        let slot = Slot(Int64(rng.upTo(1 << 20)))
        let command = Command(key: RequestKey(client: ClientID(rng.next()), request: RequestNumber(rng.upTo(99) + 1)),
                              operation: KeyValueOperation.put("k\(rng.upTo(9))", "v").encoded)
        switch rng.upTo(8) {
        case 0: return .accept(Accept(ballot: ballot, slot: slot, value: .command(command)))
        case 1: return .prepare(Prepare(ballot: ballot, scope: rng.chance(0.5) ? .from(slot) : .only(slot)))
        case 2: return .heartbeat(Heartbeat(ballot: ballot, nextSlot: slot, trimBelow: .zero))
        case 3: return .decision(Decision(ballot: ballot, slot: slot, value: rng.chance(0.5) ? .noop : .command(command)))
        case 4: return .catchUpReply(CatchUpReply(snapshot: Snapshot(nextSlot: slot, machine: [1, 2, 3], replies: []),
                                                  first: slot, values: [.noop, .command(command)],
                                                  chunk: SnapshotChunk(nextSlot: slot, total: 5, offset: 0, bytes: [1, 2],
                                                                       header: Snapshot(nextSlot: slot, machine: [], replies: []))))
        case 5: return .readIndexReply(ReadIndexReply(key: command.key, index: rng.chance(0.5) ? slot : nil, leader: ballot))
        case 6: return .readConfirmReply(ReadConfirmReply(ballot: ballot, round: ReadRound(rng.next()), promised: ballot,
                                                          acceptedEnd: slot))
        case 7: return .readIndexRequest(ReadIndexRequest(key: command.key))
        default: return .request(Request(command: command, consistency: rng.chance(0.5) ? .readIndex : nil))
        }
    }

    private static func frame(_ rng: inout SeededGenerator, failure: inout String?) -> Bool {
        var bytes = rng.chance(0.7) ? ((try? Handshake(clusterID: "fuzz", node: NodeID(1)).encoded()) ?? []) : []
        let before = bytes.isEmpty
        for _ in 0...rng.upTo(3) { bytes += Frame.frame(WireCodec.encode(sampleMessage(&rng))) }
        if rng.chance(0.8) { bytes = mutate(bytes, &rng) }
        var decoder = FrameDecoder(maxFrameBytes: 1 << 16)
        decoder.append(bytes)
        do {
            if !before { guard try decoder.nextHandshake() != nil else { return true } }
            while let payload = try decoder.next() {
                let message = try WireCodec.decode(payload)
                if WireCodec.encode(message) != payload { failure = "a payload decoded to \(message) but re-encodes differently" }
            }
            if decoder.bufferedBytes > bytes.count { failure = "the frame decoder holds \(decoder.bufferedBytes) bytes of \(bytes.count)" }
            return true
        } catch {
            return false
        }
    }

    private static func storage(_ rng: inout SeededGenerator, path: String) -> Bool {
        let state = DurableState()
        state.membership = .member
        state.acceptor.promised = Ballot(round: rng.upTo(100), leader: NodeID(0))
        state.replicaSnapshot = Snapshot(nextSlot: Slot(Int64(rng.upTo(100))), machine: KeyValueStore().snapshot(), replies: [])
        var bytes = FileLog.header()
        for _ in 0...rng.upTo(3) {
            bytes += FileLog.frame(rng.chance(0.5) ? state.encodedCore() : state.encoded())
        }
        bytes = mutate(bytes, &rng)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { return false }
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        do {
            _ = try FileStorage(path: path)
            return true
        } catch {
            return false
        }
    }
}
