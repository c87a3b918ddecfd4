#!/usr/bin/env bash
# Full token verification per second on one core, against OpenSSL's ECDSA P-256 verify rate measured
# in the same run on the same core. Target (issue 2): at least 60% of OpenSSL.
#   Benchmarks/verify.sh [SECONDS-PER-ROUND] [ROUNDS]      (defaults 3 and 3; the median round counts)
set -euo pipefail
# The benchmark targets are declared only with this set (Package.swift).
export VHC_BENCHMARKS=1
cd "$(dirname "$0")/.."
seconds="${1:-3}"
rounds="${2:-3}"
core="${BENCH_CORE:-0}"
swift build -c release --product VerifyBenchmark >/dev/null || swift build -c release --product VerifyBenchmark
binary="$(swift build -c release --show-bin-path)/VerifyBenchmark"
pin() { if command -v taskset >/dev/null; then taskset -c "$core" "$@"; else "$@"; fi; }

ours=(); theirs=()
for _ in $(seq "$rounds"); do  # interleaved, so drift on a shared machine hits both alike
    ours+=("$(pin "$binary" --seconds "$seconds" | awk '{print $NF}')")
    theirs+=("$(pin openssl speed -seconds "$seconds" ecdsap256 2>/dev/null | awk '/nistp256/ {print $NF}')")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ours_median=$(median "${ours[@]}")
theirs_median=$(median "${theirs[@]}")
ratio=$(awk -v a="$ours_median" -v b="$theirs_median" 'BEGIN {printf "%.2f", a / b}')

echo "## Token verification, one core ($(nproc) cores, $(uname -m)), median of $rounds rounds of ${seconds}s"
echo
echo "| measure | per second |"
echo "| --- | --- |"
echo "| vhc: full verification, text → verdict | $ours_median |"
echo "| openssl speed ecdsap256: verify only | $theirs_median |"
echo "| ratio (target ≥ 0.60) | $ratio |"
echo
"$binary" --sizes --sizes-only
awk -v r="$ratio" 'BEGIN { exit (r >= 0.60) ? 0 : 1 }' || { echo "below target: $ratio < 0.60" >&2; exit 1; }
