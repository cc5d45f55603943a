/// What `multipaxos serve` runs: one member of a cluster whose members are separate processes.
public struct ServeConfiguration: Sendable {
    /// This node's id: its index in `peers`.
    public var id: NodeID
    /// Every member's peer address, in id order; this node listens on its own.
    public var peers: [PeerAddress]
    /// Where clients connect (RESP).
    public var client: PeerAddress
    /// The data directory (created if missing); nil keeps durable state in memory (tests only).
    public var dataDirectory: String?
    /// The cluster's name: peers of another cluster are refused.
    public var clusterID = "multipaxos"
    /// The Phase-1 mode.
    public var mode = Mode.stableLeader
    /// The protocol's timing.
    public var timing = Timing()
    /// How the leader packs commands into slots and how many slots it keeps in flight (`--batch`, `--window`).
    public var batching = Batching.standard
    /// How GET and EXISTS are served (`--reads`): through the log, by read index (the default), or by leader
    /// lease (which turns leases on, with `maxClockDrift`).
    public var reads = ReadConsistency.readIndex
    /// The clock-drift bound leases count on (`--clock-drift`); every node of a cluster must be given the same
    /// `--reads` and bound.
    public var maxClockDrift = 0.01
    /// How long a client command may wait for the cluster before it gets an error reply.
    public var clientTimeout: Duration = .seconds(5)
    /// The node's data was lost: rejoin as a learner before voting again (never vote on forgotten promises).
    public var rejoin = false
    /// Socket limits.
    public var limits = TransportLimits()
    /// The size of the chunks a snapshot for a lagging peer travels in (see `ClusterConfiguration.snapshotChunkBytes`).
    public var snapshotChunkBytes = 1 << 20
    /// A replica snapshots once the operations it applied since its last snapshot reach this many bytes, however
    /// large the state (see `ClusterConfiguration.maxLogBytes`): the log kept between snapshots, in memory and on
    /// disk, stays within about this many bytes.
    public var maxLogBytes = 256 << 20
    /// The password clients must give (`AUTH`); nil: none (then the client listener must be on loopback,
    /// unless `allowUnauthenticatedClients`).
    public var password: [UInt8]?
    /// Serve clients without a password on a non-loopback address (`--no-auth`).
    public var allowUnauthenticatedClients = false
    /// The cluster key(s): peers prove they hold one, and every frame carries a MAC. Nil: peers are identified
    /// by their handshake only, which is allowed on loopback or with `allowUnauthenticatedPeers`.
    public var clusterKeys: ClusterKeys?
    /// Accept peers on non-loopback addresses without a cluster key (`--no-peer-auth`).
    public var allowUnauthenticatedPeers = false
    /// Where to listen for peers, when not on this node's own entry of `peers` (behind a proxy or NAT).
    public var peerListen: PeerAddress?
    /// A deliberate bug, for tests that must catch it (see ``ServeFlaw``); nil in every real deployment.
    public var flaw: ServeFlaw?
    /// Where to serve Prometheus metrics over HTTP (`GET /metrics`); nil: no metrics listener.
    public var metrics: PeerAddress?
    /// Whether `--max-clients` was given (then a limit that does not fit the descriptors is an error; the
    /// default is lowered to fit instead).
    public var maxClientsGiven = false
    /// Whether `metrics` may be an address other than loopback (`--metrics-public`): the endpoint has no
    /// authentication, so a public one is refused unless asked for.
    public var allowPublicMetrics = false
    /// The members that vote when the cluster begins (`--voters`); the others join as spares, to be added
    /// through the log (`MPX.ADDVOTER`). Nil: every member of `peers`.
    public var voters: NodeSet?

    /// Makes a configuration for node `id` of `peers`, serving clients on `client`.
    public init(id: NodeID, peers: [PeerAddress], client: PeerAddress) {
        self.id = id
        self.peers = peers
        self.client = client
    }
}
