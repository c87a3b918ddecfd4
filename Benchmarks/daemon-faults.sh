#!/usr/bin/env bash
# The daemon's soak and fault run (issue 9), on release builds: a 2,000-connection flood on loopback TCP
# (the Unix socket must keep answering within 100 ms), 5,000 event streams opened and closed (memory
# within 10 MiB of the start), another process holding the database's write lock for 10 s (status p99
# within 50 ms), and kill -9 twenty times during 1,000 submissions (none lost or doubled, the audit chain
# intact and consistent with the anchors the daemon wrote). scripts/test.sh runs a short version.
#   Benchmarks/daemon-faults.sh [--short]
set -euo pipefail
# The benchmark targets are declared only with this set (Package.swift).
export VHC_BENCHMARKS=1
cd "$(dirname "$0")/.."
for product in vhc vhc-stationd; do
    swift build -c release --product "$product" >/dev/null || swift build -c release --product "$product"
done
python3 Benchmarks/daemon_faults.py --bin "$(swift build -c release --show-bin-path)" "$@"
