/// What a connection opens with: which protocol version the sender speaks, which cluster it belongs to and which
/// node it is. On the wire: the 8 magic bytes `MPAXNET\0`, the version as 2 little-endian bytes, then one frame
/// (see ``Frame``) whose payload is the cluster id (a 4-byte little-endian length and its UTF-8 bytes) and the
/// node id (4 bytes, little-endian). A receiver refuses a foreign peer by the magic, before it reads anything else.
public struct Handshake: Equatable, Sendable {
    /// The bytes every connection begins with.
    public static let magic: [UInt8] = Array("MPAXNET".utf8) + [0]
    /// The protocol version this node speaks; a peer with another one is refused.
    public static let protocolVersion: UInt16 = 6  // 2: Prepare and Promise carry report-from and more slots; 3: snapshot chunks; 4: Join and Welcome carry founders' nonces; 5: a snapshot's reply cache travels in its chunks; 6: PreVote carries the candidate's applied slot
    /// Bytes before the handshake's frame: the magic and the version.
    public static let preambleBytes = 10
    /// The longest cluster id, in UTF-8 bytes.
    public static let maxClusterIDBytes = 64
    /// The largest handshake payload a receiver buffers: a cluster id at its longest and a node id.
    static let maxPayloadBytes = 4 + maxClusterIDBytes + 4

    /// The sender's protocol version.
    public let version: UInt16
    /// The cluster the sender belongs to: 1 to 64 UTF-8 bytes, no control characters.
    public let clusterID: String
    /// The sender's node id.
    public let node: NodeID

    /// Makes a handshake, or throws ``WireError/badHandshake(_:)`` naming what is wrong with `clusterID`.
    public init(clusterID: String, node: NodeID, version: UInt16 = Handshake.protocolVersion) throws(WireError) {
        try Self.validate(clusterID: clusterID)
        self.clusterID = clusterID
        self.node = node
        self.version = version
    }

    /// Checks a cluster id (1 to 64 UTF-8 bytes, no control characters, so that it fits on one log line), or
    /// throws ``WireError/badHandshake(_:)`` naming it.
    public static func validate(clusterID: String) throws(WireError) {
        let length = clusterID.utf8.count
        guard (1...maxClusterIDBytes).contains(length) else {
            throw .badHandshake("cluster id \(clusterID.debugDescription) is \(length) bytes, not 1 to \(maxClusterIDBytes)")
        }
        guard !clusterID.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .badHandshake("cluster id \(clusterID.debugDescription) contains a control character")
        }
    }

    /// Everything the sender writes first: magic, version, and the framed cluster id and node id.
    public func encoded() -> [UInt8] {
        var bytes = Self.magic
        bytes.append(UInt8(truncatingIfNeeded: version))
        bytes.append(UInt8(truncatingIfNeeded: version >> 8))
        Frame.append(payload, to: &bytes)
        return bytes
    }

    /// The handshake frame's payload.
    var payload: [UInt8] {
        var w = ByteWriter()
        w.blob(Array(clusterID.utf8))
        w.uint32(UInt32(node.value))
        return w.bytes
    }

    /// Decodes the handshake frame's payload, which came after `version`.
    static func decode(payload: [UInt8], version: UInt16) throws(WireError) -> Handshake {
        var r = ByteReader(payload)
        let idBytes: [UInt8], node: Int
        do {
            idBytes = try r.blob()
            node = Int(try r.uint32())
        } catch {
            throw .badHandshake("payload of \(payload.count) bytes is cut short: \(error)")
        }
        guard r.isAtEnd else { throw .badHandshake("\(payload.count - r.offset) trailing bytes after the node id") }
        guard let clusterID = String(validating: idBytes, as: UTF8.self) else {
            throw .badHandshake("cluster id \(WireError.show(idBytes)) is not UTF-8")
        }
        guard node < NodeSet.capacity else {
            throw .badHandshake("node id \(node) is not a node id (0..<\(NodeSet.capacity))")
        }
        return try Handshake(clusterID: clusterID, node: NodeID(node), version: version)
    }
}

extension FrameDecoder {
    /// Reads the handshake a connection opens with: the magic (throwing ``WireError/foreignPeer(firstBytes:)``
    /// as soon as the bytes in differ from it, even before all eight are), the version (throwing
    /// ``WireError/unsupportedVersion(_:)``), then the handshake's frame. Returns nil until all of it is in;
    /// call it until it returns a handshake, then read message frames with `next()`.
    ///
    /// A step that a later protocol version adds after the handshake (authentication, issue 18) reads its own
    /// frames with `next()` before any message flows; message tags from 0x80 up are kept free for such frames.
    public mutating func nextHandshake() throws(WireError) -> Handshake? {
        if let failure { throw failure }
        if preambleVersion == nil {
            let seen = Array(unread.prefix(Handshake.magic.count))
            guard seen == Array(Handshake.magic.prefix(seen.count)) else { throw fail(.foreignPeer(firstBytes: seen)) }
            guard bufferedBytes >= Handshake.preambleBytes else { return nil }
            let at = unread.startIndex + Handshake.magic.count
            let version = UInt16(unread[at]) | UInt16(unread[at + 1]) << 8
            guard version == Handshake.protocolVersion else { throw fail(.unsupportedVersion(version)) }
            consume(Handshake.preambleBytes)
            preambleVersion = version
        }
        guard let payload = try next(limit: Handshake.maxPayloadBytes), let version = preambleVersion else {
            return nil
        }
        do {
            return try Handshake.decode(payload: payload, version: version)
        } catch {
            throw fail(error)
        }
    }
}
