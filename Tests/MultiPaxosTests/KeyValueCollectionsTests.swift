import Testing
@testable import MultiPaxos

/// The store's hashes, lists, sets and sorted sets answer as Redis 7 does (replies written from Redis's command
/// documentation), with keys, fields and members that are not UTF-8.
@Suite struct KeyValueCollectionsTests {
    let binary = ByteString([0xFF, 0x00, 0xC3])

    @Test func hashesSetGetCountAndDelete() {
        var kv = KeyValueStore()
        #expect(kv.apply(.hash(.set(binary, fieldsAndValues: ["f", "1", binary, binary, "f", "2"]))) == .integer(2))
        #expect(kv.apply(.hash(.get(binary, field: "f"))) == .value("2"), "a later pair wins")
        #expect(kv.apply(.hash(.get(binary, field: binary))) == .value(binary))
        #expect(kv.apply(.hash(.getMany(binary, fields: ["f", "nope"]))) == .array([.value("2"), .value(nil)]))
        #expect(kv.apply(.hash(.getAll(binary))) == .list(["f", "2", binary, binary]), "fields in byte order, each with its value")
        #expect(kv.apply(.hash(.fields(binary))) == .list(["f", binary]), "fields in byte order")
        #expect(kv.apply(.hash(.values(binary))) == .list(["2", binary]))
        #expect(kv.apply(.hash(.length(binary))) == .integer(2))
        #expect(kv.apply(.hash(.exists(binary, field: "f"))) == .integer(1))
        #expect(kv.apply(.hash(.valueLength(binary, field: binary))) == .integer(3))
        #expect(kv.apply(.hash(.setIfAbsent(binary, field: "f", value: "x"))) == .integer(0))
        #expect(kv.apply(.hash(.setIfAbsent(binary, field: "g", value: "x"))) == .integer(1))
        #expect(kv.apply(.hash(.increment(binary, field: "f", by: 40))) == .integer(42))
        #expect(kv.apply(.hash(.increment(binary, field: "g", by: 1))) == .error("ERR hash value is not an integer"))
        #expect(kv.apply(.hash(.incrementFloat(binary, field: "h", by: 10.5))) == .value("10.5"))
        #expect(kv.apply(.hash(.incrementFloat(binary, field: "h", by: 0.5))) == .value("11"), "an integral float has no fraction")
        #expect(kv.apply(.hash(.delete(binary, fields: ["f", "g", "h", "nope"]))) == .integer(3))
        #expect(kv.apply(.hash(.delete(binary, fields: [binary]))) == .integer(1))
        #expect(kv.apply(.type(binary)) == .value("none") && kv.apply(.count) == .integer(0), "an emptied hash is removed")
        #expect(kv.apply(.hash(.getAll("absent"))) == .list([]) && kv.apply(.hash(.length("absent"))) == .integer(0))
    }

    @Test func listsPushPopRangeAndEdit() {
        var kv = KeyValueStore()
        #expect(kv.apply(.list(.push(binary, ["a"], atHead: true, onlyIfExists: true))) == .integer(0), "LPUSHX on no list")
        #expect(kv.apply(.list(.push(binary, ["b", "a"], atHead: true, onlyIfExists: false))) == .integer(2))
        #expect(kv.apply(.list(.push(binary, ["c", binary, "c"], atHead: false, onlyIfExists: true))) == .integer(5))
        #expect(kv.apply(.list(.range(binary, start: 0, stop: -1))) == .list(["a", "b", "c", binary, "c"]))
        #expect(kv.apply(.list(.range(binary, start: -2, stop: 100))) == .list([binary, "c"]))
        #expect(kv.apply(.list(.range(binary, start: 3, stop: 1))) == .list([]))
        #expect(kv.apply(.list(.element(binary, at: -2))) == .value(binary))
        #expect(kv.apply(.list(.element(binary, at: 5))) == .value(nil))
        #expect(kv.apply(.list(.set(binary, at: 1, "B"))) == .ok)
        #expect(kv.apply(.list(.set(binary, at: 9, "B"))) == .error("ERR index out of range"))
        #expect(kv.apply(.list(.set("absent", at: 0, "B"))) == .error("ERR no such key"))
        #expect(kv.apply(.list(.remove(binary, count: -1, "c"))) == .integer(1), "LREM from the tail")
        #expect(kv.apply(.list(.range(binary, start: 0, stop: -1))) == .list(["a", "B", "c", binary]))
        #expect(kv.apply(.list(.trim(binary, start: 1, stop: -2))) == .ok)
        #expect(kv.apply(.list(.range(binary, start: 0, stop: -1))) == .list(["B", "c"]))
        #expect(kv.apply(.list(.pop(binary, atHead: false, count: nil))) == .value("c"))
        #expect(kv.apply(.list(.pop(binary, atHead: true, count: 5))) == .list(["B"]))
        #expect(kv.apply(.list(.pop(binary, atHead: true, count: 5))) == .value(nil), "a count on no list answers null")
        #expect(kv.apply(.exists(binary)) == .integer(0))
    }

    @Test func aListPoppedAtAlternatingEndsKeepsItsOrder() {
        var list = ByteList()
        var model: [ByteString] = []
        for i in 0..<200 {
            let v = ByteString(String(i))
            switch i % 5 {
            case 0, 1: list.pushBack(v); model.append(v)
            case 2: list.pushFront(v); model.insert(v, at: 0)
            case 3: #expect(list.popFront() == model.first); if !model.isEmpty { model.removeFirst() }
            default: #expect(list.popBack() == model.last); if !model.isEmpty { model.removeLast() }
            }
            #expect(list.elements == model && list.count == model.count)
        }
        #expect(ByteList(model) == list, "equal by elements however they are split")
    }

    @Test func setsAddRemoveAndPopTheLowestMembers() {
        var kv = KeyValueStore()
        #expect(kv.apply(.set(.add(binary, ["b", "a", "b", binary]))) == .integer(3))
        #expect(kv.apply(.set(.members(binary))) == .list(["a", "b", binary]))
        #expect(kv.apply(.set(.contains(binary, "a"))) == .integer(1))
        #expect(kv.apply(.set(.containsEach(binary, ["a", "z"]))) == .array([.integer(1), .integer(0)]))
        #expect(kv.apply(.set(.cardinality(binary))) == .integer(3))
        #expect(kv.apply(.set(.remove(binary, ["a", "z"]))) == .integer(1))
        #expect(kv.apply(.set(.pop(binary, count: nil))) == .value("b"), "every replica pops the same member")
        #expect(kv.apply(.set(.pop(binary, count: 9))) == .list([binary]))
        #expect(kv.apply(.set(.pop(binary, count: nil))) == .value(nil) && kv.apply(.count) == .integer(0))
    }

    @Test func sortedSetsOrderByScoreThenBytes() {
        var kv = KeyValueStore()
        let members = [ScoredMember(score: 2, member: "b"), ScoredMember(score: 1, member: binary), ScoredMember(score: 2, member: "a")]
        #expect(kv.apply(.sortedSet(.add("z", members, []))) == .integer(3))
        #expect(kv.apply(.sortedSet(.range("z", start: 0, stop: -1, reverse: false, withScores: true)))
                == .list([binary, "1", "a", "2", "b", "2"]))
        #expect(kv.apply(.sortedSet(.range("z", start: 0, stop: 0, reverse: true, withScores: false))) == .list(["b"]))
        #expect(kv.apply(.sortedSet(.rank("z", "a", reverse: false))) == .integer(1))
        #expect(kv.apply(.sortedSet(.rank("z", "a", reverse: true))) == .integer(1))
        #expect(kv.apply(.sortedSet(.rank("z", "nope", reverse: false))) == .value(nil))
        #expect(kv.apply(.sortedSet(.score("z", binary))) == .value("1"))
        #expect(kv.apply(.sortedSet(.scores("z", ["a", "nope"]))) == .array([.value("2"), .value(nil)]))
        #expect(kv.apply(.sortedSet(.count("z", min: ScoreBound(1, exclusive: true), max: ScoreBound(.infinity)))) == .integer(2))
        let byScore = SortedSetOperation.rangeByScore("z", from: ScoreBound(.infinity), to: ScoreBound(-.infinity), reverse: true,
                                                      offset: 1, limit: 1, withScores: false)
        #expect(kv.apply(.sortedSet(byScore)) == .list(["a"]))
        // Conditions: XX does not add, NX does not update, GT only raises, CH counts changes, INCR answers the score.
        #expect(kv.apply(.sortedSet(.add("z", [ScoredMember(score: 5, member: "c")], .onlyExisting))) == .integer(0))
        #expect(kv.apply(.sortedSet(.add("z", [ScoredMember(score: 5, member: "a")], .onlyNew))) == .integer(0))
        #expect(kv.apply(.sortedSet(.add("z", [ScoredMember(score: 0, member: "a"), ScoredMember(score: 3, member: "b")],
                                           [.onlyGreater, .countChanged]))) == .integer(1))
        #expect(kv.apply(.sortedSet(.add("z", [ScoredMember(score: 0.5, member: "a")], .increment))) == .value("2.5"))
        #expect(kv.apply(.sortedSet(.add("z", [ScoredMember(score: -.infinity, member: "a")], .increment))) == .value("-inf"))
        #expect(kv.apply(.sortedSet(.add("z", [ScoredMember(score: .infinity, member: "a")], .increment)))
                == .error("ERR resulting score is not a number (NaN)"))
        #expect(kv.apply(.sortedSet(.pop("z", count: 2, highest: false))) == .list(["a", "-inf", binary, "1"]))
        #expect(kv.apply(.sortedSet(.pop("z", count: 1, highest: true))) == .list(["b", "3"]))
        #expect(kv.apply(.sortedSet(.remove("z", ["b", "nope"]))) == .integer(0))
        #expect(kv.apply(.sortedSet(.cardinality("z"))) == .integer(0) && kv.apply(.type("z")) == .value("none"))
    }

    @Test func eachTypeRefusesTheOthersOperations() {
        var kv = KeyValueStore()
        _ = kv.apply(.put("s", "1"))
        _ = kv.apply(.hash(.set("h", fieldsAndValues: ["f", "v"])))
        _ = kv.apply(.list(.push("l", ["x"], atHead: true, onlyIfExists: false)))
        _ = kv.apply(.set(.add("S", ["m"])))
        _ = kv.apply(.sortedSet(.add("z", [ScoredMember(score: 1, member: "m")], [])))
        #expect(["s", "h", "l", "S", "z"].map { kv.apply(.type($0)) } == ["string", "hash", "list", "set", "zset"].map { .value(ByteString($0)) })
        let before = kv
        for key: ByteString in ["s", "l", "S", "z"] { #expect(kv.apply(.hash(.set(key, fieldsAndValues: ["f", "v"]))) == wrongTypeError) }
        for key: ByteString in ["s", "h", "S", "z"] { #expect(kv.apply(.list(.pop(key, atHead: true, count: nil))) == wrongTypeError) }
        for key: ByteString in ["s", "h", "l", "z"] { #expect(kv.apply(.set(.members(key))) == wrongTypeError) }
        for key: ByteString in ["s", "h", "l", "S"] { #expect(kv.apply(.sortedSet(.score(key, "m"))) == wrongTypeError) }
        for key: ByteString in ["h", "l", "S", "z"] {
            #expect(kv.apply(.get(key)) == wrongTypeError && kv.apply(.append(key, "x")) == wrongTypeError)
            #expect(kv.apply(.increment(key, by: 1)) == wrongTypeError && kv.apply(.getAndDelete(key)) == wrongTypeError)
            #expect(kv.apply(.compareAndSet(key, expected: nil, new: "x")) == .mismatch(current: nil), "SETNX: the key exists")
        }
        #expect(kv == before, "a refused operation changes nothing")
        #expect(kv.apply(.count) == .integer(5) && kv.apply(.keys(matching: "*")) == .list(["S", "h", "l", "s", "z"]))
        #expect(kv.apply(.put("h", "now a string")) == .ok && kv.apply(.get("h")) == .value("now a string"), "SET replaces any type")
        #expect(kv.apply(.delete("l")) == .integer(1) && kv.apply(.exists("l")) == .integer(0))
        #expect(kv.apply(.count) == .integer(4))
    }

    @Test func readsAreAnsweredWithoutTheLogAndWritesAreNot() {
        var kv = KeyValueStore()
        _ = kv.apply(.hash(.set("h", fieldsAndValues: ["f", "v"])))
        #expect(kv.query(KeyValueOperation.hash(.get("h", field: "f")).encoded) == KeyValueResult.value("v").encoded)
        #expect(kv.query(KeyValueOperation.type("h").encoded) == KeyValueResult.value("hash").encoded)
        #expect(kv.query(KeyValueOperation.exists("h").encoded) == KeyValueResult.integer(1).encoded)
        #expect(kv.query(KeyValueOperation.hash(.delete("h", fields: ["f"])).encoded) == nil)
        #expect(kv.query(KeyValueOperation.list(.pop("h", atHead: true, count: nil)).encoded) == nil)
        #expect(kv.query(KeyValueOperation.set(.pop("h", count: 1)).encoded) == nil)
        #expect(kv.query(KeyValueOperation.sortedSet(.pop("h", count: 1, highest: true)).encoded) == nil)
    }

    @Test func operationsAndResultsRoundTrip() throws {
        let z = [ScoredMember(score: -.infinity, member: binary), ScoredMember(score: 1.5, member: "m")]
        let ops: [KeyValueOperation] = [
            .type(binary), .exists(binary),
            .hash(.set(binary, fieldsAndValues: [binary, "v"])), .hash(.setIfAbsent("k", field: "f", value: binary)),
            .hash(.get("k", field: "f")), .hash(.getMany("k", fields: [])), .hash(.getAll("k")), .hash(.delete("k", fields: ["a"])),
            .hash(.exists("k", field: "f")), .hash(.length("k")), .hash(.fields("k")), .hash(.values("k")),
            .hash(.increment("k", field: "f", by: .min)), .hash(.incrementFloat("k", field: "f", by: -0.25)), .hash(.valueLength("k", field: "f")),
            .list(.push(binary, ["a", binary], atHead: true, onlyIfExists: true)), .list(.pop("k", atHead: false, count: nil)),
            .list(.pop("k", atHead: true, count: 3)), .list(.range("k", start: -1, stop: .max)), .list(.length("k")),
            .list(.element("k", at: -3)), .list(.set("k", at: 2, binary)), .list(.remove("k", count: .min, "v")), .list(.trim("k", start: 1, stop: -1)),
            .set(.add("k", [binary])), .set(.remove("k", ["a"])), .set(.members("k")), .set(.contains("k", "m")),
            .set(.containsEach("k", ["m", binary])), .set(.cardinality("k")), .set(.pop("k", count: nil)), .set(.pop("k", count: 0)),
            .sortedSet(.add(binary, z, [.onlyGreater, .countChanged])), .sortedSet(.remove("k", ["m"])), .sortedSet(.score("k", "m")),
            .sortedSet(.scores("k", ["m"])), .sortedSet(.cardinality("k")),
            .sortedSet(.count("k", min: ScoreBound(-1, exclusive: true), max: ScoreBound(.infinity))),
            .sortedSet(.rank("k", "m", reverse: true)), .sortedSet(.range("k", start: 0, stop: -1, reverse: true, withScores: true)),
            .sortedSet(.rangeByScore("k", from: ScoreBound(2), to: ScoreBound(1, exclusive: true), reverse: true, offset: 1, limit: -1, withScores: false)),
            .sortedSet(.pop("k", count: 2, highest: true)),
            .list(.insert("k", before: false, pivot: binary, "v")), .list(.position("k", binary, rank: -2, count: 0, maxLength: 10)),
            .list(.position("k", "v", rank: 1, count: nil, maxLength: 0)), .set(.someMembers("k", count: -3)), .set(.someMembers("k", count: nil)),
            .sortedSet(.removeByScore("k", min: ScoreBound(-.infinity), max: ScoreBound(0, exclusive: true))),
            .sortedSet(.removeByRank("k", start: 0, stop: -2)), .moveElement("a", to: binary, fromHead: false, toHead: true),
            .moveMember(binary, to: "b", "m"), .combineSets(.difference, ["a", binary], store: nil),
            .combineSets(.intersection, ["a"], store: binary),
        ]
        for op in ops { #expect(try KeyValueOperation(decoding: op.encoded) == op) }
        let nested = KeyValueResult.array([.value(nil), .integer(1), .array([.list([binary])]), .error("ERR x")])
        #expect(try KeyValueResult(decoding: nested.encoded) == nested)
        // Malformed collection operations are refused by every replica alike.
        #expect(throws: ByteDecodingError.self) { try KeyValueOperation(decoding: [11, 99]) }
        var odd = ByteWriter()
        odd.byte(11); odd.byte(0); odd.byteString("k"); odd.byteStrings(["f"])
        #expect(throws: ByteDecodingError.self) { try KeyValueOperation(decoding: odd.bytes) }
        var nan = ByteWriter()
        nan.byte(14); nan.byte(0); nan.byteString("k"); nan.byte(0); nan.uint32(1); nan.uint64(Double.nan.bitPattern); nan.byteString("m")
        #expect(throws: ByteDecodingError.self) { try KeyValueOperation(decoding: nan.bytes) }
    }

    @Test func snapshotsKeepEveryTypeAndVersionOneStillRestores() throws {
        var kv = KeyValueStore()
        _ = kv.apply(.put("s", ByteString([0xFF])))
        let stringsOnly = kv.snapshot()
        #expect(stringsOnly.prefix(4) == [1, 0, 0, 0], "a store of strings alone writes version 1, as earlier builds do")
        _ = kv.apply(.hash(.set(binary, fieldsAndValues: ["f", binary])))
        _ = kv.apply(.list(.push("l", ["x", "y"], atHead: true, onlyIfExists: false)))
        _ = kv.apply(.set(.add("S", ["b", "a"])))
        _ = kv.apply(.sortedSet(.add("z", [ScoredMember(score: -.infinity, member: "m"), ScoredMember(score: 2.5, member: binary)], [])))
        let full = kv.snapshot()
        #expect(full.prefix(5) == [0xFF, 0xFF, 0xFF, 0xFF, 2])
        var copy = KeyValueStore()
        try copy.restore(from: full)
        #expect(copy == kv && copy.snapshot() == full)
        var old = KeyValueStore()
        try old.restore(from: stringsOnly)
        #expect(old.apply(.get("s")) == .value(ByteString([0xFF])) && old.apply(.count) == .integer(1))
        // A bad snapshot is refused and changes nothing.
        var bad = full
        bad[4] = 4
        #expect(throws: ByteDecodingError("key-value snapshot version 4 is not one this build reads (1, 2 or 3)")) { try copy.restore(from: bad) }
        #expect(throws: ByteDecodingError.self) { try copy.restore(from: Array(full.dropLast())) }
        #expect(copy == kv)
    }
}
