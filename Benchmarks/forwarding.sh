#!/usr/bin/env bash
# Forwarding to the cloud (issue 10), in one run of release builds on loopback: scan-to-grant latency online
# beside the cloud's own visit opening called directly; the records proxy beside the cloud's records called
# directly (the station's added milliseconds); the outbox drain after offline scans, checked exactly once in
# the cloud's database; the daemon's resident memory with the cloud link loaded. The daemon is the static
# build deployed (as Benchmarks/daemon.sh builds it).
#   Benchmarks/forwarding.sh [SAMPLES] [OFFLINE_SCANS]      (default 300 and 1000)
set -euo pipefail
# The benchmark targets are declared only with this set (Package.swift).
export VHC_BENCHMARKS=1
cd "$(dirname "$0")/.."
static=(-c release --static-swift-stdlib --scratch-path .build-static --product vhc-stationd)
swift build "${static[@]}" >/dev/null || swift build "${static[@]}"
for product in vhc-cloud ForwardingBenchmark; do
    swift build -c release --product "$product" >/dev/null || swift build -c release --product "$product"
done
bin="$(swift build -c release --show-bin-path)"
"$bin/ForwardingBenchmark" --daemon "$(swift build "${static[@]}" --show-bin-path)/vhc-stationd" \
    --cloud "$bin/vhc-cloud" --samples "${1:-300}" --offline "${2:-1000}"
