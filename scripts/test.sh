#!/usr/bin/env bash
# Sets up, then runs every test: the packaging checks (systemd unit, udev rule, install script), a short
# libFuzzer run over the verifier, the Swift test suite (unit, conformance vectors, command-line
# contract, differential tests against the reference; built with scripts/build-flags.sh: undeclared
# imports and warnings fail), the front-desk page in a real browser (chromium and Selenium against the
# daemon, its fake camera and the sandbox cloud), both OpenAPI documents against the running programs
# (schemathesis), then the daemon's and the cloud's short fault runs.
#   scripts/test.sh               FUZZ_SECONDS=0 skips the fuzz run
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --build-tests
# fhir.resources (PyPI) checks the station's FHIR output; a virtual environment keeps it off the system Python.
if [[ ! -x .build/fhir-venv/bin/python ]] || ! .build/fhir-venv/bin/python -c "import fhir.resources.R4B" 2>/dev/null; then
    python3 -m venv .build/fhir-venv && .build/fhir-venv/bin/pip install --quiet "fhir.resources>=8,<9"
fi
python3 tools/reference/make_vectors.py --check
scripts/check-packaging.sh
if [[ "${FUZZ_SECONDS:-30}" != 0 ]]; then scripts/fuzz.sh "${FUZZ_SECONDS:-30}"; fi
swift test --skip-build
# The Debian packages from this build: lintian, then (on a machine given to it, as CI is) installed,
# upgraded, removed and purged for real.
Tests/packaging/deb_test.sh "$(swift build --show-bin-path)"
# The page in chromium: screenshots and figures in .build/web-test/ (the figures' targets: Benchmarks/web.sh).
python="$(scripts/browser-setup.sh)"
SE_OFFLINE=true SE_AVOID_STATS=true "$python" Tests/web/frontdesk_test.py --bin "$(swift build --show-bin-path)" \
    --out .build/web-test
# Both OpenAPI documents against the running station and cloud: schemathesis (PyPI, in a virtual environment),
# every check, a bounded number of examples an operation; any failure fails the run.
if [[ ! -x .build/schemathesis-venv/bin/schemathesis ]]; then
    python3 -m venv .build/schemathesis-venv && .build/schemathesis-venv/bin/pip install --quiet "schemathesis>=4.3,<5"
fi
.build/schemathesis-venv/bin/python Tests/tools/api_conformance.py --bin "$(swift build --show-bin-path)" \
    --schemathesis .build/schemathesis-venv/bin/schemathesis --examples 25
# The daemon's fault run, short: a flood, stream churn, a held database lock, kill -9 during submissions.
python3 Benchmarks/daemon_faults.py --bin "$(swift build --show-bin-path)" --short
# The cloud's, short: idle and silent connections and slow bodies must not keep a station out.
python3 Benchmarks/cloud_faults.py --bin "$(swift build --show-bin-path)" --short
