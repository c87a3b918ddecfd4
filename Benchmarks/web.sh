#!/usr/bin/env bash
# The front-desk page's figures (issue 12), on release builds as the station ships: the browser test
# (Tests/web/frontdesk_test.py) with more cards and its targets held: frame handed to the fake camera →
# verdict painted (median ≤ 100 ms), the page's first load from a cold browser (≤ 300 ms), transferred
# bytes (≤ 80 KiB, gzip-compressed, nothing external), and a code shown in a shared video-call window → verdict painted
# (median ≤ 1.5 s; as many calls as cards). The baseline in the same run is a plain SSE client reading the same
# events (the HIS's way): the page's own share is the difference.
#   Benchmarks/web.sh [CARDS]        (default 40; figures in .build-bench/web/report.json)
set -euo pipefail
# The benchmark targets are declared only with this set (Package.swift).
export VHC_BENCHMARKS=1
cd "$(dirname "$0")/.."
python="$(scripts/browser-setup.sh)"
for product in vhc vhc-stationd vhc-cloud; do
    swift build -c release --product "$product" >/dev/null || swift build -c release --product "$product"
done
SE_OFFLINE=true SE_AVOID_STATS=true "$python" Tests/web/frontdesk_test.py --bin "$(swift build -c release --show-bin-path)" \
    --out .build-bench/web --cards "${1:-40}" --targets
