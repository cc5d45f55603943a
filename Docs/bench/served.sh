#!/usr/bin/env bash
# Usage: served.sh MODE STORAGE(fsync|memory) CLIENTS SECONDS [serve options, e.g. --batch 1 --window unlimited]
set -u
BIN=${BIN:-.build/release/multipaxos}
mode=$1; storage=$2; clients=$3; secs=$4; shift 4
port=$((7600 + RANDOM % 200 * 2))
dir=$(mktemp -d)
extra=()
[ "$storage" = memory ] && extra=(--in-memory) || extra=(--data "$dir")
$BIN cluster --nodes 3 --base-port $port --mode $mode --quiet "${extra[@]}" "$@" > /dev/null 2>&1 &
cpid=$!
sleep 1.5
out=$($BIN load --resp 127.0.0.1:$port,127.0.0.1:$((port+1)),127.0.0.1:$((port+2)) --clients $clients --seconds $secs | tail -1)
kill -TERM $cpid; wait $cpid 2>/dev/null
rm -rf "$dir"
echo "$mode $storage c=$clients $*: $out"
