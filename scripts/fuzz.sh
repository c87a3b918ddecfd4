#!/usr/bin/env bash
# Fuzz the token verifier with libFuzzer for a bounded time; exit non-zero on any crash.
#   scripts/fuzz.sh [SECONDS]      (default 60)
# Builds into .build-fuzz (release, instrumented for coverage and AddressSanitizer). Crash inputs land in fuzz-artifacts/;
# replay one with: swift run VirtualCardFuzz fuzz-artifacts/crash-...
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
scratch=.build-fuzz
# Instrument for coverage and ASan, and link libFuzzer's no-main runtime: SwiftPM supplies `main`
# itself (renamed to VirtualCardFuzz_main), which FuzzTarget.swift points at libFuzzer's driver.
runtime="$(dirname "$(dirname "$(readlink -f "$(command -v swiftc)")")")/lib/clang"
fuzzer_lib="$(ls "$runtime"/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a | head -n 1)"
swift build -c release --scratch-path "$scratch" --product VirtualCardFuzz \
    -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp \
    -Xswiftc -DFUZZING -Xswiftc -parse-as-library -Xlinker "$fuzzer_lib" -Xlinker -lstdc++
binary="$(swift build -c release --scratch-path "$scratch" --show-bin-path)/VirtualCardFuzz"

# Seed corpus: the committed conformance vectors' token texts and COSE bytes, plus generated seeds.
corpus="$(mktemp -d)"
trap 'rm -rf "$corpus"' EXIT
python3 - "$corpus" <<'PY'
import glob, json, os, sys
out = sys.argv[1]
for i, path in enumerate(sorted(glob.glob("Tests/VirtualCardTests/Fixtures/conformance/*.json"))):
    vector = json.load(open(path))
    open(os.path.join(out, f"text-{i}"), "w").write(vector["PREFIX"])
    if vector.get("COSE"):
        open(os.path.join(out, f"cose-{i}"), "wb").write(bytes.fromhex(vector["COSE"]))
    open(os.path.join(out, f"list-{i}"), "wb").write(bytes.fromhex(vector["TESTCTX"]["TRUSTLIST"]))
PY
cp Tests/FuzzCorpus/* "$corpus"/ 2>/dev/null || true
mkdir -p fuzz-artifacts
echo "fuzzing for ${seconds}s with $(ls "$corpus" | wc -l) seeds"
"$binary" "$corpus" -max_total_time="$seconds" -max_len=4096 -timeout=5 -rss_limit_mb=2048 \
    -artifact_prefix=fuzz-artifacts/ -print_final_stats=1
echo "fuzz: no crash in ${seconds}s"
