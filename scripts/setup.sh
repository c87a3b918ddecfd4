#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks for building and testing vhc-station, then builds.
# Idempotent: installs only missing packages. Needs root (or sudo) only when something is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Build: libqrencode, libpng, TurboJPEG, zbar, libv4l2, SQLite (GRDB), pkg-config, cmake (zxing-cpp is built from
# source below: scripts/build-zxing.sh). Tests: zbar-tools (reads
# the issued QR codes back), python3 with cryptography (the independent reference implementation),
# openssl (benchmark baseline), util-linux (taskset pins benchmarks to one core), systemd (systemd-analyze and
# systemd-sysusers check the unit and its users: scripts/check-packaging.sh), curl (the demonstration talks to the
# sandbox cloud over mutual TLS). Cards: libp11-kit-dev (the PKCS#11 header), p11-kit-modules (its proxy module,
# the default), softhsm2 (tokens for the tests and the demo), opensc (pkcs11-tool and pkcs11-spy, which counts a
# module's calls in the tests). libjpeg-turbo-progs (cjpeg) makes the fault run's hostile progressive JPEGs.
# Pictures: libheif-dev (an iPhone's HEIC photos, read by the still-image route); libheif-examples (heif-enc)
# makes HEIC test pictures. prometheus: its promtool lints GET /metrics in the tests (the server it brings is
# not used; a machine without systemd running leaves it stopped). Packages (scripts/package-deb.sh): dpkg-dev
# (dpkg-shlibdeps), fakeroot, chrpath (takes the build's RUNPATH off), lintian. faketime (libfaketime) moves the
# daemon's clock in the laptop tests.
packages=(pkg-config zlib1g-dev libqrencode-dev libpng-dev libturbojpeg0-dev libzbar-dev libv4l-dev cmake libsqlite3-dev zbar-tools python3
    python3-cryptography python3-venv openssl util-linux systemd curl libp11-kit-dev p11-kit-modules softhsm2 opensc
    libjpeg-turbo-progs libheif-dev libheif-examples prometheus
    dpkg-dev fakeroot chrpath lintian faketime)

scripts/install-packages.sh "${packages[@]}"

# The python3 first on PATH may not be Debian's: make sure it can import cryptography.
if ! python3 -c "import cryptography" 2>/dev/null; then
    python3 -m pip install --quiet cryptography
fi

if ! command -v swift >/dev/null; then
    echo "setup: no Swift toolchain on PATH (Swift 6 is required; see swift.org/install/linux)" >&2
    exit 2
fi
scripts/build-zxing.sh
source scripts/build-flags.sh
swift build "${build_flags[@]}" "$@"
