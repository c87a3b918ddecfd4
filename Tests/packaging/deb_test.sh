#!/usr/bin/env bash
# The Debian packages (issue 25), on this machine: built by scripts/package-deb.sh from the test build's
# binaries, lintian without errors, then installed for real with dpkg and a station run on the installed
# files; then the previous commit's packages (scripts/previous-package.sh) installed, a clinic's station run on
# them against the sandbox cloud (visits, a queued outbox, the audit log, a page signed in), this commit's
# installed over it and every row checked; then a removal and a purge (docs/packaging.md says what each keeps).
# No systemd runs here: a stand-in for deb-systemd-invoke records what the maintainer scripts ask of it, and
# the test does what systemd would.
# Installing changes the system: it runs only on a machine given to it (VHC_DISPOSABLE_MACHINE=1, as CI is),
# as root; elsewhere the packages are built and linted, and it says what it left out.
#   Tests/packaging/deb_test.sh BIN-DIR
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
bin_dir="$1"
work="$(mktemp -d)"
source "$repo/scripts/checks.sh"
daemon=""
cloud=""
installed=0
stand_in=""           # the deb-systemd-invoke stand-in, while it is in place
made_run_systemd=0    # whether the test made /run/systemd/system (no systemd runs here)
# The files the administrator puts in /etc/vhc-station: no purge removes them, the test does.
admin_files=(root.pub trust-list.cose cloud-ca.pem institution-cert.pem institution-key.pem api-token)
cleanup() {
    for process in "$daemon" "$cloud"; do
        if [[ -n "$process" ]]; then kill "$process" 2>/dev/null || true; wait "$process" 2>/dev/null || true; fi
    done
    if ((installed)); then
        dpkg --purge vhc-station vhc-cloud >/dev/null 2>&1 || true
        for name in "${admin_files[@]}"; do rm -f "/etc/vhc-station/$name"; done
        rmdir /etc/vhc-station /run/vhc-station 2>/dev/null || true
        rm -f /etc/systemd/system/multi-user.target.wants/vhc-stationd.service
    fi
    if [[ -n "$stand_in" ]]; then rm -f "$stand_in"; fi
    if ((made_run_systemd)); then rmdir /run/systemd/system /run/systemd 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

version="$(tr -d '[:space:]' <"$repo/VERSION")"
echo "== building and linting this commit's packages (version $version)"
# (A failing build prints why and leaves its list empty: the count below says so.)
# What the packaged daemon says it is (the upgrade checks that this one runs after it).
packaged_daemon="vhc-stationd $("$bin_dir/vhc-stationd" --version)"
# Packed with gzip -1 (--quick): xz takes a minute a package over the debug build's large binaries.
mapfile -t debs < <("$repo/scripts/package-deb.sh" --bin-dir "$bin_dir" --out "$work/new" --quick || true)
if ((${#debs[@]} != 2)); then
    bad "scripts/package-deb.sh made ${#debs[@]} packages, not 2 (lintian errors?)"
    exit 1
fi
pass "two packages, lintian without errors"
station_deb="${debs[0]}"
check "vhc-station holds the daemon, vhc, the units, the accounts, the conffile and the man pages" \
    bash -c "dpkg-deb --contents '$station_deb' | grep -q './usr/sbin/vhc-stationd' &&
        dpkg-deb --contents '$station_deb' | grep -q './lib/systemd/system/vhc-stationd.service' &&
        dpkg-deb --contents '$station_deb' | grep -q './usr/lib/sysusers.d/vhc-station.conf' &&
        dpkg-deb --contents '$station_deb' | grep -q './usr/share/man/man8/vhc-stationd.8.gz' &&
        dpkg-deb --contents '$station_deb' | grep -q './usr/share/man/man1/vhc-sessions-list.1.gz' &&
        dpkg-deb --info '$station_deb' conffiles | grep -qx '/etc/vhc-station/station.yaml'"
check "the unit in the package runs /usr/sbin/vhc-stationd" \
    bash -c "dpkg-deb --fsys-tarfile '$station_deb' | tar -xO ./lib/systemd/system/vhc-stationd.service | grep -qx 'ExecStart=/usr/sbin/vhc-stationd --config /etc/vhc-station/station.yaml'"

if [[ "${VHC_DISPOSABLE_MACHINE:-0}" != 1 || $(id -u) -ne 0 ]]; then
    echo "left out: installing, upgrading, removing and purging change this machine; CI runs them"
    echo "  (as root with VHC_DISPOSABLE_MACHINE=1)"
    exit $((failures > 0))
fi
# Never over a station of this machine: the test purges what it installs, database included.
if dpkg-query -W -f='${db:Status-Status}' vhc-station vhc-cloud 2>/dev/null | grep -qv '^not-installed$'; then
    bad "vhc-station or vhc-cloud is installed here: the test would purge it (dpkg --purge them first if this machine is a test's)"
    exit 1
fi

echo "== the previous commit's packages, to upgrade from"
# Built now, before anything is installed: scripts/previous-package.sh moves the checkout for a minute and
# puts the tests' build back. A checkout with changes (a developer's: exit 3) or without a previous commit
# (a shallow clone origin cannot deepen: exit 4) upgrades from this build's own binaries packaged at a
# lower version instead, and says so; any other failure is one.
head_commit="$(git -C "$repo" rev-parse HEAD)"
same_build=0  # 1: upgrading from this build packaged at a lower version
status=0
"$repo/scripts/previous-package.sh" "$work/previous" >"$work/previous.list" || status=$?
mapfile -t previous <"$work/previous.list"
if ((status == 0)); then
    from="the previous commit's packages ($(dpkg-deb --field "${previous[0]}" Version))"
else
    ((status == 3 || status == 4)) || bad "scripts/previous-package.sh failed (exit $status, above: why)"
    echo "left out: the previous commit's packages; upgrading from this build packaged as $version~0"
    mapfile -t previous < <("$repo/scripts/package-deb.sh" --bin-dir "$bin_dir" --out "$work/previous" \
        --version "$version~0" --no-lintian --quick || true)
    from="this build packaged as $version~0"
    same_build=1
fi
check "two packages to upgrade from: $from" test "${#previous[@]}" -eq 2
check "the checkout and the test build are this commit's again" \
    bash -c "test \"\$(git -C '$repo' rev-parse HEAD)\" = '$head_commit' && '$bin_dir/vhc' --version | grep -q '(${head_commit:0:12})'"

# A stand-in for systemd's side of the maintainer scripts: they call deb-systemd-invoke only where systemd
# runs (/run/systemd/system); this one, first on root's PATH, writes down what it is asked.
calls="$work/systemd-calls"
if [[ -e /usr/local/sbin/deb-systemd-invoke ]]; then
    bad "/usr/local/sbin/deb-systemd-invoke exists: the test would replace it with its stand-in"
    exit 1
fi
stand_in=/usr/local/sbin/deb-systemd-invoke
printf '#!/bin/sh\necho "$*" >>%s\n' "$calls" >"$stand_in"
chmod 0755 "$stand_in"
if [[ ! -d /run/systemd/system ]]; then mkdir -p /run/systemd/system && made_run_systemd=1; fi
: >"$calls"

echo "== install"
installed=1
output="$(dpkg -i "${debs[@]}" 2>&1)" || { echo "$output"; bad "dpkg -i"; exit 1; }
check "the installation says the station is installed but not started, and what to edit" \
    grep -q "installed, not started: edit /etc/vhc-station/station.yaml" <<<"$output"
check "and starts nothing" test ! -s "$calls"
check "vhc --version reports the package version and the commit" bash -c "/usr/bin/vhc --version | grep -q '^$version ('"
check "vhc-stationd --version too" bash -c "/usr/sbin/vhc-stationd --version | grep -q '^$version ('"
check "vhc-cloud --version too" bash -c "/usr/bin/vhc-cloud --version | grep -q '^$version ('"
check "the accounts exist: vhc-station, and the group vhc" bash -c "getent passwd vhc-station && getent group vhc"
check "/var/lib/vhc-station is 0700 vhc-station:vhc" test "$(stat -c '%a %U %G' /var/lib/vhc-station)" = "700 vhc-station vhc"
check "systemd-analyze verify accepts the installed units" \
    systemd-analyze verify /lib/systemd/system/vhc-stationd.service /lib/systemd/system/vhc-audit-push.service \
    /lib/systemd/system/vhc-audit-push.timer
exposure="$(systemd-analyze security --offline=true --no-pager /lib/systemd/system/vhc-stationd.service 2>/dev/null |
    sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')"
check "the installed unit's exposure is at most 1.5 ($exposure)" awk -v e="$exposure" 'BEGIN { exit !(e != "" && e <= 1.5) }'
check "man vhc-stationd is there" test -s /usr/share/man/man8/vhc-stationd.8.gz
check "bash completion is there" grep -q "_vhc" /usr/share/bash-completion/completions/vhc
check "a fresh install enables nothing (the example is no station yet)" \
    test ! -e /etc/systemd/system/multi-user.target.wants/vhc-stationd.service -a \
    ! -e /etc/systemd/system/timers.target.wants/vhc-audit-push.timer

echo "== a station on the installed files"
cd "$work"
now=$(date -u +%s)
for name in root token; do
    /usr/bin/vhc keys generate --out "$name.pem" >/dev/null
    /usr/bin/vhc keys public "$name.pem" >"$name.pub"
done
/usr/bin/vhc trust-list build --root root.pem --issuer TW-NHIA --seq 1 --issued-at $((now - 60)) \
    --expires-at $((now + 86400)) --key token:token.pub --out trust-list.cose
install -m 0644 root.pub trust-list.cose /etc/vhc-station/
# The edit an administrator makes: the example with the clinic's code, its lists, no camera yet.
sed -e 's/^institution: .*/institution: "3501200000"/' -e 's|^  path: /dev/vhc-camera|  path: ""|' \
    -e 's|^  revocation_list: .*|  revocation_list: ""|' /usr/share/vhc-station/station.yaml.example >/etc/vhc-station/station.yaml
# What the unit's RuntimeDirectory= would make: no systemd runs the units on this machine.
install -d -m 0750 -o vhc-station -g vhc /run/vhc-station
start_station() {
    setpriv --reuid=vhc-station --regid=vhc --init-groups /usr/sbin/vhc-stationd --config /etc/vhc-station/station.yaml \
        2>>"$work/station.log" &
    daemon=$!
    eventually 10 /usr/bin/vhc status
}
stop_station() { kill "$daemon" && wait "$daemon" || true; daemon=""; }
# A step's output only when it fails: the stand-in's /run/systemd/system has systemctl try a bus that is not
# there, and say so, where a real systemd answers.
quietly() {
    local output
    output="$("$@" 2>&1)" || { echo "$output"; bad "$*"; }
}
# Run as the daemon's user, so a file SQLite makes beside the database is the daemon's.
as_station() { setpriv --reuid=vhc-station --regid=vhc --init-groups "$@"; }
migrations() { as_station /usr/bin/python3 -c 'import sqlite3, sys
print(" ".join(r[0] for r in sqlite3.connect(sys.argv[1]).execute("SELECT identifier FROM grdb_migrations ORDER BY 1")))' \
    /var/lib/vhc-station/station.sqlite; }
check "the installed daemon starts as vhc-station on the edited configuration" start_station
token=$(/usr/bin/vhc issue --key token.pem --issuer TW-NHIA --id A123456789 --name 王小明 --birth 1980-05-17)
check "a card scanned through the installed vhc opens a visit" bash -c "/usr/bin/vhc submit '$token' | grep -q '^valid:'"
check "vhc status names the daemon's version" bash -c "/usr/bin/vhc status | grep -q 'daemon: vhc-stationd $version'"
doctor="$(/usr/bin/vhc doctor 2>&1 || true)"
check "vhc doctor on the installed station: the daemon answers, the installed unit is hardened" \
    bash -c "grep -q '^OK    daemon:' <<<\"\$1\" && grep -q '^OK    unit: hardened (exposure 1.3)' <<<\"\$1\"" _ "$doctor"
stop_station
fresh_migrations="$(migrations)"
quietly dpkg --purge vhc-station vhc-cloud
rm -f /etc/vhc-station/root.pub /etc/vhc-station/trust-list.cose

source "$repo/Tests/packaging/upgrade_test.sh"

echo "== remove, then purge"
: >"$calls"
quietly dpkg --remove vhc-station vhc-cloud
check "remove: the station is stopped first (deb-systemd-invoke stop … vhc-stationd.service)" \
    grep -q '^stop .*vhc-stationd.service' "$calls"
check "remove: the programs are gone" test ! -e /usr/sbin/vhc-stationd -a ! -e /usr/bin/vhc -a ! -e /usr/bin/vhc-cloud
check "remove: the configuration and the database stay" test -f /etc/vhc-station/station.yaml -a -f /var/lib/vhc-station/station.sqlite
check "remove: dpkg keeps vhc-station's configuration (config-files)" \
    test "$(dpkg-query -W -f='${db:Status-Status}' vhc-station)" = "config-files"
quietly dpkg --purge vhc-station
check "purge: station.yaml and /var/lib/vhc-station are gone" test ! -e /etc/vhc-station/station.yaml -a ! -e /var/lib/vhc-station
check "purge: the keys, certificates and root the administrator put in /etc/vhc-station stay" \
    test -f /etc/vhc-station/root.pub -a -f /etc/vhc-station/institution-key.pem -a -f /etc/vhc-station/api-token
check "purge: the accounts stay (Debian never removes a system user)" getent passwd vhc-station
echo "packages: $failures failure(s)"
exit $((failures > 0))
