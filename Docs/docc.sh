#!/bin/sh
# Builds the reference documentation of the MultiPaxos library with the toolchain's own DocC, without any
# package plugin: the library's symbol graphs from a build of its own (in .build/docc, so the usual build is
# left alone), then `docc convert` of the catalog Sources/MultiPaxos/MultiPaxos.docc. A warning (an unresolved
# ``Symbol`` link, say) fails the build.
#
#   Docs/docc.sh [OUTPUT]        default .build/MultiPaxos.doccarchive
#
# To browse it, serve the archive with `docc preview` and the same arguments, or any static file server.
# `DOCC=/path/to/docc` picks another docc (on macOS: DOCC="xcrun docc").
set -eu
cd "$(dirname "$0")/.."
out=${1:-.build/MultiPaxos.doccarchive}
graphs=$PWD/.build/docc/symbol-graphs
mkdir -p "$graphs"
swift build --target MultiPaxos --scratch-path .build/docc \
    -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$graphs"
${DOCC:-docc} convert Sources/MultiPaxos/MultiPaxos.docc \
    --additional-symbol-graph-dir "$graphs" \
    --fallback-display-name MultiPaxos \
    --fallback-bundle-identifier org.multipaxos.MultiPaxos \
    --warnings-as-errors \
    --output-path "$out"
echo "documentation: $out"
