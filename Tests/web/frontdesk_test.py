#!/usr/bin/env python3
"""The front-desk page in a real browser (issue 12): Debian's chromium driven by Selenium, against the real
vhc-stationd on the fake camera and the real sandbox cloud (vhc-cloud) over mutual TLS, all on loopback.

A card is "shown to the camera" by renaming its QR picture into the fake camera's scene directory, as a
patient holds up a phone. The test signs the page in through `vhc web`'s one-time link and walks the desk's
day: a valid card, a replay, a photo-less card and its ID check, records and an alert, the cloud cut and its
return, a hostile holder name, a keyboard-mode scanner typing at a focused button, the verdicts' sounds;
telemedicine (issue 23): pictures pasted, dropped and chosen (a JPEG on its side with its EXIF orientation,
a HEIC photo, no code, too large), the code read live off a video call in another window, remote consent
approved, refused, cancelled, kept across a reload and a daemon restart, and expired; then the refusals (a
used link, no cookie, another Origin), the panel's return to "ready", sound held back by the browser, and the
figures: camera frame → verdict painted, code shown in the call → verdict painted, a cold first load, bytes
transferred. Screenshots of each state and a JSON report go to --out.

  frontdesk_test.py --bin DIR [--out DIR] [--cards N]     (DIR holds vhc, vhc-stationd and vhc-cloud)

A test tool, never part of the station: Selenium comes from PyPI into a virtual environment (scripts/test.sh);
the HEIC photo is made with Debian's heif-enc (libheif-examples).
"""

import argparse
import base64
import functools
import glob
import http.client as httpclient
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from selenium import webdriver
from selenium.common.exceptions import (NoAlertPresentException, NoSuchElementException,
                                        StaleElementReferenceException, TimeoutException,
                                        UnexpectedAlertPresentException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so"
BEARER = "frontdesk-test-token-0123456789abcdef"
XSS_NAME = "<img src=x onerror=alert(1)>"
# The window the page reads the code from: chromium picks it by its title (--auto-select-tab-capture-source-by-title).
CALL_TITLE = "VHC video call"
# How long a patient has to answer a consent request in this test's sandbox cloud (vhc-cloud serve --consent-window).
CONSENT_WINDOW = 45
# Debian's faketime: the laptop's night moves the station's and the cloud's clock (lid_closed_for_the_night).
LIBFAKETIME = next(iter(sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))),
                   "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")

# Installed before the page's own scripts: every oscillator the page starts and when it is stopped (the real
# Web Audio calls, the sound still plays) and every scan it posts, so the test sees what the page did, not what it says it did.
PAGE_SPY = """
window.__audioCalls = [];
window.__scanPosts = [];
const startOscillator = OscillatorNode.prototype.start;
const oscillatorCalls = new WeakMap();
OscillatorNode.prototype.start = function (when) {
  const call = { frequency: this.frequency.value, when: when ?? 0, stop: null };
  oscillatorCalls.set(this, call);
  window.__audioCalls.push(call);
  return startOscillator.apply(this, arguments);
};
const stopOscillator = OscillatorNode.prototype.stop;
OscillatorNode.prototype.stop = function (when) {
  const call = oscillatorCalls.get(this);
  if (call) call.stop = when ?? 0;
  return stopOscillator.apply(this, arguments);
};
// Every other POST (pictures, frames, consents): where, its media type and size, when it went and was answered.
window.__posts = [];
const plainFetch = window.fetch;
window.fetch = function (url, init) {
  if (String(url).endsWith('/v1/scans') && init?.method === 'POST') window.__scanPosts.push(JSON.parse(init.body));
  else if (init?.method === 'POST') {
    const post = { url: String(url), type: init.headers?.['Content-Type'] ?? null, at: performance.now(),
                   size: init.body?.size ?? (typeof init.body === 'string' ? init.body.length : null) };
    window.__posts.push(post);
    return plainFetch.apply(this, arguments).then(
      (response) => { post.status = response.status; post.doneAt = performance.now(); return response; },
      (error) => { post.error = String(error); post.doneAt = performance.now(); throw error; });
  }
  return plainFetch.apply(this, arguments);
};
// The streams the page shares (to see their tracks stopped), and a sharing the user refuses on demand.
window.__displayStreams = [];
window.__refuseDisplay = false;
// A shared window that sends no picture (minimised): a canvas stream nothing is ever drawn on.
window.__silentDisplay = false;
const shareDisplay = navigator.mediaDevices?.getDisplayMedia?.bind(navigator.mediaDevices);
if (shareDisplay) {
  navigator.mediaDevices.getDisplayMedia = async function (options) {
    if (window.__refuseDisplay) throw new DOMException('Permission denied', 'NotAllowedError');
    const stream = window.__silentDisplay ? document.createElement('canvas').captureStream(0) : await shareDisplay(options);
    window.__displayStreams.push(stream);
    return stream;
  };
}
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`));
"""

# The patient's end of a video call, on another loopback port: the phone's code drifting slowly, scaled and
# a little blurred, as a camera and a video codec leave it. The test's own page (no CSP needed).
CALL_PAGE = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{CALL_TITLE}</title><style>
body {{ margin: 0; background: #2b3340; overflow: hidden; }}
#code {{ position: absolute; left: 420px; top: 160px; width: 420px; filter: blur(0.7px);
        animation: drift 6s ease-in-out infinite alternate; }}
#code:not([src]) {{ display: none; }}
@keyframes drift {{ from {{ transform: translate(0, 0) scale(0.92); }} to {{ transform: translate(80px, 40px) scale(0.97); }} }}
#clinician {{ position: absolute; right: 24px; bottom: 24px; width: 160px; height: 120px; background: #55606e;
             animation: breathe 1.5s ease-in-out infinite alternate; }}
@keyframes breathe {{ from {{ opacity: 0.6; }} to {{ opacity: 1; }} }}
</style></head><body><img id="code" alt=""><div id="clinician"></div></body></html>"""

# A picture given to the page: a File made in the page from the bytes (base64), pasted (a ClipboardEvent)
# or dragged over an element and dropped there (DragEvents); each with a DataTransfer holding it.
GIVE_PICTURE = """const bytes = Uint8Array.from(atob(arguments[0]), (c) => c.charCodeAt(0));
const data = new DataTransfer();
data.items.add(new File([bytes], arguments[1], {type: arguments[2]}));
const how = arguments[3];
if (how === 'paste') {
  document.activeElement?.blur?.();
  document.body.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));
  return null;
}
const target = document.querySelector(arguments[4]);
for (const type of ['dragenter', 'dragover']) target.dispatchEvent(new DragEvent(type, {dataTransfer: data, bubbles: true, cancelable: true}));
const highlighted = document.body.dataset.dropping === 'true' && !document.getElementById('drop-overlay').hidden;
target.dispatchEvent(new DragEvent('drop', {dataTransfer: data, bubbles: true, cancelable: true}));
return {highlighted, after: document.body.dataset.dropping === 'true' || !document.getElementById('drop-overlay').hidden};"""

# The keys of a US keyboard a keyboard-mode scanner presses for a token's characters that are not letters
# or digits: (event.code, keyCode, with Shift).
US_KEYS = {" ": ("Space", 32, False), "$": ("Digit4", 52, True), "%": ("Digit5", 53, True),
           "*": ("Digit8", 56, True), "+": ("Equal", 187, True), "-": ("Minus", 189, False),
           ".": ("Period", 190, False), "/": ("Slash", 191, False), ":": ("Semicolon", 186, True)}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def blank_png(path, width=640, height=480, grey=150):
    """A camera frame with no phone in it (PNG by hand: the standard library has no image writer)."""
    rows = b"".join(b"\x00" + bytes([grey]) * width for _ in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


class Check:
    """Named checks: each failure says what a user would have seen go wrong."""

    def __init__(self):
        self.passed = []

    def that(self, condition, what):
        if not condition:
            raise AssertionError(what)
        self.passed.append(what)
        print(f"  ok  {what}", flush=True)


class Desk:
    """The sandbox cloud, the station daemon and its fake camera, in one temporary folder."""

    def __init__(self, bin_dir, folder):
        self.bin = os.path.abspath(bin_dir)
        self.folder = folder
        self.processes = {}
        # The cloud's and the station's environment; the laptop's night adds libfaketime to it.
        self.environment = None
        self.run("vhc-cloud", "init", "--dir", "sandbox")
        with open(os.path.join(folder, "sandbox", "sandbox.json")) as manifest:
            self.sandbox = json.load(manifest)
        self.institution = self.sandbox["institutions"][0]["code"]
        self.practitioner = [p["id"] for p in self.sandbox["practitioners"] if self.institution in p["institutions"]][0]
        self.stranger = [p["id"] for p in self.sandbox["practitioners"] if self.institution not in p["institutions"]][0]
        active = [p for p in self.sandbox["patients"] if p["insuranceStatus"] == "active"]
        self.with_photo = [p for p in active if p["photo"] == "verified"]
        self.without_photo = [p for p in active if p["photo"] == "none"]
        self.cloud_port = free_port()
        self.station_port = free_port()
        self.his_port = free_port()
        self.origin = f"http://127.0.0.1:{self.station_port}"
        self.scene = os.path.join(folder, "scene")
        os.makedirs(self.scene)
        blank_png(os.path.join(self.scene, "frame.png"))
        with open(os.open(os.path.join(folder, "api-token"), os.O_WRONLY | os.O_CREAT, 0o600), "w") as out:
            out.write(BEARER + "\n")
        self.cards(folder, os.path.join(folder, "sandbox"))
        # No return to "ready" for the day's walk, whose checks read a verdict long after it came; the walk
        # sets a short time near its end (restart_station).
        self.write_config(ready_seconds=0)

    def write_config(self, ready_seconds, capture_seconds=120):
        folder = self.folder
        sandbox = os.path.join(folder, "sandbox")
        with open(os.path.join(folder, "station.yaml"), "w") as config:
            config.write(f"""institution: "{self.institution}"
camera:
  path: fake:{self.scene}
trust:
  root: {sandbox}/trust-root.pub
storage:
  database: {folder}/station.sqlite
api:
  socket: {folder}/api.sock
  tcp: 127.0.0.1:{self.station_port}
  token_file: {folder}/api-token
cloud:
  url: https://127.0.0.1:{self.cloud_port}
  ca: {sandbox}/ca.pem
  certificate: {sandbox}/institutions/{self.institution}/cert.pem
  key: "pkcs11:token=Clinic;object=institution"
  pkcs11_module: {SOFTHSM}
  pin_file: {folder}/clinic-pin
  card_module: {SOFTHSM}
  station: frontdesk-test
  retry_max_seconds: 1
page:
  ready_seconds: {ready_seconds}
  capture_seconds: {capture_seconds}
his:
  listen: 127.0.0.1:{self.his_port}
""")

    def cards(self, folder, sandbox):
        """The institution's key on a SoftHSM2 token (the station's TLS) and the practitioner's on a card of
        their own, in tokens of this test's own (SOFTHSM2_CONF, inherited by the daemon)."""
        os.makedirs(os.path.join(folder, "tokens"), exist_ok=True)
        os.environ["SOFTHSM2_CONF"] = os.path.join(folder, "softhsm2.conf")
        with open(os.environ["SOFTHSM2_CONF"], "w") as conf:
            conf.write(f"directories.tokendir = {folder}/tokens\nobjectstore.backend = file\nlog.level = ERROR\n")
        for label, pin, key in (("Clinic", "246810", f"{sandbox}/institutions/{self.institution}/key.pem"),
                                ("Doctor", "135792", f"{sandbox}/practitioners/{self.practitioner}/key.pem")):
            subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", "97531864",
                            "--pin", pin], check=True, capture_output=True)
            subprocess.run(["softhsm2-util", "--import", key, "--token", label, "--label",
                            "institution" if label == "Clinic" else "practitioner", "--id", "01", "--pin", pin],
                           check=True, capture_output=True)
            with open(os.open(os.path.join(folder, f"{label.lower()}-pin"), os.O_WRONLY | os.O_CREAT, 0o600), "w") as out:
                out.write(pin + "\n")
        with open(os.open(os.path.join(folder, "doctor-wrong-pin"), os.O_WRONLY | os.O_CREAT, 0o600), "w") as out:
            out.write("000000\n")

    def login_card(self, pin_file="doctor-pin"):
        """`vhc login --pkcs11`: the practitioner's key on their card, the PIN from a 0600 file."""
        practitioners = os.path.join("sandbox", "practitioners", self.practitioner)
        return subprocess.run([os.path.join(self.bin, "vhc"), "login", "--socket", "api.sock", "--pkcs11",
                               "pkcs11:token=Doctor;object=practitioner", "--pin-file", pin_file, "--certificate",
                               os.path.join(practitioners, "cert.pem")], cwd=self.folder, capture_output=True, text=True)

    def run(self, tool, *arguments):
        result = subprocess.run([os.path.join(self.bin, tool), *arguments], cwd=self.folder, capture_output=True,
                                text=True)
        if result.returncode != 0:
            raise SystemExit(f"{tool} {' '.join(arguments)} failed ({result.returncode}): {result.stderr}")
        return result.stdout

    def start(self, name, arguments):
        log = open(os.path.join(self.folder, f"{name}.log"), "a")
        self.processes[name] = subprocess.Popen([os.path.join(self.bin, arguments[0]), *arguments[1:]],
                                                cwd=self.folder, stdout=log, stderr=log, env=self.environment)

    def start_cloud(self):
        self.start("cloud", ["vhc-cloud", "serve", "--dir", "sandbox", "--listen", f"127.0.0.1:{self.cloud_port}",
                             "--consent-window", str(CONSENT_WINDOW)])
        wait_for(lambda: port_open(self.cloud_port), 20, "the sandbox cloud to listen")

    def stop(self, name):
        process = self.processes.pop(name, None)
        if process:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()

    def start_station(self):
        self.start("station", ["vhc-stationd", "--config", "station.yaml"])
        wait_for(lambda: self.status_or_none() is not None, 30, "the station daemon to answer")
        wait_for(lambda: (self.status_or_none() or {}).get("trustList") is not None, 30, "the cloud's trust list")

    def restart_station(self, **config):
        """The daemon stopped and started again (with a new configuration), the practitioner logged in."""
        self.clear_scene()
        time.sleep(0.3)  # the camera's last frame must not be read again (a replay) by the new daemon
        self.stop("station")
        if config:
            self.write_config(**config)
        self.start_station()
        self.login()

    def status_or_none(self):
        try:
            return json.loads(self.run("vhc", "status", "--socket", "api.sock", "--json"))
        except SystemExit:
            return None

    def login(self):
        practitioners = os.path.join("sandbox", "practitioners", self.practitioner)
        self.run("vhc", "login", "--socket", "api.sock", "--certificate", os.path.join(practitioners, "cert.pem"),
                 "--key", os.path.join(practitioners, "key.pem"))

    def login_refused(self):
        """`vhc login` of a practitioner of no institution of this station's: the cloud refuses them."""
        practitioners = os.path.join("sandbox", "practitioners", self.stranger)
        return subprocess.run([os.path.join(self.bin, "vhc"), "login", "--socket", "api.sock", "--certificate",
                               os.path.join(practitioners, "cert.pem"), "--key", os.path.join(practitioners, "key.pem")],
                              cwd=self.folder, capture_output=True, text=True)

    def link(self):
        return self.run("vhc", "web", "--socket", "api.sock", "--no-open").strip()

    def token(self, patient, *extra, name=None):
        return self.run("vhc", "issue", "--key", "sandbox/issuer/token-key.pem", "--issuer", self.sandbox["issuer"],
                        "--id", patient["id"], "--name", name or patient["name"], "--birth", patient["birthDate"],
                        *extra).strip()

    def show(self, patient, *extra, name=None):
        """A fresh token of `patient` on a phone held up to the camera; returns when the camera can see it."""
        staging = os.path.join(self.folder, "card.png")
        self.token(patient, "--png", staging, *extra, name=name)
        handed = time.time()
        os.replace(staging, os.path.join(self.scene, "frame.png"))
        return handed

    def card_picture(self, patient, path, name=None):
        """A fresh token of `patient` drawn as a QR picture (PNG) at `path`, as a phone shows it."""
        self.token(patient, "--png", path, name=name)
        return path

    def answer_consent(self, patient, approve, wait=10):
        """The patient's phone answers the consent request waiting for them (`vhc app consent`, the cloud's app
        side with their app secret); waits up to `wait` s for one."""
        return subprocess.run([os.path.join(self.bin, "vhc"), "app", "consent", "--cloud",
                               f"https://127.0.0.1:{self.cloud_port}", "--sandbox", "sandbox", "--card", patient["id"],
                               "--approve" if approve else "--refuse", "--wait", str(wait)],
                              cwd=self.folder, capture_output=True, text=True)

    def clear_scene(self):
        staging = os.path.join(self.folder, "blank.png")
        blank_png(staging)
        os.replace(staging, os.path.join(self.scene, "frame.png"))

    def close(self):
        for name in list(self.processes):
            self.stop(name)


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for(condition, seconds, what):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise TimeoutError(f"waited {seconds} s for {what}")


def http(method, url, headers=None, body=None):
    request = urllib.request.Request(url, method=method, headers=headers or {}, data=body)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def browser(log_folder, autoplay=True):
    """Chromium as an unattended front-desk screen runs it: sound may start without a click
    (--autoplay-policy, docs/front-desk-page.md). autoplay=False is a browser's default policy."""
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,1000", "--lang=zh-TW", "--no-first-run", "--disable-extensions",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     # the video call's window, behind the page's, keeps painting (as a call on a second screen)
                     "--disable-backgrounding-occluded-windows", "--disable-renderer-backgrounding",
                     "--disable-background-timer-throttling",
                     # getDisplayMedia picks the tab of this title itself, as the clinician would in the dialog
                     f"--auto-select-tab-capture-source-by-title={CALL_TITLE}"]:
        options.add_argument(argument)
    if autoplay:
        options.add_argument("--autoplay-policy=no-user-gesture-required")
    service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver",
                      log_output=os.path.join(log_folder, "chromedriver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    return driver


def spied(driver):
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PAGE_SPY})
    return driver


def us_key(char):
    """(event.code, keyCode, with Shift) of a token's character on a US keyboard: capitals are shifted."""
    if "A" <= char <= "Z":
        return f"Key{char}", ord(char), True
    if "0" <= char <= "9":
        return f"Digit{char}", ord(char), False
    return US_KEYS[char]


def press(driver, key, code, key_code, shifted=False, text=None):
    """One key as the keyboard sends it (DevTools' Input domain: trusted events, with the physical key):
    Shift held around a shifted one."""
    shift = {"key": "Shift", "code": "ShiftLeft", "windowsVirtualKeyCode": 16}
    if shifted:
        driver.execute_cdp_cmd("Input.dispatchKeyEvent", {"type": "rawKeyDown", "modifiers": 8, **shift})
    for kind, more in (("keyDown", {"text": key if text is None else text}), ("keyUp", {})):
        driver.execute_cdp_cmd("Input.dispatchKeyEvent", {"type": kind, "key": key, "code": code,
                               "windowsVirtualKeyCode": key_code, "modifiers": 8 if shifted else 0, **more})
    if shifted:
        driver.execute_cdp_cmd("Input.dispatchKeyEvent", {"type": "keyUp", "modifiers": 0, **shift})


def scanner_types(driver, text, pause=0.005):
    """A keyboard-mode (HID) handheld scanner typing `text` and Enter into whatever has the focus, a key
    every `pause` seconds. A dialog opened by a key (chromedriver dismisses it) is a failure here."""
    try:
        for char in text:
            press(driver, char, *us_key(char))
            time.sleep(pause)
        press(driver, "Enter", "Enter", 13, text="\r")
    except UnexpectedAlertPresentException:
        raise AssertionError(f"a dialog opened while a scanner typed {text[:12]!r}…: a key pressed the focused button") from None


class Page:
    def __init__(self, driver, out):
        self.driver = driver
        self.out = out

    def js(self, script, *arguments):
        return self.driver.execute_script(script, *arguments)

    def wait(self, condition, seconds=15, what="the page"):
        try:
            return WebDriverWait(self.driver, seconds, poll_frequency=0.02).until(lambda _: condition())
        except TimeoutException:
            raise AssertionError(f"waited {seconds} s for {what}; verdict: {self.verdict()}") from None

    def verdict(self):
        return self.js("""const v = document.getElementById('verdict');
            return v ? {color: v.dataset.color, code: v.dataset.code, event: v.dataset.eventId,
                        at: v.dataset.eventAt, paintedAt: v.dataset.paintedAt, text: v.innerText} : null;""")

    def text(self, element_id):
        return self.driver.find_element(By.ID, element_id).text

    def wait_verdict(self, after_event, what, color=None, seconds=15):
        def changed():
            verdict = self.verdict()
            if not verdict or not verdict["event"] or int(verdict["event"]) <= after_event:
                return None
            if not verdict["paintedAt"]:
                return None
            return verdict if color is None or verdict["color"] == color else None
        return self.wait(changed, seconds, what)

    def last_event(self):
        return int(self.verdict()["event"] or 0)

    ROW = "return [...document.querySelectorAll('#visits-body tr')].find((r) => r.innerText.includes(arguments[0])) || null"

    def row(self, holder_fragment):
        return self.js(self.ROW, holder_fragment)

    def row_state(self, holder_fragment):
        return self.js("const row = (() => { " + self.ROW + " })(); "
                       "return row ? row.querySelector('.state').dataset.state : null", holder_fragment)

    def click_in_row(self, holder_fragment, action):
        """Clicks a visit's button as a person would; the list repaints on events, so a row found a moment
        ago may be gone: find it again."""
        for _ in range(20):
            try:
                row = self.row(holder_fragment)
                if row is not None:
                    row.find_element(By.CSS_SELECTOR, f"[data-action='{action}']").click()
                    return
            except (StaleElementReferenceException, NoSuchElementException):
                pass
            time.sleep(0.1)
        raise AssertionError(f"no '{action}' button for {holder_fragment}")

    def focus_in_row(self, holder_fragment, action):
        """Puts the keyboard's focus on a visit's button; True when it is there."""
        return self.js("const row = (() => { " + self.ROW + " })(); row?.querySelector(`[data-action='${arguments[1]}']`)"
                       "?.focus(); return document.activeElement?.dataset?.action === arguments[1] "
                       "&& document.activeElement.closest('tr') === row", holder_fragment, action)

    def wait_stream(self, what, seconds=10):
        """Until the page's event stream is open."""
        self.wait(lambda: self.js("return document.getElementById('stream').dataset.state") == "open", seconds, what)

    def ready(self, what="the page"):
        self.wait(lambda: self.js("return document.body.dataset.ready === 'true'"), 20, what)

    # What PAGE_SPY saw: the oscillators started (frequency, start time in the audio clock) and the scans
    # posted, since the page loaded or since forget_spied().
    def tones(self):
        return self.js("return window.__audioCalls")

    def posted_scans(self):
        return self.js("return window.__scanPosts")

    def forget_spied(self):
        self.js("window.__audioCalls.length = 0; window.__scanPosts.length = 0; window.__posts.length = 0")

    def posts(self, fragment=""):
        """The POSTs PAGE_SPY saw (but handheld scans) whose URL holds `fragment`."""
        return [post for post in self.js("return window.__posts") if fragment in post["url"]]

    # The telemedicine panel: the answer on screen (a picture's or the video call's), as the page shows it.
    def picture(self):
        return self.js("""const result = document.getElementById('picture-result');
            const canvas = document.querySelector('#picture-preview canvas');
            return {answers: Number(result.dataset.answers || 0), hidden: result.hidden, state: result.dataset.state,
                    code: result.dataset.code || null, size: result.dataset.size || null, kind: result.dataset.kind,
                    summary: document.getElementById('picture-summary').textContent,
                    canvas: canvas ? [canvas.width, canvas.height] : null, label: canvas?.getAttribute('aria-label'),
                    preview: document.getElementById('picture-preview').textContent,
                    codes: [...document.querySelectorAll('#picture-codes li')].map((li) => ({verdict: li.dataset.verdict,
                      code: li.dataset.code, repeat: li.dataset.repeat === 'true', corners: JSON.parse(li.dataset.corners),
                      text: li.textContent, tags: [...li.querySelectorAll('*')].map((node) => node.tagName)}))};""")

    def answers(self):
        return self.picture()["answers"]

    def wait_picture(self, before, what, seconds=20):
        def answered():
            shown = self.picture()
            return shown if shown["answers"] > before else None
        return self.wait(answered, seconds, what)

    def give_picture(self, path, name, media_type, how, target=None):
        """Pastes or drops the file at `path` on the page; for a drop, whether the page showed where it goes."""
        with open(path, "rb") as picture:
            data = base64.b64encode(picture.read()).decode()
        return self.js(GIVE_PICTURE, data, name, media_type, how, target)

    def outline_color(self, index=0):
        """The thumbnail's pixel in the middle of code `index`'s first edge: its outline, drawn from its corners."""
        return self.js("""const canvas = document.querySelector('#picture-preview canvas');
            const li = document.querySelectorAll('#picture-codes li')[arguments[0]];
            const [width, height] = document.getElementById('picture-result').dataset.size.split('x').map(Number);
            const [[x0, y0], [x1, y1]] = JSON.parse(li.dataset.corners);
            const x = Math.min(canvas.width - 1, Math.round((x0 + x1) / 2 * canvas.width / width));
            const y = Math.min(canvas.height - 1, Math.round((y0 + y1) / 2 * canvas.height / height));
            return Array.from(canvas.getContext('2d').getImageData(x, y, 1, 1).data);""", index)

    def capture_bar(self):
        return self.js("""const bar = document.getElementById('capture-bar');
            return {shown: !bar.hidden, sent: Number(bar.dataset.sent || 0), text: bar.innerText,
                    message: document.getElementById('capture-message').textContent,
                    tracksLive: window.__displayStreams.flatMap((s) => s.getTracks()).filter((t) => t.readyState !== 'ended').length,
                    streams: window.__displayStreams.length,
                    preview: document.getElementById('capture-preview').readyState};""")

    def wait_frames(self, what, seconds=20):
        """The reading started and at least one still of the shared window was answered; when not, what the bar
        and the preview showed (HAVE_NOTHING … HAVE_ENOUGH_DATA, 0-4) is in the failure."""
        try:
            return self.wait(lambda: (lambda bar: bar if bar["shown"] and bar["sent"] >= 1 else None)(self.capture_bar()),
                             seconds, what)
        except AssertionError as failure:
            raise AssertionError(f"{failure}; capture bar: {self.capture_bar()}") from None

    def consents(self):
        return self.js("""return [...document.querySelectorAll('#consent-list li')].map((li) => ({id: li.dataset.consent,
            state: li.dataset.state, text: li.textContent, tags: [...li.querySelectorAll('*')].map((node) => node.tagName)}))""")

    def consent(self, patient):
        """The newest request for `patient` on the page (the list is newest first), or None."""
        return next((item for item in self.consents() if item["text"].startswith(masked(patient))), None)

    def wait_consent(self, patient, state, seconds=20):
        return self.wait(lambda: (lambda item: item if item and item["state"] == state else None)(self.consent(patient)),
                         seconds, f"{masked(patient)}'s consent to be {state}")

    def setting_cell(self, patient):
        return self.js("const row = (() => { " + self.ROW + " })(); return row?.querySelector('td.setting')?.textContent ?? null",
                       masked(patient))

    def sounds(self):
        """The verdict sounds the page says it scheduled."""
        return int(self.js("return document.body.dataset.soundCount || '0'"))

    def wait_sounds(self, count, what):
        self.wait(lambda: self.sounds() >= count, 5, what)
        time.sleep(0.1)  # a sound more than expected would show by now
        return self.tones()

    def shot(self, name):
        path = os.path.join(self.out, "screenshots", f"{name}.png")
        self.driver.save_screenshot(path)
        return path

    def verdict_contrast(self):
        """WCAG's contrast ratio of the verdict's title against its box, from the computed colours."""
        return self.js("""
            const rgb = (text) => text.match(/[\\d.]+/g).slice(0, 3).map(Number);
            const luminance = ([r, g, b]) => [r, g, b].map((c) => { c /= 255;
                return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; })
              .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
            const fore = luminance(rgb(getComputedStyle(document.getElementById('verdict-reason')).color));
            const back = luminance(rgb(getComputedStyle(document.getElementById('verdict')).backgroundColor));
            return (Math.max(fore, back) + 0.05) / (Math.min(fore, back) + 0.05);""")

    def no_alert(self):
        try:
            self.driver.switch_to.alert
            return False
        except NoAlertPresentException:
            return True


class EventClock:
    """A plain SSE client (the HIS's way, with the bearer token): when each event reached the wire."""

    def __init__(self, port):
        self.arrivals = {}
        self.connection = httpclient.HTTPConnection("127.0.0.1", port, timeout=60)
        self.connection.request("GET", "/v1/events", headers={"Authorization": f"Bearer {BEARER}"})
        self.response = self.connection.getresponse()
        self.thread = threading.Thread(target=self.read, daemon=True)
        self.thread.start()

    def read(self):
        try:
            for line in self.response:
                if line.startswith(b"id: "):
                    self.arrivals.setdefault(int(line[4:]), time.time())
        except Exception:  # closed under it: the run is over
            pass

    def arrival(self, event_id, seconds):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if event_id in self.arrivals:
                return self.arrivals[event_id]
            time.sleep(0.01)
        return None

    def close(self):
        self.connection.close()


def summary(values):
    ordered = sorted(values)
    if not ordered:
        return {}
    return {"count": len(ordered), "median": round(statistics.median(ordered), 1),
            "p95": round(ordered[max(0, int(len(ordered) * 0.95 + 0.5) - 1)], 1), "max": round(ordered[-1], 1)}


def masked(patient):
    number = patient["id"]
    return number[:3] + "*" * (len(number) - 6) + number[-3:]


def with_check_digit(first_nine):
    """A Taiwan ID number: a letter, its second character (1, 2, 8, 9 or A-D) and 7 digits, then the check digit
    that makes the weighted sum a multiple of 10 (the rule of VirtualCard/TaiwanID.swift and taiwan-id.js, written
    again here)."""
    values = dict(zip("ABCDEFGHJKLMNPQRSTUVXYWZIO", range(10, 36)))
    first = values[first_nine[0]]
    second = first_nine[1]
    digits = [first // 10, first % 10, int(second) if second.isdigit() else values[second] % 10]
    digits += [int(c) for c in first_nine[2:]]
    total = sum(d * w for d, w in zip(digits, [1, 9, 8, 7, 6, 5, 4, 3, 2, 1]))
    return first_nine + str((10 - total % 10) % 10)


def spacing(tones):
    """Milliseconds from each tone's start to the next one's."""
    return [round((later["when"] - earlier["when"]) * 1000) for earlier, later in zip(tones, tones[1:])]


def lasting(tones):
    """Milliseconds from a sound's first start to its last stop; None when a tone was never stopped (it would
    sound on)."""
    if not tones or any(tone["stop"] is None for tone in tones):
        return None
    return round((max(tone["stop"] for tone in tones) - min(tone["when"] for tone in tones)) * 1000)


def brief(tones):
    """The issue's rule for every verdict sound: each under 1 s, every tone stopped."""
    duration = lasting(tones)
    return duration is not None and 0 < duration < 1000


def his_registration(desk, page, check):
    """examples/his-client.py registers a patient as HIS code talks to the card control software (HTTPS, the
    station's certificate not verified), then cancels the registration: the visit opens at the cloud with its
    sequence number, and closes again, on the page too."""
    patient = desk.without_photo[5]
    client = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "his-client.py")
    run = subprocess.run([sys.executable, client, "register", "--url", f"https://127.0.0.1:{desk.his_port}",
                          "--token", desk.token(patient), "--rollback"], capture_output=True, text=True, timeout=60)
    check.that(run.returncode == 0 and "registered: sequence" in run.stdout and "statusCode 0" in run.stdout,
               f"the example HIS client registers a patient: Verification, Signature/Hc, SequelNumber/Next "
               f"({next((line.strip() for line in run.stdout.splitlines() if 'registered:' in line), run.stdout + run.stderr)})")
    listed = json.loads(desk.run("vhc", "sessions", "list", "--socket", "api.sock", "--holder", patient["id"], "--json"))
    visit = listed["sessions"][0] if listed["sessions"] else {}
    check.that(visit.get("source") == "his" and visit.get("state") == "closed"
               and visit.get("closeReason") == "registration_cancelled" and visit.get("cloud", {}).get("visitSequence"),
               "its Rollback closed the visit it opened at the cloud (registration_cancelled)")
    page.wait(lambda: page.row(masked(patient)) is None, 10, "the cancelled visit to leave the page")

    # Telemedicine: the HIS asks for the patient's consent; the patient approves in the app; the token the HIS
    # polls for registers the visit as a scanned code does.
    remote = desk.without_photo[3]
    client_run = subprocess.Popen([sys.executable, client, "telemedicine", "--url", f"https://127.0.0.1:{desk.his_port}",
                                   "--patient", remote["id"], "--wait", "40", "--rollback"],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        answered = desk.answer_consent(remote, approve=True, wait=20)
        output, _ = client_run.communicate(timeout=60)
    finally:
        if client_run.poll() is None:
            client_run.kill()
    check.that(answered.returncode == 0 and client_run.returncode == 0 and "RequestToken" in output
               and "ResponseToken" in output and "registered: sequence" in output,
               "the example HIS client's telemedicine registration: RequestToken, the patient approves, ResponseToken's "
               f"token through Verification to a sequence number ({next((line.strip() for line in output.splitlines() if 'registered:' in line), output)})")
    listed = json.loads(desk.run("vhc", "sessions", "list", "--socket", "api.sock", "--holder", remote["id"], "--json"))
    visit = listed["sessions"][0] if listed["sessions"] else {}
    check.that(visit.get("source") == "consent" and visit.get("setting") == "telemedicine"
               and visit.get("closeReason") == "registration_cancelled" and visit.get("cloud", {}).get("visitSequence"),
               f"the approved consent's visit, in telemedicine, was the one registered and then cancelled ({visit.get('source')}, "
               f"{visit.get('setting')}, {visit.get('closeReason')})")


def session_active(desk, patient):
    """The daemon's word (not the page's) that the patient's visit is open."""
    listed = json.loads(desk.run("vhc", "sessions", "list", "--socket", "api.sock", "--state", "active", "--json"))
    return any(s["holderID"] == patient["id"] for s in listed["sessions"])


class VideoCall:
    """The patient's end of a video call in a window of the test's browser, served from a thread on a port of
    its own; the page shares it (the tab of this title) and reads the code shown in it."""

    def __init__(self, driver):
        page = CALL_PAGE.encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                found = self.path == "/"
                body = page if found else b"not found"
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8" if found else "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *arguments):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.driver = driver
        self.desk = driver.current_window_handle
        driver.switch_to.new_window("window")
        driver.set_window_size(1280, 900)
        driver.get(f"http://127.0.0.1:{self.server.server_port}/")
        self.window = driver.current_window_handle
        driver.switch_to.window(self.desk)

    def show(self, png_path):
        """The patient holds their code up: returns when the call's window painted it (ms, the browser's clock)."""
        with open(png_path, "rb") as picture:
            data = base64.b64encode(picture.read()).decode()
        self.driver.switch_to.window(self.window)
        try:
            return self.driver.execute_async_script("""const done = arguments[arguments.length - 1];
                const code = document.getElementById('code');
                code.src = 'data:image/png;base64,' + arguments[0];
                code.decode().then(() => requestAnimationFrame(() => requestAnimationFrame(() => done(Date.now()))));""", data)
        finally:
            self.driver.switch_to.window(self.desk)

    def hide(self):
        self.driver.switch_to.window(self.window)
        try:
            self.driver.execute_script("document.getElementById('code').removeAttribute('src')")
        finally:
            self.driver.switch_to.window(self.desk)

    def hang_up(self):
        """The call's window closes: a sharing of it ends (its track's "ended")."""
        if self.window in self.driver.window_handles:
            self.driver.switch_to.window(self.window)
            self.driver.close()
        self.driver.switch_to.window(self.desk)
        self.server.shutdown()
        self.server.server_close()


def jpeg_on_its_side(page, png_path, out_path):
    """A phone's photo as stored: its pixels on their side and an EXIF Orientation of 6 ("turn 90° clockwise to
    show"), so only the tag makes it upright. Upright it is 600×900, white, with the code 480 px wide at
    (60, 420); stored, 900×600. Chromium draws and encodes the pixels (the standard library has no JPEG writer);
    the tag is added here, an APP1 segment after the JFIF one."""
    with open(png_path, "rb") as picture:
        data = base64.b64encode(picture.read()).decode()
    encoded = page.driver.execute_async_script("""const done = arguments[arguments.length - 1];
        const bytes = Uint8Array.from(atob(arguments[0]), (c) => c.charCodeAt(0));
        createImageBitmap(new Blob([bytes], {type: 'image/png'})).then((code) => {
          const upright = document.createElement('canvas');
          upright.width = 600; upright.height = 900;
          const drawn = upright.getContext('2d');
          drawn.fillStyle = '#fff'; drawn.fillRect(0, 0, 600, 900); drawn.drawImage(code, 60, 420, 480, 480);
          const stored = document.createElement('canvas');
          stored.width = 900; stored.height = 600;
          const turned = stored.getContext('2d');
          turned.translate(0, 600); turned.rotate(-Math.PI / 2); turned.drawImage(upright, 0, 0);
          stored.toBlob((blob) => blob.arrayBuffer().then((buffer) => {
            let text = '';
            for (const byte of new Uint8Array(buffer)) text += String.fromCharCode(byte);
            done(btoa(text));
          }), 'image/jpeg', 0.95);
        });""", data)
    raw = base64.b64decode(encoded)
    tiff = b"MM\x00\x2a" + struct.pack(">IH", 8, 1) + struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0) + struct.pack(">I", 0)
    exif = b"\xff\xe1" + struct.pack(">H", 2 + 6 + len(tiff)) + b"Exif\x00\x00" + tiff
    after = 4 + struct.unpack(">H", raw[4:6])[0] if raw[2:4] == b"\xff\xe0" else 2
    with open(out_path, "wb") as out:
        out.write(raw[:after] + exif + raw[after:])
    return out_path


def green(color):
    """The outline's green (#0b6b2f), give or take the edge's smoothing, and not the picture's black or white."""
    red, green_, blue = color[:3]
    return green_ >= 70 and red <= 70 and blue <= 110 and green_ - red >= 40


def telemedicine_walk(desk, driver, page, check, report, arguments, folder):
    """Issue 23: a telemedicine clinician does it all in the page: pictures, the video call, remote consent. The
    request left to expire is asked first: the cloud's window runs out while the rest is walked."""
    expiring = ask_consent_to_expire(desk, driver, page, check)
    pictures(desk, driver, page, check, folder)
    video_call(desk, driver, page, check, report, arguments, folder)
    remote_consent(desk, driver, page, check, expiring)
    check.that(page.js("return window.__cspViolations") == [],
               "the telemedicine panel runs under the strict CSP as it is: no violation reported")


def pictures(desk, driver, page, check, folder):
    print("telemedicine: a picture pasted, dropped and chosen", flush=True)
    check.that(page.js("return document.getElementById('setting-telemedicine').checked")
               and page.js("return localStorage.getItem('vhc.setting')") in (None, "telemedicine"),
               "the telemedicine panel's setting is telemedicine (遠距醫療) by default")
    page.forget_spied()
    picture = os.path.join(folder, "picture.png")
    given = [("paste", None, desk.with_photo[14]), ("drop", "#drop-zone", desk.with_photo[15]),
             ("drop", "#health-title", desk.with_photo[16])]
    for how, target, patient in given:
        desk.card_picture(patient, picture)
        before, answers = page.last_event(), page.answers()
        dropped = page.give_picture(picture, "screenshot.png", "image/png", how, target)
        what = "pasted (Ctrl+V)" if how == "paste" else f"dropped on {target}"
        shown = page.wait_picture(answers, f"the answer to a picture {what}")
        verdict = page.wait_verdict(before, f"the verdict of a picture {what}", color="green")
        codes = shown["codes"]
        check.that(shown["state"] == "codes" and len(codes) == 1 and codes[0]["verdict"] == "valid"
                   and masked(patient) in codes[0]["text"] and "有效" in codes[0]["text"],
                   f"a picture {what} is read: its one code listed as valid, the holder masked")
        meta = page.text("verdict-meta")
        check.that(masked(patient) in verdict["text"] and "遠距醫療" in meta and "來源: 圖片 (image)" in meta,
                   f"... the verdict turns green, in the setting telemedicine, from the source image ({meta})")
        color = page.outline_color()
        check.that(shown["canvas"] == [320, 320] and green(color) and "1 個有效" in (shown["label"] or ""),
                   f"... a 320 px thumbnail shows the code outlined in green from its corners ({color}), labelled")
        if dropped is not None:
            check.that(dropped["highlighted"] and not dropped["after"],
                       f"a file dragged over the page ({target}) shows where it goes, and the highlight goes on the drop")
    posts = page.posts("/v1/scans/image")
    check.that(len(posts) == 3 and all(post["type"] == "image/png" and "source=image" in post["url"]
                                       and "setting=telemedicine" in post["url"] and post["status"] == 200 for post in posts),
               "each picture went once, as image/png, to /v1/scans/image?source=image&setting=telemedicine")
    page.wait(lambda: page.setting_cell(given[0][2]) == "遠距醫療", 10, "the setting in the visits table")
    check.that(page.setting_cell(given[0][2]) == "遠距醫療", "the visits table shows the visit's setting: 遠距醫療")
    page.shot("09e-picture-pasted")

    # A paste into a text field that carries text is the field's.
    answers = page.answers()
    page.forget_spied()
    page.js("""const data = new DataTransfer();
        data.items.add(new File([new Uint8Array([137, 80, 78, 71])], 'x.png', {type: 'image/png'}));
        data.setData('text/plain', 'A123');
        const field = document.getElementById('consent-patient');
        field.focus();
        field.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));
        field.blur();""")
    time.sleep(0.5)
    check.that(page.answers() == answers and page.posts("/v1/scans/image") == [],
               "text pasted into a text field stays the field's: no picture is sent")

    chooser = driver.find_element(By.ID, "picture-file")
    desk.card_picture(desk.with_photo[13], picture)
    before, answers = page.last_event(), page.answers()
    chooser.send_keys(picture)
    shown = page.wait_picture(answers, "the chosen file's answer")
    page.wait_verdict(before, "the chosen file's verdict", color="green")
    check.that(shown["codes"][0]["verdict"] == "valid" and chooser.get_attribute("accept")
               == "image/png,image/jpeg,image/heic,image/heif,.heic,.heif" and driver.find_element(By.ID, "picture-choose").text == "選擇圖片檔…",
               "a file chosen with the picker (its button 選擇圖片檔…, PNG, JPEG and HEIC accepted) is read and turns the verdict green")

    print("telemedicine: a photo on its side, a HEIC photo", flush=True)
    desk.card_picture(desk.with_photo[2], picture)
    photo = jpeg_on_its_side(page, picture, os.path.join(folder, "photo.jpg"))
    before, answers = page.last_event(), page.answers()
    chooser.send_keys(photo)
    shown = page.wait_picture(answers, "the JPEG's answer")
    page.wait_verdict(before, "the JPEG's verdict", color="green")
    corners = shown["codes"][0]["corners"] if shown["codes"] else []
    check.that(shown["size"] == "600x900" and shown["codes"][0]["verdict"] == "valid",
               f"a JPEG stored 900×600 with EXIF orientation 6 reads valid, its size as displayed: 600×900 ({shown['size']})")
    check.that(len(corners) == 4 and all(60 <= x <= 540 and 420 <= y <= 900 for x, y in corners),
               f"... its corners lie on the code where it shows upright (x 60–540, y 420–900): {corners}")
    check.that(shown["canvas"] == [213, 320] and green(page.outline_color()),
               "... the thumbnail stands upright (213×320) with the outline on the code")
    page.shot("09e-picture-exif")

    heif_enc = shutil.which("heif-enc")
    check.that(heif_enc is not None, "heif-enc (Debian's libheif-examples) is there to make a HEIC photo")
    desk.card_picture(desk.with_photo[3], picture)
    heic = os.path.join(folder, "photo.heic")
    subprocess.run([heif_enc, "-q", "90", picture, "-o", heic], check=True, capture_output=True)
    before, answers = page.last_event(), page.answers()
    page.forget_spied()
    chooser.send_keys(heic)
    shown = page.wait_picture(answers, "the HEIC photo's answer")
    page.wait_verdict(before, "the HEIC photo's verdict", color="green")
    sent = page.posts("/v1/scans/image")
    # Chromium calls a .heic file image/heif (the page sends the browser's type; image/heic where it gives none).
    check.that(shown["codes"] and shown["codes"][0]["verdict"] == "valid" and sent
               and sent[-1]["type"] in ("image/heic", "image/heif"),
               f"a HEIC photo is sent as the browser names it ({sent[-1]['type'] if sent else None}) and reads valid")
    check.that(shown["canvas"] is not None or "瀏覽器無法顯示" in shown["preview"],
               "... with its thumbnail, or where chromium cannot draw HEIC, a word that there is none and the list")

    print("telemedicine: no code, too large, a hostile name", flush=True)
    blank = os.path.join(folder, "no-code.png")
    blank_png(blank)
    before, answers = page.last_event(), page.answers()
    chooser.send_keys(blank)
    shown = page.wait_picture(answers, "the answer to a picture with no code")
    check.that(shown["state"] == "none" and all(words in shown["summary"] for words in ("沒有找到條碼", "拿近", "反光", "整個條碼"))
               and page.last_event() == before,
               "a picture with no code says so, with what to do: closer, no glare, the whole code in view")
    large = os.path.join(folder, "large.png")
    with open(large, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n" + bytes(30 * 1024 * 1024))
    answers = page.answers()
    page.forget_spied()
    chooser.send_keys(large)
    shown = page.wait_picture(answers, "the answer to a 30 MB picture", seconds=60)
    sent = page.posts("/v1/scans/image")
    check.that(shown["state"] == "error" and shown["code"] == "image_too_large" and "大於 24 MB" in shown["summary"]
               and "(image_too_large)" in shown["summary"],
               f"a 30 MB picture is refused with the station's code, in words: {shown['summary']}")
    print(f"  (the 30 MB upload: {sent[-1].get('status') or sent[-1].get('error')})" if sent else "", flush=True)
    os.remove(large)
    hostile = desk.with_photo[4]
    desk.card_picture(hostile, picture, name=XSS_NAME)
    before, answers = page.last_event(), page.answers()
    page.give_picture(picture, "hostile.png", "image/png", "paste")
    shown = page.wait_picture(answers, "the hostile card's picture")
    # (The cloud then refuses the visit: the name is not the one it knows. The list is what counts here.)
    page.wait_verdict(before, "the hostile card's verdict")
    check.that(shown["codes"] and "<" + "*" * (len(XSS_NAME) - 1) in shown["codes"][0]["text"]
               and set(shown["codes"][0]["tags"]) <= {"SPAN", "STRONG"}
               and not driver.find_elements(By.TAG_NAME, "img") and page.no_alert(),
               "a hostile holder name in a picture's code list stays text (masked), and runs nothing")
    driver.find_element(By.ID, "picture-clear").click()
    check.that(page.picture()["hidden"] and page.picture()["canvas"] is None
               and page.js("return document.activeElement?.id") == "picture-choose"
               and not any("picture" in key or "image" in key for key in page.js("return Object.keys(localStorage)")),
               "Clear takes the picture off the screen (nothing of it was stored); the focus goes to the picker")


def video_call(desk, driver, page, check, report, arguments, folder):
    print("telemedicine: the code read off a video call", flush=True)
    page.js("document.getElementById('setting-telemedicine').focus()")
    ActionChains(driver).send_keys(Keys.ARROW_RIGHT).perform()
    check.that(page.js("return document.getElementById('setting-video_consultation').checked")
               and page.js("return localStorage.getItem('vhc.setting')") == "video_consultation"
               and "視訊診療" in page.js("return document.getElementById('telemed-status').textContent"),
               "an arrow key chooses video consultation (視訊診療), said politely and remembered")
    driver.refresh()
    page.ready("the reloaded page")
    page.wait_stream("the stream", 10)
    check.that(page.js("return document.getElementById('setting-video_consultation').checked"),
               "the setting survives a reload")
    call = VideoCall(driver)
    try:
        page.js("window.__refuseDisplay = true")
        driver.find_element(By.ID, "capture-start").click()
        page.wait(lambda: "沒有分享視窗" in page.capture_bar()["message"], 5, "the refusal in words")
        check.that(not page.capture_bar()["shown"], "a sharing refused (NotAllowedError) is said in words, and nothing is read")
        page.js("window.__refuseDisplay = false")
        page.js("window.__silentDisplay = true")
        driver.find_element(By.ID, "capture-start").click()
        page.wait(lambda: "沒有畫面" in page.capture_bar()["message"], 10, "the silent window said in words")
        bar = page.capture_bar()
        check.that(bar["shown"] and bar["sent"] == 0 and "不要縮到最小" in bar["message"],
                   "a shared window that sends no picture (minimised) is said in words, and the reading goes on")
        driver.find_element(By.ID, "capture-stop").click()
        page.wait(lambda: not page.capture_bar()["shown"], 5, "Stop to stop the silent reading")
        page.js("window.__silentDisplay = false")

        def read_card(patient, shot=None):
            png = desk.card_picture(patient, os.path.join(folder, "call-card.png"))
            before = page.last_event()
            driver.find_element(By.ID, "capture-start").click()
            bar = page.wait_frames("the call's frames to reach the station")
            if shot:
                page.shot(shot)
            shown_at = call.show(png)
            verdict = page.wait_verdict(before, f"the verdict of {masked(patient)}'s code on the call", color="green", seconds=20)
            page.wait(lambda: not page.capture_bar()["shown"], 10, "the reading to stop by itself")
            return verdict, shown_at, bar

        page.forget_spied()
        first = desk.with_photo[1]
        verdict, _, bar = read_card(first, shot="09f-reading-the-call")
        meta = page.text("verdict-meta")
        check.that("正在讀取分享的視窗" in bar["text"] and re.search(r"\b\d:\d\d\b", bar["text"]) and "停止讀取" in bar["text"],
                   "while it reads, a red bar says so, with the time and a Stop button")
        check.that(masked(first) in verdict["text"] and "視訊診療" in meta and "來源: 視訊畫面 (capture)" in meta,
                   f"the code shown in the video call turns the verdict green, in video consultation, source capture ({meta})")
        after = page.capture_bar()
        check.that(after["tracksLive"] == 0 and after["streams"] >= 1 and "讀到有效條碼" in after["message"]
                   and page.js("return document.activeElement?.id") == "capture-start",
                   "at the first valid code the reading stops by itself: the bar goes, every track ends, it says so")
        frames = page.posts("/v1/scans/frame")
        gaps = [later["at"] - earlier["at"] for earlier, later in zip(frames, frames[1:])]
        check.that(frames and all(post["type"] == "image/jpeg" and "source=capture" in post["url"]
                                  and "setting=video_consultation" in post["url"] for post in frames),
                   f"{len(frames)} stills went as image/jpeg to /v1/scans/frame?source=capture&setting=video_consultation")
        check.that(all(later["at"] >= earlier.get("doneAt", float("inf")) for earlier, later in zip(frames, frames[1:]))
                   and all(gap >= 245 for gap in gaps),
                   f"never a still while one is unanswered, and at most 4 a second ({min(gaps, default=0):.0f} ms apart or more)")
        shown = page.picture()
        size = [int(side) for side in (shown["size"] or "0x0").split("x")]
        check.that(shown["kind"] == "capture" and shown["codes"] and shown["codes"][0]["verdict"] == "valid"
                   and 0 < max(size) <= 1280 and green(page.outline_color()),
                   f"the still's code is listed and outlined ({shown['size']}, longer side at most 1280)")
        page.shot("09f-video-call")

        # Read again at once: the station knows the code from a moment ago and does not submit it again.
        before, answers = page.last_event(), page.answers()
        driver.find_element(By.ID, "capture-start").click()
        shown = page.wait_picture(answers, "the repeated code's answer")
        page.wait(lambda: not page.capture_bar()["shown"], 10, "the reading to stop on the repeat")
        time.sleep(0.5)
        check.that(shown["codes"] and shown["codes"][0]["repeat"] and "未重複送出" in shown["codes"][0]["text"]
                   and page.last_event() == before,
                   "the same code read again at once is marked a repeat (not sent again): no new verdict")
        call.hide()

        driver.find_element(By.ID, "capture-start").click()
        page.wait_frames("frames to flow")
        check.that(page.js("return document.activeElement?.id") == "capture-stop",
                   "starting moves the focus to Stop")
        ActionChains(driver).send_keys(Keys.ENTER).perform()
        page.wait(lambda: not page.capture_bar()["shown"], 5, "Stop to stop")
        after = page.capture_bar()
        check.that(after["tracksLive"] == 0 and "已停止讀取分享的視窗" in after["message"]
                   and page.js("return document.activeElement?.id") == "capture-start",
                   "Stop (Enter) ends the reading and every track, and says so")

        print(f"  code shown in the call → verdict painted, {arguments.cards} cards", flush=True)
        shown_ms = []
        for number in range(arguments.cards):
            verdict, shown_at, _ = read_card(desk.with_photo[1 + number % 8])
            shown_ms.append(int(verdict["paintedAt"]) - shown_at)
            call.hide()
        report["callCodeToVerdictMs"] = summary(shown_ms)
        print(f"  code in the call → verdict painted: {report['callCodeToVerdictMs']}", flush=True)
        check.that(len(shown_ms) == arguments.cards, f"{arguments.cards} codes shown in the call each reach the screen")
        if arguments.targets:
            check.that(report["callCodeToVerdictMs"]["median"] <= 1500,
                       "code shown in the video call → verdict painted: median within 1.5 s")

        driver.find_element(By.ID, "capture-start").click()
        page.wait_frames("frames to flow")
        call.hang_up()
        page.wait(lambda: not page.capture_bar()["shown"], 10, "the reading to stop when the call's window closes")
        check.that("分享已結束" in page.capture_bar()["message"] and page.capture_bar()["tracksLive"] == 0,
                   "the shared window closing (sharing ended) stops the reading, and says so")
    finally:
        if call.window in driver.window_handles:
            call.hang_up()


def ask_consent(driver, page, patient, typed=None):
    """The clinician types the patient's ID number and presses Enter; returns the request, pending, on the list."""
    field = driver.find_element(By.ID, "consent-patient")  # found again: the page may have been reloaded
    field.clear()
    field.send_keys(typed or patient["id"], Keys.ENTER)
    return page.wait_consent(patient, "pending", 15)


def ask_consent_to_expire(desk, driver, page, check):
    """The ID rule, a wrong number refused, and a request nobody will answer: (its patient, when it was asked)."""
    print("telemedicine: remote consent asked", flush=True)
    # Every form of the second character, each with its check digit worked out here, independently of the page.
    formed = [with_check_digit(first + second + "4057186") for first, second in
              zip("ZBKWXCIOYD", ["2", "9", "8", "1", "A", "B", "C", "D", "9", "2"])]
    valid = ["A123456789", "A800000014", "TD00251124"] + formed + [patient["id"] for patient in desk.sandbox["patients"]]
    wrong = ["A123456788", "A800000015", "TD00251125", "A323456789", "AE00251124", "a123456789", "A12345678"]
    wrong += [number[:-1] + str((int(number[-1]) + 5) % 10) for number in formed]
    ruled = driver.execute_async_script("""const done = arguments[arguments.length - 1], numbers = arguments[0];
        import('/web/taiwan-id.js').then(({ isTaiwanID }) => done(numbers.map((number) => isTaiwanID(number))));""",
                                        valid + wrong)
    check.that(ruled == [True] * len(valid) + [False] * len(wrong),
               "the page's ID rule: national IDs (1, 2), new (8, 9) and old (A-D) resident certificates, letters "
               "out of order (I, O, W-Z) and every sandbox patient are valid; a changed check digit, a wrong second "
               "character or length is not")
    field = driver.find_element(By.ID, "consent-patient")
    page.forget_spied()
    field.send_keys("A123456788", Keys.ENTER)
    check.that("檢查碼" in page.text("consent-error") and field.get_attribute("aria-invalid") == "true"
               and page.posts("/v1/consents") == [],
               "an ID number whose check digit is wrong is refused in the page, in words, and nothing is sent")
    status, _, _ = http("POST", desk.origin + "/v1/consents", {"Authorization": f"Bearer {BEARER}",
                        "Content-Type": "application/json"}, json.dumps({"patientId": "A123456788"}).encode())
    check.that(status in (400, 422), f"the daemon refuses it too ({status})")
    expiring = desk.with_photo[9]
    pending = ask_consent(driver, page, expiring)
    asked_at = time.time()
    left = re.search(r"剩 (\d+):(\d\d)", pending["text"])
    check.that(left and "遠距醫療" in pending["text"] and driver.find_element(By.ID, "consent-patient").get_attribute("value") == ""
               and "已請" in page.js("return document.getElementById('telemed-status').textContent"),
               f"a consent request shows as pending, in telemedicine, with its time left ({pending['text']})")
    time.sleep(2.1)
    later = re.search(r"剩 (\d+):(\d\d)", page.consent(expiring)["text"])
    check.that(later and int(later[1]) * 60 + int(later[2]) < int(left[1]) * 60 + int(left[2]),
               "... the time left counts down")
    return expiring, asked_at


def remote_consent(desk, driver, page, check, expiring):
    print("telemedicine: remote consent answered, withdrawn, kept", flush=True)
    # Requests made before this walk (the HIS's, through the compatibility listener) are not its own.
    expiring, asked_at = expiring
    earlier = {entry["id"] for entry in page.consents() if entry["id"] != page.consent(expiring)["id"]}
    driver.find_element(By.ID, "setting-telemedicine").click()
    check.that(page.js("return document.getElementById('setting-telemedicine').checked")
               and page.js("return localStorage.getItem('vhc.setting')") in (None, "telemedicine"),
               "a click chooses telemedicine again")
    approving, refusing, cancelling, restarting = desk.with_photo[10:14]
    ask = functools.partial(ask_consent, driver, page)
    ask(approving, typed=approving["id"].lower())
    before = page.last_event()
    answered = desk.answer_consent(approving, approve=True)
    check.that(answered.returncode == 0 and answered.stdout.startswith("approved"),
               f"the patient approves in the app (vhc app consent --approve): {answered.stdout.strip() or answered.stderr.strip()}")
    item = page.wait_consent(approving, "approved")
    verdict = page.wait_verdict(before, "the approval's verdict", color="green")
    meta = page.text("verdict-meta")
    check.that("病人已同意" in item["text"] and masked(approving) in verdict["text"] and "遠距醫療" in meta
               and "來源: 遠端同意 (consent)" in meta,
               f"approved: the list says so and the visit opens, green, in telemedicine, from the source consent ({meta})")
    page.wait(lambda: page.setting_cell(approving) == "遠距醫療", 10, "the consented visit in the visits table")
    check.that("已同意" in page.js("return document.getElementById('telemed-status').textContent"),
               "... the change is said politely")

    ask(refusing)
    answered = desk.answer_consent(refusing, approve=False)
    item = page.wait_consent(refusing, "refused")
    check.that(answered.returncode == 0 and "病人拒絕" in item["text"]
               and "拒絕了" in page.js("return document.getElementById('telemed-status').textContent"),
               "the patient refuses in the app: the list says so, and it is said")

    item = ask(cancelling)
    page.js("document.querySelector(`#consent-list li[data-consent='${arguments[0]}'] button`).focus()", item["id"])
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    item = page.wait_consent(cancelling, "cancelled")
    check.that("已取消" in item["text"] and page.js("return document.activeElement?.id") == "consent-title",
               "Cancel (Enter on the request's button) withdraws it: cancelled, the focus on the list's heading")
    late = desk.answer_consent(cancelling, approve=True, wait=0)
    check.that(late.returncode == 1, "the patient's app no longer finds the withdrawn request")
    status, _, body = http("POST", desk.origin + f"/v1/consents/{item['id']}/cancel", {"Authorization": f"Bearer {BEARER}",
                           "Content-Type": "application/json"}, b"{}")
    check.that(status == 409 and json.loads(body).get("code") in ("consent_ended", "consent_answered"),
               f"withdrawing it again is 409 ({json.loads(body).get('code')})")
    check.that(all(set(entry["tags"]) <= {"SPAN", "BUTTON"} for entry in page.consents()),
               "the consent list is text and buttons only")
    page.shot("09g-consents")

    # The first request may have expired already on a slow run (its window is 45 s): only the three answered here.
    first = page.consent(expiring)["id"]
    ended = {entry["id"]: entry["state"] for entry in page.consents()
             if entry["state"] != "pending" and entry["id"] != first and entry["id"] not in earlier}
    driver.refresh()
    page.ready("the reloaded page")
    page.wait(lambda: {entry["id"]: entry["state"] for entry in page.consents() if entry["id"] in ended} == ended, 10,
              "the consents after a reload")
    check.that(page.consent(expiring)["state"] in ("pending", "expired") and len(ended) == 3,
               "the list survives a reload (read again from the daemon): approved, refused, cancelled, the first still pending")

    ask(restarting)
    desk.restart_station()
    page.wait_stream("the stream back", 30)
    driver.refresh()
    page.ready("the page reloaded after the restart")
    page.wait_consent(restarting, "pending", 15)
    _, _, body = http("GET", desk.origin + "/v1/consents", {"Authorization": f"Bearer {BEARER}"})
    kept = [entry for entry in json.loads(body)["consents"] if entry["patient"] == masked(restarting)]
    check.that(kept and kept[0]["state"] == "pending", "a request pending across a daemon restart stays pending")
    before = page.last_event()
    answered = desk.answer_consent(restarting, approve=True)
    # Said at once if the patient's app could not answer, before waiting for the page (a failure once
    # waited here 20 s with nothing to say why).
    check.that(answered.returncode == 0,
               f"the patient's app approves after the restart (exit {answered.returncode}: {answered.stderr.strip()[-300:]})")
    # The restarted daemon polls the kept request every 2 s once its cloud link is up; on a loaded machine
    # that start takes a while.
    page.wait_consent(restarting, "approved", 40)
    verdict = page.wait_verdict(before, "the verdict of an approval after the restart", color="green")
    check.that(answered.returncode == 0 and masked(restarting) in verdict["text"]
               and "來源: 遠端同意 (consent)" in page.text("verdict-meta"),
               "approved after the restart, it still opens the visit")

    remaining = CONSENT_WINDOW + 20 - (time.time() - asked_at)
    item = page.wait_consent(expiring, "expired", max(5, remaining))
    check.that("逾時未回覆" in item["text"], f"a request left unanswered expires after the cloud's window ({CONSENT_WINDOW} s)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--out", default=".build/web-test")
    parser.add_argument("--cards", type=int, default=20, help="cards shown for the latency figures")
    parser.add_argument("--targets", action="store_true",
                        help="also hold the figures to their targets (a release build: Benchmarks/web.sh)")
    arguments = parser.parse_args()
    out = os.path.abspath(arguments.out)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(os.path.join(out, "screenshots"))
    check = Check()
    report = {}
    folder = tempfile.mkdtemp(prefix="vhc-frontdesk-")
    desk = Desk(arguments.bin, folder)
    drivers = []
    try:
        desk.start_cloud()
        desk.start_station()
        desk.login()
        driver = spied(browser(out))
        drivers.append(driver)
        page = Page(driver, out)

        print("sign-in", flush=True)
        link = desk.link()
        check.that(link.startswith(desk.origin + "/web/signin?link="), "vhc web prints a link to the station's page")
        driver.get(link)
        page.wait(lambda: page.js("return document.body.dataset.ready === 'true'"), 20, "the page to be ready")
        check.that(driver.current_url == desk.origin + "/", "the link redirects to the page, its secret gone from the address")
        cookies = {cookie["name"]: cookie for cookie in driver.get_cookies()}
        cookie = cookies.get(f"vhc_desk_{desk.station_port}")
        check.that(cookie is not None and cookie["httpOnly"] and cookie.get("sameSite") == "Strict",
                   "the session cookie is HttpOnly and SameSite=Strict")
        check.that(page.js("return document.documentElement.lang") == "zh-Hant", "the page's lang is zh-Hant")
        check.that(page.js("return localStorage.getItem('vhc.pageKey')") and "#" not in driver.current_url,
                   "the page key from the link's fragment is kept in the page's own storage, the fragment gone")
        page.wait(lambda: page.js("return document.getElementById('camera').dataset.camera") == "streaming", 10,
                  "the camera's state")
        check.that(page.js("return document.getElementById('camera').textContent") == "運作中",
                   "the camera shows as streaming")
        zone = page.js("""const m = -new Date().getTimezoneOffset(), a = Math.abs(m);
            return `UTC${m < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;""")
        check.that(re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)? UTC[+-]\d\d:\d\d", page.text("station-clock"))
                   and zone in page.text("station-clock"),
                   f"the station clock names the browser's zone, in which the page's times are ({page.text('station-clock')})")
        page.wait_stream("the event stream", 10)
        # Online, a valid card is green from its first event (amber "offline" first would sound twice).
        page.wait(lambda: page.js("return document.getElementById('cloud').dataset.cloud") == "online", 10,
                  "the cloud online")
        check.that(page.js("return document.getElementById('sound').getAttribute('aria-pressed')") == "true"
                   and page.js("return document.getElementById('volume').value") == "60"
                   and page.js("return document.body.dataset.audio") == "running"
                   and not driver.find_element(By.ID, "sound-blocked").is_displayed(),
                   "sound is on at volume 60 by default, and a kiosk's browser lets it start without a click")
        page.shot("01-signed-in")

        print("a valid card", flush=True)
        patient = desk.with_photo[0]
        desk.show(patient)
        verdict = page.wait_verdict(0, "a verdict for a valid card", color="green")
        check.that(masked(patient) in verdict["text"] and patient["id"] not in verdict["text"],
                   "a valid card turns the verdict green with the holder masked")
        check.that(patient["name"] not in page.js("return document.body.innerText"),
                   "the holder's full name is nowhere on the main screen")
        contrasts = {"green": page.verdict_contrast()}
        page.wait(lambda: page.row(masked(patient)) is not None, 10, "the visit in the list")
        page.wait(lambda: (page.verdict()["text"] or "").find("就醫序號") >= 0, 15, "the cloud's visit number")
        page.wait(lambda: page.js("return document.querySelectorAll('#day-chart rect.accepted').length") == 1, 10,
                  "the day's chart to count the scan")
        check.that("今日掃描 1 次" in page.text("day-summary"), "the day at a glance counts the scan, in its hour's bar")
        tones = page.wait_sounds(1, "the valid verdict's sound")
        check.that([tone["frequency"] for tone in tones] == [880] and page.sounds() == 1 and brief(tones)
                   and page.js("return document.body.dataset.lastSound") == "valid",
                   f"a valid verdict is heard as one short high tone (one oscillator, 880 Hz), once, for {lasting(tones)} ms")
        page.shot("02-valid-green")

        print("a replay", flush=True)
        replayed = desk.token(desk.with_photo[1])
        before = page.last_event()
        status, _, _ = http("POST", desk.origin + "/v1/scans", {"Authorization": f"Bearer {BEARER}",
                            "Content-Type": "application/json"}, json.dumps({"token": replayed, "source": "handheld"}).encode())
        check.that(status == 200, "the HIS's bearer token still works on the TCP listener")
        page.wait_verdict(before, "the first use's verdict")
        before, heard = page.last_event(), page.sounds()
        page.forget_spied()
        http("POST", desk.origin + "/v1/scans", {"Authorization": f"Bearer {BEARER}", "Content-Type": "application/json"},
             json.dumps({"token": replayed, "source": "handheld"}).encode())
        verdict = page.wait_verdict(before, "the replay's verdict", color="red")
        check.that(verdict["code"] == "replayed" and "重新產生條碼" in verdict["text"],
                   "a replay turns the verdict red with its reason and what to do next")
        contrasts["red"] = page.verdict_contrast()
        tones = page.wait_sounds(heard + 1, "the refusal's sound")
        check.that([tone["frequency"] for tone in tones] == [330] * 3 and spacing(tones) == [160, 160] and brief(tones),
                   f"a refused verdict is heard as three low pulses (330 Hz), 160 ms apart, {lasting(tones)} ms in all")
        page.shot("03-replay-red")

        print("a photo-less card and its ID check", flush=True)
        photoless = desk.without_photo[0]
        before, heard = page.last_event(), page.sounds()
        page.forget_spied()
        desk.show(photoless, "--no-photo")
        verdict = page.wait_verdict(before, "the photo-less card's verdict", color="amber")
        check.that("證件" in verdict["text"], "a photo-less card goes amber: check an ID document")
        tones = page.wait_sounds(heard + 1, "the amber verdict's sound")
        check.that([tone["frequency"] for tone in tones] == [660] * 2 and spacing(tones) == [250] and brief(tones),
                   f"an amber verdict is heard as two equal notes (660 Hz), 250 ms apart, {lasting(tones)} ms in all")
        contrasts["amber"] = page.verdict_contrast()
        check.that(all(ratio >= 4.5 for ratio in contrasts.values()),
                   f"each verdict colour meets WCAG AA contrast (4.5:1) for its text: {contrasts}")
        page.shot("04-photoless-amber")
        page.wait(lambda: page.row(masked(photoless)) is not None, 10, "the photo-less visit in the list")
        page.click_in_row(masked(photoless), "id-check")
        Select(driver.find_element(By.ID, "idcheck-document")).select_by_value("national_id_card")
        driver.find_element(By.ID, "idcheck-last-four").send_keys(photoless["id"][-4:])
        driver.find_element(By.ID, "idcheck-operator").send_keys("林護理師")
        page.shot("05-id-check-form")
        heard = page.sounds()
        page.forget_spied()
        driver.find_element(By.ID, "idcheck-submit").click()
        page.wait(lambda: page.row_state(masked(photoless)) == "active", 10, "the visit to turn active")
        check.that(page.row_state(masked(photoless)) == "active" and driver.find_element(By.ID, "idcheck").get_attribute("hidden"),
                   "the ID check typed and clicked turns the visit active, and the form closes")
        page.wait(lambda: page.verdict()["color"] == "green", 10, "the verdict to follow the check")
        check.that(page.verdict()["color"] == "green", "the verdict follows the visit: green once checked")
        tones = page.wait_sounds(heard + 1, "the checked verdict's sound")
        check.that([tone["frequency"] for tone in tones] == [880],
                   "the verdict's colour changing (amber to green) is heard once, as its new colour")

        print("records", flush=True)
        # The sandbox's records are random: the first patient with a medication still in supply is the one
        # whose records are read, so the alert check below always has something to find.
        reader, current = patient, current_medications(desk, patient)
        for candidate in desk.with_photo[6:14]:
            if current:
                break
            before = page.last_event()
            desk.show(candidate)
            page.wait_verdict(before, "another card's verdict", color="green")
            page.wait(lambda: "就醫序號" in page.verdict()["text"], 15, "its visit number")
            reader, current = candidate, current_medications(desk, candidate)
        check.that(bool(current), "a patient with a medication in supply (for the alert check)")
        page.click_in_row(masked(reader), "records")
        page.wait(lambda: driver.find_elements(By.CSS_SELECTOR, "#records-list ul[data-category='medications'] li"),
                  15, "the medications")
        medications = driver.find_elements(By.CSS_SELECTOR, "#records-list li")
        check.that(len(medications) > 0 and "剩餘天數" in medications[0].text,
                   "an open visit's medications show, with days remaining")
        driver.find_element(By.CSS_SELECTOR, "[data-category='allergies']").click()
        page.wait(lambda: "allergies" in (page.js("return document.querySelector('#records-list ul')?.dataset.category") or "")
                  or "沒有資料" in page.text("records-list"), 15, "another category's tab")
        check.that(page.js("return document.querySelector('[data-category=allergies]').getAttribute('aria-selected')") == "true",
                   "the record tabs switch category")
        driver.find_element(By.ID, "alerts-atc").send_keys(current[0]["atcCode"])
        driver.find_element(By.ID, "alerts-submit").click()
        page.wait(lambda: page.text("alerts") != "", 15, "the alerts")
        check.that(len(driver.find_elements(By.CSS_SELECTOR, "#alerts .alert[role='alert']")) > 0,
                   "a proposed drug still in supply shows a marked alert")
        page.shot("06-records-alerts")
        driver.find_element(By.ID, "records-close").click()

        print("the clinic's HIS through the compatibility listener", flush=True)
        his_registration(desk, page, check)

        print("frame → verdict painted", flush=True)
        # The same events read by a plain SSE client in the same run: the station's own share of the time.
        wire = EventClock(desk.station_port)
        page_ms, wire_ms, share_ms = [], [], []
        for number in range(arguments.cards):
            before = page.last_event()
            handed = desk.show(desk.with_photo[2 + number % (len(desk.with_photo) - 2)])
            verdict = page.wait_verdict(before, f"card {number}'s verdict")
            page_ms.append(int(verdict["paintedAt"]) - handed * 1000)
            arrived = wire.arrival(int(verdict["event"]), 5)
            if arrived is not None:
                wire_ms.append((arrived - handed) * 1000)
                share_ms.append(int(verdict["paintedAt"]) - arrived * 1000)
        wire.close()
        report["frameToVerdictMs"] = summary(page_ms)
        report["frameToEventOnTheWireMs"] = summary(wire_ms)
        report["pageShareMs"] = summary(share_ms)
        print(f"  frame → verdict painted: {report['frameToVerdictMs']}", flush=True)
        print(f"  frame → event read by a plain SSE client: {report['frameToEventOnTheWireMs']}", flush=True)
        print(f"  the page's own share (painted − on the wire): {report['pageShareMs']}", flush=True)
        check.that(len(page_ms) == arguments.cards, f"{arguments.cards} cards in a row each reach the screen")
        _, _, body = http("GET", desk.origin + "/v1/stats/day", {"Authorization": f"Bearer {BEARER}"})
        day = json.loads(body)
        page.wait(lambda: f"今日掃描 {day['accepted'] + day['refused']} 次" in page.text("day-summary"), 10,
                  "the day's summary to catch up")
        check.that(page.js("return document.querySelector('#day-refusals li[data-code=replayed]')?.textContent.startsWith('1 ×')")
                   and day["refused"] == 1,
                   f"the day at a glance matches the daemon: {day['accepted']} valid, the replay among the refusals")
        if arguments.targets:
            check.that(report["frameToVerdictMs"]["median"] <= 100, "frame → verdict painted: median within 100 ms")

        print("the cloud cut and back", flush=True)
        heard = page.sounds()
        page.forget_spied()
        desk.stop("cloud")
        offline_cards = [desk.with_photo[3], desk.with_photo[4]]
        for offline in offline_cards:
            before = page.last_event()
            desk.show(offline)
            page.wait_verdict(before, "an offline card's verdict")
        page.wait(lambda: page.js("return document.getElementById('cloud').dataset.cloud") == "offline", 20,
                  "the page to show the cloud offline")
        page.wait(lambda: page.verdict()["color"] == "amber" and "待上傳" in page.verdict()["text"], 10,
                  "the verdict to say pending")
        check.that(page.js("return document.getElementById('cloud').textContent").startswith("離線")
                   and page.verdict()["color"] == "amber",
                   "the cloud cut shows offline, and the card valid, pending the cloud (amber)")
        tones = page.wait_sounds(heard + 1, "the pending card's sound")
        pending = tones[-2:]
        check.that(page.js("return document.body.dataset.lastSound") == "attention"
                   and [tone["frequency"] for tone in pending] == [660] * 2 and spacing(pending) == [250] and brief(pending),
                   f"a card pending the cloud is heard as needing attention: two equal notes, {lasting(pending)} ms in all")

        print("a hostile holder name", flush=True)
        hostile = desk.without_photo[1]
        before = page.last_event()
        desk.show(hostile, "--no-photo", name=XSS_NAME)
        verdict = page.wait_verdict(before, "the hostile card's verdict")
        check.that("<" + "*" * (len(XSS_NAME) - 1) in verdict["text"], "the hostile name shows masked, as text")
        page.wait(lambda: page.row(masked(hostile)) is not None, 10, "the hostile card's visit")
        page.click_in_row(masked(hostile), "reveal")
        page.wait(lambda: XSS_NAME in page.js("return document.body.innerText"), 10, "the revealed name")
        check.that(XSS_NAME in page.js("return document.body.innerText"), "revealed, the name shows literally")
        check.that(len(driver.find_elements(By.TAG_NAME, "img")) == 0 and page.no_alert(),
                   "the name ran nothing: no <img> element, no alert")
        reveals = sqlite3.connect(os.path.join(folder, "station.sqlite")).execute(
            "SELECT count(*) FROM audit_log WHERE kind = 'holder.revealed'").fetchone()[0]
        check.that(reveals == 1, "revealing a holder is audited")
        page.shot("07-offline-pending-hostile-revealed")
        page.wait(lambda: int(page.js("return document.getElementById('outbox').dataset.length")) >= 3, 10,
                  "the outbox to hold the offline cards")
        piled = int(page.js("return document.getElementById('outbox').dataset.length"))
        page.js("""window.drainSeen = [];
            new MutationObserver(() => window.drainSeen.push({hidden: document.getElementById('drain').hidden,
                value: document.getElementById('drain-bar').value, text: document.getElementById('drain-text').textContent}))
              .observe(document.getElementById('drain'), {subtree: true, attributes: true, childList: true, characterData: true});""")
        desk.start_cloud()
        page.wait(lambda: page.js("return document.getElementById('drain').dataset.done") == "true", 40,
                  "the outbox to drain")
        seen = page.js("return window.drainSeen")
        # The outbox may empty between two reads of the status; the bar then shows all of it sent.
        check.that(any(not entry["hidden"] and entry["text"] == f"{piled} / {piled}" for entry in seen),
                   f"the progress bar shows the outbox draining, ending at {piled} / {piled} sent")
        page.shot("08-drained")
        check.that(page.js("return document.getElementById('cloud').dataset.cloud") == "online"
                   and page.js("return document.getElementById('outbox').dataset.length") == "0",
                   "the cloud's return drains the outbox: online, empty")

        print("the daemon restarts", flush=True)
        desk.clear_scene()
        time.sleep(0.3)
        desk.stop("station")
        page.wait(lambda: page.js("return document.getElementById('stream').dataset.state") != "open", 10,
                  "the page to notice the daemon gone")
        page.shot("09-daemon-restarting")
        desk.start_station()
        desk.login()
        page.wait_stream("the event stream to come back", 30)
        before = page.last_event()
        returning = desk.with_photo[5]
        desk.show(returning)
        verdict = page.wait_verdict(before, "a card's verdict after the restart", color="green")
        check.that(masked(returning) in verdict["text"] and page.js("return document.getElementById('signin').hidden"),
                   "across a daemon restart the page stays signed in, its stream reconnects and verdicts arrive")

        print("a practitioner the cloud refuses", flush=True)
        refused = desk.login_refused()
        check.that(refused.returncode == 1 and "practitioner_not_affiliated" in refused.stderr,
                   "vhc login of another institution's practitioner is refused with the cloud's code")
        page.wait(lambda: page.js("return document.querySelector('#problems [data-problem=practitioner_refused]')")
                  is not None, 10, "the refusal in the health panel")
        practitioner_line = page.text("practitioner")
        check.that("雲端拒絕" in practitioner_line and "practitioner_not_affiliated" in practitioner_line
                   and desk.stranger not in practitioner_line and page.js(
                       "return document.getElementById('practitioner').dataset.state") == "bad",
                   "the page says the cloud refused the practitioner (masked) and why; the desk keeps its login")
        page.shot("09b-practitioner-refused")
        desk.login()
        page.wait(lambda: page.js("return document.querySelector('#problems [data-problem=practitioner_refused]')")
                  is None, 10, "the refusal cleared by a login")

        print("the clinic's credentials on cards", flush=True)
        wrong = desk.login_card("doctor-wrong-pin")
        check.that(wrong.returncode == 1 and "pin_incorrect" in wrong.stderr, "vhc login with a wrong PIN: pin_incorrect")
        page.wait(lambda: page.js("return document.querySelector('#problems [data-problem=card_pin_refused]')")
                  is not None, 10, "the card's refusal in the health panel")
        check.that("醫事人員卡拒絕 PIN" in page.text("practitioner") and "pin_incorrect" in page.text("practitioner")
                   and "000000" not in page.js("return document.body.textContent"),
                   "the page says the card refused the PIN (never the PIN itself)")
        page.shot("09c-card-pin-refused")
        check.that(desk.login_card().returncode == 0, "vhc login with the card's PIN")
        page.wait(lambda: "醫事人員卡" in page.text("practitioner"), 10, "the practitioner signing with a card")
        check.that("醫事人員卡" in page.text("practitioner") and "機構金鑰在安全模組" in page.text("cloud"),
                   "the page says the practitioner signs with their card and the institution's key is on a token")

        print("a keyboard-mode scanner at a focused button", flush=True)
        # A scanner that types: the token's spaces and its Enter would press the button with the focus.
        kept, typed = returning, desk.with_photo[2]
        token = desk.token(typed)
        check.that(token.startswith("VHC1:") and len(token) > 200, f"a fresh token to type ({len(token)} characters)")
        page.js("""window.scannerHint = false;
            new MutationObserver(() => { window.scannerHint ||= !document.getElementById('keyscan').hidden; })
              .observe(document.getElementById('keyscan'), {attributes: true});""")
        before, heard = page.last_event(), page.sounds()
        page.forget_spied()
        check.that(page.focus_in_row(masked(kept), "close"), "the focus is on an open visit's Close")
        scanner_types(driver, token)
        check.that(page.no_alert() and page.posted_scans() == [{"token": token, "source": "handheld"}],
                   "typed at the Close button, the token is sent as a handheld scan, character for character, "
                   "and no confirmation opens")
        verdict = page.wait_verdict(before, "the typed token's verdict", color="green")
        check.that(masked(typed) in verdict["text"] and "來源: 手持掃描器 (handheld)" in page.text("verdict-meta"),
                   "its verdict arrives green, from the source handheld")
        check.that(page.row(masked(kept)) is not None and session_active(desk, kept)
                   and page.js("return document.activeElement?.dataset?.action") == "close",
                   "the visit whose Close had the focus is still open, on the page and at the daemon, and keeps the focus")
        check.that(page.js("return window.scannerHint") and not driver.find_element(By.ID, "keyscan").is_displayed(),
                   "the page showed it was reading the scanner, and no longer does")
        check.that([tone["frequency"] for tone in page.wait_sounds(heard + 1, "the typed scan's sound")] == [880],
                   "the typed scan's verdict is heard like any other")
        page.shot("09d-keyboard-scanner")
        before = page.last_event()
        page.focus_in_row(masked(kept), "close")
        scanner_types(driver, "ABC")
        time.sleep(1.2)
        check.that(page.no_alert() and page.posted_scans() == [{"token": token, "source": "handheld"}]
                   and page.last_event() == before and page.row(masked(kept)) is not None,
                   "three keys and Enter at the Close button are dropped: no confirmation, nothing sent")
        page.focus_in_row(masked(kept), "close")
        ActionChains(driver).send_keys(Keys.ENTER).perform()
        WebDriverWait(driver, 5).until(lambda _: not page.no_alert())
        driver.switch_to.alert.dismiss()
        check.that(page.row(masked(kept)) is not None and session_active(desk, kept),
                   "Enter alone at the Close button still asks to close the visit (dismissed): a keyboard user's "
                   "keys work as before")

        telemedicine_walk(desk, driver, page, check, report, arguments, folder)

        print("sound off, and remembered", flush=True)
        driver.find_element(By.ID, "sound").click()
        driver.find_element(By.ID, "volume").send_keys(Keys.ARROW_LEFT * 6)
        check.that(page.js("return document.getElementById('volume').value") == "30",
                   "the volume slider moves with the arrow keys (60 to 30)")
        before, heard = page.last_event(), page.sounds()
        page.forget_spied()
        desk.show(desk.with_photo[6])
        page.wait_verdict(before, "a verdict with the sound off", color="green")
        time.sleep(0.5)
        check.that(page.js("return document.getElementById('sound').getAttribute('aria-pressed')") == "false"
                   and page.tones() == [] and page.sounds() == heard,
                   "with Sound off, a new verdict starts no oscillator")
        driver.refresh()
        page.ready("the reloaded page")
        check.that(page.js("return document.getElementById('sound').getAttribute('aria-pressed')") == "false"
                   and page.js("return document.getElementById('volume').value") == "30",
                   "Sound off and the volume survive a reload")
        driver.find_element(By.ID, "sound").click()
        check.that(page.js("return document.getElementById('sound').getAttribute('aria-pressed')") == "true",
                   "Sound on again")

        print("refusals", flush=True)
        driver.get(link)
        check.that("web_link_invalid" in driver.page_source and driver.find_elements(By.ID, "link-refused"),
                   "the link used twice is refused, with what to do")
        status, _, _ = http("GET", link)
        check.that(status == 403, "the used link answers 403")
        driver.get(desk.origin + "/")
        page.wait(lambda: page.js("return document.body.dataset.ready === 'true'"), 20, "the page again")
        # The keyboard alone reaches a visit's Close: Tab to it, Enter, confirm.
        visits_before = page.js("return document.querySelectorAll('#visits-body tr').length")
        page.js("document.activeElement?.blur(); window.scrollTo(0, 0)")
        for _ in range(40):
            ActionChains(driver).send_keys(Keys.TAB).perform()
            if page.js("return document.activeElement?.dataset?.action") == "close":
                break
        check.that(page.js("return document.activeElement?.dataset?.action") == "close", "Tab reaches a visit's Close")
        ActionChains(driver).send_keys(Keys.ENTER).perform()
        WebDriverWait(driver, 5).until(lambda _: not page.no_alert())
        driver.switch_to.alert.accept()
        page.wait(lambda: page.js("return document.querySelectorAll('#visits-body tr').length") == visits_before - 1, 10,
                  "the visit closed from the keyboard")
        check.that(page.js("return document.activeElement !== document.body"),
                   "Enter and the confirmation close the visit, and the focus stays on the list")
        session_id = page.js("return document.querySelector('#visits-body tr[data-session]').dataset.session")
        close = desk.origin + f"/v1/sessions/{session_id}/close"
        status, _, body = http("POST", close, {"Origin": desk.origin, "Content-Type": "application/json"}, b"{}")
        check.that(status == 401 and json.loads(body)["code"] == "unauthorized", "a POST without the cookie is refused (401)")
        cookie_header = f"{cookie['name']}={cookie['value']}"
        key = page.js("return localStorage.getItem('vhc.pageKey')")
        status, _, body = http("POST", close, {"Cookie": cookie_header, "Origin": desk.origin,
                                               "Content-Type": "application/json"}, b"{}")
        check.that(status == 401, "the cookie without the page key is refused (401): the cookie alone, which "
                   "other ports of the host would receive, is not enough")
        status, _, body = http("POST", close, {"Cookie": cookie_header, "Origin": "http://evil.example",
                                               "X-VHC-Page-Key": key, "Content-Type": "application/json"}, b"{}")
        check.that(status == 403 and json.loads(body)["code"] == "origin_refused",
                   "a POST with the cookie from another Origin is refused (403)")
        status, _, body = http("POST", close, {"Cookie": cookie_header, "X-VHC-Page-Key": key,
                                               "Content-Type": "application/json"}, b"{}")
        check.that(status == 403, "a POST with the cookie and no Origin is refused (403)")
        status, headers, _ = http("GET", desk.origin + "/")
        csp = headers.get("Content-Security-Policy", "")
        check.that("script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
                   and headers.get("X-Content-Type-Options") == "nosniff" and headers.get("Referrer-Policy") == "no-referrer",
                   "the page is served with a strict CSP, nosniff and no-referrer")
        status, _, body = http("GET", desk.origin + "/v1/sessions", {"Cookie": cookie_header, "X-VHC-Page-Key": key})
        listed = json.loads(body)["sessions"]
        check.that(status == 200 and all("*" in s["holderID"] and s["holderBirthDate"] == "" for s in listed),
                   "the page's session list comes masked from the daemon, not just on screen")

        print("a reload", flush=True)
        before = page.verdict()
        driver.refresh()
        page.wait(lambda: page.js("return document.body.dataset.ready === 'true'"), 20, "the reloaded page")
        page.wait(lambda: page.verdict()["event"] == before["event"], 10, "the verdict to come back")
        check.that(page.verdict()["color"] == before["color"] and page.verdict()["code"] == before["code"],
                   "a reloaded page resumes its stream just before its last verdict: the verdict is back")
        time.sleep(0.5)
        check.that(page.js("return document.body.dataset.audio") == "running" and page.tones() == [] and page.sounds() == 0,
                   "the verdict a reload brings back is not heard again (sound on, nothing played)")

        print("English", flush=True)
        driver.find_element(By.ID, "language").click()
        page.wait(lambda: page.js("return document.documentElement.lang") == "en", 5, "English")
        check.that("Open visits" in page.js("return document.body.innerText"), "the page switches to English, lang=en")
        check.that(page.text("telemed-title") == "Telemedicine" and page.text("capture-start") == "Read from the video call"
                   and any("approved: visit opened" in entry["text"] for entry in page.consents()),
                   "the telemedicine panel and its consent list are in English too")
        time.sleep(0.3)
        check.that(page.tones() == [] and page.sounds() == 0, "a language switch repaints the verdict without a sound")
        page.shot("10-english")

        print("back to ready", flush=True)
        ready, capture_limit = 5, 10
        desk.restart_station(ready_seconds=ready, capture_seconds=capture_limit)
        # The stream comes back and the page reads the settings again: its verdict, minutes old, gives way.
        page.wait(lambda: page.verdict()["color"] == "idle", 40, f"the old verdict to leave once the station says {ready} s")
        before = page.last_event()
        desk.show(desk.with_photo[7])
        first = page.wait_verdict(before, "a verdict to give way", color="green")
        time.sleep(2.5)
        check.that(page.verdict()["color"] == "green", "2.5 s after it, the verdict is still on screen")
        before = page.last_event()
        desk.show(desk.with_photo[8])
        second = page.wait_verdict(before, "the next verdict", color="green")
        # When the panel turns idle (a repaint that leaves it idle would count too: watched only from now).
        page.js("""window.readyAt = null;
            new MutationObserver(() => { if (document.getElementById('verdict').dataset.color === 'idle') window.readyAt ??= Date.now(); })
              .observe(document.getElementById('verdict'), {attributes: true});""")
        first_at, at = int(first["at"]), int(second["at"])
        page.wait(lambda: page.js("return window.readyAt"), ready + 5, "the panel back to ready")
        waited = page.js("return window.readyAt") - at * 1000
        check.that(ready * 1000 <= waited <= ready * 1000 + 2500 and at >= first_at + 2,
                   f"{ready} s (page.ready_seconds) after the newest verdict's time, not before ({waited} ms; "
                   "a new verdict restarted the count), the panel goes back to ready")
        check.that(page.verdict()["color"] == "idle" and page.text("verdict-holder") == ""
                   and masked(desk.with_photo[8]) not in page.js("return document.getElementById('verdict').textContent "
                                                                 "+ document.getElementById('verdict-announcer').textContent"),
                   "ready again, the masked holder has left the screen")
        page.shot("11-back-to-ready")
        driver.refresh()
        page.ready("the reloaded page")
        page.wait_stream("the stream", 10)
        time.sleep(1.5)
        check.that(page.verdict()["color"] == "idle" and page.tones() == [],
                   "a reload after that does not bring the verdict back")

        print("a video call read without a code for page.capture_seconds", flush=True)
        page.js("window.__silentDisplay = true")
        driver.find_element(By.ID, "capture-start").click()
        page.wait(lambda: page.capture_bar()["shown"], 5, "the reading to start")
        started = time.monotonic()
        page.wait(lambda: not page.capture_bar()["shown"], capture_limit + 10, "the reading to stop by itself")
        waited = time.monotonic() - started
        after = page.capture_bar()
        check.that(capture_limit - 1 <= waited <= capture_limit + 3 and after["tracksLive"] == 0
                   and (f"No valid code within {capture_limit} s:" in after["message"]  # the page is in English here
                        or f"{capture_limit} 秒內沒有讀到有效條碼" in after["message"]),
                   f"with no valid code, the reading stops by itself after page.capture_seconds ({capture_limit} s; "
                   f"{waited:.1f} s), every track ends, and it says so with the limit: {after['message']}")
        page.js("window.__silentDisplay = false")

        print("sound held back by the browser", flush=True)
        quiet = browser(out, autoplay=False)
        drivers.append(quiet)
        quiet_page = Page(quiet, out)
        quiet.get(desk.link())
        quiet_page.ready("a page in a browser with its default autoplay policy")
        quiet_page.wait(lambda: quiet.find_element(By.ID, "sound-blocked").is_displayed(), 5, "the blocked sound's button")
        check.that(quiet_page.js("return document.body.dataset.audio") == "suspended"
                   and "按此啟用" in quiet.find_element(By.ID, "sound-blocked").text,
                   "a browser that holds sound back until a click: the page says so at once, before any verdict")
        quiet_page.shot("12-sound-blocked")
        quiet.find_element(By.ID, "sound-blocked").click()
        quiet_page.wait(lambda: quiet_page.js("return document.body.dataset.audio") == "running", 5, "the sound to start")
        check.that(not quiet.find_element(By.ID, "sound-blocked").is_displayed(),
                   "a click on it starts the sound, and the button goes")
        quiet.quit()
        drivers.remove(quiet)

        print("cold first load", flush=True)
        loads = []
        for attempt in range(5):
            cold = browser(out)
            drivers.append(cold)
            cold_page = Page(cold, out)
            cold.get(desk.link())
            cold_page.wait(lambda: cold_page.js("return document.body.dataset.ready === 'true'"), 20, "a cold page")
            timing = cold_page.js("""const n = performance.getEntriesByType('navigation')[0];
                const resources = performance.getEntriesByType('resource');
                return {load: n.loadEventEnd, ready: Number(document.body.dataset.readyAt),
                        bytes: n.transferSize + resources.reduce((sum, r) => sum + r.transferSize, 0),
                        urls: [n.name, ...resources.map((r) => r.name)]};""")
            loads.append(timing)
            cold.quit()
            drivers.remove(cold)
        external = [url for timing in loads for url in timing["urls"] if not url.startswith(desk.origin)]
        # Medians of the five: a shared machine's first browser start of a run is often the slowest.
        report["coldLoadMs"] = {"loadEvent": round(statistics.median(t["load"] for t in loads), 1),
                                "ready": round(statistics.median(t["ready"] for t in loads), 1)}
        report["transferredKiB"] = round(max(t["bytes"] for t in loads) / 1024, 1)
        print(f"  cold first load: {report['coldLoadMs']} ms, transferred {report['transferredKiB']} KiB", flush=True)
        check.that(not external, "the page makes no external request")
        # 80 KiB: the compressed page is 57 (issue 23's scripts took it uncompressed to 140 of the first 150).
        check.that(report["transferredKiB"] <= 80, "the page transfers at most 80 KiB (its files gzip-compressed)")
        if arguments.targets:
            check.that(report["coldLoadMs"]["loadEvent"] <= 300,
                       "the page's first load from a cold browser (its load event) within 300 ms")

        lid_closed_for_the_night(desk, page, driver, check)

        report["checks"] = len(check.passed)
        with open(os.path.join(out, "report.json"), "w") as file:
            json.dump(report, file, indent=2)
        print(f"front-desk page: {len(check.passed)} checks passed; figures in {out}/report.json, "
              f"screenshots in {out}/screenshots/", flush=True)
    except BaseException:
        for driver in drivers:
            try:
                Page(driver, out).shot("failure")
            except Exception:
                pass
        for name in ["station", "cloud"]:
            path = os.path.join(folder, f"{name}.log")
            if os.path.exists(path):
                print(f"--- {name}.log (tail)", file=sys.stderr)
                with open(path, errors="replace") as log:
                    print("".join(log.readlines()[-30:]), file=sys.stderr)
        raise
    finally:
        for driver in drivers:
            driver.quit()
        desk.close()
        shutil.rmtree(folder, ignore_errors=True)


def lid_closed_for_the_night(desk, page, driver, check):
    """A laptop's night (issue 25), last, after the figures: the cloud and the station again, now under Debian's
    libfaketime reading one clock file. The lid closes (SIGSTOP), the clock runs 8 hours and 5 minutes, the lid
    opens (SIGCONT): the page's sign-in ended with the shift, so the page says how to sign in again instead of
    showing a stale desk, and a new link, a new login and the next card bring it back."""
    print("the lid closed for the night", flush=True)
    clock = os.path.join(desk.folder, "faketime")

    def set_clock(offset):
        # Whole or not at all: libfaketime reads the file at every call, and an empty one is no offset.
        with open(clock + ".new", "w") as file:
            file.write(offset)
        os.replace(clock + ".new", clock)

    set_clock("+0")
    desk.environment = {**os.environ, "LD_PRELOAD": LIBFAKETIME, "FAKETIME_TIMESTAMP_FILE": clock,
                        "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
    desk.stop("cloud")
    desk.start_cloud()
    desk.restart_station()
    page.wait_stream("the event stream back on the station under the moved clock", 30)
    before = page.last_event()
    desk.show(desk.with_photo[-1])
    page.wait_verdict(before, "a card before the lid closes", color="green")
    station = desk.processes["station"]
    os.kill(station.pid, signal.SIGSTOP)
    ahead = 8 * 3600 + 5 * 60
    set_clock(f"+{ahead}")
    os.kill(station.pid, signal.SIGCONT)
    page.wait(lambda: page.js("return !document.getElementById('signin').hidden"), 60,
              "the page to see its sign-in ended with the shift")
    check.that(page.js("return document.getElementById('desk').hidden")
               and "vhc web" in page.text("signin") and page.text("verdict-holder") == ""
               and masked(desk.with_photo[-1]) not in page.js("return document.body.textContent"),
               "the lid opened 8 hours later: the shift's sign-in is over, the page says to sign in again "
               "(vhc web) and holds nothing of the visits before, not even hidden")
    page.shot("13-after-the-night")
    driver.get(desk.link())
    page.ready("the page signed in again after the night")
    page.wait_stream("the event stream after the new sign-in", 30)
    desk.login()
    check.that(page.verdict()["color"] == "idle", "signed in again, the page starts ready to scan, no verdict of last night")
    before = page.last_event()
    morning = desk.with_photo[-2]
    desk.show(morning, "--at", str(int(time.time()) + ahead))
    verdict = page.wait_verdict(before, "the first card of the morning", color="green")
    check.that(masked(morning) in verdict["text"],
               "a new link and the practitioner's new login: the first card of the morning is verified on the page")


def current_medications(desk, patient):
    """The patient's medications still in supply, read through the station as the HIS would."""
    items = json.loads(desk.run("vhc", "records", current_session(desk, patient), "medications",
                                "--socket", "api.sock", "--json"))["items"]
    return [item for item in items if item["daysRemaining"] > 0]


def current_session(desk, patient):
    listed = json.loads(desk.run("vhc", "sessions", "list", "--socket", "api.sock", "--state", "active", "--json"))
    return [s["id"] for s in listed["sessions"] if s["holderID"] == patient["id"]][0]


if __name__ == "__main__":
    main()
