#!/usr/bin/env bash
# The packages of the commit before this one (HEAD~1), for the upgrade test (Tests/packaging/deb_test.sh):
# what a clinic runs today, to install this commit over. Built in this checkout, at its own paths and in its
# own .build folder, so the build is incremental both ways (only what the last commit changed is compiled,
# then compiled back: about a minute, not two clean builds); the checkout and the tests' build are then put
# back as they were, also when it fails. It moves HEAD for that minute, so it needs a checkout without
# changes to tracked files (CI's clean clone is one). A shallow clone is deepened by one commit from origin.
# Their version is the previous commit's VERSION with "~git<commit>", lower than this commit's.
# Prints the paths of the two packages, one a line, last; anything else goes to stderr.
# Exits 3 when the checkout has changes, 4 when there is no previous commit to build (nothing was touched
# either way), 2 on any other failure.
#   scripts/previous-package.sh OUT-DIR
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:?usage: scripts/previous-package.sh OUT-DIR}"
fail() {
    echo "previous-package: $*" >&2
    exit 2
}
cd "$repo"
if [[ -n "$(git status --porcelain --untracked-files=no)" ]]; then
    echo "previous-package: the checkout has changes to tracked files: commit them first (this script checks out HEAD~1 for a minute)" >&2
    exit 3
fi
if ! git rev-parse --verify -q 'HEAD~1^{commit}' >/dev/null && [[ "$(git rev-parse --is-shallow-repository)" == true ]]; then
    git fetch -q --deepen=1 origin >&2 || true
fi
if ! previous="$(git rev-parse --verify -q 'HEAD~1^{commit}')"; then
    echo "previous-package: no previous commit here (a first commit, or a shallow clone that origin cannot deepen)" >&2
    exit 4
fi
git cat-file -e "$previous:scripts/package-deb.sh" 2>/dev/null || fail "the previous commit has no scripts/package-deb.sh"
version="$(git show "$previous:VERSION" | tr -d '[:space:]')~git$(git rev-parse --short=8 "$previous")"
current="$(tr -d '[:space:]' <VERSION)"
dpkg --compare-versions "$version" lt "$current" || fail "the previous version $version is not below $current"

# A commit's build flags, read in a subshell: its scripts/build-flags.sh cannot touch this script's variables.
flags_of_checkout() { bash -c 'source scripts/build-flags.sh && printf "%s\n" "${build_flags[@]}"'; }
log="$(mktemp)"
# A build's output only when it fails: CI's log stays readable.
build() { swift build "$@" >"$log" 2>&1 || { cat "$log" >&2; return 1; }; }

# Back to where it was, whatever happens: the branch (or the detached commit), then the tests' build. Each
# step is checked and said: a checkout left on HEAD~1 must never pass unnoticed.
here="$(git symbolic-ref -q --short HEAD || git rev-parse HEAD)"
here_commit="$(git rev-parse HEAD)"
restore() {
    local status=$?
    set +e
    # The tracked tree was clean and the build writes only ignored files: forcing loses nothing.
    if ! git -c advice.detachedHead=false checkout -f -q "$here" -- || [[ "$(git rev-parse HEAD)" != "$here_commit" ]]; then
        echo "previous-package: COULD NOT CHECK OUT $here AGAIN: the checkout is at $(git rev-parse --short HEAD); run: git checkout -f $here" >&2
        exit 2
    fi
    mapfile -t flags < <(flags_of_checkout)
    if ! build --build-tests "${flags[@]}"; then
        echo "previous-package: rebuilding $here failed: the tests' build holds the previous commit's binaries" >&2
        exit 2
    fi
    rm -f "$log"
    exit "$status"
}
trap restore EXIT

git -c advice.detachedHead=false checkout -q --detach "$previous"
echo "previous-package: building $previous ($version) in place" >&2
# The previous commit's own flags and packaging script: its package as it was.
mapfile -t flags < <(flags_of_checkout)
build "${flags[@]}"
quick=()
if grep -q -- '--quick)' scripts/package-deb.sh; then quick=(--quick); fi  # packed fast where it can be
scripts/package-deb.sh --bin-dir "$(swift build --show-bin-path)" --out "$out" --version "$version" --no-lintian "${quick[@]}"
