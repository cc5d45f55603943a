# Sourced by the scripts beside it: three `serve` nodes with data directories in a fresh folder.
# usage: . Docs/bench/nodes.sh NAME PEER_PORT CLIENT_PORT — the folder ${TMPDIR:-/tmp}/multipaxos-NAME becomes the
# working directory; node i listens for peers on PEER_PORT+i and for clients on CLIENT_PORT+i, logs to ni.log and
# writes its PID to pidi; `start I` (re)starts node I. BIN is the executable ($MULTIPAXOS or the release build);
# MODE=per-slot runs the nodes in per-slot mode (default: serve's, stable-leader).
BIN=$(realpath "${MULTIPAXOS:-.build/release/multipaxos}")
D=${TMPDIR:-/tmp}/multipaxos-$1; rm -rf $D; mkdir -p $D; cd $D
P="127.0.0.1:$2,127.0.0.1:$(($2+1)),127.0.0.1:$(($2+2))"
CLIENT_PORT=$3
start() { $BIN serve --id $1 --peers $P --client 127.0.0.1:$((CLIENT_PORT+$1)) --data n$1 ${MODE:+--mode $MODE} 2>>n$1.log & echo $! > pid$1; }
for i in 0 1 2; do start $i; done
sleep 1.5
