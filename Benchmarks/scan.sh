#!/usr/bin/env bash
# The phone-screen QR benchmark (issue 3), in one go and on one core: generates the set if it is
# missing or was made by another version of the generator (deterministic, seed 1), then runs the
# station's decoder and zbar alone (ScanBenchmark), zbarimg, and zxing-cpp and OpenCV's WeChat detector
# when their PyPI wheels are installed (pip install zxing-cpp opencv-contrib-python-headless), and
# prints the table with the targets.
#   Benchmarks/scan.sh [SET-DIRECTORY] [PER-CATEGORY]     (defaults: .build-bench/phone-screens, 50)
set -euo pipefail
# The benchmark targets are declared only with this set (Package.swift).
export VHC_BENCHMARKS=1
cd "$(dirname "$0")/.."
set_dir="${1:-.build-bench/phone-screens}"
per_category="${2:-50}"
core="${BENCH_CORE:-0}"
pin() { if command -v taskset >/dev/null; then taskset -c "$core" "$@"; else "$@"; fi; }

# The generator needs numpy and OpenCV; the baselines are zxing-cpp and OpenCV's WeChat detector (PyPI).
python3 -c "import numpy, cv2, zxingcpp; cv2.wechat_qrcode_WeChatQRCode" 2>/dev/null \
    || python3 -m pip install --quiet numpy opencv-contrib-python-headless "zxing-cpp==3.1.1"
# Made again when missing or made by another version of the generator (a set without the newer categories).
python3 Benchmarks/phone-screens/generate.py --out "$set_dir" --seed 1 --per-category "$per_category" --unless-current
swift build -c release --product ScanBenchmark >/dev/null || swift build -c release --product ScanBenchmark
binary="$(swift build -c release --show-bin-path)/ScanBenchmark"
results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
OMP_NUM_THREADS=1 pin "$binary" "$set_dir" > "$results/station.jsonl"
OMP_NUM_THREADS=1 pin python3 Benchmarks/scan_baselines.py "$set_dir" > "$results/baselines.jsonl"
python3 Benchmarks/scan_report.py "$results/station.jsonl" "$results/baselines.jsonl"
