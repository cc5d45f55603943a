/// What one `LocalCluster` node loop does with a step's outputs: messages to inboxes, replies to waiting
/// clients, timers as child tasks of the loop; and what it observes on the way: messages counted by kind,
/// events published, catch-up followed, log records at trace level.
struct NodeLoopShell {
    let id: NodeID
    let router: Router
    let hub: EventHub
    let counters: NodeCounters
    /// Whether the node's replica asked a peer for slots it missed, and has not yet stopped needing to.
    private(set) var catchingUp = false

    init(id: NodeID, router: Router, hub: EventHub) {
        self.id = id
        self.router = router
        self.hub = hub
        counters = router.counters[id.value]
    }

    /// Counts the inputs the loop took from the inbox as one batch.
    func took(_ batch: [Input]) {
        counters.inboxInputs.subtract(batch.count, ordering: .relaxed)
        var received = MessageCounts()
        for input in batch {
            switch input {
            case .message(let message, let from):
                received.add(message.kind)
                hub.logger.log(.trace, id, "takes \(message) from \(from)")
            case .timer(let timer):
                hub.logger.log(.trace, id, "takes timer \(timer)")
            }
        }
        counters.add(received: received)
    }

    /// Counts the messages the node sent itself and handled within the batch, as sent and as received.
    func handsItself(_ messages: [Message]) {
        var counts = MessageCounts()
        for message in messages {
            counts.add(message.kind)
            hub.logger.log(.trace, id, "takes \(message) from itself")
        }
        counters.add(sent: counts, received: counts)
    }

    /// Does what a node's roles asked. Returns whether the step asked a peer for missed slots.
    @discardableResult
    mutating func carryOut(_ outputs: [Output], timers: inout DiscardingTaskGroup) -> Bool {
        var askedToCatchUp = false
        // A slot's entries (one per command of a batch, with the answers to clients between them) are published
        // to the committed log together, once the slot's last one has been seen.
        var slotApplied: [CommittedEntry] = []
        func publish() {
            if let slot = slotApplied.first?.slot { router.applied(slot, slotApplied) }
            slotApplied = []
        }
        var (sent, dropped) = (MessageCounts(), MessageCounts())
        defer {
            publish()
            counters.add(sent: sent, dropped: dropped)
        }
        for output in outputs {
            if case .event(.applied(let slot, let value, _, let result)) = output.effect {
                if slotApplied.first.map({ $0.slot != slot }) ?? false { publish() }
                slotApplied.append(CommittedEntry(slot: slot, value: value, result: result))
            }
            switch output.effect {
            case .send(let message, let to):
                sent.add(message.kind)
                if case .reply(let reply) = message, router.complete(reply) { continue }
                if !router.deliver(.message(message, from: id), to: to) { dropped.add(message.kind) }
                switch message {
                case .catchUpRequest(let request):
                    askedToCatchUp = true
                    if !catchingUp {
                        catchingUp = true
                        hub.publish(ClusterEvent(node: id, kind: .catchUpStarted(from: request.from, peer: to)))
                    }
                case .catchUpReply(let reply):
                    if let chunk = reply.chunk, chunk.offset == 0 {
                        hub.publish(ClusterEvent(node: id, kind: .snapshotSent(upTo: chunk.nextSlot, to: to)))
                    }
                default:
                    break
                }
            case .broadcast(let message, let to):
                sent.add(message.kind, UInt64(to.count))
                for destination in to where !router.deliver(.message(message, from: id), to: destination) {
                    dropped.add(message.kind)
                }
            case .setTimer(let timer, let after, let jitter):
                let delay = after + (jitter > 0 ? Microseconds.random(in: 0...jitter) : 0)
                let (router, node) = (router, id)
                timers.addTask {
                    do { try await Task.sleep(for: .microseconds(delay)) } catch { return }
                    router.deliver(.timer(timer), to: node)
                }
            case .event(let event):
                switch event {
                case .installedSnapshot(let slot):
                    publish()
                    router.skipped(to: slot)
                default: break
                }
                if let kind = ClusterEvent.kind(of: event) { hub.publish(ClusterEvent(node: id, kind: kind)) }
            case .install, .uninstall:
                break
            }
        }
        return askedToCatchUp
    }

    /// After a step on `batch`: a catch-up check that asked nobody ends a catch-up.
    mutating func stepped(on batch: [Input], askedToCatchUp: Bool, node: Node) async {
        guard catchingUp, !askedToCatchUp, batch.contains(where: { if case .timer(.catchUp) = $0 { true } else { false } }) else {
            return
        }
        catchingUp = false
        let applied = await node.replica?.nextSlot ?? .zero
        hub.publish(ClusterEvent(node: id, kind: .catchUpFinished(appliedTo: applied)))
    }
}
