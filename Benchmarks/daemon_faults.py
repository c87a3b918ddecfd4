#!/usr/bin/env python3
"""The daemon's soak and fault run (issue 9): the real vhc-stationd, loopback TCP and its Unix socket
only, bounded in time. Each part replays what an outside probe broke and reports against its target:

  flood   silent TCP connections without credentials; the Unix socket must answer within 100 ms throughout
  streams event streams opened and closed; resident memory must end within 10 MiB of the start
  images  hostile images (a progressive JPEG of 16384×4096, cut, baseline, a 16-bit RGBA PNG, a PNG declaring
          60000×60000), then a burst of concurrent 12 MP uploads: peak resident memory at most 160 MiB, and
          within 10 MiB of idle a minute after the burst (cjpeg from libjpeg-turbo-progs makes the JPEGs)
  lock    another process holds the database's write lock; GET /v1/status p99 must stay within 50 ms
  kills   kill -9 again and again during submissions; nothing lost, nothing doubled, chain and anchors intact

  daemon_faults.py --bin DIR [--short] [--only PART,…]      (DIR holds vhc and vhc-stationd)

Python's standard library only: a test tool, never part of the station."""

import argparse
import os
import random
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

FULL = dict(flood=2000, flood_seconds=8, streams=5000, burst=20, settle_seconds=60, lock_seconds=10, submissions=1000,
            kills=20)
SHORT = dict(flood=400, flood_seconds=3, streams=500, burst=5, settle_seconds=3, lock_seconds=3, submissions=200,
             kills=5)


class Station:
    def __init__(self, bin_dir, folder):
        self.vhc = os.path.join(os.path.abspath(bin_dir), "vhc")
        self.daemon_path = os.path.join(os.path.abspath(bin_dir), "vhc-stationd")
        self.folder = folder
        self.socket = os.path.join(folder, "api.sock")
        self.database = os.path.join(folder, "station.sqlite")
        self.log = os.path.join(folder, "daemon.log")
        self.port = free_port()
        self.process = None
        for name in ["root", "token"]:
            self.run(self.vhc, "keys", "generate", "--out", f"{name}.pem")
            pub = self.run(self.vhc, "keys", "public", f"{name}.pem")
            with open(os.path.join(folder, f"{name}.pub"), "w") as out:
                out.write(pub)
        now = int(time.time())
        self.run(self.vhc, "trust-list", "build", "--root", "root.pem", "--issuer", "TW-NHIA", "--seq", "1",
                 "--issued-at", str(now - 3600), "--expires-at", str(now + 86400), "--key", "token:token.pub",
                 "--out", "tl.cose")
        token_file = os.path.join(folder, "api-token")
        with open(os.open(token_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as out:
            out.write("fault-run-token-0123456789abcdef\n")

    def run(self, *arguments):
        result = subprocess.run(arguments, cwd=self.folder, capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(arguments)} failed: {result.stderr}")
        return result.stdout

    def token(self, number):
        return self.run(self.vhc, "issue", "--key", "token.pem", "--issuer", "TW-NHIA", "--id", "A123456789",
                        "--name", "王小明", "--birth", "1980-05-17").strip()

    def start(self):
        log = open(self.log, "a")
        self.process = subprocess.Popen(
            [self.daemon_path, "--no-config", "--institution", "0123456789", "--root", "root.pub",
             "--trust-list", "tl.cose", "--database", self.database, "--socket", self.socket,
             "--tcp", f"127.0.0.1:{self.port}", "--api-token-file", "api-token"],
            cwd=self.folder, stdout=log, stderr=log)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if exchange(self.socket, "GET /v1/status")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise SystemExit("the daemon did not come up; see " + self.log)

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=20)

    def rss_kib(self):
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def exchange(path, head, body=b"", timeout=15.0):
    """One HTTP/1.1 request over the Unix socket; returns (status, text)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(timeout)
        connection.connect(path)
        request = f"{head} HTTP/1.1\r\nHost: station\r\nConnection: close\r\n"
        if body:
            request += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        connection.sendall(request.encode() + b"\r\n" + body)
        reply = b""
        while chunk := connection.recv(65536):
            reply += chunk
    text = reply.decode(errors="replace")
    parts = text.split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise ConnectionError("the connection closed without an answer")  # the daemon died mid-request
    return int(parts[1]), text


def timed_status(path):
    started = time.perf_counter()
    status, _ = exchange(path, "GET /v1/status")
    return status, (time.perf_counter() - started) * 1000


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * p + 0.999999) - 1))]


def flood(station, size, seconds):
    silent = []
    for _ in range(size):
        connection = socket.socket()
        connection.setblocking(False)
        try:
            connection.connect(("127.0.0.1", station.port))
        except (BlockingIOError, OSError):
            pass
        silent.append(connection)
    latencies, failures = [], 0
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            status, ms = timed_status(station.socket)
            latencies.append(ms)
            failures += status != 200
        except OSError:
            failures += 1
        time.sleep(0.05)
    descriptors = len(os.listdir(f"/proc/{station.process.pid}/fd"))
    for connection in silent:
        connection.close()
    worst = max(latencies) if latencies else float("inf")
    return (f"{size} silent TCP connections for {seconds} s: the Unix socket answered {len(latencies)} status "
            f"requests, worst {worst:.1f} ms, {failures} failed; the daemon held {descriptors} descriptors",
            failures == 0 and worst <= 100)


def streams(station, count):
    time.sleep(0.5)
    before = station.rss_kib()
    for _ in range(count):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(5)
            connection.connect(station.socket)
            connection.sendall(b"GET /v1/events HTTP/1.1\r\nHost: station\r\n\r\n")
            connection.recv(4096)
    time.sleep(2)
    after = station.rss_kib()
    status = exchange(station.socket, "GET /v1/status")[1]
    open_streams = status.split('"eventStreams":')[1].split(",")[0].split("}")[0] if "eventStreams" in status else "?"
    grown = (after - before) / 1024
    return (f"{count} event streams opened and closed: resident memory {before / 1024:.1f} → {after / 1024:.1f} MiB "
            f"({grown:+.1f} MiB), {open_streams} still open", grown <= 10 and open_streams == "0")


def lock(station, seconds):
    holder = sqlite3.connect(station.database, timeout=1, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    latencies = []
    deadline = time.time() + seconds
    while time.time() < deadline:
        status, ms = timed_status(station.socket)
        if status == 200:
            latencies.append(ms)
        time.sleep(0.02)
    holder.execute("ROLLBACK")
    holder.close()
    p99 = percentile(latencies, 0.99)
    return (f"GET /v1/status during a {seconds} s write lock held by another process: {len(latencies)} requests, "
            f"p99 {p99:.1f} ms, worst {max(latencies):.1f} ms", p99 <= 50)


def kills(station, submissions, kill_count):
    tokens = [station.token(number) for number in range(submissions)]
    every = max(1, submissions // kill_count)
    done, lost_answers, killed = 0, 0, 0
    kill_now = threading.Event()
    finished = threading.Event()

    def killer():
        nonlocal killed
        while not finished.is_set():
            if kill_now.wait(0.05):
                kill_now.clear()
                time.sleep(random.uniform(0, 0.01))  # land in the middle of a request
                station.kill()
                killed += 1
                station.start()

    thread = threading.Thread(target=killer)
    thread.start()
    unexpected = []
    for number, token in enumerate(tokens):
        body = ('{"token": "%s", "source": "fault-run"}' % token).encode()
        failed_before = False
        while True:
            try:
                status, text = exchange(station.socket, "POST /v1/scans", body, timeout=10)
            except OSError:
                failed_before = True
                lost_answers += 1
                time.sleep(0.05)
                continue
            if status == 503:
                time.sleep(0.1)
                continue
            accepted = '"accepted":true' in text
            replayed = '"code":"replayed"' in text
            if not (accepted or (replayed and failed_before)):
                unexpected.append(text[-200:])
            break
        done += 1
        if done % every == 0 and killed < kill_count:
            kill_now.set()
    finished.set()
    thread.join()
    station.stop()
    db = sqlite3.connect(f"file:{station.database}?mode=ro", uri=True)
    consumed = db.execute("SELECT count(*) FROM consumed_token").fetchone()[0]
    sessions = db.execute("SELECT count(*) FROM visit_session").fetchone()[0]
    accepted = db.execute("SELECT count(*) FROM audit_log WHERE kind = 'scan.accepted'").fetchone()[0]
    db.close()
    audit = subprocess.run([station.vhc, "audit", "verify", "--database", station.database, "--anchors", station.log],
                           capture_output=True, text=True)
    lost = submissions - sessions if sessions < submissions else 0
    doubled = max(0, sessions - submissions) + max(0, accepted - submissions)
    ok = (killed == kill_count and consumed == submissions and sessions == submissions and accepted == submissions
          and not unexpected and audit.returncode == 0)
    return (f"kill -9 ×{killed} during {submissions} submissions ({lost_answers} answers lost in flight, retried): "
            f"{consumed} tokens consumed, {sessions} sessions, {accepted} scan.accepted rows → {lost} lost, "
            f"{doubled} doubled, {len(unexpected)} unexpected answers; {audit.stdout.strip() or audit.stderr.strip()}",
            ok)


# MARK: - Hostile images (issue 21)


def write_ppm(path, width, height, row):
    """A binary PPM whose row y is row(y) (width × 3 bytes)."""
    with open(path, "wb") as out:
        out.write(f"P6 {width} {height} 255\n".encode())
        for y in range(height):
            out.write(row(y))


def cjpeg(ppm, jpeg, *options):
    subprocess.run(["cjpeg", *options, "-outfile", jpeg, ppm], check=True)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write_png(path, width, height, bit_depth, colour_type, channels, row, interlaced=False):
    """A PNG of row(y) (raw samples, big-endian for 16-bit), each row with filter 0; Adam7 when interlaced."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    pixel = channels * bit_depth // 8
    compressor = zlib.compressobj(1)
    data = bytearray()
    for x0, y0, dx, dy in ADAM7 if interlaced else [(0, 0, 1, 1)]:
        for y in range(y0, height, dy):
            full = row(y)
            line = full if dx == 1 else b"".join(full[x * pixel:(x + 1) * pixel] for x in range(x0, width, dx))
            data += compressor.compress(b"\x00" + line)
    data += compressor.flush()
    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n")
        out.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0,
                                             1 if interlaced else 0)))
        out.write(chunk(b"IDAT", bytes(data)))
        out.write(chunk(b"IEND", b""))


def hostile_images(folder):
    """The probe's images and their kin: (name, path, whether the station may accept it)."""
    images = []
    width, height = 16384, 4096
    # Smooth bands: a small file (the probe's was 769 KiB) that is large to decode.
    bands = [bytes(((x // 256) * 37 + y * 11) % 256 for x in range(width) for _ in range(3)) for y in range(8)]
    ppm = os.path.join(folder, "wide.ppm")
    write_ppm(ppm, width, height, lambda y: bands[(y // 512) % 8])
    progressive = os.path.join(folder, "progressive-444.jpg")
    cjpeg(ppm, progressive, "-progressive", "-sample", "1x1", "-quality", "80")
    images.append(("progressive JPEG 16384×4096 4:4:4", progressive))
    with open(progressive, "rb") as whole:
        data = whole.read()
    cut = os.path.join(folder, "progressive-cut.jpg")
    with open(cut, "wb") as out:
        out.write(data[: len(data) * 6 // 10])
    images.append(("the same cut at 60%", cut))
    baseline = os.path.join(folder, "baseline-444.jpg")
    cjpeg(ppm, baseline, "-sample", "1x1", "-quality", "80")
    images.append(("baseline JPEG 16384×4096 4:4:4", baseline))
    os.unlink(ppm)
    rgba16 = os.path.join(folder, "rgba16.png")
    row16 = bytes((x * 13) % 256 for x in range(width * 8))
    write_png(rgba16, width, height, 16, 6, 4, lambda y: row16)
    images.append(("16-bit RGBA PNG 16384×4096", rgba16))
    interlaced = os.path.join(folder, "rgba16-interlaced.png")
    write_png(interlaced, width, height, 16, 6, 4, lambda y: row16, interlaced=True)
    images.append(("the same interlaced", interlaced))
    bomb = os.path.join(folder, "declared-huge.png")
    write_png(bomb, 60000, 1, 8, 0, 1, lambda y: bytes(60000))
    with open(bomb, "r+b") as out:  # the header claims 60000×60000: refused before any pixel is allocated
        out.seek(16)
        out.write(struct.pack(">II", 60000, 60000))
    images.append(("PNG declaring 60000×60000", bomb))
    return images


def photo(folder):
    """A 12 MP baseline JPEG, photo-sized (about 4 MB)."""
    width, height = 4000, 3000
    coarse = [os.urandom(width // 10 * 3) for _ in range(height // 10)]
    def row(y):
        source = coarse[y // 10]
        return b"".join(source[i:i + 3] * 10 for i in range(0, len(source), 3))
    ppm = os.path.join(folder, "photo.ppm")
    write_ppm(ppm, width, height, row)
    path = os.path.join(folder, "photo.jpg")
    cjpeg(ppm, path, "-quality", "85")
    os.unlink(ppm)
    return path


def upload(station, path, timeout=120.0):
    with open(path, "rb") as image:
        body = image.read()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(timeout)
        connection.connect(station.socket)
        connection.sendall(f"POST /v1/scans/image HTTP/1.1\r\nHost: station\r\nConnection: close\r\n"
                           f"Content-Type: application/octet-stream\r\nContent-Length: {len(body)}\r\n\r\n".encode())
        try:
            connection.sendall(body)
        except OSError:
            pass  # refused (busy) before the whole body was read
        reply = b""
        try:
            while chunk := connection.recv(65536):
                reply += chunk
        except OSError:
            pass  # reset after the answer: the rest of a refused body was not read
    text = reply.decode(errors="replace")
    if not text.startswith("HTTP/1.1 "):
        alive = station.process.poll() is None
        return 0, "no answer" + ("" if alive else f" (the daemon exited {station.process.returncode})")
    status = int(text.split(" ", 2)[1])
    code = text.split('"code":"')[1].split('"')[0] if '"code":"' in text else "-"
    return status, code


def peak_kib(station):
    with open(f"/proc/{station.process.pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def images(station, burst, settle_seconds):
    """Each hostile image once (the peak resident memory over them), then `burst` concurrent 12 MP uploads
    and, `settle_seconds` later, resident memory against the idle figure before them."""
    with tempfile.TemporaryDirectory(prefix="vhc-images-", dir=station.folder) as folder:
        made = hostile_images(folder)
        picture = photo(folder)
        time.sleep(1)
        idle = station.rss_kib()
        answers = []
        for name, path in made:
            status, code = upload(station, path)
            answers.append(f"{name}: {status} {code}")
        peak = peak_kib(station)
        results = []
        threads = [threading.Thread(target=lambda: results.append(upload(station, picture))) for _ in range(burst)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        read = sum(1 for status, _ in results if status == 200)
        busy = sum(1 for _, code in results if code == "image_busy")
        time.sleep(settle_seconds)
        after = station.rss_kib()
    peak_mib, idle_mib, after_mib = peak / 1024, idle / 1024, after / 1024
    ok = peak_mib <= 160 and after_mib - idle_mib <= 10 and read >= 1 and read + busy == burst
    return (f"hostile images ({'; '.join(answers)}): peak resident {peak_mib:.0f} MiB (idle {idle_mib:.0f}); "
            f"{burst} concurrent 12 MP uploads ({read} read, {busy} image_busy), {settle_seconds} s later "
            f"{after_mib:.0f} MiB ({after_mib - idle_mib:+.1f} MiB)", ok)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--short", action="store_true", help="the CI version: smaller and faster")
    parser.add_argument("--only", help="comma-separated parts to run (default: all)")
    options = parser.parse_args()
    size = SHORT if options.short else FULL
    results = []
    with tempfile.TemporaryDirectory(prefix="vhc-faults-") as folder:
        station = Station(options.bin, folder)
        station.start()
        try:
            parts = [
                ("flood", lambda: flood(station, size["flood"], size["flood_seconds"])),
                ("streams", lambda: streams(station, size["streams"])),
                ("images", lambda: images(station, size["burst"], size["settle_seconds"])),
                ("lock", lambda: lock(station, size["lock_seconds"])),
                ("kills", lambda: kills(station, size["submissions"], size["kills"])),
            ]
            chosen = options.only.split(",") if options.only else [name for name, _ in parts]
            for name, run in parts:
                if name in chosen:
                    results.append((name, *run()))
        finally:
            if station.process and station.process.poll() is None:
                station.stop()
    for name, line, ok in results:
        print(f"{'PASS' if ok else 'FAIL'} {name:8} {line}")
    failed = [name for name, _, ok in results if not ok]
    print("all targets met" if not failed else "targets missed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
