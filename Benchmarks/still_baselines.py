#!/usr/bin/env python3
"""Baselines for the still-image QR set (Benchmarks/still-images), on one thread: zxing-cpp, OpenCV's
WeChat QR detector (without its CNN models) and zbar (pyzbar). Prints one JSON line per image and reader:

    {"file", "category", "decoder", "expected", "read", "extra", "ms"}

`read` counts the truth texts the reader returned, `extra` the returned texts that are not in the truth.
`ms` is the best of --repeat runs and includes reading and decoding the image file as greyscale
(cv2.imread(path, IMREAD_GRAYSCALE)) for every reader. One "\\n" or "\\r\\n" at the end of a payload is
stripped before comparing.

    python3 Benchmarks/still_baselines.py SET-DIR [--repeat 2]

Needs numpy, opencv-contrib-python-headless, zxing-cpp and pyzbar (with libzbar0).
"""
import argparse
import importlib.metadata
import json
import sys
import time

import cv2


def strip_one(text):
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith("\n"):
        return text[:-1]
    return text


def readers():
    import zxingcpp
    from pyzbar import pyzbar

    wechat = cv2.wechat_qrcode_WeChatQRCode()

    def zxing(path):
        gray = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        return [r.text for r in zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)]

    def wechat_decode(path):
        gray = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        texts, _ = wechat.detectAndDecode(gray)
        return list(texts)

    def zbar(path):
        gray = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        return [s.data.decode("utf-8", "replace") for s in pyzbar.decode(gray, symbols=[pyzbar.ZBarSymbol.QRCODE])]

    return {"zxing-cpp": zxing, "opencv-wechat": wechat_decode, "zbar": zbar}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("set_dir")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    cv2.setNumThreads(1)
    try:
        version = importlib.metadata.version("zxing-cpp")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    print("still_baselines: zxing-cpp %s, opencv %s" % (version, cv2.__version__), file=sys.stderr)
    images = json.load(open("%s/truth.json" % args.set_dir, encoding="utf-8"))["images"]
    decoders = readers()
    for entry in images:
        path = "%s/%s" % (args.set_dir, entry["file"])
        truth = {strip_one(t) for t in entry["texts"]}
        for name, decode in decoders.items():
            best, texts = float("inf"), []
            for _ in range(max(1, args.repeat)):
                start = time.perf_counter()
                texts = decode(path)
                best = min(best, (time.perf_counter() - start) * 1000)
            got = {strip_one(t) for t in texts}
            print(json.dumps({"file": entry["file"], "category": entry["category"], "decoder": name,
                              "expected": len(truth), "read": len(truth & got), "extra": len(got - truth),
                              "ms": round(best, 2)}), flush=True)


if __name__ == "__main__":
    main()
