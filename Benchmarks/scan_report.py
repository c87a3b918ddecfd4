#!/usr/bin/env python3
"""Turns the benchmark's JSON lines into the README table and checks issue 3's targets:
the station's read rate (within two frames of a stream) at least the best baseline's in every
category and overall; median at most 10 ms per 640×480 frame and 25 ms per 1280×720 frame; no frame
slower than 3× the median. The station's times are per frame decoded (a missed first frame and the
second both count); its first-frame read rate is shown beside, as "station, 1st frame".

    python3 Benchmarks/scan_report.py RESULTS.jsonl...      (exit 1 when a target is missed)
"""
import collections
import json
import statistics
import sys

ORDER = ["station", "station, 1st frame", "zbar", "zbarimg", "zxing-cpp", "opencv-wechat"]


def frame_times(entry):
    """Per-frame milliseconds of an entry: a list (ScanBenchmark), a number, or None (zbarimg)."""
    ms = entry["ms"]
    if ms is None:
        return []
    return ms if isinstance(ms, list) else [ms]


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    rows = [json.loads(line) for path in sys.argv[1:] for line in open(path) if line.strip()]
    # The station's first frame on its own, as a column of its own (rate only).
    rows += [dict(row, decoder="station, 1st frame", ok=row["okFirstFrame"], ms=None)
             for row in rows if row["decoder"] == "station"]
    by = collections.defaultdict(list)
    for row in rows:
        by[(row["category"], row["decoder"])].append(row)
    categories = sorted({row["category"] for row in rows}, key=lambda c: (c.endswith("1280"), c))
    decoders = [d for d in ORDER if any(key[1] == d for key in by)]

    def cell(entries):
        rate = 100 * sum(e["ok"] for e in entries) / len(entries)
        times = [t for e in entries for t in frame_times(e)]
        if not times:
            return f"{rate:.0f}%", rate, None, None, None
        return f"{rate:.0f}% · {statistics.median(times):.1f} · {percentile(times, 95):.1f}", rate, statistics.median(
            times), percentile(times, 95), max(times)

    print("| category | images | " + " | ".join(decoders) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in decoders) + " |")
    failures = []
    totals = collections.defaultdict(list)
    for category in categories:
        cells = []
        rates = {}
        for decoder in decoders:
            entries = by.get((category, decoder), [])
            totals[decoder] += entries
            if not entries:
                cells.append("–")
                continue
            text, rate, median, p95, worst = cell(entries)
            rates[decoder] = rate
            cells.append(text)
            if decoder == "station":
                limit = 25 if category.endswith("1280") else 10
                if median > limit:
                    failures.append(f"{category}: station median {median:.1f} ms > {limit} ms")
                if worst > 3 * median:
                    failures.append(f"{category}: slowest frame {worst:.1f} ms > 3 × median {median:.1f} ms")
        count = len(by.get((category, decoders[0]), []))
        print(f"| {category} | {count} | " + " | ".join(cells) + " |")
        best = max((r for d, r in rates.items() if not d.startswith("station")), default=0)
        if "station" in rates and rates["station"] < best:
            failures.append(f"{category}: station reads {rates['station']:.0f}% < best baseline {best:.0f}%")
    overall = {d: cell(e) for d, e in totals.items() if e}
    print("| **all** | " + str(len(totals[decoders[0]])) + " | " + " | ".join(overall[d][0] for d in decoders) + " |")
    best_overall = max((overall[d][1] for d in decoders if not d.startswith("station")), default=0)
    if overall["station"][1] < best_overall:
        failures.append(f"overall: station {overall['station'][1]:.0f}% < best baseline {best_overall:.0f}%")
    print()
    print("Cells: read rate · median ms · 95th-percentile ms per frame, one core. station: read within two")
    print("frames of a stream; station, 1st frame: on the first; zbarimg: read rate only (its time includes")
    print("starting a process).")
    if failures:
        print("\nTargets missed:")
        for failure in failures:
            print(f"- {failure}")
        sys.exit(1)
    print("\nAll targets met.")


if __name__ == "__main__":
    main()
