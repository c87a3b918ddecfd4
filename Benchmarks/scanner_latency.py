#!/usr/bin/env python3
"""A handheld scanner's line to the station's verdict (issue 22): the real vhc-stationd reads a serial port
(a pseudo-terminal pair standing in for the scanner's USB CDC-ACM port); each fresh token is written to the
port with its CR, and the time to its scan.accepted event on the Unix socket's event stream is taken.
Target: median at most 20 ms, as the camera's frame to verdict.

  scanner_latency.py --bin DIR [--scans N]      (DIR holds vhc and vhc-stationd)

Python's standard library only: a test tool, never part of the station."""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def run(binaries, folder, *arguments):
    result = subprocess.run([os.path.join(binaries, "vhc"), *arguments], cwd=folder, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"vhc {' '.join(arguments)}: {result.stderr}")
    return result.stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--scans", type=int, default=200)
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
        master, slave = os.openpty()
        link = os.path.join(folder, "scanner")
        os.symlink(os.ttyname(slave), link)
        socket_path = os.path.join(folder, "api.sock")
        log = open(os.path.join(folder, "daemon.log"), "w")
        daemon = subprocess.Popen(
            [os.path.join(binaries, "vhc-stationd"), "--no-config", "--institution", "0123456789", "--root",
             "root.pub", "--trust-list", "tl.cose", "--database", os.path.join(folder, "station.sqlite"),
             "--socket", socket_path, "--scanner", link], cwd=folder, stdout=log, stderr=log)
        try:
            deadline = time.time() + 20
            while ("scanner opened" not in open(os.path.join(folder, "daemon.log")).read()
                   or not os.path.exists(socket_path)):
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
                sent = time.perf_counter()
                os.write(master, token.encode() + b"\r")
                while b"event: scan.accepted" not in buffered:
                    chunk = stream.recv(65536)
                    if not chunk:
                        raise SystemExit("the event stream ended")
                    buffered += chunk
                latencies.append((time.perf_counter() - sent) * 1000)
                buffered = buffered.split(b"event: scan.accepted", 1)[1]
                time.sleep(0.01)
        finally:
            daemon.terminate()
            daemon.wait(timeout=20)
    latencies.sort()
    median = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    met = median <= 20
    print(f"handheld scanner line → scan.accepted event, {len(latencies)} scans: median {median:.2f} ms, "
          f"p99 {p99:.2f} ms, max {latencies[-1]:.2f} ms; target median ≤ 20 ms: {'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
