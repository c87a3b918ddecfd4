#!/usr/bin/env bash
# A handheld scanner's line to the verdict event (issue 22), on release builds: a pseudo-terminal pair as
# the scanner's serial port. Target: median ≤ 20 ms, as the camera's frame to verdict.
#   Benchmarks/scanner.sh [SCANS]
set -euo pipefail
cd "$(dirname "$0")/.."
for product in vhc vhc-stationd; do
    swift build -c release --product "$product" >/dev/null || swift build -c release --product "$product"
done
python3 Benchmarks/scanner_latency.py --bin "$(swift build -c release --show-bin-path)" --scans "${1:-200}"
