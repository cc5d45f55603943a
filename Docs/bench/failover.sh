#!/bin/bash
# usage: Docs/bench/failover.sh COUNT SIZE (from the package root, after swift build -c release; needs python3 and redis-py)
# 3 serve nodes with data directories; COUNT SETs of SIZE bytes through node 0; kill -9 of the leader (found from
# the logs); SETs through the next node until one is answered. Prints the peak RSS of each node before the kill,
# the time to the first write after it, and the longest node-loop turn the nodes logged. With RESTART=1 the killed
# node is started again at once (it then catches up while the others elect a leader).
COUNT=$1; SIZE=$2
. "$(dirname "$0")/nodes.sh" failover 7511 7611
python3 - $COUNT $SIZE <<'PY'
import redis, sys, time, os
n, size = int(sys.argv[1]), int(sys.argv[2])
r = redis.Redis(port=7611, socket_timeout=30)
t = time.time()
for i in range(n):
    for attempt in range(5):
        try:
            r.set(b'k%d\xff' % i, os.urandom(8) + bytes([i % 256]) * (size - 8)); break
        except Exception as e:
            print("retry", i, e); time.sleep(0.5)
print("wrote %d x %d B in %.1f s" % (n, size, time.time() - t))
PY
du -sh n0 n1 n2 | tr '\n' ' '; echo
L=$(grep -h "leader elected" n*.log | tail -1 | sed 's/^n\([0-9]\).*/\1/')
echo "leader by the logs: n$L"
for i in 0 1 2; do echo "n$i peak RSS $(grep VmHWM /proc/$(cat pid$i)/status | awk '{print int($2/1024)}') MB"; done
kill -9 $(cat pid$L)
if [ "${RESTART:-0}" = 1 ]; then start $L; fi
python3 - $COUNT $((7611 + (L + 1) % 3)) <<'PY'
import redis, sys, time
n, port = int(sys.argv[1]), int(sys.argv[2])
r = redis.Redis(port=port, socket_timeout=5)
t = time.time()
while time.time() - t < 120:
    try:
        r.set(b'after', b'kill'); break
    except Exception:
        time.sleep(0.02)
print("first write through port %d after %.2f s" % (port, time.time() - t))
v = r.get(b'k%d\xff' % (n - 1))
print("last key intact:", v is not None and v[8:9] == bytes([(n - 1) % 256]))
PY
grep -h "slow node-loop" n*.log | sed 's/.*longest so far //' | sort -n | tail -1 | sed 's/^/longest node-loop turn: /'
for i in 0 1 2; do kill $(cat pid$i) 2>/dev/null; done; wait 2>/dev/null
