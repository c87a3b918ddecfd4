#!/usr/bin/env bash
# Checks the packaging: the unit (systemd-analyze verify, and security --offline=true with the overall exposure
# at most 1.5, and with each of systemd/cards/*.conf applied), the udev rule that scripts/make-udev-rule.sh generates, the sysusers file, and a run of
# scripts/install.sh into a temporary DESTDIR (files, modes, idempotence). Prints each check; exits 1 on any
# failure. Needs systemd-analyze and systemd-sysusers (apt package: systemd); needs no root and changes nothing
# outside its temporary directory, which it removes.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
unit="$repo/systemd/vhc-stationd.service"
max_exposure=1.5

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

source "$repo/scripts/checks.sh"
need() {  # A missing tool is a failure, not a skip: say which Debian package brings it.
    if ! command -v "$1" >/dev/null; then
        echo "check-packaging: $1 not found: install it with apt-get install $2" >&2
        exit 1
    fi
}
need systemd-analyze systemd
need systemd-sysusers systemd

echo "== scripts"
for script in install.sh make-udev-rule.sh check-packaging.sh package-deb.sh make-manual.sh checks.sh previous-package.sh; do
    check "bash -n scripts/$script" bash -n "$repo/scripts/$script"
done
check "scripts/install.sh --help" "$repo/scripts/install.sh" --help
check "scripts/make-udev-rule.sh --help" "$repo/scripts/make-udev-rule.sh" --help

echo "== unit: systemd/vhc-stationd.service"
# The settings issue 4 requires, line by line (an exact line, so a typo'd value fails).
for line in "Type=notify" "NotifyAccess=main" "WatchdogSec=10s" "Restart=on-failure" \
    "ExecStart=/usr/local/bin/vhc-stationd --config /etc/vhc-station/station.yaml" \
    "User=vhc-station" "Group=vhc" "SupplementaryGroups=video vhc-station" \
    "StateDirectory=vhc-station" "StateDirectoryMode=0700" "RuntimeDirectory=vhc-station" \
    "RuntimeDirectoryMode=0750" "ConfigurationDirectory=vhc-station" \
    "DevicePolicy=closed" "DeviceAllow=char-video4linux rw" "ProtectSystem=strict" \
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6" "SystemCallFilter=@system-service" \
    "CapabilityBoundingSet=" "NoNewPrivileges=yes" "UMask=0077"; do
    check "unit has '$line'" grep -qxF "$line" "$unit"
done
# PrivateDevices=yes gives the service a /dev without the camera.
if grep -qiE '^PrivateDevices=(yes|true|on|1)$' "$unit"; then bad "unit must not set PrivateDevices=yes"; else
    pass "unit does not set PrivateDevices=yes"; fi

# verify wants ExecStart= to exist: check a copy whose ExecStart= is a stub. It exits 0 even on unknown keys,
# so any message naming the unit counts as a failure; a message that does not name it is this machine's
# (no systemd as PID 1, a container) and only noted.
mkdir -p "$tmp/verify"
printf '#!/bin/sh\nexit 0\n' >"$tmp/verify/vhc-stationd"
chmod 0755 "$tmp/verify/vhc-stationd"
sed "s|^ExecStart=/usr/local/bin/vhc-stationd|ExecStart=$tmp/verify/vhc-stationd|" "$unit" >"$tmp/verify/vhc-stationd.service"
status=0
verify_out="$(systemd-analyze verify "$tmp/verify/vhc-stationd.service" 2>&1)" || status=$?
if grep -q 'vhc-stationd' <<<"$verify_out"; then
    bad "systemd-analyze verify:"
    sed 's/^/      /' <<<"$verify_out"
elif ((status != 0)); then
    echo "note  systemd-analyze verify could not run here (exit $status), not counted:"
    sed 's/^/      /' <<<"$verify_out"
else
    pass "systemd-analyze verify (no warnings)"
fi

security_out="$(systemd-analyze security --offline=true "$unit" 2>&1)" || true
exposure="$(sed -n 's/.*Overall exposure level for vhc-stationd\.service: \([0-9][0-9.]*\).*/\1/p' <<<"$security_out")"
if [[ -z "$exposure" ]]; then
    bad "systemd-analyze security --offline=true printed no overall exposure:"
    sed 's/^/      /' <<<"$security_out"
elif awk -v e="$exposure" -v m="$max_exposure" 'BEGIN { exit !(e <= m) }'; then
    pass "systemd-analyze security --offline=true systemd/vhc-stationd.service: exposure $exposure (at most $max_exposure)"
else
    bad "exposure $exposure is above $max_exposure; what it counts against the unit:"
    grep '✗' <<<"$security_out" | sed 's/^/      /' || true
fi

echo "== unit with each card drop-in: systemd/cards/*.conf"
# A drop-in's lines apply after the unit's, as systemd reads them: the unit followed by the drop-in's own
# [Service] section is what the daemon runs under. Each must verify and stay within the exposure.
for dropin in "$repo"/systemd/cards/*.conf; do
    name="$(basename "$dropin")"
    combined="$tmp/cards/vhc-stationd.service"
    mkdir -p "$tmp/cards"
    { cat "$tmp/verify/vhc-stationd.service"; grep -v '^#' "$dropin"; } >"$combined"
    card_out="$(systemd-analyze verify "$combined" 2>&1)" || true
    if grep -q 'vhc-stationd' <<<"$card_out"; then
        bad "systemd-analyze verify with $name:"
        sed 's/^/      /' <<<"$card_out"
    else
        pass "systemd-analyze verify with $name"
    fi
    card_security="$(systemd-analyze security --offline=true "$combined" 2>&1)" || true
    card_exposure="$(sed -n 's/.*Overall exposure level for vhc-stationd\.service: \([0-9][0-9.]*\).*/\1/p' <<<"$card_security")"
    if [[ -n "$card_exposure" ]] && awk -v e="$card_exposure" -v m="$max_exposure" 'BEGIN { exit !(e <= m) }'; then
        pass "exposure with $name: $card_exposure (at most $max_exposure)"
    else
        bad "exposure with $name: '${card_exposure:-none}' (at most $max_exposure)"
    fi
done
check "no card drop-in makes the service privileged" bash -c "! grep -hiE '^(User=root|CapabilityBoundingSet=.+|NoNewPrivileges=no|ProtectSystem=no)' '$repo'/systemd/cards/*.conf"

echo "== udev: scripts/make-udev-rule.sh"
make_rule="$repo/scripts/make-udev-rule.sh"
rule_with_serial="$("$make_rule" --vendor 046D --model 0825 --serial SN_1.2-x)" || bad "make-udev-rule.sh with a serial failed"
rule_plain="$("$make_rule" --vendor 046d --model 0825)" || bad "make-udev-rule.sh without a serial failed"
rule_lines() { grep -v -e '^#' -e '^[[:space:]]*$' <<<"$1"; }
# The parts the rule must have, as fixed strings.
for part in 'SUBSYSTEM!="video4linux", GOTO="vhc_camera_end"' 'ACTION=="remove", GOTO="vhc_camera_end"' \
    'ENV{ID_V4L_CAPABILITIES}!="*:capture:*", GOTO="vhc_camera_end"' 'ATTRS{idVendor}=="046d"' \
    'ATTRS{idProduct}=="0825"' 'SYMLINK+="vhc-camera"' 'TAG+="systemd"' 'GROUP="video"' 'MODE="0660"' \
    'LABEL="vhc_camera_end"'; do
    check "rule has $part" grep -qF "$part" <<<"$(rule_lines "$rule_with_serial")"
done
check 'rule with --serial matches ATTRS{serial}=="SN_1.2-x"' grep -qF 'ATTRS{serial}=="SN_1.2-x"' <<<"$rule_with_serial"
if grep -q 'ATTRS{serial}' <<<"$rule_plain"; then bad "rule without --serial must not match a serial"; else
    pass "rule without --serial has no serial match"; fi
check "vendor id is lowercased (sysfs prints lowercase)" grep -qF 'ATTRS{idVendor}=="046d"' <<<"$rule_with_serial"
if grep -q '@[A-Z]*@' <<<"$rule_with_serial$rule_plain"; then bad "a placeholder was left unfilled"; else
    pass "no placeholder left"; fi
# Syntax: each rule line is KEY[{attr}]OP"value" pairs joined by ", " (what udev parses), and every GOTO has
# its LABEL.
pair='[A-Z_]+(\{[A-Za-z0-9_]+\})?(==|!=|\+=|-=|:=|=)"[^"]*"'
syntax_ok=1
while IFS= read -r line; do
    [[ "$line" =~ ^${pair}(,\ ${pair})*$ ]] || { syntax_ok=0; echo "      not a udev rule line: $line"; }
done < <(rule_lines "$rule_with_serial"; rule_lines "$rule_plain")
((syntax_ok)) && pass "every rule line parses as udev key/value pairs" || bad "rule syntax"
for label in $(grep -o 'GOTO="[^"]*"' <<<"$rule_plain" | sort -u | sed 's/GOTO="\(.*\)"/\1/'); do
    check "GOTO=\"$label\" has its LABEL" grep -qxF "LABEL=\"$label\"" <<<"$rule_plain"
done
# Bad input: exit 2 and nothing on stdout.
rejects() {
    local out status=0
    out="$("$make_rule" "$@" 2>/dev/null)" || status=$?
    ((status == 2)) && [[ -z "$out" ]]
}
check "rejects a 3-digit vendor (exit 2)" rejects --vendor 46d --model 0825
check "rejects a non-hex model (exit 2)" rejects --vendor 046d --model 08zz
check "rejects a missing --model (exit 2)" rejects --vendor 046d
check "rejects a serial with a space (exit 2)" rejects --vendor 046d --model 0825 --serial 'a b'
check "rejects a serial with a quote (exit 2)" rejects --vendor 046d --model 0825 --serial 'a"b'
check "rejects a serial with a glob (exit 2)" rejects --vendor 046d --model 0825 --serial 'a*'
check "rejects an empty serial (exit 2)" rejects --vendor 046d --model 0825 --serial ''
check "rejects an unknown option (exit 2)" rejects --vendor 046d --model 0825 --name x
check "rejects a scanner without --model (exit 2)" rejects --scanner --vendor 0c2e
# The scanner's rule: both nodes named, given to the daemon's own group, kept from ModemManager and libinput.
scanner_rule="$("$make_rule" --scanner --vendor 0C2E --model 0b61 --serial 17012B)" || bad "make-udev-rule.sh --scanner failed"
scanner_plain="$("$make_rule" --scanner --vendor 0c2e --model 0b61)" || bad "make-udev-rule.sh --scanner without a serial failed"
tty_line="$(grep '^SUBSYSTEM=="tty"' <<<"$scanner_rule" || true)"
input_line="$(grep '^SUBSYSTEM=="input"' <<<"$scanner_rule" || true)"
for part in 'KERNEL=="ttyACM*"' 'ATTRS{idVendor}=="0c2e"' 'ATTRS{idProduct}=="0b61"' 'ATTRS{serial}=="17012B"' \
    'SYMLINK+="vhc-scanner"' 'GROUP="vhc-station"' 'MODE="0660"' 'ENV{ID_MM_DEVICE_IGNORE}="1"'; do
    check "scanner rule's serial line has $part" grep -qF "$part" <<<"$tty_line"
done
for part in 'KERNEL=="event*"' 'ENV{ID_INPUT_KEYBOARD}=="1"' 'ATTRS{idVendor}=="0c2e"' 'SYMLINK+="vhc-scanner-kbd"' 'GROUP="vhc-station"' \
    'ENV{LIBINPUT_IGNORE_DEVICE}="1"' 'ENV{ID_MM_DEVICE_IGNORE}="1"'; do
    check "scanner rule's keyboard line has $part" grep -qF "$part" <<<"$input_line"
done
if grep -q 'ATTRS{serial}' <<<"$scanner_plain"; then bad "scanner rule without --serial must not match a serial"; else
    pass "scanner rule without --serial has no serial match"; fi
if grep -q '@[A-Z]*@' <<<"$scanner_rule$scanner_plain"; then bad "a scanner placeholder was left unfilled"; else
    pass "no placeholder left in the scanner rule"; fi
syntax_ok=1
while IFS= read -r line; do
    [[ "$line" =~ ^${pair}(,\ ${pair})*$ ]] || { syntax_ok=0; echo "      not a udev rule line: $line"; }
done < <(rule_lines "$scanner_rule"; rule_lines "$scanner_plain")
((syntax_ok)) && pass "every scanner rule line parses as udev key/value pairs" || bad "scanner rule syntax"
check 'scanner rule: GOTO="vhc_scanner_end" has its LABEL' grep -qxF 'LABEL="vhc_scanner_end"' <<<"$scanner_plain"
# The unit reaches what the rule hands out: the group, and read-only the two device majors.
check "unit: SupplementaryGroups has vhc-station (the scanner's group)" grep -qx 'SupplementaryGroups=video vhc-station' "$repo/systemd/vhc-stationd.service"
check "unit: DeviceAllow=char-ttyACM r" grep -qx 'DeviceAllow=char-ttyACM r' "$repo/systemd/vhc-stationd.service"
check "unit: DeviceAllow=char-input r" grep -qx 'DeviceAllow=char-input r' "$repo/systemd/vhc-stationd.service"
# udevadm verify arrived in systemd 254; Debian 12 has 252, where only the text checks above apply.
if command -v udevadm >/dev/null && udevadm verify --help >/dev/null 2>&1; then
    printf '%s\n' "$rule_with_serial" >"$tmp/70-vhc-camera.rules"
    check "udevadm verify" udevadm verify "$tmp/70-vhc-camera.rules"
else
    echo "note  udevadm verify unavailable (needs systemd >= 254, apt package udev): rule text checked only"
fi

echo "== install: scripts/install.sh into a temporary DESTDIR"
dest="$tmp/root"
mkdir -p "$tmp/bin"
for binary in vhc vhc-stationd; do
    printf '#!/bin/sh\necho %s\n' "$binary" >"$tmp/bin/$binary"
    chmod 0700 "$tmp/bin/$binary"  # install.sh must set 0755 itself
done
install_args=(--destdir "$dest" --bin-dir "$tmp/bin" --vendor 046d --model 0825 --serial SN1)
if "$repo/scripts/install.sh" "${install_args[@]}" >"$tmp/install.log" 2>&1; then
    pass "install.sh ${install_args[*]/#$tmp/\$TMP}"
else
    bad "install.sh failed:"
    sed 's/^/      /' "$tmp/install.log"
fi
expect_mode() {  # expect_mode MODE PATH
    local actual
    actual="$(stat -c '%a' "$dest$2" 2>/dev/null)" || { bad "$2 missing"; return; }
    if [[ "$actual" == "$1" ]]; then pass "$2 mode $1"; else bad "$2 mode $actual, want $1"; fi
}
expect_mode 755 /usr/local/bin/vhc
expect_mode 755 /usr/local/bin/vhc-stationd
expect_mode 644 /etc/systemd/system/vhc-stationd.service
expect_mode 644 /usr/lib/sysusers.d/vhc-station.conf
expect_mode 755 /etc/vhc-station
expect_mode 644 /etc/vhc-station/station.yaml
expect_mode 644 /etc/udev/rules.d/70-vhc-camera.rules
expect_mode 644 /usr/local/share/doc/vhc-station/systemd.md
expect_mode 644 /etc/modules-load.d/vhc-station.conf
check "modules-load.d loads videodev (for DeviceAllow=char-video4linux)" grep -qx videodev "$dest/etc/modules-load.d/vhc-station.conf"
check "modules-load.d loads cdc_acm (for DeviceAllow=char-ttyACM)" grep -qx cdc_acm "$dest/etc/modules-load.d/vhc-station.conf"
check "installed unit is the repository's (prefix /usr/local)" cmp "$unit" "$dest/etc/systemd/system/vhc-stationd.service"
check "installed station.yaml is the example" cmp "$repo/systemd/station.yaml.example" "$dest/etc/vhc-station/station.yaml"
check "installed rule matches the serial" grep -qF 'ATTRS{serial}=="SN1"' "$dest/etc/udev/rules.d/70-vhc-camera.rules"

# Idempotent, and a site's station.yaml survives a second run.
echo '# edited by the site' >>"$dest/etc/vhc-station/station.yaml"
before="$(cd "$dest" && find . -printf '%p %m\n' | sort)"
if "$repo/scripts/install.sh" "${install_args[@]}" >"$tmp/install2.log" 2>&1; then
    pass "install.sh runs a second time"
else
    bad "install.sh failed on a second run:"
    sed 's/^/      /' "$tmp/install2.log"
fi
check "second run keeps the edited station.yaml" grep -qx '# edited by the site' "$dest/etc/vhc-station/station.yaml"
check "second run says it kept station.yaml" grep -q 'kept existing' "$tmp/install2.log"
check "second run leaves the same files and modes" test "$before" == "$(cd "$dest" && find . -printf '%p %m\n' | sort)"

# Missing binaries are skipped with a message; --prefix moves ExecStart=.
mkdir -p "$tmp/empty"
"$repo/scripts/install.sh" --destdir "$tmp/root2" --prefix /usr --bin-dir "$tmp/empty" >"$tmp/install3.log" 2>&1 ||
    bad "install.sh without built binaries failed: $(cat "$tmp/install3.log")"
check "unbuilt vhc-stationd is skipped with a message" grep -q 'vhc-stationd is not built yet' "$tmp/install3.log"
check "--prefix /usr gives ExecStart=/usr/bin/vhc-stationd" \
    grep -qx 'ExecStart=/usr/bin/vhc-stationd --config /etc/vhc-station/station.yaml' "$tmp/root2/etc/systemd/system/vhc-stationd.service"
check "no udev rule without --vendor/--model" test ! -e "$tmp/root2/etc/udev/rules.d/70-vhc-camera.rules"
bad_ids_status=0
"$repo/scripts/install.sh" --destdir "$tmp/root3" --vendor 46d --model 0825 >/dev/null 2>&1 || bad_ids_status=$?
check "bad camera ids stop install.sh with exit 2 before it writes anything" \
    test "$bad_ids_status" -eq 2 -a ! -e "$tmp/root3"

echo "== sysusers: systemd-sysusers --root on the installed tree"
if systemd-sysusers --root="$dest" >"$tmp/sysusers.log" 2>&1 && systemd-sysusers --root="$dest" >>"$tmp/sysusers.log" 2>&1; then
    pass "systemd-sysusers --root=\$TMP/root (twice)"
else
    bad "systemd-sysusers failed:"
    sed 's/^/      /' "$tmp/sysusers.log"
fi
check "user vhc-station: system account, no login shell" grep -qE '^vhc-station:x:[0-9]+:[0-9]+:[^:]*:/:/usr/sbin/nologin$' "$dest/etc/passwd"
check "group vhc exists" grep -qE '^vhc:x:[0-9]+:$' "$dest/etc/group"
check "group vhc-station exists" grep -qE '^vhc-station:x:[0-9]+:$' "$dest/etc/group"
check "each account appears once" test "$(grep -c '^vhc' "$dest/etc/passwd")" -eq 1 -a "$(grep -c '^vhc' "$dest/etc/group")" -eq 2

echo
if ((failures)); then
    echo "check-packaging: $failures check(s) failed"
    exit 1
fi
echo "check-packaging: all checks passed (exposure $exposure)"
