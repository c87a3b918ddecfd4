#!/usr/bin/env bash
# The sandbox cloud under hostile clients (issue 21), release build: a station's new-connection time
# during a 3,000-connection idle flood and during 520 slow bodies from a holder of another institution's
# certificate, beside the same with nobody else connected. Target: p99 ≤ 100 ms. scripts/test.sh runs a
# short version.
#   Benchmarks/cloud-faults.sh [--short]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product vhc-cloud >/dev/null || swift build -c release --product vhc-cloud
python3 Benchmarks/cloud_faults.py --bin "$(swift build -c release --show-bin-path)" "$@"
