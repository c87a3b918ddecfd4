#!/usr/bin/env bash
# Sets up, then runs every test: the packaging checks (systemd unit, udev rule, install script), a short
# libFuzzer run over the verifier, the Swift test suite (unit, conformance vectors, command-line
# contract, differential tests against the reference), then the daemon's short fault run.
#   scripts/test.sh               FUZZ_SECONDS=0 skips the fuzz run
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --build-tests
python3 tools/reference/make_vectors.py --check
scripts/check-packaging.sh
if [[ "${FUZZ_SECONDS:-30}" != 0 ]]; then scripts/fuzz.sh "${FUZZ_SECONDS:-30}"; fi
swift test --skip-build
# The daemon's fault run, short: a flood, stream churn, a held database lock, kill -9 during submissions.
python3 Benchmarks/daemon_faults.py --bin "$(swift build --show-bin-path)" --short
