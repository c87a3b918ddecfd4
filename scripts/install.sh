#!/usr/bin/env bash
# Installs the station: the release binaries, the systemd unit, the system user and the vhc group, the example
# configuration (never over an existing one) and, given the camera's USB ids, the udev rule. Idempotent: run it
# again after an upgrade. See --help; systemd/README.md and udev/README.md explain each file.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"

usage() {
    cat <<'USAGE'
usage: scripts/install.sh [--vendor VVVV --model PPPP [--serial S]] [--prefix DIR] [--destdir DIR] [--bin-dir DIR]

Run as root (or with DESTDIR set, to stage the files for a package). Installs:
  PREFIX/bin/vhc, PREFIX/bin/vhc-stationd     release binaries (skipped, with a message, if not built yet)
  /etc/systemd/system/vhc-stationd.service     the hardened unit
  /etc/systemd/system/vhc-audit-push.{service,timer}  the audit head's trip to the cloud, every minute
  /usr/lib/sysusers.d/vhc-station.conf         user vhc-station and group vhc (created now by
                                               systemd-sysusers when installing into /)
  /etc/vhc-station/station.yaml                the example configuration, only if there is none yet
  /etc/udev/rules.d/70-vhc-camera.rules        the camera rule, only with --vendor and --model
  /etc/modules-load.d/vhc-station.conf         loads videodev and cdc_acm at boot (DeviceAllow= needs their majors)
  PREFIX/share/doc/vhc-station/                these READMEs and the example configuration

  --vendor VVVV, --model PPPP, --serial S      the camera's USB ids (see scripts/make-udev-rule.sh --help)
  --prefix DIR     default $PREFIX or /usr/local (the unit's ExecStart= follows it)
  --destdir DIR    default $DESTDIR or empty: stage under DIR, create no users, reload nothing
  --bin-dir DIR    where the built binaries are; default: swift build -c release --show-bin-path

Afterwards: systemctl enable --now vhc-stationd; usermod -aG vhc ACCOUNT for each API client.
USAGE
}

fail() {
    echo "install.sh: $*" >&2
    exit 2
}
say() { echo "install.sh: $*"; }

prefix="${PREFIX:-/usr/local}"
destdir="${DESTDIR:-}"
bin_dir=""
udev_args=()
while (($#)); do
    case "$1" in
        -h | --help) usage; exit 0 ;;
        --prefix | --destdir | --bin-dir | --vendor | --model | --serial)
            (($# >= 2)) || fail "$1 needs a value"
            case "$1" in
                --prefix) prefix="$2" ;;
                --destdir) destdir="$2" ;;
                --bin-dir) bin_dir="$2" ;;
                *) udev_args+=("$1" "$2") ;;
            esac
            shift 2 ;;
        *) fail "unknown argument: $1 (see --help)" ;;
    esac
done
[[ "$prefix" == /* ]] || fail "--prefix must be an absolute path, got '$prefix'"
prefix="${prefix%/}"
[[ -z "$destdir" || "$destdir" == /* ]] || destdir="$(pwd)/$destdir"
destdir="${destdir%/}"

# Installing into the running system changes /etc and /usr: that takes root. Staging into DESTDIR does not.
if [[ -z "$destdir" && $(id -u) -ne 0 ]]; then
    echo "install.sh: installing into / needs root: sudo scripts/install.sh ... (or set DESTDIR to stage)" >&2
    exit 1
fi

# Generate the udev rule before writing anything, so bad camera ids leave the system untouched.
rule=""
if ((${#udev_args[@]})); then
    rule="$("$repo/scripts/make-udev-rule.sh" "${udev_args[@]}")" || exit 2
fi

# Directories and files are world-readable unless said otherwise, whatever the caller's umask.
umask 022

# Binaries. The release build is not made here: building is the builder's job, not root's. Nor does root ask
# SwiftPM for the path in someone else's checkout: that could leave root-owned files in their .build/.
if [[ -z "$bin_dir" ]]; then
    owner="$(stat -c '%u' "$repo")"
    if ! command -v swift >/dev/null; then
        say "no swift on PATH: binaries skipped (pass --bin-dir \"\$(swift build -c release --show-bin-path)\")"
    elif [[ "$owner" != "$(id -u)" ]]; then
        say "the checkout belongs to uid $owner: binaries skipped (pass --bin-dir \"\$(swift build -c release --show-bin-path)\")"
    else
        bin_dir="$(cd "$repo" && swift build -c release --show-bin-path)"
    fi
fi
if [[ -n "$bin_dir" ]]; then
    for binary in vhc vhc-stationd; do
        if [[ -x "$bin_dir/$binary" && -f "$bin_dir/$binary" ]]; then
            install -D -m 0755 "$bin_dir/$binary" "$destdir$prefix/bin/$binary"
            say "installed $destdir$prefix/bin/$binary"
        else
            say "$bin_dir/$binary is not built yet: skipped (build it with: swift build -c release --product $binary)"
        fi
    done
fi

# The unit names /usr/local paths; follow --prefix when it differs.
unit_tmp="$(mktemp)"
trap 'rm -f "$unit_tmp"' EXIT
sed -e "s|^ExecStart=/usr/local/|ExecStart=$prefix/|" -e "s|^Documentation=file:/usr/local/|Documentation=file:$prefix/|" \
    "$repo/systemd/vhc-stationd.service" >"$unit_tmp"
install -D -m 0644 "$unit_tmp" "$destdir/etc/systemd/system/vhc-stationd.service"
say "installed $destdir/etc/systemd/system/vhc-stationd.service"
# The audit head's trip to the cloud: a oneshot service and its timer (enable the timer once cloud.* is set).
sed -e "s|^ExecStart=/usr/local/|ExecStart=$prefix/|" -e "s|^Documentation=file:/usr/local/|Documentation=file:$prefix/|" \
    "$repo/systemd/vhc-audit-push.service" >"$unit_tmp"
install -D -m 0644 "$unit_tmp" "$destdir/etc/systemd/system/vhc-audit-push.service"
install -D -m 0644 "$repo/systemd/vhc-audit-push.timer" "$destdir/etc/systemd/system/vhc-audit-push.timer"
say "installed $destdir/etc/systemd/system/vhc-audit-push.service and .timer"

install -D -m 0644 "$repo/systemd/vhc-station.sysusers.conf" "$destdir/usr/lib/sysusers.d/vhc-station.conf"
say "installed $destdir/usr/lib/sysusers.d/vhc-station.conf"
if [[ -z "$destdir" ]]; then
    if command -v systemd-sysusers >/dev/null; then
        systemd-sysusers /usr/lib/sysusers.d/vhc-station.conf
        say "user vhc-station and group vhc are present (systemd-sysusers)"
    else
        # Without systemd-sysusers (apt package: systemd), create the same accounts with shadow's tools.
        getent group vhc >/dev/null || groupadd --system vhc
        getent passwd vhc-station >/dev/null ||
            useradd --system --user-group --home-dir / --no-create-home --shell /usr/sbin/nologin \
                --comment "Virtual NHI Card station daemon" vhc-station
        say "user vhc-station and group vhc are present (useradd; systemd-sysusers not found: apt package systemd)"
    fi
fi

# Configuration: root-owned and read-only to the service. An existing station.yaml is the site's: keep it.
install -d -m 0755 "$destdir/etc/vhc-station"
if [[ -e "$destdir/etc/vhc-station/station.yaml" ]]; then
    say "kept existing $destdir/etc/vhc-station/station.yaml (the new example is in $destdir$prefix/share/doc/vhc-station/)"
else
    install -m 0644 "$repo/systemd/station.yaml.example" "$destdir/etc/vhc-station/station.yaml"
    say "installed $destdir/etc/vhc-station/station.yaml (edit institution and the trust paths)"
fi

# DeviceAllow=char-video4linux is resolved through /proc/devices when the service starts. If the V4L2 core
# (videodev) is not loaded yet, because the USB camera is plugged in only later, the service gets no camera
# access until it restarts. Loading videodev at boot registers the video4linux major before the daemon starts.
modules_conf="$destdir/etc/modules-load.d/vhc-station.conf"
install -d -m 0755 "$(dirname "$modules_conf")"
printf '# vhc-station: register the video4linux and USB CDC-ACM device majors at boot, before vhc-stationd.service\n# resolves DeviceAllow=char-video4linux and char-ttyACM (see the systemd README of vhc-station).\nvideodev\ncdc_acm\n' >"$modules_conf.tmp"
chmod 0644 "$modules_conf.tmp"
mv -f "$modules_conf.tmp" "$modules_conf"
say "installed $modules_conf"
if [[ -z "$destdir" ]] && command -v modprobe >/dev/null; then
    modprobe videodev 2>/dev/null || say "modprobe videodev failed (a container, or no V4L2 in this kernel): check lsmod before relying on the camera"
    modprobe cdc_acm 2>/dev/null || say "modprobe cdc_acm failed: a serial-mode scanner plugged in later needs a restart of vhc-stationd"
fi

docs="$destdir$prefix/share/doc/vhc-station"
install -D -m 0644 "$repo/systemd/README.md" "$docs/systemd.md"
install -D -m 0644 "$repo/udev/README.md" "$docs/udev.md"
install -D -m 0644 "$repo/systemd/station.yaml.example" "$docs/station.yaml.example"

if [[ -n "$rule" ]]; then
    rule_path="$destdir/etc/udev/rules.d/70-vhc-camera.rules"
    install -d -m 0755 "$(dirname "$rule_path")"
    printf '%s\n' "$rule" >"$rule_path.tmp"
    chmod 0644 "$rule_path.tmp"
    mv -f "$rule_path.tmp" "$rule_path"
    say "installed $rule_path"
    if [[ -z "$destdir" ]]; then
        if command -v udevadm >/dev/null; then
            # Apply it to a camera that is already plugged in, not only to the next one. No udevd (a container)
            # is not an error: the rule is in place for when it runs.
            if udevadm control --reload 2>/dev/null && udevadm trigger --action=change --subsystem-match=video4linux; then
                say "udev rules reloaded; a plugged-in camera now appears as /dev/vhc-camera"
            else
                say "udevd is not running: the rule applies once it does"
            fi
        else
            say "udevadm not found (apt package udev): the rule applies once udev runs"
        fi
    fi
elif [[ -e "$destdir/etc/udev/rules.d/70-vhc-camera.rules" ]]; then
    say "no --vendor/--model: the existing $destdir/etc/udev/rules.d/70-vhc-camera.rules is left as it is"
else
    say "no --vendor/--model: udev rule not installed (then set camera.path in station.yaml to a /dev/v4l/by-id/ name)"
fi

if [[ -z "$destdir" && -d /run/systemd/system ]]; then
    systemctl daemon-reload
    say "done. Start it with: systemctl enable --now vhc-stationd"
else
    say "done."
fi
