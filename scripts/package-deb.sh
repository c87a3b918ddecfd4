#!/usr/bin/env bash
# Builds the Debian packages vhc-station and vhc-cloud (issue 25; docs/packaging.md) from release binaries
# with the Swift runtime linked in (--static-swift-stdlib), so the target machine needs no Swift toolchain:
# the C libraries they use come from the packages `Depends:` names (dpkg-shlibdeps works them out).
#   scripts/package-deb.sh [--out DIR] [--version VERSION] [--bin-dir DIR] [--no-lintian]
#     --out DIR        where the .deb files go (default dist/)
#     --version V      the package version (default: the VERSION file); the binaries keep the version
#                      they were built with (the upgrade test packages its old side this way)
#     --bin-dir DIR    take vhc, vhc-stationd and vhc-cloud from DIR instead of building them (the tests
#                      package the debug build this way: its binaries need the Swift runtime of the machine)
#     --no-lintian     skip lintian (it runs by default and any error fails the build)
#     --quick          pack with gzip -1 instead of xz (the same files, a fraction of the time: the tests)
# Prints the paths of the packages it made, one a line, last.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
out="$repo/dist"
version="$(tr -d '[:space:]' <"$repo/VERSION")"
bin_dir=""
lint=1
compression=(-Zxz)
fail() {
    echo "package-deb: $*" >&2
    exit 2
}
while (($#)); do
    case "$1" in
        -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        --out | --version | --bin-dir)
            (($# >= 2)) || fail "$1 needs a value"
            case "$1" in
                --out) out="$2" ;;
                --version) version="$2" ;;
                --bin-dir) bin_dir="$2" ;;
            esac
            shift 2 ;;
        --no-lintian) lint=0; shift ;;
        --quick) compression=(-Zgzip -z1); shift ;;
        *) fail "unknown argument: $1 (see --help)" ;;
    esac
done
[[ "$version" =~ ^[0-9][A-Za-z0-9.+~]*$ ]] || fail "'$version' is not a Debian native version"
for tool in dpkg-deb dpkg-shlibdeps fakeroot chrpath; do
    command -v "$tool" >/dev/null || fail "$tool not found: apt-get install dpkg-dev fakeroot chrpath"
done
mkdir -p "$out"
out="$(cd "$out" && pwd)"

given="$bin_dir"
if [[ -z "$bin_dir" ]]; then
    # Relocations resolved at start and made read-only (lintian's hardening-no-bindnow).
    static=(-c release --static-swift-stdlib --scratch-path "$repo/.build-static" -Xlinker -z -Xlinker now)
    for product in vhc vhc-stationd vhc-cloud; do
        (cd "$repo" && swift build "${static[@]}" --product "$product" >&2)
    done
    bin_dir="$(cd "$repo" && swift build "${static[@]}" --show-bin-path)"
fi
for binary in vhc vhc-stationd vhc-cloud; do
    [[ -x "$bin_dir/$binary" ]] || fail "$bin_dir/$binary is not built"
done
arch="$(dpkg --print-architecture)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
umask 022

# The units as packaged: the binaries in /usr, the documentation beside them.
unit() {
    sed -e "s|^ExecStart=/usr/local/bin/vhc-stationd|ExecStart=/usr/sbin/vhc-stationd|" \
        -e "s|^ExecStart=/usr/local/bin/vhc |ExecStart=/usr/bin/vhc |" \
        -e "s|file:/usr/local/share/doc/vhc-station/|file:/usr/share/doc/vhc-station/|" \
        -e "s|Installed by scripts/install.sh to /etc/systemd/system/|Installed by the vhc-station package to /lib/systemd/system/|" \
        "$repo/systemd/$1" >"$2"
}

# A program as shipped: stripped, and without the build's RUNPATH ($ORIGIN: the Swift runtime is linked in).
# A given build keeps it: the tests' debug binaries find the machine's Swift runtime through it.
program() {
    install -D -m 0755 "$bin_dir/$1" "$2"
    strip --strip-unneeded --remove-section=.comment --remove-section=.note "$2"
    [[ -n "$given" ]] || chrpath -d "$2" >/dev/null
}

# The version's changelog: the repository's entries, the first one carrying this build's version.
changelog() {
    sed -e "1s/^vhc-station ([^)]*)/$1 ($version)/" "$repo/packaging/deb/changelog" | gzip -9n >"$2"
}

# Man pages from each program's own help (swift-argument-parser's generate-manual), gzipped.
manuals() {
    local program="$1" section="$2" into="$3"
    local pages="$work/man-$program"
    mkdir -p "$pages" "$into/usr/share/man/man$section"
    "$repo/scripts/make-manual.sh" "$bin_dir/$program" "$section" "$pages"
    for page in "$pages"/*."$section"; do
        gzip -9n <"$page" >"$into/usr/share/man/man$section/$(basename "$page").gz"
    done
}

# Control file: the version, architecture, size and the shared libraries' packages.
control() {
    local name="$1" root="$2"
    local binaries=()
    while IFS= read -r -d '' file; do binaries+=("$file"); done < <(find "$root/usr/bin" "$root/usr/sbin" -type f -print0 2>/dev/null)
    mkdir -p "$work/shlibs-$name/debian"
    printf 'Source: vhc-station\n\nPackage: %s\nArchitecture: any\n' "$name" >"$work/shlibs-$name/debian/control"
    local arguments=(-O)
    for binary in "${binaries[@]}"; do arguments+=(-e "$binary"); done
    # A given build (the tests' debug binaries) links the Swift runtime of the machine, which no package
    # describes: its libraries are left out of Depends, and the rest still worked out.
    [[ -n "$given" ]] && arguments+=(--ignore-missing-info)
    local depends
    # Its warnings (a library no package describes, one linked but unused) are shown only if it fails.
    local log="$work/shlibdeps-$name.log" found depends
    if ! found="$(cd "$work/shlibs-$name" && dpkg-shlibdeps "${arguments[@]}" 2>"$log")"; then
        cat "$log" >&2
        fail "dpkg-shlibdeps failed for $name"
    fi
    depends="$(sed -n 's/^shlibs:Depends=//p' <<<"$found")"
    [[ -n "$depends" ]] || { cat "$log" >&2; fail "dpkg-shlibdeps found no dependency for $name"; }
    local size
    size="$(du -sk --exclude=DEBIAN "$root" | cut -f1)"
    mkdir -p "$root/DEBIAN"
    sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@SIZE@|$size|" -e "s|@DEPENDS@|$depends|" \
        "$repo/packaging/deb/$name.control.in" >"$root/DEBIAN/control"
    (cd "$root" && find . -path ./DEBIAN -prune -o -type f -print0 | sort -z | xargs -0 md5sum | sed 's| \./| |') \
        >"$root/DEBIAN/md5sums"
}

build() {
    local name="$1" root="$2"
    local deb="$out/${name}_${version}_${arch}.deb"
    fakeroot dpkg-deb --build "${compression[@]}" "$root" "$deb" >/dev/null
    echo "$deb"
}

# vhc-station
station="$work/vhc-station"
program vhc "$station/usr/bin/vhc"
program vhc-stationd "$station/usr/sbin/vhc-stationd"
install -d "$station/lib/systemd/system"
unit vhc-stationd.service "$station/lib/systemd/system/vhc-stationd.service"
unit vhc-audit-push.service "$station/lib/systemd/system/vhc-audit-push.service"
install -m 0644 "$repo/systemd/vhc-audit-push.timer" "$station/lib/systemd/system/vhc-audit-push.timer"
chmod 0644 "$station"/lib/systemd/system/*
install -D -m 0644 "$repo/systemd/vhc-station.sysusers.conf" "$station/usr/lib/sysusers.d/vhc-station.conf"
install -D -m 0644 "$repo/packaging/deb/vhc-station.tmpfiles" "$station/usr/lib/tmpfiles.d/vhc-station.conf"
printf '# vhc-station: register the video4linux and USB CDC-ACM device majors at boot, before vhc-stationd.service\n# resolves DeviceAllow=char-video4linux and char-ttyACM (/usr/share/doc/vhc-station/systemd.md).\nvideodev\ncdc_acm\n' \
    >"$work/modules.conf"
install -D -m 0644 "$work/modules.conf" "$station/usr/lib/modules-load.d/vhc-station.conf"
install -D -m 0644 "$repo/systemd/station.yaml.example" "$station/etc/vhc-station/station.yaml"
install -D -m 0644 "$repo/systemd/station.yaml.example" "$station/usr/share/vhc-station/station.yaml.example"
# The udev rules need the camera's and the scanner's USB ids: the script that writes them, and its templates.
install -D -m 0755 "$repo/scripts/make-udev-rule.sh" "$station/usr/share/vhc-station/make-udev-rule.sh"
install -D -m 0644 "$repo/udev/70-vhc-camera.rules.in" "$station/usr/share/vhc-station/udev/70-vhc-camera.rules.in"
install -D -m 0644 "$repo/udev/71-vhc-scanner.rules.in" "$station/usr/share/vhc-station/udev/71-vhc-scanner.rules.in"
for dropin in "$repo"/systemd/cards/*.conf; do
    install -D -m 0644 "$dropin" "$station/usr/share/vhc-station/systemd/cards/$(basename "$dropin")"
done
docs="$station/usr/share/doc/vhc-station"
install -D -m 0644 "$repo/packaging/deb/copyright" "$docs/copyright"
changelog vhc-station "$docs/changelog.gz"
for doc in deploy.md operations.md packaging.md handheld-scanners.md his-compatibility.md front-desk-page.md cards.md; do
    install -D -m 0644 "$repo/docs/$doc" "$docs/$doc"
done
install -m 0644 "$repo/systemd/README.md" "$docs/systemd.md"
install -m 0644 "$repo/udev/README.md" "$docs/udev.md"
install -m 0644 "$repo/docs/openapi.yaml" "$docs/openapi.yaml"
install -d "$station/usr/share/bash-completion/completions"
# Sourced by bash-completion, not run: no #! line.
"$bin_dir/vhc" --generate-completion-script bash | sed '1{/^#!/d}' >"$station/usr/share/bash-completion/completions/vhc"
chmod 0644 "$station/usr/share/bash-completion/completions/vhc"
manuals vhc 1 "$station"
manuals vhc-stationd 8 "$station"
install -D -m 0644 /dev/null "$station/DEBIAN/conffiles"
echo /etc/vhc-station/station.yaml >"$station/DEBIAN/conffiles"
install -D -m 0644 "$repo/packaging/deb/vhc-station.lintian-overrides" "$station/usr/share/lintian/overrides/vhc-station"
for script in postinst prerm postrm; do
    install -m 0755 "$repo/packaging/deb/vhc-station.$script" "$station/DEBIAN/$script"
done
control vhc-station "$station"
debs=("$(build vhc-station "$station")")

# vhc-cloud
cloud="$work/vhc-cloud"
program vhc-cloud "$cloud/usr/bin/vhc-cloud"
install -D -m 0644 "$repo/packaging/deb/copyright" "$cloud/usr/share/doc/vhc-cloud/copyright"
changelog vhc-cloud "$cloud/usr/share/doc/vhc-cloud/changelog.gz"
install -m 0644 "$repo/docs/cloud.md" "$cloud/usr/share/doc/vhc-cloud/cloud.md"
manuals vhc-cloud 1 "$cloud"
control vhc-cloud "$cloud"
debs+=("$(build vhc-cloud "$cloud")")

if ((lint)); then
    command -v lintian >/dev/null || fail "lintian not found: apt-get install lintian (or pass --no-lintian)"
    # Errors fail the build; warnings are printed, and each one left is explained in docs/packaging.md.
    suppressed=()
    # The tests' debug binaries carry the RUNPATH of the machine's Swift runtime; a release build has none.
    [[ -n "$given" ]] && suppressed=(--suppress-tags custom-library-search-path)
    lintian --fail-on error --tag-display-limit 0 "${suppressed[@]}" "${debs[@]}" >&2
fi
printf '%s\n' "${debs[@]}"
