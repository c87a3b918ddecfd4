#!/usr/bin/env bash
# The demonstration: make keys and lists as an issuer would, issue tokens as the phone app would
# (plain, delegated, photo-less), render their QR codes, and verify them as the station does,
# including the rejections a front desk will meet (replay, expiry, revoked delegation). Then the station
# daemon runs on a simulated camera that plays phone-screen photos of three fresh cards, and `vhc` shows
# its events and sessions. Then the sandbox cloud: its lists, refusals, the phone app (a card, a delegation
# and its cancellation) and remote consent. Last, a station forwarding to the cloud: a practitioner logs in,
# the camera's card opens a visit at the cloud, the medications and an alert come through the station, and
# an offline period drains exactly once. Everything lands in demo-output/. No camera or network needed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --product vhc
source scripts/build-flags.sh
swift build "${build_flags[@]}" --product vhc-stationd >/dev/null
swift build "${build_flags[@]}" --product vhc-cloud >/dev/null
vhc="$(swift build --show-bin-path)/vhc"
stationd="$(swift build --show-bin-path)/vhc-stationd"
cloud="$(swift build --show-bin-path)/vhc-cloud"
hisclient="$PWD/examples/his-client.py"
# The phone-screen model needs numpy and OpenCV (PyPI); without them the cards are shown as plain QR images.
python3 -c "import numpy, cv2" 2>/dev/null || python3 -m pip install --quiet numpy opencv-contrib-python-headless \
    2>/dev/null || true
out=demo-output
rm -rf "$out" && mkdir -p "$out" && cd "$out"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
verdict() {  # the JSON verdict, then its code and reason in a line a clerk could read
    local json status=0
    json="$("$vhc" verify --root root.pub --trust-list trust-list.cose "$@")" || status=$?
    echo "$json"
    python3 -c 'import json,sys; v=json.loads(sys.argv[1]); print("   → exit %s: %s: %s" % (sys.argv[2], v["code"], v["reason"]))' "$json" "$status"
}

now=$(date -u +%s)
# Delegations run on calendar days in Asia/Taipei (UTC+8, no daylight saving).
today=$(date -u -d "@$((now + 8 * 3600))" +%F)
in30days=$(date -u -d "@$((now + 8 * 3600 + 30 * 86400))" +%F)
step "Issuer: keys (root, token signing, revocation-list signing)"
for name in root token revocation; do
    printf '%-11s kid ' "$name"; "$vhc" keys generate --out "$name.pem"
    "$vhc" keys public "$name.pem" > "$name.pub"
done

step "Issuer: signed trust list and delegation revocation list"
"$vhc" trust-list build --root root.pem --issuer TW-NHIA --seq 1 --issued-at $((now - 60)) \
    --expires-at $((now + 7 * 86400)) --key token:token.pub --key revocation:revocation.pub --out trust-list.cose
"$vhc" revocations build --key revocation.pem --issuer TW-NHIA --seq 1 --issued-at $((now - 60)) \
    --expires-at $((now + 86400)) --revoke "d0d0d0d0d0d0d0d0:$((now - 3600)):$in30days" \
    --out revocations.cose
ls -l trust-list.cose revocations.cose | awk '{print $5" bytes  "$NF}'

step "Phone app: a token for 王小明 (A123456789), rendered as a QR code"
token=$("$vhc" issue --key token.pem --issuer TW-NHIA --id A123456789 --name 王小明 --birth 1980-05-17 \
    --card-number 000012345678 --png token.png)
echo "$token"
echo "(${#token} characters; QR code in $out/token.png)"
if command -v zbarimg >/dev/null; then
    [[ "$(zbarimg --quiet --raw token.png 2>/dev/null)" == "$token" ]] && echo "zbarimg reads the PNG back: identical text"
fi

step "Station: the webcam sees the phone (a simulated V4L2 camera plays token.png) and verifies the code"
"$vhc" scan --camera fake:token.png --max-frames 15 --root root.pub --trust-list trust-list.cose \
    --consumed-store demo-station.sqlite 2>/dev/null > scan.jsonl
python3 - scan.jsonl <<'PY'
import json, sys
for line in open(sys.argv[1]):
    read = json.loads(line)
    verdict = read["verdict"]
    holder = verdict.get("holder") or {}
    print(f"   frame {read['frame']}: read by the '{read['pass']}' pass in {read['ms']} ms → {verdict['code']}: "
          f"{verdict['reason']} (holder {holder.get('id', '?')[:3]}****{holder.get('id', '?')[-3:]})")
PY

step "Station: the same code scanned again → rejected as a replay"
verdict --consumed-store demo-station.sqlite "$token" || true

step "Station: the same code ten minutes later → expired"
verdict --at $((now + 600)) "$token" || true

step "Phone app: a caregiver (F222333444) presents the card by delegation; the card has no photo yet"
delegated=$("$vhc" issue --key token.pem --issuer TW-NHIA --id A123456789 --name 王小明 --birth 1980-05-17 \
    --no-photo --delegate F222333444 --delegation-id a1a2a3a4a5a6a7a8 --valid-from "$today" \
    --valid-to "$in30days" --png delegated.png)
echo "(${#delegated} characters; QR code in $out/delegated.png)"
verdict --revocations revocations.cose --consumed-store demo-station.sqlite "$delegated"
echo "   idCheckRequired: the clerk must check an ID document before the visit counts as identified"

step "Station: a delegation the patient cancelled → rejected"
revoked=$("$vhc" issue --key token.pem --issuer TW-NHIA --id A123456789 --name 王小明 --birth 1980-05-17 \
    --delegate F222333444 --delegation-id d0d0d0d0d0d0d0d0 --valid-from "$today" \
    --valid-to "$in30days")
verdict --revocations revocations.cose "$revoked" || true

step "Station: a code whose signature was altered → rejected"
cut=$((${#token} - 6))  # a character inside the signature; "0" keeps the Base45 group in range
tampered="${token:0:cut}$( [[ ${token:cut:1} == 0 ]] && echo 1 || echo 0 )${token:cut+1}"
verdict "$tampered" || true

step "Station daemon: vhc-stationd watches a simulated camera showing three phones"
mkdir -p frames
plain=$("$vhc" issue --key token.pem --issuer TW-NHIA --id B220000000 --name 林美玲 --birth 1990-03-02)
caregiver=$("$vhc" issue --key token.pem --issuer TW-NHIA --id A123456789 --name 王小明 --birth 1980-05-17 \
    --delegate F222333444 --delegation-id b1b2b3b4b5b6b7b8 --valid-from "$today" --valid-to "$in30days")
photoless=$("$vhc" issue --key token.pem --issuer TW-NHIA --id C100000003 --name 陳大文 --birth 1975-11-30 --no-photo)
if python3 ../Benchmarks/phone-screens/generate.py --out frames --token "$plain" --token "$caregiver" \
    --token "$photoless" 2>/dev/null; then
    echo "frames: phone-screen photos (sub-pixel stripes, tilt, glare, JPEG) of the three cards in $out/frames/"
else
    for name in plain caregiver photoless; do "$vhc" issue --key token.pem --issuer TW-NHIA --id A123456789 \
        --name 王小明 --birth 1980-05-17 --png "frames/$name.png" >/dev/null; done
    echo "(numpy/OpenCV unavailable: plain QR images instead of phone-screen photos)"
fi
socket="$PWD/api.sock"
"$stationd" --no-config --institution 0123456789 --root root.pub --trust-list trust-list.cose \
    --revocation-list revocations.cose --database station.sqlite --socket "$socket" --camera fake:frames \
    2> stationd.log &
daemon=$!
trap 'kill $daemon 2>/dev/null || true' EXIT
for _ in $(seq 100); do "$vhc" status --socket "$socket" >/dev/null 2>&1 && break; sleep 0.1; done
"$vhc" events --socket "$socket" --since 0 > events.txt &  # from the first event the daemon keeps
events=$!
for _ in $(seq 300); do
    [[ $("$vhc" sessions list --socket "$socket" --json | grep -o '"id"' | wc -l) -ge 3 ]] && break; sleep 0.1
done
"$vhc" status --socket "$socket"

step "Front desk: the open sessions (the photo-less card waits for an ID-document check)"
"$vhc" sessions list --socket "$socket"
waiting=$("$vhc" sessions list --socket "$socket" --state awaiting_id_check --json \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["sessions"][0]["id"])')
"$vhc" sessions id-check "$waiting" --socket "$socket" --document national_id_card --last-four 0003 --operator 林護理師

step "Front desk: a handheld scanner submits the plain card's code again → replayed"
"$vhc" submit --socket "$socket" --source handheld "$plain" || true

step "Telemedicine: the clinician pastes a picture of the patient's phone from the video call (POST /v1/scans/image)"
"$vhc" issue --key token.pem --issuer TW-NHIA --id E123456783 --name 張小芬 --birth 1985-08-08 --png video-call.png >/dev/null
"$vhc" submit --socket "$socket" --image video-call.png --source screenshot

step "Events as the front-desk screen and the HIS received them (vhc events)"
sleep 0.3
kill $events 2>/dev/null || true
cat events.txt

step "Stop (SIGTERM), then check the audit log's hash chain"
kill -TERM $daemon && wait $daemon && trap - EXIT
tail -n 1 stationd.log
"$vhc" audit verify --database station.sqlite

step "Sandbox cloud: vhc-cloud makes a sandbox (CA, certificates, issuer keys, people) and serves it over mutual TLS"
"$cloud" init --dir sandbox

step "Cards: the clinic's two keys made on SoftHSM tokens (never extractable); the cloud issues their certificates from requests"
# SoftHSM2 plays the institution's security module and the doctor's card, in this folder (docs/cards.md).
export SOFTHSM2_CONF="$PWD/softhsm2.conf"
mkdir -p softhsm-tokens
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$PWD/softhsm-tokens" >"$SOFTHSM2_CONF"
( umask 077 && echo 246810 > clinic-pin && echo 135792 > doctor-pin )
softhsm2-util --init-token --free --label Clinic --so-pin 97531864 --pin 246810 >/dev/null
softhsm2-util --init-token --free --label Doctor --so-pin 97531864 --pin 135792 >/dev/null
softhsm=/usr/lib/softhsm/libsofthsm2.so
clinickey="pkcs11:token=Clinic;object=institution"
doctorkey="pkcs11:token=Doctor;object=practitioner"
carded=0999000111
doctor=F224680133
"$vhc" card keygen --pkcs11 "$clinickey" --module "$softhsm" --pin-file clinic-pin --institution "$carded" \
    --name "示範居家護理所" --out institution.csr
"$cloud" enrol --dir sandbox --code "$carded" --name "示範居家護理所" --setting outpatient --setting home_care \
    --setting telemedicine --setting video_consultation --csr institution.csr
"$vhc" card store-certificate --pkcs11 "$clinickey" --module "$softhsm" --pin-file clinic-pin \
    --certificate "sandbox/institutions/$carded/cert.pem"
"$vhc" card keygen --pkcs11 "$doctorkey" --module "$softhsm" --pin-file doctor-pin --practitioner "$doctor" \
    --name "林醫師" --out practitioner.csr
"$cloud" practitioner add --dir sandbox --profession physician --id "$doctor" --name "林醫師" --csr practitioner.csr
"$cloud" affiliate --dir sandbox --practitioner "$doctor" --institution "$carded"
"$vhc" card store-certificate --pkcs11 "$doctorkey" --module "$softhsm" --pin-file doctor-pin \
    --certificate "sandbox/practitioners/$doctor/cert.pem"
echo "no key file in the sandbox for them: $(ls "sandbox/institutions/$carded") and $(ls "sandbox/practitioners/$doctor")"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$cloud" serve --dir sandbox --listen "127.0.0.1:$port" > cloud.log 2>&1 &
cloudpid=$!
trap 'kill $cloudpid 2>/dev/null || true' EXIT
https=(curl --silent --show-error --cacert sandbox/ca.pem)
for _ in $(seq 100); do "${https[@]}" "https://127.0.0.1:$port/v1/health" >/dev/null 2>&1 && break; sleep 0.1; done
"${https[@]}" "https://127.0.0.1:$port/v1/health"; echo
institution=$(python3 -c 'import json; print(json.load(open("sandbox/sandbox.json"))["institutions"][0]["code"])')
patient=$(python3 -c 'import json; p=json.load(open("sandbox/sandbox.json"))["patients"][0]; print(p["id"], p["name"], p["birthDate"])')
echo "institution $institution; first patient (synthetic): $patient"

step "Station: the cloud's trust list (with its ETag; unchanged → 304) verifies a token from the sandbox issuer"
etag=$("${https[@]}" -D - -o sandbox-trust-list.cose "https://127.0.0.1:$port/v1/trust-list" | tr -d '\r' \
    | sed -n 's/^[Ee][Tt]ag: //p')
echo "ETag $etag"
"${https[@]}" -o /dev/null -w 'If-None-Match → %{http_code}\n' -H "If-None-Match: $etag" "https://127.0.0.1:$port/v1/trust-list"
read -r pid pname pbirth <<<"$patient"
sandboxtoken=$("$vhc" issue --key sandbox/issuer/token-key.pem --issuer TW-NHIA --id "$pid" --name "$pname" --birth "$pbirth")
"$vhc" verify --root sandbox/trust-root.pub --trust-list sandbox-trust-list.cose "$sandboxtoken"; echo

step "Cloud: a visit opening without the institution's certificate, then with it but not signed → refused with codes"
"${https[@]}" -X POST -H 'Content-Type: application/cose' --data-binary 'not an opening' \
    "https://127.0.0.1:$port/v1/visits"; echo
"${https[@]}" --cert "sandbox/institutions/$institution/cert.pem" --key "sandbox/institutions/$institution/key.pem" \
    -X POST -H 'Content-Type: application/cose' --data-binary 'not an opening' "https://127.0.0.1:$port/v1/visits"; echo
step "Phone app: vhc app shows the patient's card (a fresh token, QR in app-qr.png); the station verifies it"
apptoken=$("$vhc" app qr --cloud "https://127.0.0.1:$port" --sandbox sandbox --card "$pid" --once --png app-qr.png)
verdict_sandbox() { "$vhc" verify --root sandbox/trust-root.pub --trust-list sandbox-trust-list.cose "$@" || true; }
verdict_sandbox "$apptoken"; echo

step "Phone app: the patient delegates the card to a family member, who shows it; then cancels → revoked at once"
family=$(python3 -c 'import json; print(json.load(open("sandbox/sandbox.json"))["patients"][1]["id"])')
until=$(TZ=Asia/Taipei date -d '+7 days' +%F)
"$vhc" app delegate --cloud "https://127.0.0.1:$port" --sandbox sandbox --card "$pid" --to "$family" --until "$until" \
    | tee delegation.txt
delegation=$(sed -n 's/^delegation \([0-9a-f]*\):.*/\1/p' delegation.txt)
familytoken=$("$vhc" app qr --cloud "https://127.0.0.1:$port" --sandbox sandbox --card "$pid" --as "$family" --once)
"${https[@]}" -o sandbox-revocations.cose "https://127.0.0.1:$port/v1/revocations"
verdict_sandbox --revocations sandbox-revocations.cose "$familytoken"; echo
"$vhc" app cancel-delegation --cloud "https://127.0.0.1:$port" --sandbox sandbox --card "$pid" --delegation "$delegation"
"${https[@]}" -o sandbox-revocations.cose "https://127.0.0.1:$port/v1/revocations"
verdict_sandbox --revocations sandbox-revocations.cose "$familytoken"; echo
"$vhc" app qr --cloud "https://127.0.0.1:$port" --sandbox sandbox --card "$pid" --as "$family" --once || true

step "Remote consent: a telehealth clinic asks, the patient approves in the app, the clinic's poll receives a token"
tele=$(python3 -c 'import json; print([i["code"] for i in json.load(open("sandbox/sandbox.json"))["institutions"] if "home_care" not in i["settings"]][-1])')
clinic=("${https[@]}" --cert "sandbox/institutions/$tele/cert.pem" --key "sandbox/institutions/$tele/key.pem")
consent=$("${clinic[@]}" -X POST -H 'Content-Type: application/json' \
    --data "{\"patientId\":\"$pid\",\"setting\":\"telemedicine\"}" "https://127.0.0.1:$port/v1/consents")
echo "$consent"
consentid=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["id"])' "$consent")
"$vhc" app consent --cloud "https://127.0.0.1:$port" --sandbox sandbox --card "$pid" --approve
"${clinic[@]}" "https://127.0.0.1:$port/v1/consents/$consentid" | python3 -c \
    'import json,sys; c=json.load(sys.stdin); print("poll: state %s, token of %d characters" % (c["state"], len(c.get("token") or "")))'
"${clinic[@]}" "https://127.0.0.1:$port/v1/consents/$consentid"; echo

step "Station + cloud: vhc-stationd forwards to the sandbox cloud, its TLS key on the clinic's token; its camera sees a card before anyone logs in"
issuer=$(python3 -c 'import json; print(json.load(open("sandbox/sandbox.json"))["issuer"])')
sandbox_token() {  # a fresh token of the sandbox's Nth active patient, from the sandbox issuer's key
    read -r tid tname tbirth < <(python3 -c 'import json,sys; p=[p for p in json.load(open("sandbox/sandbox.json"))["patients"] if p["insuranceStatus"]=="active"][int(sys.argv[1])]; print(p["id"], p["name"], p["birthDate"])' "$1")
    "$vhc" issue --key sandbox/issuer/token-key.pem --issuer "$issuer" --id "$tid" --name "$tname" --birth "$tbirth" "${@:2}"
}
mkdir -p cloudframes
sandbox_token 0 --png cloudframes/card.png > /dev/null
webport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
hisport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
( umask 077 && head -c 32 /dev/urandom | base64 > api-token )
cat > station-cloud.yaml <<YAML
institution: "$carded"
camera:
  path: fake:$PWD/cloudframes
trust:
  root: $PWD/sandbox/trust-root.pub
storage:
  database: $PWD/station-cloud.sqlite
api:
  socket: $PWD/cloud-api.sock
  tcp: 127.0.0.1:$webport
  token_file: $PWD/api-token
cloud:
  url: https://127.0.0.1:$port
  ca: $PWD/sandbox/ca.pem
  key: "$clinickey"
  pkcs11_module: $softhsm
  pin_file: $PWD/clinic-pin
  card_module: $softhsm
  station: demo-front-desk
  retry_max_seconds: 2
his:
  listen: 127.0.0.1:$hisport
YAML
"$stationd" --config station-cloud.yaml 2> stationd-cloud.log &
forwarder=$!
trap 'kill $cloudpid $forwarder 2>/dev/null || true' EXIT
desk=(--socket "$PWD/cloud-api.sock")
for _ in $(seq 100); do "$vhc" status "${desk[@]}" 2>/dev/null | grep -q "trust list: sequence" && break; sleep 0.1; done
for _ in $(seq 100); do "$vhc" status "${desk[@]}" | grep -q "awaiting a practitioner 1" && break; sleep 0.1; done
"$vhc" sessions list "${desk[@]}"

step "Practitioner: vhc login --pkcs11 logs the doctor in with their card (the PIN sent to it once); the waiting visit is signed on the card and opened at the cloud"
"$vhc" login "${desk[@]}" --pkcs11 "$doctorkey" --pin-file doctor-pin
"$vhc" sessions list "${desk[@]}"
visit=$("$vhc" sessions list "${desk[@]}" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["sessions"][0]["id"])')

step "Clinician: the patient's medications from the cloud, through the station, and the alert for a proposed prescription"
"$vhc" records "$visit" medications "${desk[@]}"
proposed=$("$vhc" records "$visit" medications "${desk[@]}" --json | python3 -c '
import json, sys
items = json.load(sys.stdin)["items"]
current = [m for m in items if m["daysRemaining"] > 0]
print((current or items or [{"atcCode": "B01AA03"}])[0]["atcCode"])')
echo "proposed prescription: $proposed"
"$vhc" alerts "$visit" --atc "$proposed" "${desk[@]}"

step "The clinic's HIS registers a patient through the compatibility listener, as it talks to NHIA's card control software (examples/his-client.py)"
python3 "$hisclient" register --url "https://127.0.0.1:$hisport" --token "$(sandbox_token 2)" --rollback

step "The clinic's HIS asks a telemedicine patient's consent through the listener (RequestToken); the patient approves in the app; the HIS registers the visit with ResponseToken's token"
remote=$(python3 -c 'import json; print([p["id"] for p in json.load(open("sandbox/sandbox.json"))["patients"] if p["insuranceStatus"]=="active"][3])')
python3 "$hisclient" telemedicine --url "https://127.0.0.1:$hisport" --patient "$remote" --wait 30 --rollback &
hisflow=$!
"$vhc" app consent --cloud "https://127.0.0.1:$port" --sandbox sandbox --card "$remote" --approve --wait 20 \
    || { kill $hisflow; exit 1; }
wait $hisflow

step "Front desk: vhc web prints a one-time link to the page; a browser signs in with it (curl plays the browser)"
link=$("$vhc" web "${desk[@]}" --no-open)
echo "$link"
redirect=$(curl --silent --show-error -o /dev/null -c web-cookies.txt -w '%{http_code} %{redirect_url}' "$link")
echo "first use → ${redirect%%#*}#key=… (an HttpOnly cookie, and the page key in the fragment)"
pagekey=${redirect##*#key=}
curl --silent --show-error -b web-cookies.txt "http://127.0.0.1:$webport/" | grep -o '<title>[^<]*</title>'
curl --silent --show-error -b web-cookies.txt -H "X-VHC-Page-Key: $pagekey" "http://127.0.0.1:$webport/v1/stats/day" | python3 -c \
    'import json,sys; d=json.load(sys.stdin); print("the page'"'"'s day at a glance: %s, %d valid, %d refused" % (d["date"], d["accepted"], d["refused"]))'
curl --silent --show-error -o /dev/null -w 'the same link again → %{http_code} (web_link_invalid)\n' "$link"
echo "(open http://127.0.0.1:$webport/ with a fresh link from vhc web in a browser to see the page)"

step "Home care offline: the cloud is cut; two cards are scanned, verified locally and kept in the outbox"
kill -TERM $cloudpid && wait $cloudpid || true
for n in 1 2; do "$vhc" submit "${desk[@]}" --source handheld "$(sandbox_token $n)" || true; done
"$vhc" status "${desk[@]}" | grep -E "^(station|cloud|practitioner)"

step "The cloud is back: the outbox drains; each visit is opened once, counted in the cloud's own audit log"
"$cloud" serve --dir sandbox --listen "127.0.0.1:$port" >> cloud.log 2>&1 &
cloudpid=$!
trap 'kill $cloudpid $forwarder 2>/dev/null || true' EXIT
for _ in $(seq 200); do "$vhc" status "${desk[@]}" | grep -q "cloud: online, outbox 0" && break; sleep 0.1; done
"$vhc" status "${desk[@]}" | grep -E "^cloud"
"$vhc" sessions list "${desk[@]}"
python3 - sandbox/cloud.sqlite <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
opened = db.execute("SELECT count(*) FROM audit_log WHERE kind = 'visit.opened'").fetchone()[0]
requests = db.execute("SELECT count(*) FROM visit_request WHERE refusal IS NULL").fetchone()[0]
print(f"the cloud opened {opened} visits for {requests} distinct requests (exactly once each)")
PY
kill -TERM $forwarder && wait $forwarder || true
"$vhc" audit verify --database station-cloud.sqlite

kill -TERM $cloudpid && wait $cloudpid || true
trap - EXIT

printf '\nDemonstration complete: files in %s/\n' "$out"
