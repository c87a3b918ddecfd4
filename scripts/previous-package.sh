#!/usr/bin/env bash
# The packages of the commit before this one (HEAD~1), for the upgrade test (Tests/packaging/deb_test.sh):
# what a clinic runs today, to install this commit over. Built in this checkout, at its own paths and in its
# own .build folder, so the build is incremental both ways (only what the last commit changed is compiled,
# then compiled back: about a minute, not two clean builds); the checkout and the tests' build are then put
# back as they were, also when it fails. It moves HEAD for that minute, so it needs a checkout without
# changes to tracked files (CI's clean clone is one).
# Their version is the previous commit's VERSION with "~git<commit>", lower than this commit's.
# Prints the paths of the two packages, one a line, last; anything else goes to stderr.
#   scripts/previous-package.sh OUT-DIR
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:?usage: scripts/previous-package.sh OUT-DIR}"
fail() {
    echo "previous-package: $*" >&2
    exit 2
}
cd "$repo"
[[ -z "$(git status --porcelain --untracked-files=no)" ]] ||
    fail "the checkout has changes to tracked files: commit them first (this script checks out HEAD~1 for a minute)"
previous="$(git rev-parse --verify -q 'HEAD~1^{commit}')" || fail "no previous commit here (a shallow clone?)"
git cat-file -e "$previous:scripts/package-deb.sh" 2>/dev/null || fail "the previous commit has no scripts/package-deb.sh"
version="$(git show "$previous:VERSION" | tr -d '[:space:]')~git$(git rev-parse --short=8 "$previous")"
current="$(tr -d '[:space:]' <VERSION)"
dpkg --compare-versions "$version" lt "$current" || fail "the previous version $version is not below $current"

# Back to where it was, whatever happens: the branch (or the detached commit), then the tests' build.
here="$(git symbolic-ref -q --short HEAD || git rev-parse HEAD)"
log="$(mktemp)"
# A build's output only when it fails: CI's log stays readable.
build() { swift build "$@" >"$log" 2>&1 || { cat "$log" >&2; return 1; }; }
restore() {
    git -c advice.detachedHead=false checkout -q "$here"
    source scripts/build-flags.sh
    build --build-tests "${build_flags[@]}" || { echo "previous-package: rebuilding this commit failed" >&2; exit 2; }
    rm -f "$log"
}
trap restore EXIT

git -c advice.detachedHead=false checkout -q --detach "$previous"
echo "previous-package: building $previous ($version) in place" >&2
# The previous commit's own flags and packaging script: its package as it was.
source scripts/build-flags.sh
build "${build_flags[@]}"
scripts/package-deb.sh --bin-dir "$(swift build --show-bin-path)" --out "$out" --version "$version" --no-lintian
