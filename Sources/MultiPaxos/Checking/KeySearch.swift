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
    private var stackEntry: [Int32] = []
    private var stackState: [Int32] = []
    private var state: Int32 = 0
    private var cursor: Int32

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
            case (.append, _): (e, a, b) = (.append, states.piece(op.value ?? ""), 0)
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
        head = n
        next = (0..<n).map { Int32($0 + 1) } + [n > 0 ? 0 : -1]
        if n > 0 { next[n - 1] = -1 }
        prev = [Int32(n)] + (0..<n).map { Int32($0) }
        if n == 0 { prev = [-1] }
        cursor = next[n]

        let wordCount = max(1, (operations.count + 63) / 64)
        bits = [UInt64](repeating: 0, count: wordCount)
        cache = ConfigurationCache(wordCount: wordCount)
        var seed: UInt64 = 0x5EED_0F_11_4EA2
        zobrist = operations.indices.map { _ in
            seed &+= 0x9E37_79B9_7F4A_7C15
            return ConfigurationCache.mix(seed)
        }
    }

    /// Bytes the search holds, estimated from its cache and the values it interned.
    var estimatedBytes: Int {
        cache.estimatedBytes + states.estimatedBytes + next.count * 8 + stackEntry.capacity * 8 + longestPrefix.capacity * 8
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
        var budget = limit
        while next[head] >= 0 {
            guard budget > 0 else { return .searching }
            budget -= 1
            steps += 1
            if cursor >= 0 && entryIsCall[Int(cursor)] {
                let op = Int(entryOperation[Int(cursor)])
                let after = transition(state, op)
                if after >= 0 {
                    let word = op >> 6, mask = UInt64(1) << UInt64(op & 63)
                    bits[word] |= mask
                    let hash = bitsHash ^ zobrist[op]
                    let inserted = bits.withUnsafeBufferPointer { cache.insert($0, hash: hash, state: after) }
                    if inserted {
                        stackEntry.append(cursor)
                        stackState.append(state)
                        state = after
                        bitsHash = hash
                        lift(Int(cursor))
                        cursor = next[head]
                        if stackEntry.count > longestPrefix.count {
                            longestPrefix = stackEntry.map { Int(entryOperation[Int($0)]) }
                        }
                        continue
                    }
                    bits[word] &= ~mask
                }
                cursor = next[Int(cursor)]
            } else {
                guard let entry = stackEntry.popLast(), let saved = stackState.popLast() else {
                    status = .notLinearizable
                    return status
                }
                let op = Int(entryOperation[Int(entry)])
                bits[op >> 6] &= ~(UInt64(1) << UInt64(op & 63))
                bitsHash ^= zobrist[op]
                state = saved
                unlift(Int(entry))
                cursor = next[Int(entry)]
            }
        }
        status = .linearizable
        return status
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
        stackEntry = []
        stackState = []
    }
}
