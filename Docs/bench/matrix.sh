#!/usr/bin/env bash
# Usage: matrix.sh [SECONDS]  — the served cluster (3 processes on loopback) in both modes, batching on (the
# default: --batch 256 --window 8) and off (--batch 1 --window unlimited), fsync and in memory, at 1/16/64/256
# clients, through `multipaxos load`. Needs a release build (BIN, default .build/release/multipaxos).
secs=${1:-4}
here=$(dirname "$0")
for storage in ${STORAGE:-fsync memory}; do
  for mode in stable-leader per-slot; do
    for batching in on off; do
      extra=(); [ "$batching" = off ] && extra=(--batch 1 --window unlimited)
      for c in 1 16 64 256; do
        line=$(bash "$here/served.sh" $mode $storage $c $secs "${extra[@]}")
        echo "$storage $mode batching-$batching c=$c: ${line#*: }"
      done
    done
  done
done
