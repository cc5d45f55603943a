/// One RESP client connection of a served node, on the I/O thread: it parses requests, answers the ones that
/// need no consensus at once, and hands each key-value command to the node as a command of this connection's
/// client, one at a time, so pipelined requests are answered in order and each runs exactly once.
struct ClientSession {
    /// The connection's number (file descriptors are reused; numbers are not).
    let connection: UInt64
    /// The peer's address, for log lines.
    let address: String
    /// The client identity its commands carry in the replicas' reply caches.
    let client: ClientID
    /// The next request number of that client.
    private(set) var nextRequest: UInt64
    private var parser: RESPRequestParser
    /// RESP2 until the client asks for RESP3 with `HELLO 3`.
    private var protocolVersion = 2
    /// The name `CLIENT SETNAME` gave the connection ("" for none).
    private var name = ""
    /// Replies not yet written.
    var out = OutputBuffer()
    /// The connection closes once `out` is written.
    private(set) var closing = false
    /// The password clients must give (`AUTH`, or `HELLO ... AUTH`) before anything else; nil: none.
    private let password: [UInt8]?
    /// The node's metrics: `INFO` reports them, and commit latencies are recorded there.
    private let metrics: ServedMetrics?
    /// Whether the connection may run commands: at once without a password, after `AUTH` with one.
    private(set) var authenticated: Bool {
        didSet { applyLimits() }
    }
    /// When the connection was accepted: one that has not authenticated within `limits.authenticationTimeout` is
    /// closed.
    let acceptedAt = ContinuousClock.now

    /// Until it authenticates a client may send only small requests of a few arguments and leave only a little
    /// unread (Redis's rule since CVE-2021-32675): what thousands of unauthenticated connections cost is bounded.
    static let unauthenticatedRequestBytes = 16 << 10
    static let unauthenticatedArguments = 10
    static let unauthenticatedReplyBytes = 16 << 10
    /// Wrong passwords a connection may give before it is closed.
    static let maxFailedAuthentications = 5
    private var failedAuthentications = 0

    private mutating func applyLimits() {
        if authenticated {
            parser.setLimits(maxRequestBytes: limits.maxRequestBytes, maxArguments: 1_048_576)
        } else {
            parser.setLimits(maxRequestBytes: min(limits.maxRequestBytes, Self.unauthenticatedRequestBytes),
                             maxArguments: Self.unauthenticatedArguments)
        }
    }

    /// What the connection owes its client, in request order.
    private enum Owed {
        case ready(RESPValue)
        case call(Command, Rendering, sent: Bool, arrived: ContinuousClock.Instant)
        /// An admin command (`MPX.TRANSFER`, `MPX.VOTERS`, `MPX.ADDVOTER`, `MPX.REMOVEVOTER`): answered once the
        /// node has done it (`+OK`, or the text it returns), or with the error the node names.
        case admin(RequestKey, AdminRequest, sent: Bool)
        case close(RESPValue)
        /// A reply that also forgets the watched keys when its turn comes (UNWATCH, DISCARD, an EXEC that runs
        /// nothing, RESET): in turn, because a WATCH sent before it may still be reading its keys.
        case unwatch(RESPValue)
    }
    /// How a command's result becomes a reply.
    enum Rendering {
        /// A key-value result, rendered as the RESP command that asked for it expects.
        case keyValue(RESPReplyForm)
        /// The state machine's result bytes as a bulk string (`MPX.SUBMIT`, for `RemoteClient`).
        case raw
        /// The results of a command of several keys (one log entry of `count` operations), combined.
        case combined(RESPCombination, count: Int)
        /// An `EXEC`: an array of each queued command's reply, from the results of one log entry; null when a
        /// watched key changed (nothing ran).
        case transaction([TransactionPart])
        /// A `WATCH` of these keys: their digests are kept for the next EXEC, and the reply is `OK`.
        case watch([ByteString])
    }
    /// A command queued between `MULTI` and `EXEC`: what it runs, and how its reply is made.
    enum TransactionPart {
        /// One operation, rendered in `form`.
        case operation(RESPReplyForm)
        /// `count` operations, combined (DEL of several keys, MGET, ...).
        case combined(RESPCombination, count: Int)
        /// A reply that needs no operation (PING, ECHO, ...), given in its place.
        case reply(RESPValue)

        /// How many operations it runs.
        var operations: Int {
            switch self {
            case .operation: 1
            case .combined(_, let count): count
            case .reply: 0
            }
        }
    }
    /// A transaction being queued (after `MULTI`): its commands' operations, their parts, and whether one was
    /// refused (then `EXEC` runs none of them, as Redis's `EXECABORT`).
    private struct Transaction {
        var operations: [[UInt8]] = []
        var parts: [TransactionPart] = []
        var bytes = 0
        var failed = false
    }
    private var transaction: Transaction?
    /// The keys WATCH read, with their digests, for the next EXEC (which sends them along and forgets them).
    private var watched: [(key: ByteString, digest: ByteString?)] = []
    /// How many keys the WATCHes parsed since the last UNWATCH, EXEC, DISCARD or RESET name (their reads may
    /// still be in flight): an EXEC then goes to the node even with nothing queued, and their number is bounded.
    private var watchesParsed = 0
    /// The most keys a connection may watch at once (each is sent again with its EXEC).
    static let watchLimit = 10_000
    /// The most commands one transaction may queue (its bytes are bounded by the request limit: it is one entry).
    static let transactionLimit = 100_000
    private var owed: [Owed] = []
    private var owedStart = 0
    /// The pipeline in flight, if the command in flight is one: its key and how many owed calls it carries.
    private var pipelineInFlight: (key: RequestKey, count: Int)?
    /// At most this many pipelined commands, and about this many operation bytes, share one log entry.
    static let pipelineLimit = 512
    static let pipelineBytes = 1 << 20
    /// Operation bytes of the commands owed, so that a pipeline of large requests is bounded too.
    private var owedBytes = 0

    /// The bounds on what the session holds for its client.
    private let limits: TransportLimits

    init(connection: UInt64, address: String, client: ClientID, nextRequest: UInt64, limits: TransportLimits,
         password: [UInt8]?, metrics: ServedMetrics? = nil) {
        self.limits = limits
        self.metrics = metrics
        self.password = password
        authenticated = password == nil
        self.connection = connection
        self.address = address
        self.client = client
        self.nextRequest = nextRequest
        parser = RESPRequestParser(maxRequestBytes: limits.maxRequestBytes)
        applyLimits()
    }

    /// Unanswered requests.
    var backlog: Int { owed.count - owedStart }

    /// Whether the client has as much unanswered as it may have: then requests wait unparsed.
    private var full: Bool { backlog >= limits.maxPipelined || owedBytes >= limits.maxPipelinedBytes }

    /// Whether to read more: not while closing, nor while the client has too much unanswered or unread. What the
    /// parser holds once it has parsed what it could is the start of one request (complete ones wait only while
    /// the backlog is full), so reading goes on until that request is whole: the parser refuses one past its
    /// limit. (A bound of 16 KiB here stalled every request larger than that, a SET of a 17 KB value included.)
    var wantsRead: Bool {
        !closing && !full && parser.bufferedBytes <= parser.maxRequestBytes + (16 << 10)
            && out.count < (authenticated ? limits.maxUnreadReplyBytes : Self.unauthenticatedReplyBytes)
    }

    /// Takes bytes from the socket.
    mutating func received(_ bytes: UnsafeRawBufferPointer) {
        guard !closing else { return }
        parser.append(bytes)
        parse()
    }

    /// Queues what each complete request owes, as long as the client is within its bounds: not while its backlog
    /// is full, nor while it has a full buffer of replies unread (those requests wait, parsed later).
    private mutating func parse() {
        guard !closing else { return }
        do {
            while !full, out.count < limits.maxUnreadReplyBytes, let args = try parser.next() {
                owe(args)
                if case .close? = owed.last { break }
            }
        } catch {
            // Malformed RESP or an oversized request: answer with the error, then close, as Redis does.
            owed.append(.close(error.reply))
        }
    }

    private mutating func owe(_ args: [[UInt8]]) {
        var action = RESPCommands.action(for: args, protocolVersion: protocolVersion, connection: ConnectionID(Int64(connection)))
        if let metrics, case .reply = action, let name = args.first, RESPCommands.lowercased(name) == "info" {
            action = .reply(.bulk(RESPCommands.info(sections: args.dropFirst().map(RESPCommands.lowercased),
                                                    extra: [metrics.infoSection()])))
        }
        if case .reply = action, args.count >= 2, RESPCommands.lowercased(args[0]) == "client" {
            // CLIENT answers with the name this connection was given, and SETNAME keeps it.
            let reply = RESPCommands.client(args, connection: ConnectionID(Int64(connection)), name: name)
            if reply == .ok, RESPCommands.lowercased(args[1]) == "setname" { name = String(decoding: args[2], as: UTF8.self) }
            action = .reply(reply)
        }
        let submit = RemoteProtocol.submission(args)
        if !authenticated {
            // As Redis: before authentication only AUTH, HELLO with AUTH, and QUIT; PING included gets NOAUTH.
            switch action {
            case .authenticate, .quit, .setProtocol(_, _, .some): break
            case .setProtocol(_, _, nil): return owed.append(.ready(RESPCommands.helloNeedsAuthentication))
            // Unknown commands and wrong arities are refused before authentication is checked, as in Redis.
            case .reply(.error(let message)) where submit == nil && RemoteProtocol.admin(args) == nil:
                return owed.append(.ready(.error(message)))
            default: return owed.append(.ready(RESPCommands.noAuthentication))
            }
        }
        if transaction != nil || action.isTransactionStep {
            return queue(action, refused: submit != nil || RemoteProtocol.admin(args) != nil)
        }
        if let admin = RemoteProtocol.admin(args) {
            switch admin {
            case .success(let request):
                owed.append(.admin(RequestKey(client: client, request: RequestNumber(nextRequest)), request, sent: false))
                nextRequest += 1
            case .failure(let error): owed.append(.ready(.error(error.message)))
            }
            return
        }
        if let submit {
            switch submit {
            case .success(let command):
                owedBytes += command.operation.count
                owed.append(.call(command, .raw, sent: false, arrived: .now))
            case .failure(let error): owed.append(.ready(.error(error.message)))
            }
            return
        }
        switch action {
        case .reply(let value):
            owed.append(.ready(value))
        case .replicate(let operation, let rendering):
            call(operation.encoded, .keyValue(rendering))
        case .replicateAll(let operations, let combination):
            call(KeyValueStore.pipeline(operations.map(\.encoded)), .combined(combination, count: operations.count))
        case .transaction:
            preconditionFailure("a transaction step is queued above")
        case .watch(let keys):
            guard watchesParsed + keys.count <= Self.watchLimit else {
                return owed.append(.ready(.error("ERR a connection watches at most \(Self.watchLimit) keys at once")))
            }
            watchesParsed += keys.count
            call(KeyValueOperation.digests(keys).encoded, .watch(keys))
        case .unwatch:
            watchesParsed = 0
            owed.append(.unwatch(.ok))
        case .setProtocol(let version, let reply, let credentials):
            if let credentials {
                guard password != nil else { return owed.append(.ready(RESPCommands.noPasswordConfigured)) }
                guard accepts(credentials) else { return refuseCredentials() }
                authenticated = true
            }
            protocolVersion = version
            owed.append(.ready(reply))
        case .authenticate(let credentials):
            guard password != nil else { return owed.append(.ready(RESPCommands.noPasswordConfigured)) }
            guard accepts(credentials) else { return refuseCredentials() }
            authenticated = true
            owed.append(.ready(.ok))
        case .quit:
            owed.append(.close(.ok))
        case .reset:
            reset()
        }
    }

    /// A wrong password: `-WRONGPASS`, and after `maxFailedAuthentications` on this connection, the connection
    /// closes with it, so that guessing costs a connection (and its handshake) every few tries.
    private mutating func refuseCredentials() {
        failedAuthentications += 1
        owed.append(failedAuthentications >= Self.maxFailedAuthentications ? .close(RESPCommands.wrongPassword)
                                                                          : .ready(RESPCommands.wrongPassword))
    }

    /// RESET: back to RESP2, unauthenticated (with a password), no transaction, no name; replies `+RESET`.
    private mutating func reset() {
        transaction = nil
        name = ""
        protocolVersion = 2
        authenticated = password == nil
        watchesParsed = 0
        owed.append(.unwatch(.simpleString("RESET")))
    }

    /// Owes the reply to `operation`, run through the log as this client's next request.
    private mutating func call(_ operation: [UInt8], _ rendering: Rendering) {
        let key = RequestKey(client: client, request: RequestNumber(nextRequest))
        nextRequest += 1
        owedBytes += operation.count
        owed.append(.call(Command(key: key, operation: operation), rendering, sent: false, arrived: .now))
    }

    /// MULTI, EXEC, DISCARD, and every command between MULTI and EXEC (queued, answered `QUEUED`). A command
    /// refused while queueing (unknown, wrong arity, not allowed in a transaction, or past the bounds) makes
    /// EXEC run nothing, as in Redis; nothing queued takes effect before EXEC, and then all of it at once.
    private mutating func queue(_ action: RESPAction, refused notAllowed: Bool) {
        func refuse(_ message: String) {
            transaction?.failed = true
            owed.append(.ready(.error(message)))
        }
        guard var queued = transaction else {
            switch action {
            case .transaction(.begin):
                transaction = Transaction()
                owed.append(.ready(.ok))
            case .transaction(.commit): owed.append(.ready(.error("ERR EXEC without MULTI")))
            default: owed.append(.ready(.error("ERR DISCARD without MULTI")))
            }
            return
        }
        if notAllowed { return refuse("ERR Command not allowed inside a transaction") }
        var operations: [[UInt8]] = []
        switch action {
        case .transaction(.begin):
            return owed.append(.ready(.error("ERR MULTI calls can not be nested")))
        case .transaction(.discard):
            transaction = nil
            watchesParsed = 0
            return owed.append(.unwatch(.ok))
        case .transaction(.commit):
            transaction = nil
            let watching = watchesParsed > 0
            watchesParsed = 0
            if queued.failed { return owed.append(.unwatch(.error("EXECABORT Transaction discarded because of previous errors."))) }
            if queued.operations.isEmpty, !watching {
                return owed.append(.unwatch(.array(queued.parts.map { if case .reply(let r) = $0 { r } else { .null } })))
            }
            // With watched keys even an EXEC of no operations goes to the node: it answers null if one changed.
            return call(KeyValueStore.pipeline(queued.operations), .transaction(queued.parts))
        case .watch:
            return refuse("ERR WATCH inside MULTI is not allowed")
        case .unwatch:
            queued.parts.append(.reply(.ok))
        case .reply(.error(let message)):
            return refuse(message)
        case .reply(let value):
            queued.parts.append(.reply(value))
        case .replicate(let operation, let form):
            operations = [operation.encoded]
            queued.parts.append(.operation(form))
        case .replicateAll(let ops, let combination):
            operations = ops.map(\.encoded)
            queued.parts.append(.combined(combination, count: ops.count))
        case .setProtocol, .authenticate:
            return refuse("ERR Command not allowed inside a transaction")
        case .quit:
            transaction = nil
            return owed.append(.close(.ok))
        case .reset:
            return reset()
        }
        let bytes = operations.reduce(0) { $0 + $1.count + 4 }
        guard queued.operations.count + operations.count <= Self.transactionLimit,
              queued.bytes + bytes <= limits.maxRequestBytes else {
            return refuse("ERR a transaction is one log entry: at most \(Self.transactionLimit) commands and "
                          + "\(limits.maxRequestBytes) bytes of them")
        }
        queued.operations += operations
        queued.bytes += bytes
        transaction = queued
        owed.append(.ready(.simpleString("QUEUED")))
    }

    /// Whether the credentials are the default user's password, compared in constant time.
    private func accepts(_ credentials: RESPCredentials) -> Bool {
        guard let password, credentials.user == nil || credentials.user == "default" else { return false }
        return constantTimeEquals(SHA256.hash(credentials.password), SHA256.hash(password))  // hides the length too
    }

    /// Writes the replies that are ready in order, and returns what the node must do next, if its turn has come.
    /// Once everything owed is answered, requests that waited in the parser while the backlog was full are taken
    /// at once: the client may have sent its whole pipeline already, and no more bytes (so no read) will come to
    /// resume it. (Without that, a pipeline of 1,000 SETs written in one go was answered 384 times, then never.)
    mutating func nextCall() -> SessionCall? {
        while true {
            if let call = takeOwed() { return call }
            // A call in flight holds the front; a closing connection takes nothing more.
            guard !closing, owedStart == owed.count else { return nil }
            parse()
            if owed.isEmpty { return nil }
        }
    }

    /// Writes the ready replies at the front of what is owed; returns the next call to make, nil when the front is
    /// a call in flight or nothing is owed (then `owed` is empty).
    private mutating func takeOwed() -> SessionCall? {
        parse()
        while owedStart < owed.count {
            switch owed[owedStart] {
            case .ready(let value):
                out.append(value.encoded(protocolVersion: protocolVersion))
                owedStart += 1
            case .unwatch(let value):
                watched = []
                out.append(value.encoded(protocolVersion: protocolVersion))
                owedStart += 1
            case .close(let value):
                out.append(value.encoded(protocolVersion: protocolVersion))
                closing = true
                owed.removeAll()
                owedStart = 0
                owedBytes = 0
                return nil
            case .call(var command, let rendering, let sent, let arrived):
                guard !sent else { return nil }
                if case .transaction = rendering, !watched.isEmpty {
                    // The EXEC's turn: every WATCH before it has read its keys. It runs only if they are unchanged.
                    let guarded = KeyValueStore.guarded(watched, command.operation)
                    owedBytes += guarded.count - command.operation.count
                    command = Command(key: command.key, operation: guarded)
                    watched = []
                }
                owed[owedStart] = .call(command, rendering, sent: true, arrived: arrived)
                guard case .keyValue = rendering else { return .command(command) }
                return .command(pipeline(from: command))
            case .admin(let key, let request, let sent):
                guard !sent else { return nil }
                owed[owedStart] = .admin(key, request, sent: true)
                return .admin(key, request)
            }
        }
        owed.removeAll(keepingCapacity: true)
        owedStart = 0
        return nil
    }

    /// The node's answer to the command in flight.
    mutating func complete(_ key: RequestKey, _ outcome: CallOutcome) {
        if owedStart < owed.count, case .admin(key, _, true) = owed[owedStart] {
            switch outcome {
            case .result(let text): owed[owedStart] = .ready(text.isEmpty ? .ok : .bulkString(text))
            case .unavailable(let message): owed[owedStart] = .ready(.error(message))
            }
            return
        }
        if let pipeline = pipelineInFlight, pipeline.key == key {
            pipelineInFlight = nil
            let results = outcome.results(count: pipeline.count)
            for (i, result) in results.enumerated() { settle(at: owedStart + i, result) }
            return
        }
        guard owedStart < owed.count, case .call(let command, _, true, _) = owed[owedStart], command.key == key else { return }
        settle(at: owedStart, outcome)
    }

    /// Packs the key-value commands the client pipelined behind `first` (sent and answered in order anyway)
    /// into one command, under the last one's request number, so that they share a log entry; `first` alone
    /// when none waits behind it.
    private mutating func pipeline(from first: Command) -> Command {
        var parts = [first.operation], bytes = first.operation.count, last = first.key
        var index = owedStart + 1
        while index < owed.count, parts.count < Self.pipelineLimit, bytes < Self.pipelineBytes,
              case .call(let command, .keyValue(let form), false, let arrived) = owed[index] {
            owed[index] = .call(command, .keyValue(form), sent: true, arrived: arrived)
            parts.append(command.operation)
            bytes += command.operation.count
            last = command.key
            index += 1
        }
        guard parts.count > 1 else { return first }
        pipelineInFlight = (last, parts.count)
        return Command(key: last, operation: KeyValueStore.pipeline(parts))
    }

    /// Turns owed call `index` into its reply.
    private mutating func settle(at index: Int, _ outcome: CallOutcome) {
        guard index < owed.count, case .call(let command, let rendering, true, let arrived) = owed[index] else { return }
        owedBytes -= command.operation.count
        switch outcome {
        case .unavailable(let message):
            // A WATCH that could not read its keys makes the next EXEC run nothing (a digest no key has).
            if case .watch(let keys) = rendering { watched += keys.map { ($0, ByteString()) } }
            owed[index] = .ready(.error(message))
        case .result(let bytes):
            metrics?.counters.committed(after: .now - arrived)
            switch rendering {
            case .raw: owed[index] = .ready(.bulkString(bytes))
            case .keyValue(let form):
                owed[index] = .ready(Self.reply(bytes, form))
            case .combined(let combination, let count):
                owed[index] = .ready(Self.reply(CallOutcome.result(bytes).results(count: count)[...], combination))
            case .watch(let keys):
                guard case .array(let digests)? = try? KeyValueResult(decoding: bytes), digests.count == keys.count else {
                    watched += keys.map { ($0, ByteString()) }  // as for a WATCH that could not read: the EXEC aborts
                    owed[index] = .ready(.error("ERR the state machine answered WATCH with \(bytes.count) bytes that are not digests"))
                    return
                }
                for (key, digest) in zip(keys, digests) {
                    if case .value(let d) = digest { watched.append((key, d)) }
                }
                owed[index] = .ready(.ok)
            case .transaction where bytes == KeyValueStore.abortedTransaction:
                owed[index] = .ready(.null)
            case .transaction(let parts):
                let count = parts.reduce(0) { $0 + $1.operations }
                var results = CallOutcome.result(bytes).results(count: count)[...]
                var replies: [RESPValue] = []
                for part in parts {
                    let mine = results.prefix(part.operations)
                    results = results.dropFirst(part.operations)
                    switch part {
                    case .reply(let value): replies.append(value)
                    case .operation(let form):
                        guard case .result(let b)? = mine.first else { replies.append(mine.first?.errorReply ?? .null); continue }
                        replies.append(Self.reply(b, form))
                    case .combined(let combination, _):
                        replies.append(Self.reply(mine, combination))
                    }
                }
                owed[index] = .ready(.array(replies))
            }
        }
    }
}

extension ClientSession {
    /// A key-value result's bytes as the reply `form` gives.
    static func reply(_ bytes: [UInt8], _ form: RESPReplyForm) -> RESPValue {
        guard let result = try? KeyValueResult(decoding: bytes) else {
            return .error("ERR the state machine answered \(bytes.count) bytes that are not a key-value result")
        }
        return form.reply(to: result)
    }

    /// The results of a command of several keys, combined; the first error if one is not a key-value result.
    static func reply(_ outcomes: ArraySlice<CallOutcome>, _ combination: RESPCombination) -> RESPValue {
        var results: [KeyValueResult] = []
        for outcome in outcomes {
            guard case .result(let bytes) = outcome, let result = try? KeyValueResult(decoding: bytes) else {
                return outcome.errorReply
            }
            results.append(result)
        }
        return combination.reply(to: results)
    }
}

extension RESPAction {
    /// MULTI, EXEC or DISCARD.
    var isTransactionStep: Bool { if case .transaction = self { true } else { false } }
}

extension CallOutcome {
    /// An error reply for an outcome that is not a key-value result.
    var errorReply: RESPValue {
        switch self {
        case .unavailable(let message): .error(message)
        case .result(let bytes): .error("ERR the state machine answered \(bytes.count) bytes that are not a key-value result")
        }
    }

    /// The outcomes of the `count` commands a pipeline carried: each one's result, or the same error for all.
    func results(count: Int) -> [CallOutcome] {
        switch self {
        case .unavailable:
            return Array(repeating: self, count: count)
        case .result(let bytes):
            guard let parts = KeyValueStore.pipelined(bytes), parts.count == count else {
                return Array(repeating: .unavailable("ERR the state machine answered \(bytes.count) bytes that are not "
                                                     + "the results of \(count) pipelined commands"), count: count)
            }
            return parts.map { .result($0) }
        }
    }
}

/// The one command `RemoteClient` adds to RESP: `MPX.SUBMIT <client> <request> <operation>` runs the
/// state-machine operation (raw bytes) as request `request` of client `client`, exactly once however often it
/// is sent to whichever node, and answers with the result's bytes as a bulk string.
enum RemoteProtocol {
    /// The command's name.
    static let submit = "MPX.SUBMIT"

    /// The command a `MPX.SUBMIT` request asks for, or an error text; nil for any other request.
    static func submission(_ args: [[UInt8]]) -> Result<Command, RemoteProtocolError>? {
        guard let name = args.first, name.count == submit.utf8.count,
              String(decoding: name, as: UTF8.self).uppercased() == submit else { return nil }
        guard args.count == 4 else { return .failure(RemoteProtocolError("ERR wrong number of arguments for 'mpx.submit' command")) }
        guard let client = UInt64(String(decoding: args[1], as: UTF8.self)), client != 0,
              let request = UInt64(String(decoding: args[2], as: UTF8.self)), request != 0 else {
            return .failure(RemoteProtocolError("ERR mpx.submit needs a client id and a request number, both positive integers"))
        }
        return .success(Command(key: RequestKey(client: ClientID(client), request: RequestNumber(request)), operation: args[3]))
    }
}

/// An operator's request to a served node, beside the key-value commands.
enum AdminRequest: Equatable, Sendable {
    /// `MPX.TRANSFER <node>`: hand leadership to a voter (`2` or `n2`).
    case transfer(to: NodeID)
    /// `MPX.VOTERS`: the voters as this node applied them.
    case voters
    /// `MPX.ADDVOTER <node>`: make a member (a spare that joined) a voter, through the log.
    case addVoter(NodeID)
    /// `MPX.REMOVEVOTER <node>`: stop a voter voting, through the log.
    case removeVoter(NodeID)

    /// The command's name, as clients spell it.
    var name: String {
        switch self {
        case .transfer: "mpx.transfer"
        case .voters: "mpx.voters"
        case .addVoter: "mpx.addvoter"
        case .removeVoter: "mpx.removevoter"
        }
    }
}

extension RemoteProtocol {
    /// The admin command's name: `MPX.TRANSFER <node>` hands leadership to a member (`2` or `n2`).
    static let transfer = "MPX.TRANSFER"

    /// The admin request `args` make, or an error text; nil for any other request. A node is checked to be an
    /// id (below 64) here, and a member or voter by the node that runs it.
    static func admin(_ args: [[UInt8]]) -> Result<AdminRequest, RemoteProtocolError>? {
        guard let first = args.first, first.count <= 16 else { return nil }
        let name = String(decoding: first, as: UTF8.self).lowercased()
        let make: ((NodeID) -> AdminRequest)?
        switch name {
        case "mpx.transfer": make = { .transfer(to: $0) }
        case "mpx.addvoter": make = { .addVoter($0) }
        case "mpx.removevoter": make = { .removeVoter($0) }
        case "mpx.voters":
            guard args.count == 1 else { return .failure(RemoteProtocolError("ERR wrong number of arguments for 'mpx.voters' command")) }
            return .success(.voters)
        default: return nil
        }
        guard let make, args.count == 2 else {
            return .failure(RemoteProtocolError("ERR wrong number of arguments for '\(name)' command"))
        }
        let text = String(decoding: args[1].prefix(64), as: UTF8.self)
        let digits = text.hasPrefix("n") || text.hasPrefix("N") ? text.dropFirst() : Substring(text)
        guard digits.count <= 2, digits.allSatisfy(\.isASCII), let value = Int(digits), (0..<NodeSet.capacity).contains(value) else {
            return .failure(RemoteProtocolError("ERR \(name): '\(text)' is not a node id (0...63, or n0...n63)"))
        }
        return .success(make(NodeID(value)))
    }
}

/// What a RESP connection asks its node to do next.
enum SessionCall: Equatable, Sendable {
    /// Run a command through the log.
    case command(Command)
    /// An admin request (`MPX.TRANSFER`, `MPX.VOTERS`, ...); `key` names the answer.
    case admin(RequestKey, AdminRequest)

    /// The key the node's answer carries.
    var key: RequestKey {
        switch self {
        case .command(let c): c.key
        case .admin(let key, _): key
        }
    }

    /// The command, if it is one.
    var command: Command? { if case .command(let c) = self { c } else { nil } }
}

/// An error reply's text for a malformed `MPX.SUBMIT`.
struct RemoteProtocolError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
