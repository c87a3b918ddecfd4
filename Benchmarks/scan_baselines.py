#!/usr/bin/env python3
"""Baselines for the phone-screen QR benchmark, on one thread: zxing-cpp and OpenCV's WeChat QR
detector (from their PyPI wheels, when installed), and the zbarimg command (read rate only: its time
includes starting a process). Prints one JSON line per image and decoder, like ScanBenchmark.

    python3 Benchmarks/scan_baselines.py SET-DIRECTORY [--repeat 3]
"""
import json
import shutil
import subprocess
import sys
import time


def main():
    directory = sys.argv[1]
    repeats = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 3
    images = json.load(open(f"{directory}/truth.json"))["images"]
    import cv2  # needed to load images for the in-process baselines

    cv2.setNumThreads(1)
    decoders = {}
    try:
        import zxingcpp

        def zxing(image):
            return [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]

        decoders["zxing-cpp"] = zxing
    except ImportError:
        print("scan_baselines: zxing-cpp not installed, skipped", file=sys.stderr)
    try:
        wechat = cv2.wechat_qrcode_WeChatQRCode()

        def wechat_decode(image):
            texts, _ = wechat.detectAndDecode(image)
            return list(texts)

        decoders["opencv-wechat"] = wechat_decode
    except AttributeError:
        print("scan_baselines: opencv-contrib (wechat_qrcode) not installed, skipped", file=sys.stderr)

    zbarimg = shutil.which("zbarimg")
    for entry in images:
        path = f"{directory}/{entry['file']}"
        image = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        for name, decode in decoders.items():
            best, texts = float("inf"), []
            for _ in range(repeats):
                start = time.perf_counter()
                texts = decode(image)
                best = min(best, (time.perf_counter() - start) * 1000)
            emit(entry, name, entry["text"] in texts, best)
        if zbarimg:
            result = subprocess.run([zbarimg, "--quiet", "--raw", path], capture_output=True)
            texts = result.stdout.decode("utf-8", "replace").splitlines()
            emit(entry, "zbarimg", entry["text"] in texts, None)


def emit(entry, decoder, ok, ms):
    print(json.dumps({"file": entry["file"], "category": entry["category"], "decoder": decoder, "ok": ok, "ms": ms}),
          flush=True)


if __name__ == "__main__":
    main()
