"""Every Redis command `serve` implements, through redis-py with its defaults, against three nodes.

usage: python3 Docs/bench/redispy.py [BIN]   (BIN: the multipaxos executable; default .build/release/multipaxos)
Starts three in-memory nodes on loopback ports 17200-17202 (peers) and 17300-17302 (clients), runs each command
through a follower (RESP3 with redis-py 8, RESP2 with older ones) and its reply through another node, prints a
line per command family, and exits non-zero at the first reply that is not Redis's. Not a test dependency: an
interoperability check to run by hand where redis-py is installed (`pip install redis`).
"""
import os, subprocess, sys, time
import redis

BIN = sys.argv[1] if len(sys.argv) > 1 else ".build/release/multipaxos"
peers = ",".join(f"127.0.0.1:{17200 + i}" for i in range(3))
nodes = [subprocess.Popen([BIN, "serve", "--id", str(i), "--peers", peers, "--client", f"127.0.0.1:{17300 + i}",
                           "--in-memory", "--quiet"]) for i in range(3)]
try:
    clients = [redis.Redis(port=17300 + i, socket_timeout=10) for i in range(3)]
    deadline = time.time() + 20
    while True:
        try:
            if all(c.set("probe", "1") for c in clients): break
        except redis.exceptions.RedisError:
            if time.time() > deadline: raise
            time.sleep(0.2)
    leader = next(i for i in range(3) if clients[i].info("multipaxos").get("role") == "leader")
    r, other = clients[(leader + 1) % 3], clients[(leader + 2) % 3]  # two followers
    checks = 0
    def eq(got, want, what):
        global checks
        checks += 1
        if got != want:
            sys.exit(f"FAILED {what}: got {got!r}, want {want!r}")
    def raises(fn, text, what):
        global checks
        checks += 1
        try:
            fn()
        except redis.exceptions.ResponseError as e:
            if text not in str(e): sys.exit(f"FAILED {what}: error {e!r} lacks {text!r}")
            return
        sys.exit(f"FAILED {what}: no error")
    b = b"\xff\x00\xc3("  # bytes that are not UTF-8, in every family

    r.flushdb()
    eq(r.set(b, b), True, "SET"); eq(other.get(b), b, "GET"); eq(r.set("n", 1, nx=True), True, "SET NX")
    eq(r.set("n", 2, nx=True), None, "SET NX on a key"); eq(r.getset("n", 5), b"1", "GETSET"); eq(r.incr("n"), 6, "INCR")
    eq(r.incrby("n", 4), 10, "INCRBY"); eq(r.decr("n"), 9, "DECR"); eq(r.decrby("n", 9), 0, "DECRBY")
    eq(r.incrbyfloat("f", 1.5), 1.5, "INCRBYFLOAT"); eq(r.append("s", "ab"), 2, "APPEND"); eq(r.strlen("s"), 2, "STRLEN")
    eq(r.setrange("s", 3, "z"), 4, "SETRANGE"); eq(other.getrange("s", 0, -1), b"ab\x00z", "GETRANGE")
    eq(r.setnx("s", "x"), False, "SETNX"); eq(r.getdel("s"), b"ab\x00z", "GETDEL")
    eq(r.mset({"m1": "1", "m2": "2"}), True, "MSET"); eq(other.mget("m1", "m2", "none"), [b"1", b"2", None], "MGET")
    eq(r.msetnx({"m2": "x", "m3": "3"}), False, "MSETNX"); eq(r.execute_command("SET", "k", "v"), True, "SET")
    eq(r.execute_command("SET", "k", "w", "IFEQ", "v"), True, "SET IFEQ"); eq(r.execute_command("DELEX", "k", "IFEQ", "v"), 0, "DELEX IFEQ other")
    eq(r.execute_command("DELEX", "k", "IFEQ", "w"), 1, "DELEX IFEQ"); print("strings: ok")

    eq(r.exists("m1", "m2", "none"), 2, "EXISTS"); eq(r.touch("m1", "none"), 1, "TOUCH"); eq(r.type("m1"), b"string", "TYPE")
    eq(r.rename("m1", "r1"), True, "RENAME"); eq(r.renamenx("r1", "m2"), False, "RENAMENX"); eq(r.copy("r1", "c1"), True, "COPY")
    eq(sorted(other.keys("*1")), [b"c1", b"r1"], "KEYS"); eq(r.delete("c1", "none"), 1, "DEL"); eq(r.unlink("r1"), 1, "UNLINK")
    eq(set(other.scan_iter(count=2)), set(other.keys("*")), "SCAN"); eq(r.randomkey() in set(r.keys("*")), True, "RANDOMKEY")
    eq(r.dbsize(), len(r.keys("*")), "DBSIZE"); print("keys: ok")

    eq(r.set("e", "v", ex=100), True, "SET EX"); eq(other.ttl("e") in (99, 100), True, "TTL"); eq(0 < r.pttl("e") <= 100_000, True, "PTTL")
    eq(r.expire("e", 50, gt=True), False, "EXPIRE GT"); eq(r.pexpire("e", 40_000, lt=True), True, "PEXPIRE LT")
    eq(r.expiretime("e") > 0 and r.pexpiretime("e") > 0, True, "EXPIRETIME"); eq(r.persist("e"), True, "PERSIST")
    eq(other.ttl("e"), -1, "TTL without a deadline"); eq(r.setex("e", 100, "w"), True, "SETEX"); eq(r.psetex("p", 100_000, "w"), True, "PSETEX")
    eq(r.getex("e", persist=True), b"w", "GETEX PERSIST"); eq(r.expireat("e", int(time.time()) + 100), True, "EXPIREAT")
    eq(r.pexpireat("e", int(time.time() * 1000) + 100_000), True, "PEXPIREAT"); eq(r.set("e", "x", keepttl=True), True, "SET KEEPTTL")
    eq(r.ttl("e") > 0, True, "KEEPTTL kept it"); eq(r.set("gone", "v", px=200), True, "SET PX")
    time.sleep(0.5); eq(other.get("gone"), None, "an expired key, through another node"); eq(r.exists("gone"), 0, "EXISTS of an expired key")
    print("expiry: ok")

    r.delete(b)
    eq(r.hset(b, mapping={"f": "1", b: b}), 2, "HSET"); eq(other.hgetall(b), {b"f": b"1", b: b}, "HGETALL")
    eq(r.hget(b, "f"), b"1", "HGET"); eq(r.hmget(b, ["f", "x"]), [b"1", None], "HMGET"); eq(r.hincrby(b, "f", 4), 5, "HINCRBY")
    eq(r.hincrbyfloat(b, "g", 0.5), 0.5, "HINCRBYFLOAT"); eq(r.hsetnx(b, "f", "x"), False, "HSETNX"); eq(r.hexists(b, "f"), True, "HEXISTS")
    eq(r.hlen(b), 3, "HLEN"); eq(sorted(r.hkeys(b)), sorted([b"f", b"g", b]), "HKEYS"); eq(len(r.hvals(b)), 3, "HVALS")
    eq(r.hstrlen(b, b), 4, "HSTRLEN"); eq(dict(r.hscan_iter(b, match="f")), {b"f": b"5"}, "HSCAN"); eq(r.hdel(b, "f", "g"), 2, "HDEL")
    raises(lambda: r.incr(b), "WRONGTYPE", "INCR of a hash"); print("hashes: ok")

    eq(r.rpush("l", "a", "b", b), 3, "RPUSH"); eq(r.lpush("l", "z"), 4, "LPUSH"); eq(r.lpushx("none", "x"), 0, "LPUSHX")
    eq(r.rpushx("l", "y"), 5, "RPUSHX"); eq(other.lrange("l", 0, -1), [b"z", b"a", b"b", b, b"y"], "LRANGE"); eq(r.llen("l"), 5, "LLEN")
    eq(r.lindex("l", -2), b, "LINDEX"); eq(r.lset("l", 0, "Z"), True, "LSET"); eq(r.linsert("l", "before", "b", "q"), 6, "LINSERT")
    eq(r.lpos("l", "q"), 2, "LPOS"); eq(r.lrem("l", 0, "q"), 1, "LREM"); eq(r.ltrim("l", 0, 3), True, "LTRIM")
    eq(r.lpop("l"), b"Z", "LPOP"); eq(r.rpop("l", 2), [b, b"b"], "RPOP count"); eq(r.lmove("l", "l2", "LEFT", "RIGHT"), b"a", "LMOVE")
    eq(r.rpoplpush("l2", "l"), b"a", "RPOPLPUSH"); print("lists: ok")

    eq(r.sadd("s1", "a", "b", b), 3, "SADD"); eq(r.sadd("s2", "b", "c"), 2, "SADD"); eq(other.smembers("s1"), {b"a", b"b", b}, "SMEMBERS")
    eq(r.sismember("s1", b), True, "SISMEMBER"); eq(r.smismember("s1", ["a", "x"]), [True, False], "SMISMEMBER"); eq(r.scard("s1"), 3, "SCARD")
    eq(r.sinter("s1", "s2"), {b"b"}, "SINTER"); eq(r.sunion("s1", "s2"), {b"a", b"b", b"c", b}, "SUNION"); eq(r.sdiff("s1", "s2"), {b"a", b}, "SDIFF")
    eq(r.sinterstore("s3", ["s1", "s2"]), 1, "SINTERSTORE"); eq(r.sunionstore("s3", ["s1", "s2"]), 4, "SUNIONSTORE")
    eq(r.sdiffstore("s3", ["s1", "s2"]), 2, "SDIFFSTORE"); eq(r.smove("s1", "s2", "a"), True, "SMOVE"); eq(r.srem("s2", "a"), 1, "SREM")
    eq(r.srandmember("s1") in {b"b", b}, True, "SRANDMEMBER"); eq(set(r.sscan_iter("s1")), {b"b", b}, "SSCAN")
    eq(r.spop("s1") in {b"b", b}, True, "SPOP"); print("sets: ok")

    eq(r.zadd("z", {"a": 1, "b": 2, b: 3}), 3, "ZADD"); eq(r.zadd("z", {"a": 5}, xx=True, ch=True), 1, "ZADD XX CH")
    eq(r.zincrby("z", 0.5, "b"), 2.5, "ZINCRBY"); eq(other.zscore("z", "b"), 2.5, "ZSCORE"); eq(r.zmscore("z", ["a", "x"]), [5.0, None], "ZMSCORE")
    eq(r.zcard("z"), 3, "ZCARD"); eq(r.zcount("z", 2, "(5"), 2, "ZCOUNT"); eq(r.zrank("z", "a"), 2, "ZRANK"); eq(r.zrevrank("z", "a"), 0, "ZREVRANK")
    eq(r.zrange("z", 0, -1, withscores=True), [(b"b", 2.5), (b, 3.0), (b"a", 5.0)], "ZRANGE WITHSCORES")
    eq(r.zrange("z", "+inf", 3, byscore=True, desc=True), [b"a", b], "ZRANGE BYSCORE REV"); eq(r.zrevrange("z", 0, 0), [b"a"], "ZREVRANGE")
    eq(r.zrangebyscore("z", 2, 3), [b"b", b], "ZRANGEBYSCORE"); eq(r.zrevrangebyscore("z", 5, 3), [b"a", b], "ZREVRANGEBYSCORE")
    eq(dict(r.zscan_iter("z")), {b"b": 2.5, b: 3.0, b"a": 5.0}, "ZSCAN"); eq(r.zpopmin("z"), [(b"b", 2.5)], "ZPOPMIN")
    eq(r.zpopmax("z", 1), [(b"a", 5.0)], "ZPOPMAX"); eq(r.zadd("z", {"c": 9, "d": 10}), 2, "ZADD")
    eq(r.zremrangebyscore("z", 9, 9), 1, "ZREMRANGEBYSCORE"); eq(r.zremrangebyrank("z", 0, 0), 1, "ZREMRANGEBYRANK"); eq(r.zrem("z", "d"), 1, "ZREM")
    print("sorted sets: ok")

    pipe = r.pipeline(transaction=True)
    pipe.set("t", "1").incr("t").hset("th", "f", "v").execute()
    eq(other.get("t"), b"2", "MULTI/EXEC"); eq(other.hget("th", "f"), b"v", "MULTI/EXEC")
    def bump(p):
        p.watch("t"); value = int(p.get("t")); p.multi(); p.set("t", value + 1)
    r.transaction(bump, "t"); eq(r.get("t"), b"3", "WATCH transaction")
    p = r.pipeline(); p.watch("t"); other.set("t", "changed"); p.multi(); p.set("t", "mine")
    try:
        p.execute(); sys.exit("FAILED WATCH: EXEC ran after the watched key changed")
    except redis.exceptions.WatchError:
        checks += 1
    eq(r.get("t"), b"changed", "WATCH abort"); print("transactions: ok")

    eq(r.ping(), True, "PING"); eq(r.echo("hi"), b"hi", "ECHO"); eq(r.client_setname("me"), True, "CLIENT SETNAME")
    eq(r.client_getname() in ("me", b"me"), True, "CLIENT GETNAME"); eq(isinstance(r.client_id(), int), True, "CLIENT ID")
    eq(len(r.time()), 2, "TIME"); eq(r.info()["cluster_enabled"], 0, "INFO"); eq(r.execute_command("SELECT", 0) in (True, b"OK", "OK"), True, "SELECT 0")
    eq(r.flushall(), True, "FLUSHALL"); eq(other.dbsize(), 0, "FLUSHALL")
    print(f"every command answered as Redis does: {checks} checks, redis-py {redis.__version__}, through followers {(leader + 1) % 3} and {(leader + 2) % 3}")
finally:
    for n in nodes: n.terminate()
    for n in nodes: n.wait(timeout=10)
