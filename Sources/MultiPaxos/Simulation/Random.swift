/// The simulation's only source of randomness: xoshiro256** seeded through SplitMix64, written here because the
/// system generator cannot be seeded. The same seed gives the same sequence on every machine.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64

    /// Makes a generator whose whole sequence is determined by `seed`.
    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// A uniform integer in 0...bound (Lemire's multiply-shift with rejection, so unbiased).
    public mutating func upTo(_ bound: UInt64) -> UInt64 {
        if bound == .max { return next() }
        let range = bound + 1
        var m = next().multipliedFullWidth(by: range)
        if m.low < range {
            let threshold = (0 &- range) % range
            while m.low < threshold { m = next().multipliedFullWidth(by: range) }
        }
        return m.high
    }

    /// True with probability `p` (0 never draws true, 1 always).
    public mutating func chance(_ p: Double) -> Bool {
        guard p > 0 else { return false }
        return Double(next() >> 11) * 0x1.0p-53 < p
    }
}

/// A binary min-heap of scheduled items ordered by (time, sequence number): simultaneous events keep FIFO order.
/// The heap holds only small plain entries; the items wait in a slab, so sifting never copies or retains them.
struct EventQueue<Item> {
    private struct Entry {
        let time: Microseconds
        let sequence: UInt64
        let index: Int
        @inline(__always) func precedes(_ other: Entry) -> Bool {
            time != other.time ? time < other.time : sequence < other.sequence
        }
    }
    private var heap: [Entry] = []
    private var items: [Item?] = []
    private var free: [Int] = []
    private var nextSequence: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }

    mutating func push(_ item: Item, at time: Microseconds) {
        let index: Int
        if let reused = free.popLast() {
            index = reused
            items[index] = item
        } else {
            index = items.count
            items.append(item)
        }
        heap.append(Entry(time: time, sequence: nextSequence, index: index))
        nextSequence += 1
        var i = heap.count - 1
        let entry = heap[i]
        while i > 0 {
            let parent = (i - 1) / 2
            guard entry.precedes(heap[parent]) else { break }
            heap[i] = heap[parent]
            i = parent
        }
        heap[i] = entry
    }

    mutating func pop() -> (time: Microseconds, item: Item)? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            var i = 0
            let n = heap.count
            while true {
                let l = 2 * i + 1
                guard l < n else { break }
                let r = l + 1
                let child = r < n && heap[r].precedes(heap[l]) ? r : l
                guard heap[child].precedes(last) else { break }
                heap[i] = heap[child]
                i = child
            }
            heap[i] = last
        }
        let item = items[top.index].take()!
        free.append(top.index)
        return (top.time, item)
    }
}
