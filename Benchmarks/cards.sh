#!/usr/bin/env bash
# Issue 20's signing figure: visit openings signed per second with the practitioner's key on a SoftHSM2
# token, beside the key in memory, on one core; and the resident memory a loaded module adds.
#   Benchmarks/cards.sh [SECONDS] [ROUNDS]      (default 2 s, 3 rounds)
set -euo pipefail
# The benchmark targets are declared only with this set (Package.swift).
export VHC_BENCHMARKS=1
cd "$(dirname "$0")/.."
core="${BENCH_CORE:-0}"
swift build -c release --product CardBenchmark >/dev/null || swift build -c release --product CardBenchmark
binary="$(swift build -c release --show-bin-path)/CardBenchmark"
pin() { if command -v taskset >/dev/null; then taskset -c "$core" "$@"; else "$@"; fi; }
pin "$binary" --seconds "${1:-2}" --rounds "${2:-3}"
