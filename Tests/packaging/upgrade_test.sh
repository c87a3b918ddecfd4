# The upgrade (issue 25), sourced by Tests/packaging/deb_test.sh once this commit's packages have been tried
# alone: the previous packages installed, a clinic's station run on them against the sandbox cloud (one visit
# forwarded, two queued while the cloud is away, the audit log, a page signed in), this commit's installed over
# the running station, and then every row kept, the migrations applied, the page still signed in and the
# queued visits delivered once each to the cloud, itself upgraded.
# Uses scripts/checks.sh's helpers (check, bad, eventually) and deb_test.sh's (start_station, stop_station,
# as_station, migrations, and $work, $calls, $debs, $previous, $from, $fresh_migrations, $version,
# $packaged_daemon, $same_build).

echo "== a clinic's station on $from"
output="$(dpkg -i "${previous[@]}" 2>&1)" || { echo "$output"; bad "dpkg -i (the previous packages)"; exit 1; }
free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
cloud_port=$(free_port)
api_port=$(free_port)
start_cloud() {
    /usr/bin/vhc-cloud serve --dir "$work/sandbox" --listen "127.0.0.1:$cloud_port" >>"$work/cloud.log" 2>&1 &
    cloud=$!
    eventually 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$cloud_port"
}
stop_cloud() { kill "$cloud" && wait "$cloud" || true; cloud=""; }
/usr/bin/vhc-cloud init --dir "$work/sandbox" >/dev/null
# Who is who in the sandbox: an institution with every setting, a practitioner of it, three insured patients.
read -r institution practitioner issuer < <(/usr/bin/python3 -c 'import json, sys
m = json.load(open(sys.argv[1]))
code = next(i["code"] for i in m["institutions"] if len(i["settings"]) == 4)
doctor = next(p["id"] for p in m["practitioners"] if code in p["institutions"])
print(code, doctor, m["issuer"])' "$work/sandbox/sandbox.json")
mapfile -t patients < <(/usr/bin/python3 -c 'import json, sys
for p in [p for p in json.load(open(sys.argv[1]))["patients"] if p["insuranceStatus"] == "active"][:3]:
    print(p["id"], p["name"], p["birthDate"])' "$work/sandbox/sandbox.json")
card() {  # card N: a fresh token of the Nth patient
    local id name birth
    read -r id name birth <<<"${patients[$1]}"
    /usr/bin/vhc issue --key "$work/sandbox/issuer/token-key.pem" --issuer "$issuer" --id "$id" --name "$name" --birth "$birth"
}
# The files docs/deploy.md has the administrator put in /etc/vhc-station, named as the example names them.
install -m 0644 "$work/sandbox/trust-root.pub" /etc/vhc-station/root.pub
install -m 0644 "$work/sandbox/ca.pem" /etc/vhc-station/cloud-ca.pem
install -m 0644 "$work/sandbox/institutions/$institution/cert.pem" /etc/vhc-station/institution-cert.pem
install -m 0600 -o vhc-station -g vhc "$work/sandbox/institutions/$institution/key.pem" /etc/vhc-station/institution-key.pem
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/api-token"
install -m 0600 -o vhc-station -g vhc "$work/api-token" /etc/vhc-station/api-token
# The administrator's edit: the clinic's code, the lists by sync, the page on loopback, the cloud's address.
sed -e "s/^institution: .*/institution: \"$institution\"/" -e 's|^  path: /dev/vhc-camera|  path: ""|' \
    -e 's|^  trust_list: .*|  trust_list: ""|' -e 's|^  revocation_list: .*|  revocation_list: ""|' \
    -e "s|^  tcp: .*|  tcp: \"127.0.0.1:$api_port\"|" -e "s|^  url: .*|  url: https://127.0.0.1:$cloud_port|" \
    -e 's|^  retry_max_seconds: .*|  retry_max_seconds: 2|' /usr/share/vhc-station/station.yaml.example >/etc/vhc-station/station.yaml
install -d -m 0750 -o vhc-station -g vhc /run/vhc-station
check "the previous cloud starts on a new sandbox" start_cloud
check "the previous daemon starts on the clinic's configuration" start_station
eventually 10 bash -c "/usr/bin/vhc status | grep -q 'trust list: sequence'" || true
check "the practitioner logs in" /usr/bin/vhc login --certificate "$work/sandbox/practitioners/$practitioner/cert.pem" \
    --key "$work/sandbox/practitioners/$practitioner/key.pem"
check "a visit opened online" bash -c "/usr/bin/vhc submit '$(card 0)' | grep -q '^valid:'"
# A page signed in: the one-time link opened as a browser would, its cookie and page key kept.
link="$(/usr/bin/vhc web --no-open 2>/dev/null)"
headers="$(curl -s -o /dev/null -D - "$link" || true)"
cookie="$(sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' <<<"$headers")"
page_key="$(sed -n 's/^[Ll]ocation: .*#key=\([A-Za-z0-9_-]*\).*/\1/p' <<<"$headers")"
page_status() {
    curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" -H "X-VHC-Page-Key: $page_key" \
        "http://127.0.0.1:$api_port/v1/status"
}
check "the page signs in (a cookie and a page key)" test -n "$cookie" -a -n "$page_key" -a "$(page_status)" = 200
# The cloud away (a home visit): two visits queue in the outbox.
stop_cloud
check "two visits opened offline" bash -c "/usr/bin/vhc submit '$(card 1)' | grep -q '^valid:' &&
    /usr/bin/vhc submit '$(card 2)' | grep -q '^valid:'"
check "the outbox holds them" bash -c "/usr/bin/vhc status | grep -q 'outbox 2'"
# Every row by its key (rowid where a table has none), as the daemon's user while it runs.
rows() { as_station /usr/bin/python3 -c 'import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
keys = {}
for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = '"'table'"' AND name NOT LIKE '"'sqlite_%'"'"):
    pk = [c[1] for c in sorted(db.execute(f"PRAGMA table_info(\"{table}\")"), key=lambda c: c[5]) if c[5]]
    columns = ", ".join(f"\"{c}\"" for c in pk) or "rowid"
    keys[table] = sorted(repr(row) for row in db.execute(f"SELECT {columns} FROM \"{table}\""))
print(json.dumps(keys))' /var/lib/vhc-station/station.sqlite; }
rows >"$work/rows-before.json"
echo "  rows before: $(/usr/bin/python3 -c 'import json, sys
k = json.load(open(sys.argv[1])); print(", ".join(f"{t} {len(r)}" for t, r in sorted(k.items()) if r))' "$work/rows-before.json")"
old_daemon="$(/usr/bin/vhc status | sed -n 's/^daemon: //p')"
echo "  the station runs $old_daemon"
# The administrator enabled the station once it was configured; an upgrade keeps that.
# (--root: on the unit files, as when no systemd runs; the stand-in made /run/systemd/system.)
systemctl --root=/ enable vhc-stationd.service >/dev/null 2>&1

echo "== upgrade to this commit's packages ($version), the station running"
: >"$calls"
# The shipped example may have changed since the previous package (a new key): dpkg would ask about the
# edited station.yaml. Upgraded unattended, as a clinic's scheduled upgrade runs, the administrator's file is
# kept and the new example left beside it.
shipped() { # PACKAGES… OUT: the station package's example station.yaml, into OUT
    local out="${*: -1}" deb
    deb="$(printf '%s\n' "${@:1:$#-1}" | grep '/vhc-station_[^/]*\.deb$')" \
        && dpkg-deb --fsys-tarfile "$deb" | tar -xO ./etc/vhc-station/station.yaml >"$out" && test -s "$out"
}
shipped "${previous[@]}" "$work/example-previous" || { bad "the previous package's example station.yaml"; exit 1; }
shipped "${debs[@]}" "$work/example-new" || { bad "this package's example station.yaml"; exit 1; }
example_changed=0
cmp -s "$work/example-previous" "$work/example-new" || example_changed=1
rm -f /etc/vhc-station/station.yaml.dpkg-dist
output="$(DEBIAN_FRONTEND=noninteractive dpkg --force-confold -i "${debs[@]}" 2>&1 </dev/null)" \
    || { echo "$output"; bad "dpkg -i (upgrade)"; exit 1; }
check "dpkg has $version" test "$(dpkg-query -W -f='${Version}' vhc-station)" = "$version"
check "the upgrade keeps the edited station.yaml" grep -q "^institution: \"$institution\"" /etc/vhc-station/station.yaml
if [[ $example_changed = 1 ]]; then
    check "the package's changed example is left beside it, as station.yaml.dpkg-dist" \
        cmp -s "$work/example-new" /etc/vhc-station/station.yaml.dpkg-dist
else
    check "the example did not change: nothing is left beside it" test ! -e /etc/vhc-station/station.yaml.dpkg-dist
fi
check "and does not say 'not started' of a configured station" bash -c "! grep -q 'not started' <<<\"\$1\"" _ "$output"
check "the station the administrator enabled is still enabled" test -L /etc/systemd/system/multi-user.target.wants/vhc-stationd.service
check "the upgrade asks systemd to restart the station once, and for nothing else ($(tr '\n' ';' <"$calls"))" \
    test "$(cat "$calls")" = "try-restart vhc-stationd.service"
# What systemd does for try-restart: stop the running daemon, start the unit's ExecStart again.
stop_station
check "the new daemon starts on the same database" start_station
check "vhc status names the new daemon, $packaged_daemon (before: $old_daemon)" \
    bash -c "/usr/bin/vhc status | grep -qxF 'daemon: $packaged_daemon' && test '$old_daemon' != '$packaged_daemon' -o $same_build = 1"
rows >"$work/rows-after.json"
check "every row of every table is kept (by its key)" /usr/bin/python3 -c 'import json, sys
before, after = (json.load(open(p)) for p in sys.argv[1:])
lost = {t: len(set(r) - set(after.get(t, []))) for t, r in before.items() if set(r) - set(after.get(t, []))}
print(lost); sys.exit(1 if lost else 0)' "$work/rows-before.json" "$work/rows-after.json"
check "the migrations applied are this commit's, as on a fresh install" test "$(migrations)" = "$fresh_migrations"
check "the page is still signed in" test "$(page_status)" = 200
# The cloud back, upgraded too (its database migrated by the new vhc-cloud): the queue drains, once each.
check "the new cloud starts on the previous sandbox" start_cloud
eventually 30 bash -c "/usr/bin/vhc status | grep -q 'outbox 0'" || true
check "the visits queued before the upgrade are delivered (outbox 0)" bash -c "/usr/bin/vhc status | grep -q 'cloud: online, outbox 0'"
opened="$(/usr/bin/python3 -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM audit_log WHERE kind = '"'visit.opened'"'").fetchone()[0])' \
    "$work/sandbox/cloud.sqlite")"
check "the cloud opened each of the three visits once ($opened)" test "$opened" = 3
stop_station
stop_cloud
check "the audit log is whole after the upgrade" /usr/bin/vhc audit verify --database /var/lib/vhc-station/station.sqlite
