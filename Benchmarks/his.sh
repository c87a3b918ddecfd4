#!/usr/bin/env bash
# Issue 24's benchmark alone: the HIS compatibility listener's ReadBasic and Verification beside the
# station's own scan route (POST /v1/scans), in one release daemon, interleaved in the same run; the target
# is within 2 ms of the scan route at the median. Benchmarks/daemon.sh runs it too, after its own.
#   Benchmarks/his.sh [SAMPLES]      (default 300 of each call)
set -euo pipefail
exec "$(dirname "$0")/daemon.sh" 500 --his-only --his-samples "${1:-300}"
