#!/usr/bin/env bash
# Builds zxing-cpp 3.1.1 (QR reader only, static) from the source distribution PyPI carries, into
# /opt/vhc-zxing/3.1.1, where Package.swift's CZXing target finds it. Debian 12's libzxing is 1.4.0, which
# reads far fewer codes in still images (docs/qr-decoding.md); this build takes about 20 s on 2 cores.
# Idempotent: does nothing when a complete build is there (a stamp naming the archive's SHA-256 is written
# last, so an interrupted install is built again). Needs cmake and a C++20 compiler (the Swift toolchain's
# clang), and root or password-less sudo to write /opt.
set -euo pipefail
version=3.1.1
sha256=1051a521b21a9fe206702ad4186aeb195154e3e1badcd99576d030723f36382b
url=https://files.pythonhosted.org/packages/b9/30/ad0e0352c593712ebb47143571ff11b130812e2852d7540e7c80cdf23340/zxing_cpp-$version.tar.gz
prefix=/opt/vhc-zxing/$version
stamp=$prefix/.vhc-build-complete
[[ -f $stamp && "$(cat "$stamp")" == "$sha256" ]] && exit 0

sudo=""
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "setup: writing $prefix needs root or sudo" >&2; exit 1; }
    sudo="sudo"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "setup: building zxing-cpp $version (QR reader, static) into $prefix"
curl -fsSL --retry 3 -o "$work/zxing.tar.gz" "$url"
echo "$sha256  $work/zxing.tar.gz" | sha256sum --check --quiet
tar -xzf "$work/zxing.tar.gz" -C "$work"
formats=()
for format in 1D AZTEC DATAMATRIX MAXICODE PDF417; do formats+=("-DZXING_ENABLE_$format=OFF"); done
CC="${CC:-clang}" CXX="${CXX:-clang++}" cmake -S "$work/zxing_cpp-$version/core" -B "$work/build" \
    -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
    -DZXING_READERS=ON -DZXING_WRITERS=OFF -DZXING_ENABLE_QRCODE=ON "${formats[@]}" \
    -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib >"$work/cmake.log" \
    || { cat "$work/cmake.log" >&2; exit 1; }
cmake --build "$work/build" -j "$(nproc)" >"$work/build.log" || { tail -50 "$work/build.log" >&2; exit 1; }
$sudo rm -rf "$prefix"
$sudo cmake --install "$work/build" >/dev/null
echo "$sha256" | $sudo tee "$stamp" >/dev/null
