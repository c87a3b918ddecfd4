#!/usr/bin/env bash
# What the front-desk page's browser test needs (Tests/web/frontdesk_test.py): Debian's chromium and its
# driver, CJK fonts (without them Traditional Chinese renders as boxes in the screenshots), SoftHSM2 (the
# station's clinic keys are on its tokens in the test), heif-enc (libheif-examples: the telemedicine panel's HEIC
# test photo), and Selenium from PyPI in a virtual environment. Idempotent; prints the virtual environment's python.
#   scripts/browser-setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-packages.sh chromium chromium-driver fonts-noto-cjk python3-venv softhsm2 libheif-examples
venv=.build/web-venv
if [[ ! -x $venv/bin/python ]] || ! $venv/bin/python -c "import selenium" 2>/dev/null; then
    python3 -m venv "$venv" >&2 && "$venv/bin/pip" install --quiet "selenium>=4.20,<5" >&2
fi
echo "$venv/bin/python"
