#!/usr/bin/env python3
"""An HIS's registration through the station's compatibility listener, made the way HIS code talks to NHIA's
card control software (docs/his-compatibility.md): HTTPS to a local console whose certificate is not verified,
a JSON body on every call (GET and DELETE too), HTTP 200 and a `statusCode` in every answer.

  his-client.py register --url https://127.0.0.1:5066 [--token QR-TEXT] [--bearer VALUE] [--rollback]
      Logout → ReadBasic → Verification → Signature/Hc → SequelNumber/Next (→ Rollback). Without --token the
      card in the reader is read: a visit the station's camera opened moments ago.
  his-client.py telemedicine --url … --patient ID [--bearer VALUE] [--wait SECONDS]
      TeleMedicine/RequestToken, then ResponseToken until the patient answers, then the registration with the
      virtualCardToken.

Exit status 0 when the registration went through, 1 when the station refused a step (its statusCode and
message printed), 2 for a usage or connection error. Python's standard library only: an example, not part of
the station."""

import argparse
import http.client
import json
import ssl
import sys
import time
import urllib.parse


class Console:
    """The station's listener as an HIS sees the console."""

    def __init__(self, url, bearer=None):
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("https", "http") or not parsed.hostname:
            raise SystemExit(f"his-client: --url must be https://HOST:PORT, got {url!r}")
        self.host, self.port, self.secure = parsed.hostname, parsed.port or 5066, parsed.scheme == "https"
        self.bearer = bearer

    def call(self, method, path, body=None):
        if self.secure:
            # As HIS code connects to the console: its certificate is the station's own, not verified.
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            connection = http.client.HTTPSConnection(self.host, self.port, timeout=15, context=context)
        else:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=15)
        headers = {"Content-Type": "application/json"}
        if self.bearer:
            headers["Authorization"] = f"Bearer {self.bearer}"
        try:
            connection.request(method, path, body=json.dumps(body if body is not None else {}), headers=headers)
            response = connection.getresponse()
            text = response.read().decode()
        except OSError as error:
            raise SystemExit(f"his-client: cannot reach the listener at {self.host}:{self.port}: {error}")
        finally:
            connection.close()
        if response.status != 200:
            # HIS code treats any other status as its own failure.
            raise SystemExit(f"his-client: {method} {path} answered HTTP {response.status}")
        answer = json.loads(text)
        print(f"  {method:6} {path:40} statusCode {answer.get('statusCode')}"
              + (f"  ({answer['message']})" if answer.get("message") else ""))
        return answer


def require(answer, *accepted):
    if answer.get("statusCode") not in (accepted or (0,)):
        print(f"his-client: refused with statusCode {answer.get('statusCode')}: {answer.get('message', '')}")
        sys.exit(1)
    return answer


def register(console, token, rollback):
    require(console.call("POST", "/api/common/v1/Initial"), 0, 1001)  # 1001: already initialised
    console.call("GET", "/api/common/v1/Status")
    require(console.call("DELETE", "/api/hc/v1/Logout"))
    card = {"token": token} if token else {}
    basic = require(console.call("POST", "/api/hc/v1/VirtualHc/ReadBasic", card))
    # The HIS shows the full identity to the clerk; this example prints it masked.
    print(f"  patient {basic['idNo'][:3]}****{basic['idNo'][-3:]}, born {basic['birthday']} (ROC), sex {basic['sex']}")
    require(console.call("POST", "/api/hc/v1/Verification/VirtualHc", card))
    bundle = require(console.call("POST", "/api/hc/v1/Signature/Hc", {"serviceType": "03"}))
    request = {key: bundle[key] for key in ("clientRandom", "hospitalId", "samId", "signature", "hcId", "hcIdNo")}
    request.update({"serviceType": "03", "treatmentItem": "01", "babyTreatment": " ", "afterCheck": "1"})
    sequence = console.call("POST", "/api/v1/SequelNumber/Next", request)
    for _ in range(10):  # offline: the number comes once the station's outbox drains
        if sequence.get("statusCode") != 9020:
            break
        time.sleep(1)
        sequence = console.call("POST", "/api/v1/SequelNumber/Next", request)
    # 3229: the insurance is suspended (停保); the visit is numbered all the same, the clinic bills it as such.
    require(sequence, 0, 3229)
    if sequence["statusCode"] == 3229:
        print(f"  warning: {sequence.get('message', 'insurance suspended')}")
    print(f"  registered: sequence {sequence['sequenceNumber']} at {sequence['treatmentDateTime']} (ROC)"
          + (", the patient's second visit today" if sequence["isSameDay"] else ""))
    if rollback:
        require(console.call("POST", "/api/v1/SequelNumber/Rollback",
                             {"treatmentDateTime": sequence["treatmentDateTime"]}))
        print("  the registration was cancelled (退掛)")


def telemedicine(console, patient, wait, rollback):
    require(console.call("POST", "/api/sam/v1/Signature", {"serviceType": "01"}))
    access = require(console.call("POST", "/api/v1/TeleMedicine/RequestToken", {"patientId": patient}))["accessToken"]
    deadline = time.time() + wait
    while True:
        answer = console.call("POST", "/api/v1/TeleMedicine/ResponseToken", {"accessToken": access})
        if answer.get("statusCode") != 3239 or time.time() > deadline:  # 3239: not yet authorised
            break
        time.sleep(1)
    register(console, require(answer)["virtualCardToken"], rollback)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("flow", choices=["register", "telemedicine"])
    parser.add_argument("--url", default="https://127.0.0.1:5066")
    parser.add_argument("--bearer", help="his.token_file's value, when the station asks for one")
    parser.add_argument("--token", help="the scanned QR text (register); none: the card in the reader")
    parser.add_argument("--patient", help="the patient's ID number (telemedicine)")
    parser.add_argument("--wait", type=float, default=120, help="seconds to wait for the patient's answer")
    parser.add_argument("--rollback", action="store_true", help="cancel the registration afterwards")
    options = parser.parse_args()
    console = Console(options.url, options.bearer)
    if options.flow == "register":
        register(console, options.token, options.rollback)
    else:
        if not options.patient:
            parser.error("telemedicine needs --patient")
        telemedicine(console, options.patient, options.wait, options.rollback)


if __name__ == "__main__":
    main()
