/// The operations on whole keys (RENAME, COPY, FLUSHDB, SCAN, RANDOMKEY, MSETNX) and the string operations on
/// parts of a value (GETRANGE, SETRANGE, INCRBYFLOAT, DELEX), with Redis's replies and errors.
extension KeyValueStore {
    /// The longest value SETRANGE may make, as Redis's `proto-max-bulk-len` (512 MB).
    static let maximumValueBytes = 512 << 20

    /// A key's place in SCAN's order: a fixed hash of its bytes (64-bit FNV-1a, 0 made 1), the same on every node
    /// and in every build, so that a cursor (the place to go on from) means the same wherever the next call goes:
    /// a scan survives a leader change and a retry through another node. A key present for the whole scan is
    /// returned at least once, because its place never changes and cursors only move forward.
    static func scanPosition(of key: ByteString) -> UInt64 { max(fnv1a(key.bytes), 1) }

    /// The type name TYPE answers for `key`.
    func typeName(of key: ByteString) -> String {
        entries[key] != nil ? "string" : collections[key]?.typeName ?? "none"
    }

    func readKeys(_ operation: KeyValueOperation) -> KeyValueResult? {
        switch operation {
        case .scan(let cursor, let pattern, let count, let type):
            // Every key at or past the cursor, in place order; a page ends after `count` keys, never inside a run
            // of keys that share a place (so that the next cursor skips none of them).
            var ahead = (Array(entries.keys) + Array(collections.keys)).compactMap { key -> (UInt64, ByteString)? in
                let position = Self.scanPosition(of: key)
                return position >= cursor ? (position, key) : nil
            }
            ahead.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            var end = min(count, ahead.count)
            while end < ahead.count, end > 0, ahead[end].0 == ahead[end - 1].0 { end += 1 }
            let next = end < ahead.count ? ahead[end].0 : 0
            let page = ahead[..<end].map(\.1).filter { key in
                (pattern.map { Glob.matches($0.bytes[...], key.bytes[...]) } ?? true)
                    && (type.map { $0.bytes == Array(typeName(of: key).utf8) } ?? true)
            }
            return .array([.value(ByteString(String(next))), .list(page)])
        case .firstKey:
            let all = Array(entries.keys) + Array(collections.keys)
            return .value(all.min { (Self.scanPosition(of: $0), $0) < (Self.scanPosition(of: $1), $1) })
        case .combineSets(let how, let keys, nil):
            return combined(how, keys).map { .list($0.sorted()) } ?? wrongTypeError
        case .substring(let k, let start, let end):
            if collections[k] != nil { return wrongTypeError }
            let bytes = entries[k]?.bytes ?? []
            return .value(ByteString(bytes[Self.positions(start, end, count: bytes.count)]))
        default:
            return nil
        }
    }

    /// The sets at `keys` combined, absent keys as empty sets; nil if a key holds another type.
    private func combined(_ how: SetCombination, _ keys: [ByteString]) -> Set<ByteString>? {
        var sets: [Set<ByteString>] = []
        for key in keys {
            switch (entries[key], collections[key]) {
            case (nil, nil): sets.append([])
            case (nil, .set(let s)?): sets.append(s)
            default: return nil
            }
        }
        let rest = sets.dropFirst()
        switch how {
        case .intersection: return rest.reduce(sets[0]) { $0.intersection($1) }
        case .union: return rest.reduce(sets[0]) { $0.union($1) }
        case .difference: return rest.reduce(sets[0]) { $0.subtracting($1) }
        }
    }

    mutating func applyKeyOperation(_ operation: KeyValueOperation) -> KeyValueResult {
        switch operation {
        case .rename(let from, let to, let onlyIfAbsent):
            guard holdsKey(from) else { return .error("ERR no such key") }
            if onlyIfAbsent, holdsKey(to) { return .integer(0) }
            if from != to {
                let string = entries.removeValue(forKey: from), collection = collections.removeValue(forKey: from)
                let deadline = deadlines.removeValue(forKey: from)
                entries[to] = string
                collections[to] = collection
                setDeadline(to, deadline)  // RENAME carries the deadline along (none: none)
            }
            return onlyIfAbsent ? .integer(1) : .ok
        case .copy(let from, let to, let replace):
            guard holdsKey(from), from != to, replace || !holdsKey(to) else { return .integer(0) }
            entries[to] = entries[from]
            collections[to] = collections[from]
            setDeadline(to, deadlines[from])
            return .integer(1)
        case .flush:
            entries = [:]
            collections = [:]
            deadlines = [:]
            expiryQueue = ExpiryQueue()
            return .ok
        case .putAllIfAbsent(let pairs):
            guard !stride(from: 0, to: pairs.count, by: 2).contains(where: { holdsKey(pairs[$0]) }) else { return .integer(0) }
            for i in stride(from: 0, to: pairs.count - 1, by: 2) { entries[pairs[i]] = pairs[i + 1] }
            return .integer(1)
        case .incrementFloat(let k, let by):
            var current = 0.0
            if let held = entries[k] {
                guard let parsed = RedisNumber.double(held.bytes), parsed.isFinite else { return .error("ERR value is not a valid float") }
                current = parsed
            }
            let sum = current + by
            guard sum.isFinite else { return .error("ERR increment would produce NaN or Infinity") }
            entries[k] = RedisNumber.bytes(sum)
            return .value(entries[k])
        case .overwrite(let k, let offset, let value):
            guard offset + value.count <= Self.maximumValueBytes else {
                return .error("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
            }
            guard !value.isEmpty else { return .integer(Int64(entries[k]?.count ?? 0)) }  // changes nothing, creates no key
            var bytes = entries.removeValue(forKey: k)?.bytes ?? []  // taken out, so that the change copies nothing
            if bytes.count < offset + value.count { bytes += [UInt8](repeating: 0, count: offset + value.count - bytes.count) }
            bytes.replaceSubrange(offset..<(offset + value.count), with: value.bytes)
            entries[k] = ByteString(bytes)
            return .integer(Int64(bytes.count))
        case .deleteIf(let k, let value, let equal):
            guard let held = entries[k], (held == value) == equal else { return .integer(0) }
            entries[k] = nil
            return .integer(1)
        case .moveElement(let from, let to, let fromHead, let toHead):
            // As Redis: an absent source answers nil whatever the destination holds; then both must be lists.
            guard holdsKey(from) else { return .value(nil) }
            guard case .list? = collections[from], entries[to] == nil else { return wrongTypeError }
            if let held = collections[to], case .list = held {} else if collections[to] != nil { return wrongTypeError }
            let deadline = deadlines[from]
            guard case .value(let element?) = apply(.list(.pop(from, atHead: fromHead, count: nil))) else { return .value(nil) }
            _ = apply(.list(.push(to, [element], atHead: toHead, onlyIfExists: false)))
            if from == to, let deadline { deadlines[to] = deadline }  // a rotation keeps the list's deadline
            return .value(element)
        case .moveMember(let from, let to, let member):
            guard holdsKey(from) else { return .integer(0) }
            guard case .set(let source)? = collections[from], entries[to] == nil else { return wrongTypeError }
            if let held = collections[to], case .set = held {} else if collections[to] != nil { return wrongTypeError }
            if from == to { return .integer(source.contains(member) ? 1 : 0) }  // changes nothing, as in Redis
            guard apply(.set(.remove(from, [member]))) == .integer(1) else { return .integer(0) }
            _ = apply(.set(.add(to, [member])))
            return .integer(1)
        case .combineSets(let how, let keys, nil):
            return combined(how, keys).map { .list($0.sorted()) } ?? wrongTypeError
        case .combineSets(let how, let keys, let store?):
            guard let members = combined(how, keys) else { return wrongTypeError }
            entries[store] = nil
            collections[store] = members.isEmpty ? nil : .set(members)
            return .integer(Int64(members.count))
        default:
            preconditionFailure("\(operation) is not a key operation")
        }
    }
}
