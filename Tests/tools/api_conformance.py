#!/usr/bin/env python3
"""Both OpenAPI documents against the running programs (issue 21), with schemathesis (PyPI): the station's
docs/openapi.yaml against `vhc-stationd` on its loopback TCP listener (bearer token), forwarding to the
sandbox cloud, and docs/cloud-openapi.yaml against `vhc-cloud serve` over mutual TLS with an institution's
certificate. Every check schemathesis has, a bounded number of examples an operation; the run fails on any
failure. What JSON Schema cannot say (an ID number's check digit, an image) comes from
Tests/tools/schemathesis_hooks.py; Tests/tools/schemathesis.toml lists the few expectations set per
operation, each with its reason.

  api_conformance.py --bin DIR --schemathesis PATH [--examples N]

A test tool, never part of the station."""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

BEARER = "api-conformance-token-0123456789"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port} after {seconds} s")


def schemathesis(tool, document, url, examples, extra):
    environment = dict(os.environ, SCHEMATHESIS_HOOKS="schemathesis_hooks",
                       PYTHONPATH=os.path.join(ROOT, "Tests", "tools"))
    command = [tool, "--config-file", os.path.join(ROOT, "Tests", "tools", "schemathesis.toml"), "run",
               os.path.join(ROOT, "docs", document), "--url", url, "--checks", "all", "--max-examples", str(examples),
               "--request-timeout", "10", "--no-color", *extra]
    result = subprocess.run(command, env=environment, capture_output=True, text=True)
    summary = [line for line in result.stdout.splitlines() if "generated" in line or "passed" in line]
    print(f"{document}: {'no failures' if result.returncode == 0 else 'FAILURES'}; "
          + "; ".join(line.strip() for line in summary[-2:]))
    if result.returncode != 0:
        print(result.stdout[-12000:])
        print(result.stderr[-2000:])
    return result.returncode == 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--schemathesis", required=True)
    parser.add_argument("--examples", type=int, default=25)
    options = parser.parse_args()
    binaries = os.path.abspath(options.bin)
    processes = []
    with tempfile.TemporaryDirectory(prefix="vhc-api-conformance-") as folder:
        def run(*arguments):
            subprocess.run(arguments, cwd=folder, check=True, capture_output=True)

        def start(name, *arguments):
            log = open(os.path.join(folder, f"{name}.log"), "w")
            processes.append(subprocess.Popen([os.path.join(binaries, arguments[0]), *arguments[1:]], cwd=folder,
                                              stdout=log, stderr=log))

        sandbox = os.path.join(folder, "sandbox")
        run(os.path.join(binaries, "vhc-cloud"), "init", "--dir", sandbox)
        with open(os.path.join(sandbox, "sandbox.json")) as manifest:
            manifest = json.load(manifest)
        institution = manifest["institutions"][0]["code"]
        patient = [p for p in manifest["patients"] if p["insuranceStatus"] == "active"][0]["id"]
        with open(os.path.join(sandbox, "patients", patient, "app-secret")) as secret:
            app_secret = secret.read().strip()
        cloud_port, station_port = free_port(), free_port()
        token_file = os.path.join(folder, "api-token")
        with open(os.open(token_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as out:
            out.write(BEARER + "\n")
        certificate = os.path.join(sandbox, "institutions", institution, "cert.pem")
        key = os.path.join(sandbox, "institutions", institution, "key.pem")
        with open(os.path.join(folder, "station.yaml"), "w") as config:
            config.write(f"""institution: "{institution}"
trust:
  root: {sandbox}/trust-root.pub
storage:
  database: {folder}/station.sqlite
api:
  socket: {folder}/api.sock
  tcp: 127.0.0.1:{station_port}
  token_file: {token_file}
cloud:
  url: https://127.0.0.1:{cloud_port}
  ca: {sandbox}/ca.pem
  certificate: {certificate}
  key: {key}
  station: api-conformance
""")
        try:
            start("cloud", "vhc-cloud", "serve", "--dir", sandbox, "--listen", f"127.0.0.1:{cloud_port}")
            wait_for(cloud_port)
            start("station", "vhc-stationd", "--config", os.path.join(folder, "station.yaml"))
            wait_for(station_port)
            station = schemathesis(options.schemathesis, "openapi.yaml", f"http://127.0.0.1:{station_port}",
                                   options.examples, ["--header", f"Authorization: Bearer {BEARER}"])
            cloud = schemathesis(options.schemathesis, "cloud-openapi.yaml", f"https://127.0.0.1:{cloud_port}",
                                 options.examples,
                                 ["--tls-verify", os.path.join(sandbox, "ca.pem"), "--request-cert", certificate,
                                  "--request-cert-key", key, "--header", f"Authorization: Bearer {app_secret}"])
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=20)
    return 0 if station and cloud else 1


if __name__ == "__main__":
    sys.exit(main())
