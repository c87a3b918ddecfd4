# The checks' reporting, sourced by scripts/check-packaging.sh and Tests/packaging/deb_test.sh: a line a
# check, "ok" or "FAIL", and the failures counted in $failures; and waiting for a condition (eventually).
failures=0
pass() { echo "ok    $*"; }
bad() {
    echo "FAIL  $*"
    failures=$((failures + 1))
}
check() {  # check DESCRIPTION COMMAND...: run the command quietly, report
    local what="$1"
    shift
    if "$@" >/dev/null 2>&1; then pass "$what"; else bad "$what"; fi
}
eventually() {  # eventually SECONDS COMMAND...: run the command quietly every 0.1 s until it succeeds, or fail
    local tries=$(($1 * 10))
    shift
    for _ in $(seq "$tries"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    return 1
}
