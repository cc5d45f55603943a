#!/bin/bash
# usage: Docs/bench/catchup.sh COUNT SIZE (from the package root, after swift build -c release; needs python3 and redis-py)
# 3 serve nodes; node 2 stopped; COUNT SETs of SIZE bytes via node 0; node 2 restarted
COUNT=$1; SIZE=$2
. "$(dirname "$0")/nodes.sh" catchup 7501 7601
kill -9 $(cat pid2)
python3 - $COUNT $SIZE <<'PY'
import redis, sys, time, os
n, size = int(sys.argv[1]), int(sys.argv[2])
r = redis.Redis(port=7601, socket_timeout=30)
t = time.time()
for i in range(n):
    r.set(b'k%d' % i, os.urandom(8) + bytes([i % 256]) * (size - 8))
print("wrote %d x %d B in %.1f s" % (n, size, time.time() - t))
PY
sleep 2
du -sh n0 n1 | tr '\n' ' '; echo
T0=$(date +%s.%N)
start 2
python3 - $COUNT <<'PY'
import redis, sys, time
n = int(sys.argv[1])
r = redis.Redis(port=7603, socket_timeout=5)
t = time.time()
while time.time() - t < 600:
    try:
        v = r.get(b'k%d' % (n - 1))
        if v is not None: break
    except Exception as e:
        pass
    time.sleep(0.2)
print("node 2 serves the last key after %.1f s" % (time.time() - t))
ok = sum(1 for i in range(0, n, max(1, n // 200)) if r.get(b'k%d' % i) is not None)
print("sampled keys present on node 2:", ok)
PY
for i in 0 1 2; do echo "n$i peak RSS: $(grep VmHWM /proc/$(cat pid$i)/status)"; done
grep -h "snapshot\|caught up\|slow" n*.log | head -8
for i in 0 1 2; do kill $(cat pid$i) 2>/dev/null; done; wait 2>/dev/null
