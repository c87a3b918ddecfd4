#!/usr/bin/env bash
# Writes a program's man pages from its own help: swift-argument-parser's generate-manual tool, one page for
# the program and one for each subcommand (vhc.1, vhc.sessions.list.1…). The tool is built once, through
# the package's GenerateManual plugin, into .build/manual-tool. The pages are dated by the last commit
# (or SOURCE_DATE_EPOCH), so the same tree makes the same pages.
#   scripts/make-manual.sh PROGRAM SECTION OUTPUT-DIR
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
(($# == 3)) || { echo "usage: scripts/make-manual.sh PROGRAM SECTION OUTPUT-DIR" >&2; exit 2; }
scratch="$repo/.build/manual-tool"
find_tool() { find "$scratch" -name generate-manual-tool -type f -perm -u+x 2>/dev/null | head -1 || true; }
tool="$(find_tool)"
if [[ -z "$tool" ]]; then
    (cd "$repo" && swift package --scratch-path "$scratch" plugin generate-manual --help >/dev/null)
    tool="$(find_tool)"
    [[ -n "$tool" ]] || { echo "make-manual: the generate-manual tool was not built in $scratch" >&2; exit 1; }
fi
if [[ -n "${SOURCE_DATE_EPOCH:-}" ]]; then
    date="$(date -u -d "@$SOURCE_DATE_EPOCH" +%F)"
else
    date="$(git -C "$repo" log -1 --format=%cs 2>/dev/null || date -u +%F)"
fi
mkdir -p "$3"
raw="$(mktemp -d)"
trap 'rm -rf "$raw"' EXIT
"$tool" "$1" --multi-page --section "$2" --date "$date" --output-directory "$raw" \
    --authors "vhc-station maintainers<maintainers@vhc-station.invalid>"
# A subcommand's page as man and apropos expect it: named vhc-sessions-list.1 (not vhc.sessions.list.1),
# with that one-word name in NAME (the tool writes "vhc sessions list", which whatis cannot index) and the
# command as it is typed in the synopsis (vhc sessions list), cross-references following the new names.
python3 - "$raw" "$3" "$2" <<'PY'
import os, re, sys
raw, out, section = sys.argv[1:4]
for page in sorted(os.listdir(raw)):
    words = page[: -len(section) - 1].split(".")
    dashed = "-".join(words)
    text = open(os.path.join(raw, page), encoding="utf-8").read()
    text = re.sub(r"(?m)^\.Xr ([A-Za-z0-9.-]+) ", lambda m: ".Xr " + m.group(1).replace(".", "-") + " ", text)
    if len(words) > 1:
        text = re.sub(r"(?m)^\.Dt .*$", f".Dt {dashed.upper()} {section}", text)
        text = text.replace(f'.Nm "{" ".join(words)}"', f".Nm {dashed}", 1)
        text = re.sub(r"(?m)^\.Nm$", f".Nm {words[0]}\n.Cm {' '.join(words[1:])}", text)
    with open(os.path.join(out, f"{dashed}.{section}"), "w", encoding="utf-8") as file:
        file.write(text)
PY
