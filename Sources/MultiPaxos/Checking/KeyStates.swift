/// The values one key takes during a search, each named by an Int32 id (0: absent) so that the search keeps,
/// hashes and compares ids rather than strings. Equal strings always get the same id. A value is stored as the
/// value it extends plus one piece (a string of the history), with its length and a polynomial hash kept
/// incrementally, so an append costs a table lookup instead of building and hashing a longer string each time;
/// strings are compared byte by byte only when two values' lengths and hashes agree.
struct KeyStates {
    /// The distinct strings of the history (written, appended, read, expected).
    private var pieces: [ByteString] = []
    private var pieceIDs: [ByteString: Int32] = [:]
    private var pieceLength: [Int] = []
    private var pieceHash: [UInt64] = []
    /// `base` to the power of the piece's length (for extending a hash).
    private var piecePower: [UInt64] = []
    private var pieceBytes = 0

    /// Per value: the value it extends (0: the empty string), the piece after it, its length and hash.
    private var parent: [Int32] = [0]
    private var piece: [Int32] = [-1]
    private var length: [Int] = [0]
    private var hash: [UInt64] = [0]
    /// Values by length and hash: the first one, then a chain through `sameHash`.
    private var byHash = IntMap()
    private var sameHash: [Int32] = [-1]
    /// Memo of `appending`: (value << 32 | piece) -> value.
    private var appended = IntMap()

    /// The base of the polynomial hash: a value's hash is the sum of byte i times base^(length - 1 - i).
    static let base: UInt64 = 0x100_0000_01B3

    /// How many distinct values there are (absent included).
    var count: Int { parent.count }

    /// The memory held, from the arrays and tables.
    var memory: MemoryEstimate {
        var m = MemoryEstimate()
        m.add(array: parent.capacity * 4)
        m.add(array: piece.capacity * 4)
        m.add(array: length.capacity * 8)
        m.add(array: hash.capacity * 8)
        m.add(array: sameHash.capacity * 4)
        m.add(table: byHash.bytes)
        m.add(table: appended.bytes)
        m.add(array: pieceBytes + pieceIDs.capacity * 32)
        return m
    }

    /// The id of the whole value `value` (nil: absent).
    mutating func value(_ value: ByteString?) -> Int32 {
        guard let value else { return 0 }
        return intern(parent: 0, piece: piece(value))
    }

    /// The id of the piece `string`, adding it if new.
    mutating func piece(_ string: ByteString) -> Int32 {
        if let id = pieceIDs[string] { return id }
        let id = Int32(truncatingIfNeeded: pieces.count)
        pieces.append(string)
        pieceIDs[string] = id
        var h: UInt64 = 0, power: UInt64 = 1
        for byte in string.bytes {
            h = h &* Self.base &+ UInt64(byte)
            power = power &* Self.base
        }
        pieceLength.append(string.count)
        pieceBytes += string.count + 64
        pieceHash.append(h)
        piecePower.append(power)
        return id
    }

    /// The value `state` followed by piece `p` (an absent key counts as the empty string).
    mutating func appending(_ state: Int32, _ p: Int32) -> Int32 {
        if state != 0 && pieceLength[Int(p)] == 0 { return state }
        let memo = UInt64(UInt32(bitPattern: state)) << 32 | UInt64(UInt32(bitPattern: p))
        if let known = appended[memo] { return known }
        let result = intern(parent: state, piece: p)
        appended[memo] = result
        return result
    }

    /// The id of (`parent` followed by `p`), the same as any equal value's.
    private mutating func intern(parent up: Int32, piece p: Int32) -> Int32 {
        let newLength = length[Int(up)] + pieceLength[Int(p)]
        let newHash = hash[Int(up)] &* piecePower[Int(p)] &+ pieceHash[Int(p)]
        let key = Self.hashKey(newHash, newLength)
        let first = byHash[key] ?? -1
        var candidate = first
        var bytes: [UInt8]?
        while candidate >= 0 {
            let c = Int(candidate)
            if length[c] == newLength && hash[c] == newHash {
                if bytes == nil { bytes = self.bytes(up) + pieces[Int(p)].bytes }
                if self.bytes(candidate) == bytes { return candidate }
            }
            candidate = sameHash[c]
        }
        let id = Int32(truncatingIfNeeded: parent.count)
        parent.append(up)
        piece.append(p)
        length.append(newLength)
        hash.append(newHash)
        sameHash.append(first)
        byHash[key] = id
        return id
    }

    private static func hashKey(_ h: UInt64, _ length: Int) -> UInt64 {
        let k = ConfigurationCache.mix(h ^ UInt64(truncatingIfNeeded: length) &* 0x9E37_79B9_7F4A_7C15)
        return k == IntMap.empty ? k - 1 : k
    }

    /// The UTF-8 bytes of value `state` (empty for absent).
    private func bytes(_ state: Int32) -> [UInt8] {
        var parts: [Int32] = []
        var s = state
        while s != 0 {
            parts.append(piece[Int(s)])
            s = parent[Int(s)]
        }
        var out: [UInt8] = []
        out.reserveCapacity(length[Int(state)])
        for p in parts.reversed() { out += pieces[Int(p)].bytes }
        return out
    }

    /// The length in bytes of value `state` (0 for absent).
    func length(_ state: Int32) -> Int { length[Int(state)] }

    /// The polynomial hash of value `state`'s bytes (0 for absent).
    func hash(_ state: Int32) -> UInt64 { hash[Int(state)] }

    /// The bytes of value `state` as a byte string (nil: absent).
    func string(_ state: Int32) -> ByteString? {
        state == 0 ? nil : ByteString(bytes(state))
    }
}

/// An open-addressed map from 64-bit keys (never `IntMap.empty`) to Int32, at most half full; keys are assumed
/// well mixed or are mixed here.
struct IntMap {
    /// The key that marks an empty slot.
    static let empty = UInt64.max
    private struct Slot {
        var key = IntMap.empty
        var value: Int32 = 0
    }
    /// Keys and values side by side, so that a probe touches one cache line.
    private var slots = [Slot](repeating: Slot(), count: 64)
    private(set) var count = 0

    /// Bytes held.
    var bytes: Int { slots.count * MemoryLayout<Slot>.stride }

    /// The value of `key`; setting nil does nothing (entries are never removed).
    subscript(key: UInt64) -> Int32? {
        get {
            let mask = slots.count - 1
            var i = Int(truncatingIfNeeded: ConfigurationCache.mix(key)) & mask
            while true {
                let slot = slots[i]
                if slot.key == key { return slot.value }
                if slot.key == Self.empty { return nil }
                i = (i + 1) & mask
            }
        }
        set {
            guard let newValue else { return }
            let mask = slots.count - 1
            var i = Int(truncatingIfNeeded: ConfigurationCache.mix(key)) & mask
            while slots[i].key != key && slots[i].key != Self.empty { i = (i + 1) & mask }
            if slots[i].key == Self.empty { count += 1 }
            slots[i] = Slot(key: key, value: newValue)
            if count * 2 > slots.count { grow() }
        }
    }

    private mutating func grow() {
        let old = slots
        slots = [Slot](repeating: Slot(), count: old.count * 2)
        let mask = slots.count - 1
        for slot in old where slot.key != Self.empty {
            var i = Int(truncatingIfNeeded: ConfigurationCache.mix(slot.key)) & mask
            while slots[i].key != Self.empty { i = (i + 1) & mask }
            slots[i] = slot
        }
    }
}
