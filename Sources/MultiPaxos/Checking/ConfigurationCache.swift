/// The memo of Lowe's search: the configurations (set of operations linearized, state of the key) already
/// explored. An open-addressed table over entries kept in flat arrays, keyed by a hash the caller maintains
/// incrementally, so that neither a lookup nor growth hashes a bit set or a string; a bit set is copied only
/// when it is inserted, and equal hashes are confirmed word by word.
struct ConfigurationCache {
    /// Words per bit set.
    let wordCount: Int
    /// Entries held.
    private(set) var count = 0
    /// Entry `i`'s bit set is `words[i * wordCount ..< (i + 1) * wordCount]`.
    private var words: [UInt64] = []
    private var states: [Int32] = []
    private var hashes: [UInt64] = []
    /// Per slot: the upper 32 bits of the entry's hash, then its index + 1; 0 for an empty slot. A probe tells
    /// most entries apart without touching them; the table is at most 70% full.
    private var slots: [UInt64]
    private var mask: Int

    /// The most entries a cache can hold (entry indices are 32-bit).
    static let capacityLimit = Int(UInt32.max) - 1

    /// An empty cache for bit sets of `wordCount` words.
    init(wordCount: Int) {
        self.wordCount = wordCount
        slots = Array(repeating: 0, count: 256)
        mask = 255
    }

    /// The memory the cache holds, from its arrays' capacities.
    var memory: MemoryEstimate {
        var m = MemoryEstimate()
        m.add(array: words.capacity * 8)
        m.add(array: states.capacity * 4)
        m.add(array: hashes.capacity * 8)
        m.add(table: slots.count * 8)
        return m
    }

    /// Inserts (`bits`, `state`) unless it is there already; returns whether it was new. `hash` must be a hash
    /// of `bits` alone (the state is mixed in here).
    mutating func insert(_ bits: UnsafeBufferPointer<UInt64>, hash: UInt64, state: Int32) -> Bool {
        let h = Self.mix(hash ^ (UInt64(UInt32(bitPattern: state)) &* 0x9E37_79B9_7F4A_7C15))
        let fingerprint = h & 0xFFFF_FFFF_0000_0000
        var i = Int(truncatingIfNeeded: h >> 7) & mask
        while true {
            let slot = slots[i]
            if slot == 0 { break }
            if slot & 0xFFFF_FFFF_0000_0000 == fingerprint {
                let entry = Int(slot & 0xFFFF_FFFF) - 1
                if states[entry] == state && holds(entry, bits) { return false }
            }
            i = (i + 1) & mask
        }
        slots[i] = fingerprint | UInt64(count + 1)
        words.append(contentsOf: bits)
        states.append(state)
        hashes.append(h)
        count += 1
        if count * 10 > slots.count * 7 { grow() }
        return true
    }

    private func holds(_ entry: Int, _ bits: UnsafeBufferPointer<UInt64>) -> Bool {
        let base = entry * wordCount
        return words.withUnsafeBufferPointer { stored in
            for w in 0..<wordCount where stored[base + w] != bits[w] { return false }
            return true
        }
    }

    /// Doubles the table, placing each entry by its stored hash.
    private mutating func grow() {
        let size = slots.count * 2
        var table = [UInt64](repeating: 0, count: size)
        let newMask = size - 1
        for entry in 0..<count {
            let h = hashes[entry]
            var i = Int(truncatingIfNeeded: h >> 7) & newMask
            while table[i] != 0 { i = (i + 1) & newMask }
            table[i] = (h & 0xFFFF_FFFF_0000_0000) | UInt64(entry + 1)
        }
        slots = table
        mask = newMask
    }

    /// A 64-bit finaliser (from MurmurHash3), so that every bit of the input reaches the table index.
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 33)) &* 0xFF51_AFD7_ED55_8CCD
        z = (z ^ (z >> 33)) &* 0xC4CE_B9FE_1A85_EC53
        return z ^ (z >> 33)
    }
}

/// Bytes a search holds, and the most it may briefly need on top while one array or table grows (an array
/// copies into one twice its size; a table is rebuilt beside the old one, twice its size).
struct MemoryEstimate {
    /// Bytes held.
    private(set) var held = 0
    /// The largest extra a single growth may take.
    private(set) var growth = 0

    /// The peak: what is held plus the largest growth.
    var peak: Int { held + growth }

    /// Counts an array of `bytes`.
    mutating func add(array bytes: Int) {
        held += bytes
        growth = max(growth, bytes)
    }

    /// Counts a hash table of `bytes`.
    mutating func add(table bytes: Int) {
        held += bytes
        growth = max(growth, 2 * bytes)
    }

    /// Counts everything `other` counts.
    mutating func add(_ other: MemoryEstimate) {
        held += other.held
        growth = max(growth, other.growth)
    }
}
