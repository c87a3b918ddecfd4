#!/usr/bin/env bash
# The daemon's benchmarks (issue 4), in one run of release builds: POST /v1/scans verdict latency over
# the Unix socket at 50 requests/s and the highest sustained rate; frame-to-event latency from a fake
# camera; vhc-stationd's resident memory idle and streaming. Each latency beside its in-process baseline.
# The daemon is built as it is deployed: with the Swift runtime linked in (--static-swift-stdlib, so the
# station needs no Swift toolchain), in its own build folder because the flags differ.
#   Benchmarks/daemon.sh [REQUESTS [OPTION...]]      (default 500 requests at 50/s; options go to DaemonBenchmark)
set -euo pipefail
# The benchmark targets are declared only with this set (Package.swift).
export VHC_BENCHMARKS=1
cd "$(dirname "$0")/.."
static=(-c release --static-swift-stdlib --scratch-path .build-static --product vhc-stationd)
swift build "${static[@]}" >/dev/null || swift build "${static[@]}"
swift build -c release --product DaemonBenchmark >/dev/null || swift build -c release --product DaemonBenchmark
"$(swift build -c release --show-bin-path)/DaemonBenchmark" \
    --daemon "$(swift build "${static[@]}" --show-bin-path)/vhc-stationd" --requests "${1:-500}" "${@:2}"
