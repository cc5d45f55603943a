/// The cluster's own command that lets a node which lost its storage vote again. A learner's Initializer asks
/// for it through the log like a client request (client `ClientID.membership`, its request number a random
/// nonce); each replica that applies it counts one more membership epoch and answers with that epoch. The log
/// gives every rejoin a distinct epoch, and no ballot of that epoch exists before the rejoin is decided, so none
/// can have been promised by the node's former self.
public enum Rejoin {
    static let tag: UInt8 = 1

    /// The command asking that `node` rejoin, for the attempt `nonce`.
    public static func command(node: NodeID, nonce: UInt64) -> Command {
        var w = ByteWriter()
        w.byte(tag)
        w.uint32(UInt32(node.value))
        return Command(key: RequestKey(client: .membership, request: RequestNumber(nonce)), operation: w.bytes)
    }

    /// The node a membership command asks to rejoin, or nil if the bytes are not a rejoin.
    public static func node(of command: Command) -> NodeID? {
        guard command.key.client == .membership else { return nil }
        var r = ByteReader(command.operation)
        guard (try? r.byte()) == tag, let id = try? r.uint32(), id < NodeSet.capacity, r.isAtEnd else { return nil }
        return NodeID(Int(id))
    }

    /// A rejoin's result: the epoch it was given.
    static func result(epoch: UInt64) -> [UInt8] {
        var w = ByteWriter()
        w.uint64(epoch)
        return w.bytes
    }

    /// The epoch a rejoin's result carries.
    public static func epoch(fromResult bytes: [UInt8]) -> UInt64? {
        var r = ByteReader(bytes)
        guard let epoch = try? r.uint64(), r.isAtEnd else { return nil }
        return epoch
    }
}
