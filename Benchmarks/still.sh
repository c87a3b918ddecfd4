#!/usr/bin/env bash
# The still-image QR benchmark (issue 11), in one go and on one core: generates the still set if it is
# missing or made by another version of the generator (deterministic, seed 1: phone photos of phone
# screens and monitors, video-call screenshots, pages of several codes, high QR versions, glare and
# damage), then reads every image with the station's still ladder
# (ScanBenchmark --still, as POST /v1/scans/image reads it) and with zxing-cpp 3.1, OpenCV's WeChat
# detector and zbar from their PyPI wheels, every reader timed with the image's decoding included, and
# prints the table with the targets. A separate run reads one 12 MP photo for the peak memory.
#   Benchmarks/still.sh [SET-DIRECTORY] [PER-CATEGORY]     (defaults: .build-bench/still-images, 16)
set -euo pipefail
# The benchmark targets are declared only with this set (Package.swift).
export VHC_BENCHMARKS=1
cd "$(dirname "$0")/.."
set_dir="${1:-.build-bench/still-images}"
per_category="${2:-16}"
core="${BENCH_CORE:-0}"
pin() { if command -v taskset >/dev/null; then taskset -c "$core" "$@"; else "$@"; fi; }

python3 -c "import numpy, cv2, zxingcpp, pyzbar, PIL; cv2.wechat_qrcode_WeChatQRCode" 2>/dev/null \
    || python3 -m pip install --quiet numpy opencv-contrib-python-headless "zxing-cpp==3.1.1" pyzbar pillow
# Made again when missing or made by another version of the generator (a set without the newer categories).
python3 Benchmarks/still-images/generate.py --out "$set_dir" --seed 1 --per-category "$per_category" --jobs "$(nproc)" --unless-current
swift build -c release --product ScanBenchmark >/dev/null || swift build -c release --product ScanBenchmark
binary="$(swift build -c release --show-bin-path)/ScanBenchmark"
results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
OMP_NUM_THREADS=1 pin "$binary" --still "$set_dir" > "$results/station.jsonl"
probe="$(python3 -c "import json,sys; t=json.load(open(sys.argv[1])); print(next(i['file'] for i in t['images'] if i['category']=='photo-12mp'))" "$set_dir/truth.json")"
pin "$binary" --memory-probe "$set_dir/$probe" >> "$results/station.jsonl"
OMP_NUM_THREADS=1 pin python3 Benchmarks/still_baselines.py "$set_dir" > "$results/baselines.jsonl"
python3 Benchmarks/still_report.py "$results/station.jsonl" "$results/baselines.jsonl"
