#!/usr/bin/env bash
# The sandbox cloud's benchmark (issue 8), release builds: visit openings from 32 concurrent clients over
# mutual TLS with kept-alive connections against `vhc-cloud serve`, each with a fresh token, beside the
# same openings given to the visit opener in-process. Target: at least 1,000 openings/s, p99 ≤ 30 ms.
#   Benchmarks/cloud.sh [OPENINGS] [CLIENTS]      (default 4000 openings, 32 clients)
set -euo pipefail
# The benchmark targets are declared only with this set (Package.swift).
export VHC_BENCHMARKS=1
cd "$(dirname "$0")/.."
for product in vhc-cloud CloudBenchmark; do
    swift build -c release --product "$product" >/dev/null || swift build -c release --product "$product"
done
bin="$(swift build -c release --show-bin-path)"
"$bin/CloudBenchmark" --cloud "$bin/vhc-cloud" --openings "${1:-4000}" --clients "${2:-32}"
