#!/usr/bin/env python3
"""Report for the still-image QR set: a Markdown table of codes read per category and reader (with the
median milliseconds per image, file decoding included), then the station's targets:

- station reads at least as many codes as zxing-cpp in every single-code category and overall;
- on the glare and damage categories (issue 26): at least the best of the other readers in each, and more
  than any of them over both;
- station median ms per image at most 3 × zxing-cpp's, per category;
- no station image over 1000 ms (the slowest is printed);
- peak memory under 64 MB for the 12 MP probe (a line {"decoder": "station", "peakMiB": x, "baseMiB": y}).

    python3 Benchmarks/still_report.py STATION.jsonl BASELINES.jsonl

It is a report: the exit status is 0 whatever the figures.
"""
import collections
import json
import statistics
import sys

ORDER = ["station", "zxing-cpp", "opencv-wechat", "zbar"]
CATEGORY_ORDER = ["photo-4mp", "photo-8mp", "photo-12mp", "monitor-photo", "screenshot-fhd", "screenshot-4k",
                  "multi-code-page", "high-version", "glare-veil", "damaged"]
HARD = ["glare-veil", "damaged"]  # issue 26: against the best of the other readers
MULTI = {"multi-code-page"}


def load(paths):
    rows, probes = [], []
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                line = line.strip()
                if not line or not line.startswith("{"):
                    continue
                row = json.loads(line)
                if "peakMiB" in row:
                    probes.append(row)
                elif "expected" in row and "read" in row:
                    rows.append(row)
    return rows, probes


def summary(entries):
    if not entries:
        return None
    expected = sum(e["expected"] for e in entries)
    read = sum(e["read"] for e in entries)
    times = [e["ms"] for e in entries if e.get("ms") is not None]
    return dict(expected=expected, read=read, extra=sum(e.get("extra", 0) for e in entries),
                pct=100.0 * read / expected if expected else 0.0,
                median=statistics.median(times) if times else None, images=len(entries))


def cell(s):
    if s is None:
        return "–"
    ms = "%.0f ms" % s["median"] if s["median"] is not None else "–"
    extra = ", +%d wrong" % s["extra"] if s["extra"] else ""
    return "%d/%d (%.0f%%) · %s%s" % (s["read"], s["expected"], s["pct"], ms, extra)


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 0
    rows, probes = load(sys.argv[1:])
    by = collections.defaultdict(list)
    for row in rows:
        by[(row["category"], row["decoder"])].append(row)
    present = {row["category"] for row in rows}
    categories = [c for c in CATEGORY_ORDER if c in present] + sorted(present - set(CATEGORY_ORDER))
    decoders = [d for d in ORDER if any(r["decoder"] == d for r in rows)]
    decoders += sorted({r["decoder"] for r in rows} - set(decoders))

    print("| category | images | " + " | ".join(decoders) + " |")
    print("| --- | ---: | " + " | ".join("---" for _ in decoders) + " |")
    stats = {}
    for category in categories:
        for d in decoders:
            stats[(category, d)] = summary(by.get((category, d), []))
        images = max((s["images"] for d in decoders for s in [stats[(category, d)]] if s), default=0)
        print("| %s | %d | %s |" % (category, images, " | ".join(cell(stats[(category, d)]) for d in decoders)))
    single = [c for c in categories if c not in MULTI]
    for label, cats in (("single-code", single), ("**all**", categories)):
        key = "single" if label == "single-code" else "all"
        for d in decoders:
            stats[(key, d)] = summary([e for c in cats for e in by.get((c, d), [])])
        images = max((s["images"] for d in decoders for s in [stats[(key, d)]] if s), default=0)
        print("| %s | %d | %s |" % (label, images, " | ".join(cell(stats[(key, d)]) for d in decoders)))
    print()
    print("Cells: codes read / codes in the images (percent) · median ms per image, one thread, reading and")
    print("decoding the image file included. \"+n wrong\": texts returned that are not in the truth.")
    print()
    print("## Targets")
    print()

    def line(ok, text):
        print("- %s %s" % ("PASS" if ok else "MISS", text))

    if "station" not in decoders:
        print("- MISS no station results")
        return 0
    if "zxing-cpp" in decoders:
        for category in single + ["single", "all"]:
            st, zx = stats.get((category, "station")), stats.get((category, "zxing-cpp"))
            if not st or not zx:
                continue
            name = {"single": "single-code total", "all": "overall"}.get(category, category)
            line(st["read"] >= zx["read"], "%s: station reads %d/%d, zxing-cpp %d/%d" % (
                name, st["read"], st["expected"], zx["read"], zx["expected"]))
        for category in categories:
            st, zx = stats.get((category, "station")), stats.get((category, "zxing-cpp"))
            if not st or not zx or st["median"] is None or zx["median"] is None:
                continue
            line(st["median"] <= 3 * zx["median"], "%s: station median %.0f ms ≤ 3 × zxing-cpp %.0f ms = %.0f ms" % (
                category, st["median"], zx["median"], 3 * zx["median"]))
    else:
        print("- MISS no zxing-cpp results to compare with")
    others = [d for d in decoders if d != "station"]
    hard = [c for c in HARD if c in categories]
    for category in hard:
        st = stats.get((category, "station"))
        best = max(others, key=lambda d: (stats.get((category, d)) or {}).get("read", -1), default=None)
        if st and best and stats.get((category, best)):
            line(st["read"] >= stats[(category, best)]["read"], "%s: station reads %d/%d, the best other (%s) %d" % (
                category, st["read"], st["expected"], best, stats[(category, best)]["read"]))
        else:
            line(False, "%s: no station or no other reader's results to compare" % category)
    if hard and others:
        total = lambda d: sum((stats.get((c, d)) or {}).get("read", 0) for c in hard)
        best = max(others, key=total)
        line(total("station") > total(best), "%s together: station reads %d, the best other (%s) %d" % (
            " and ".join(hard), total("station"), best, total(best)))
    timed = [r for r in rows if r["decoder"] == "station" and r.get("ms") is not None]
    if timed:
        slowest = max(timed, key=lambda r: r["ms"])
        over = sum(r["ms"] > 1000 for r in timed)
        line(over == 0, "no station image over 1000 ms: %d over; slowest %s, %.0f ms" % (
            over, slowest["file"], slowest["ms"]))
    if probes:
        for p in probes:
            line(p["peakMiB"] < 64, "12 MP memory probe: peak %.1f MiB (base %s MiB)%s" % (
                p["peakMiB"], p.get("baseMiB", "?"), (", " + p["file"]) if p.get("file") else ""))
    else:
        print("- MISS 12 MP memory probe: no peakMiB line")
    return 0


if __name__ == "__main__":
    main()
    sys.exit(0)
