#!/usr/bin/env python3
"""Baselines for the still-image QR set (Benchmarks/still-images), on one thread: zxing-cpp, OpenCV's
WeChat QR detector (without its CNN models) and zbar (pyzbar). Prints one JSON line per image and reader:

    {"file", "category", "decoder", "expected", "read", "extra", "ms"}

`read` counts the truth texts the reader returned, `extra` the returned texts that are not in the truth.
`ms` is the best of --repeat runs and includes reading and decoding the image file as greyscale
(cv2.imread(path, IMREAD_GRAYSCALE)) for every reader. One "\\n" or "\\r\\n" at the end of a payload is
stripped before comparing.

    python3 Benchmarks/still_baselines.py SET-DIR [--repeat 2] [--wechat-timeout 5]

OpenCV's WeChat reader, without its models, can spend a minute on one 12 MP image it does not read. It
runs in a child process; a run longer than --wechat-timeout seconds is stopped and reported as nothing
read, with "ms" set to the timeout and "timeout": true. A run longer than 1 s is not repeated.

Needs numpy, opencv-contrib-python-headless, zxing-cpp and pyzbar (with libzbar0).
"""
import argparse
import importlib.metadata
import json
import multiprocessing
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

    wechat = cv2.wechat_qrcode_WeChatQRCode() if "wechat_qrcode_WeChatQRCode" in dir(cv2) else None

    def zxing(path):
        gray = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        return [r.text for r in zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)]

    def wechat_decode(path):
        gray = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        texts, _ = wechat.detectAndDecode(gray)
        return list(texts)

    wechat_decode.isolated = True

    def zbar(path):
        gray = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        return [s.data.decode("utf-8", "replace") for s in pyzbar.decode(gray, symbols=[pyzbar.ZBarSymbol.QRCODE])]

    return {"zxing-cpp": zxing, "opencv-wechat": wechat_decode, "zbar": zbar}


def timed(decode, path):
    start = time.perf_counter()
    texts = decode(path)
    return texts, (time.perf_counter() - start) * 1000


def _child(conn, name):
    cv2.setNumThreads(1)
    decode = readers()[name]
    while True:
        path = conn.recv()
        if path is None:
            return
        conn.send(timed(decode, path))


class Isolated:
    """A reader in a child process that is killed and restarted when a run exceeds the timeout."""

    def __init__(self, name, timeout):
        self.name, self.timeout, self.proc = name, timeout, None

    def start(self):
        ctx = multiprocessing.get_context("fork")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_child, args=(child, self.name), daemon=True)
        self.proc.start()

    def run(self, path):
        if self.proc is None:
            self.start()
        self.conn.send(path)
        if self.conn.poll(self.timeout):
            return self.conn.recv()
        self.proc.kill()
        self.proc.join()
        self.proc = None
        return None

    def close(self):
        if self.proc is not None:
            self.conn.send(None)
            self.proc.join(5)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("set_dir")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--wechat-timeout", type=float, default=5.0)
    args = ap.parse_args()
    cv2.setNumThreads(1)
    try:
        version = importlib.metadata.version("zxing-cpp")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    print("still_baselines: zxing-cpp %s, opencv %s" % (version, cv2.__version__), file=sys.stderr)
    images = json.load(open("%s/truth.json" % args.set_dir, encoding="utf-8"))["images"]
    decoders = readers()
    isolated = {name: Isolated(name, args.wechat_timeout) for name, d in decoders.items()
                if getattr(d, "isolated", False)}
    for entry in images:
        path = "%s/%s" % (args.set_dir, entry["file"])
        truth = {strip_one(t) for t in entry["texts"]}
        for name, decode in decoders.items():
            best, texts, timeout = float("inf"), [], False
            for _ in range(max(1, args.repeat)):
                result = isolated[name].run(path) if name in isolated else timed(decode, path)
                if result is None:
                    best, texts, timeout = args.wechat_timeout * 1000, [], True
                    break
                texts, ms = result
                best = min(best, ms)
                if ms > 1000:
                    break
            got = {strip_one(t) for t in texts}
            row = {"file": entry["file"], "category": entry["category"], "decoder": name, "expected": len(truth),
                   "read": len(truth & got), "extra": len(got - truth), "ms": round(best, 2)}
            if timeout:
                row["timeout"] = True
            print(json.dumps(row), flush=True)
    for runner in isolated.values():
        runner.close()

if __name__ == "__main__":
    main()
