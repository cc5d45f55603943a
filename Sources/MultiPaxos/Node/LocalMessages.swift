extension Array where Element == Output {
    /// Removes the messages a node sends itself and returns them, so that a real-time shell can hand them to the
    /// node within the same batch (one sync, no trip through its inbox); a broadcast that includes the node keeps
    /// its other destinations. Replies for which `isAnswer` holds stay: they are answers to the shell's clients.
    mutating func takeMessages(to me: NodeID, keeping isAnswer: (Reply) -> Bool) -> [Message] {
        var local: [Message] = []
        var kept: [Output] = []
        kept.reserveCapacity(count)
        for output in self {
            switch output.effect {
            case .send(let message, let to) where to == me:
                if case .reply(let reply) = message, isAnswer(reply) {
                    kept.append(output)
                } else {
                    local.append(message)
                }
            case .broadcast(let message, let to) where to.contains(me):
                local.append(message)
                var others = to
                others.remove(me)
                if !others.isEmpty { kept.append(Output(role: output.role, effect: .broadcast(message, to: others))) }
            default:
                kept.append(output)
            }
        }
        self = kept
        return local
    }
}
