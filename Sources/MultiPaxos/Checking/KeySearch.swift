/// Wing and Gong's search with Lowe's memoisation (as in porcupine) over one key's operations, resumable: `run`
/// takes a number of steps and returns, so that many keys can be searched in turns and none hides another.
struct KeySearch {
    /// Where the search stands.
    enum Status: Equatable {
        case searching, linearizable, notLinearizable
    }

    /// The key's operations, in call order.
    let operations: [KeyOperation]
    /// Steps taken so far (one per candidate tried or backtrack).
    private(set) var steps = 0
    /// The longest sequence of operations (indices into `operations`) found to linearize.
    private(set) var longestPrefix: [Int] = []
    private(set) var status = Status.searching

    private var states = KeyStates()
    /// What each operation does to the key: a transition kind and up to two value or piece ids.
    private enum Effect: UInt8 { case read, readAny, write, remove, append, swap, swapFailed, swapMaybe }
    private let effect: [Effect]
    private let argument: [Int32], secondArgument: [Int32]

    // Entries: a call and a return per operation in time order, as a doubly linked list with a head sentinel
    // at index `head`; -1 ends the list.
    private let entryOperation: [Int32]
    private let entryIsCall: [Bool]
    private let returnEntry: [Int32]
    private var next: [Int32], prev: [Int32]
    private let head: Int

    private var bits: [UInt64]
    private var bitsHash: UInt64 = 0
    /// A random 64-bit word per operation; a set's hash is the xor of its members' words (Zobrist hashing).
    private let zobrist: [UInt64]
    private(set) var cache: ConfigurationCache
    /// One level of the search: the operation placed, the state before it, and where its node's candidates are.
    private struct Frame {
        let operation: Int32
        let state: Int32
        let tryIndex: Int32
        let start: Int32
    }
    private var frames: [Frame] = []
    /// The candidates of every node on the path, the current node's last, from `nodeStart`.
    private var candidates: [Int32] = []
    private var nodeStart = 0
    /// The current node's next candidate.
    private var tryIndex = 0
    private var started = false
    private var state: Int32 = 0
    private let callEntry: [Int32]
    private var deadlines: ReadDeadlines

    /// Prepares the search over `operations` (one key's, in call order).
    init(operations: [KeyOperation]) {
        self.operations = operations
        var states = KeyStates()
        var effect: [Effect] = [], argument: [Int32] = [], secondArgument: [Int32] = []
        for op in operations {
            let (e, a, b): (Effect, Int32, Int32)
            switch (op.function, op.outcome) {
            case (.get, .ok): (e, a, b) = (.read, states.value(op.output), 0)
            case (.get, _): (e, a, b) = (.readAny, 0, 0)
            case (.put, _): (e, a, b) = (.write, states.value(op.value), 0)
            case (.delete, _): (e, a, b) = (.remove, 0, 0)
            case (.append, _): (e, a, b) = (.append, states.piece(op.value ?? ByteString()), 0)
            case (.cas, .ok): (e, a, b) = (.swap, states.value(op.expected), states.value(op.value))
            case (.cas, .fail): (e, a, b) = (.swapFailed, states.value(op.expected), 0)
            case (.cas, _): (e, a, b) = (.swapMaybe, states.value(op.expected), states.value(op.value))
            }
            effect.append(e)
            argument.append(a)
            secondArgument.append(b)
        }
        self.states = states
        self.effect = effect
        self.argument = argument
        self.secondArgument = secondArgument

        // An unknown outcome may take effect any time after its call: its return goes after every event.
        let end = Int.max
        var order: [(time: Int, isCall: Bool, operation: Int)] = []
        for (i, op) in operations.enumerated() {
            order.append((op.callEvent, true, i))
            order.append((op.isUnknown ? end : (op.returnEvent ?? end), false, i))
        }
        order.sort { $0.time != $1.time ? $0.time < $1.time : ($0.isCall && !$1.isCall) }
        let n = order.count
        entryOperation = order.map { Int32($0.operation) }
        entryIsCall = order.map(\.isCall)
        var returns = [Int32](repeating: 0, count: operations.count)
        for (i, e) in order.enumerated() where !e.isCall { returns[e.operation] = Int32(i) }
        returnEntry = returns
        var calls = [Int32](repeating: 0, count: operations.count)
        for (i, e) in order.enumerated() where e.isCall { calls[e.operation] = Int32(i) }
        callEntry = calls
        let written = effect.indices.map { i -> ReadDeadlines.Value? in
            let value: Int32
            switch effect[i] {
            case .write: value = argument[i]
            case .remove: value = 0
            case .swap, .swapMaybe: value = secondArgument[i]
            case .read, .readAny, .append, .swapFailed: return nil
            }
            return ReadDeadlines.Value(absent: value == 0, length: states.length(value), hash: states.hash(value))
        }
        deadlines = ReadDeadlines(operations: operations, callEntry: calls, written: written)
        head = n
        next = (0..<n).map { Int32($0 + 1) } + [n > 0 ? 0 : -1]
        if n > 0 { next[n - 1] = -1 }
        prev = [Int32(n)] + (0..<n).map { Int32($0) }
        if n == 0 { prev = [-1] }

        let wordCount = max(1, (operations.count + 63) / 64)
        bits = [UInt64](repeating: 0, count: wordCount)
        cache = ConfigurationCache(wordCount: wordCount)
        var seed: UInt64 = 0x5EED_0F11_4EA2
        zobrist = operations.indices.map { _ in
            seed &+= 0x9E37_79B9_7F4A_7C15
            return ConfigurationCache.mix(seed)
        }
    }

    /// The memory the search holds, estimated from its cache and the values it interned.
    var memory: MemoryEstimate {
        var m = cache.memory
        m.add(states.memory)
        m.add(array: next.count * 8 + deadlines.bytes + operations.count * 64)
        m.add(array: frames.capacity * 16)
        m.add(array: candidates.capacity * 4)
        m.add(array: longestPrefix.capacity * 8)
        return m
    }

    /// The model: the value after operation `op` from `state`, or -1 when its observed outcome is impossible there.
    private mutating func transition(_ state: Int32, _ op: Int) -> Int32 {
        let a = argument[op]
        switch effect[op] {
        case .read: return state == a ? state : -1
        case .readAny: return state
        case .write: return a
        case .remove: return 0
        case .append: return states.appending(state, a)
        case .swap: return state == a ? secondArgument[op] : -1
        case .swapFailed: return state != a ? state : -1
        case .swapMaybe: return state == a ? secondArgument[op] : state
        }
    }

    /// Searches for at most `limit` more steps; returns where the search stands.
    mutating func run(steps limit: Int) -> Status {
        guard status == .searching else { return status }
        if !started {
            started = true
            appendCandidates()
        }
        var budget = limit
        while next[head] >= 0 {
            guard budget > 0 else { return .searching }
            budget -= 1
            steps += 1
            if tryIndex < candidates.count {
                let op = Int(candidates[tryIndex])
                tryIndex += 1
                let after = transition(state, op)
                guard after >= 0 else { continue }
                let word = op >> 6, mask = UInt64(1) << UInt64(op & 63)
                bits[word] |= mask
                let hash = bitsHash ^ zobrist[op]
                let inserted = bits.withUnsafeBufferPointer { cache.insert($0, hash: hash, state: after) }
                guard inserted else {
                    bits[word] &= ~mask
                    continue
                }
                frames.append(Frame(operation: Int32(op), state: state, tryIndex: Int32(tryIndex), start: Int32(nodeStart)))
                state = after
                bitsHash = hash
                lift(Int(callEntry[op]))
                deadlines.remove(op)
                appendCandidates()
                if frames.count > longestPrefix.count { longestPrefix = frames.map { Int($0.operation) } }
            } else {
                guard let frame = frames.popLast() else {
                    status = .notLinearizable
                    return status
                }
                candidates.removeSubrange(nodeStart...)
                let op = Int(frame.operation)
                bits[op >> 6] &= ~(UInt64(1) << UInt64(op & 63))
                bitsHash ^= zobrist[op]
                state = frame.state
                unlift(Int(callEntry[op]))
                deadlines.restore(op)
                tryIndex = Int(frame.tryIndex)
                nodeStart = Int(frame.start)
            }
        }
        status = .linearizable
        return status
    }

    /// The operations that may come next (those called before the first pending completion, in call order)
    /// become the current node's candidates. If one of them only reads (a get, a failed cas) and fits the
    /// current value, it alone is the candidate: placing it now loses nothing, since it changes nothing and no
    /// remaining operation has to precede it, so any linearization that places it later still works with it
    /// moved here. This keeps reads from multiplying the configurations. And if a get that does not fit can
    /// never fit before it completed (`ReadDeadlines`), the node has no candidates at all.
    private mutating func appendCandidates() {
        nodeStart = candidates.count
        tryIndex = nodeStart
        var e = next[head]
        let current = ReadDeadlines.Value(absent: state == 0, length: states.length(state), hash: states.hash(state))
        while e >= 0 && entryIsCall[Int(e)] {
            let op = entryOperation[Int(e)]
            if readsOnly(Int(op)) {
                if transition(state, Int(op)) >= 0 {
                    candidates.removeSubrange(nodeStart...)
                    candidates.append(op)
                    return
                }
                if effect[Int(op)] == .read && deadlines.isHopeless(Int(op), due: returnEntry[Int(op)], current: current) {
                    candidates.removeSubrange(nodeStart...)
                    return
                }
            }
            candidates.append(op)
            e = next[Int(e)]
        }
    }

    /// Whether operation `op` never changes the key.
    private func readsOnly(_ op: Int) -> Bool {
        switch effect[op] {
        case .read, .readAny, .swapFailed: true
        case .write, .remove, .append, .swap, .swapMaybe: false
        }
    }

    /// Takes an operation's call and return entries out of the list.
    private mutating func lift(_ call: Int) {
        let ret = Int(returnEntry[Int(entryOperation[call])])
        next[Int(prev[call])] = next[call]
        if next[call] >= 0 { prev[Int(next[call])] = prev[call] }
        next[Int(prev[ret])] = next[ret]
        if next[ret] >= 0 { prev[Int(next[ret])] = prev[ret] }
    }

    /// Puts them back, in the reverse order.
    private mutating func unlift(_ call: Int) {
        let ret = Int(returnEntry[Int(entryOperation[call])])
        next[Int(prev[ret])] = Int32(ret)
        if next[ret] >= 0 { prev[Int(next[ret])] = Int32(ret) }
        next[Int(prev[call])] = Int32(call)
        if next[call] >= 0 { prev[Int(next[call])] = Int32(call) }
    }

    /// Frees what the search holds once it is decided (the verdict and longest prefix stay).
    mutating func release() {
        cache = ConfigurationCache(wordCount: 1)
        states = KeyStates()
        frames = []
        candidates = []
    }
}
