#!/usr/bin/env python3
"""A handheld scanner's line to the station's verdict (issue 22), in both of a scanner's modes: the real
vhc-stationd reads a serial port (a pseudo-terminal pair standing in for the scanner's USB CDC-ACM port: each
fresh token written with its CR) and a keyboard (a FIFO of evdev input_event records standing in for its HID
event node: each token's keys written, then its Enter); the time from the line's end to its scan.accepted
event on the Unix socket's event stream is taken. Target: median at most 20 ms, as the camera's frame to
verdict.

  scanner_latency.py --bin DIR [--scans N] [--mode serial|keyboard|both]   (DIR holds vhc and vhc-stationd)

Python's standard library only: a test tool, never part of the station."""

import argparse
import os
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time


def run(binaries, folder, *arguments):
    result = subprocess.run([os.path.join(binaries, "vhc"), *arguments], cwd=folder, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"vhc {' '.join(arguments)}: {result.stderr}")
    return result.stdout


# A US keyboard's evdev key codes (linux/input-event-codes.h) for a token's alphabet, and whether Shift is held.
US_KEYS = {**{c: (16 + i, True) for i, c in enumerate("QWERTYUIOP")}, **{c: (30 + i, True) for i, c in enumerate("ASDFGHJKL")},
           **{c: (44 + i, True) for i, c in enumerate("ZXCVBNM")}, **{str(d): (11 if d == 0 else 1 + d, False) for d in range(10)},
           " ": (57, False), "$": (5, True), "%": (6, True), "*": (9, True), "+": (13, True), "-": (12, False),
           ".": (52, False), "/": (53, False), ":": (39, True)}


def key_records(code, shift=False):
    """A key pressed and released (with Shift around it), each event followed by its SYN_REPORT."""
    def event(kind, key, value):
        return struct.pack("qqHHi", 0, 0, kind, key, value) + struct.pack("qqHHi", 0, 0, 0, 0, 0)
    keys = event(1, code, 1) + event(1, code, 0)
    return event(1, 42, 1) + keys + event(1, 42, 0) if shift else keys


def measure(binaries, folder, tokens, mode):
    """Latencies in ms of one daemon reading one scanner in `mode`."""
    socket_path = os.path.join(folder, f"api-{mode}.sock")
    device = os.path.join(folder, f"scanner-{mode}")
    if mode == "serial":
        master, slave = os.openpty()
        os.symlink(os.ttyname(slave), device)
        writer = master
    else:
        os.mkfifo(device)
        writer = os.open(device, os.O_RDWR)
    log_path = os.path.join(folder, f"daemon-{mode}.log")
    log = open(log_path, "w")
    daemon = subprocess.Popen(
        [os.path.join(binaries, "vhc-stationd"), "--no-config", "--institution", "0123456789", "--root",
         "root.pub", "--trust-list", "tl.cose", "--database", os.path.join(folder, f"station-{mode}.sqlite"),
         "--socket", socket_path, "--scanner", f"{mode}:{device}"], cwd=folder, stdout=log, stderr=log)
    try:
        deadline = time.time() + 20
        def opened():
            with open(log_path) as text:
                return "scanner opened" in text.read()
        while not opened() or not os.path.exists(socket_path):
            if time.time() > deadline:
                raise SystemExit("the daemon did not open the scanner")
            time.sleep(0.05)
        stream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stream.connect(socket_path)
        stream.sendall(b"GET /v1/events HTTP/1.1\r\nHost: station\r\n\r\n")
        stream.settimeout(10)
        buffered = b""
        while b"vhc-station events" not in buffered:  # the stream's opening comment: it is subscribed
            buffered += stream.recv(65536)
        latencies = []
        for token in tokens:
            if mode == "keyboard":
                os.write(writer, b"".join(key_records(*US_KEYS[c]) for c in token))
                time.sleep(0.005)  # the keys are read; the clock starts at the Enter that ends the line
                end = key_records(28)
            else:
                end = token.encode() + b"\r"
            sent = time.perf_counter()
            os.write(writer, end)
            while b"event: scan.accepted" not in buffered:
                chunk = stream.recv(65536)
                if not chunk:
                    raise SystemExit("the event stream ended")
                buffered += chunk
            latencies.append((time.perf_counter() - sent) * 1000)
            buffered = buffered.split(b"event: scan.accepted", 1)[1]
            time.sleep(0.01)
        return latencies
    finally:
        daemon.terminate()
        daemon.wait(timeout=20)
        log.close()
        os.close(writer)
        if mode == "serial":
            os.close(slave)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--scans", type=int, default=200)
    parser.add_argument("--mode", choices=["serial", "keyboard", "both"], default="both")
    options = parser.parse_args()
    binaries = os.path.abspath(options.bin)
    with tempfile.TemporaryDirectory(prefix="vhc-scanner-latency-") as folder:
        for name in ["root", "token"]:
            run(binaries, folder, "keys", "generate", "--out", f"{name}.pem")
            with open(os.path.join(folder, f"{name}.pub"), "w") as out:
                out.write(run(binaries, folder, "keys", "public", f"{name}.pem"))
        now = int(time.time())
        run(binaries, folder, "trust-list", "build", "--root", "root.pem", "--issuer", "TW-NHIA", "--seq", "1",
            "--issued-at", str(now - 3600), "--expires-at", str(now + 86400), "--key", "token:token.pub",
            "--out", "tl.cose")
        # Distinct holders, so every scan opens a visit (none supersedes or replays another).
        def id_number(n):
            """A1 and seven digits, with its check digit (A counts 10: 1 + 0 × 9)."""
            digits = f"{n:07d}"
            total = 1 + 1 * 8 + sum(int(d) * w for d, w in zip(digits, [7, 6, 5, 4, 3, 2, 1]))
            return f"A1{digits}{(10 - total % 10) % 10}"
        tokens = [run(binaries, folder, "issue", "--key", "token.pem", "--issuer", "TW-NHIA", "--id", id_number(n),
                      "--name", "王小明", "--birth", "1980-05-17").strip() for n in range(options.scans)]
        results = {mode: measure(binaries, folder, tokens, mode)
                   for mode in (["serial", "keyboard"] if options.mode == "both" else [options.mode])}
    met = True
    for mode, latencies in results.items():
        latencies.sort()
        median = statistics.median(latencies)
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        met = met and median <= 20
        print(f"handheld scanner ({mode}) line → scan.accepted event, {len(latencies)} scans: median {median:.2f} ms, "
              f"p99 {p99:.2f} ms, max {latencies[-1]:.2f} ms; target median ≤ 20 ms: {'met' if median <= 20 else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
