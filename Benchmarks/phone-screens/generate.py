#!/usr/bin/env python3
"""Synthetic "phone screen photographed by a webcam" images of real VHC1 tokens, for QR decoder benchmarks.

    python3 Benchmarks/phone-screens/generate.py --out DIR [--seed 1] [--per-category 50] [--only CAT,CAT]
                                                 [--jobs N]

Writes DIR/<category>/<NNN>.jpg (greyscale JPEG, as the webcam would deliver it) and DIR/truth.json.
Same seed and arguments give byte-identical files on the same library versions and machine type.
See README.md next to this file for the model and its parameters.

Needs numpy, opencv (cv2), libqrencode.so.4 (ctypes) and, for the token issuer in
tools/reference/vhc_reference.py, the `cryptography` package.
"""
import os

# One BLAS/OpenCV thread per process: results must not depend on the thread count (determinism), and the
# work is spread over processes instead.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import ctypes  # noqa: E402
import hashlib  # noqa: E402
import hmac  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import multiprocessing  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.dont_write_bytecode = True  # do not leave __pycache__ in tools/reference
sys.path.insert(0, os.path.join(REPO, "tools", "reference"))
import vhc_reference as vr  # noqa: E402

GENERATOR = "vhc phone-screens 2"  # 2: issue 26's glare-veil and damaged categories added

# ------------------------------------------------------------------------------------------ categories
# cpm: camera pixels per module (along the code's width); tilt: out-of-plane rotation in degrees.
# glare: "mild" (sometimes a weak reflection, little veiling, normal exposure) or "strong".
CATEGORIES = {
    "plain-640":     dict(token="plain",     size=(640, 480),  cpm=(2.5, 5.0), tilt=(0, 20),  glare="mild"),
    "delegated-640": dict(token="delegated", size=(640, 480),  cpm=(2.5, 5.0), tilt=(0, 20),  glare="mild"),
    "small-640":     dict(token="plain",     size=(640, 480),  cpm=(1.5, 2.5), tilt=(0, 20),  glare="mild"),
    "tilt-640":      dict(token="plain",     size=(640, 480),  cpm=(3.0, 5.0), tilt=(20, 35), glare="mild"),
    "glare-640":     dict(token="plain",     size=(640, 480),  cpm=(3.0, 5.0), tilt=(0, 20),  glare="strong"),
    "dark-640":      dict(token="plain",     size=(640, 480),  cpm=(2.5, 5.0), tilt=(0, 20),  glare="mild",
                          dark=True),
    "plain-1280":    dict(token="plain",     size=(1280, 720), cpm=(3.0, 8.0), tilt=(0, 20),  glare="mild"),
    "small-1280":    dict(token="plain",     size=(1280, 720), cpm=(1.5, 3.0), tilt=(0, 20),  glare="mild"),
    # Issue 26: the front desk's phone under a ceiling light or a window (glare "veil": GLARE_OVER_CODE, with
    # INDOOR_NOISE), and phones that are not whole (damage: how many kinds, damage_screen).
    "glare-veil-640": dict(token="plain",    size=(640, 480),  cpm=(2.5, 5.0), tilt=(0, 20),  glare="veil"),
    "damaged-640":   dict(token="plain",     size=(640, 480),  cpm=(2.5, 5.0), tilt=(0, 20),  glare="mild",
                          damage=(1, 3)),
    "glare-veil-1280": dict(token="plain",   size=(1280, 720), cpm=(3.0, 8.0), tilt=(0, 20),  glare="veil"),
}
# A reflection always over the code: its shape, the veil's peak (times the screen's brightness) and the share
# with a saturated core; the camera meters on the brightest part of the phone (make_image).
GLARE_OVER_CODE = dict(shapes=("lobe", "panel", "window"), veil=(1.5, 4.0), core_share=0.2, core=(2.5, 6.0))
# Sensor noise under a veil indoors: the gain is up (read noise) and the lifted light adds shot noise.
INDOOR_NOISE = dict(read=(0.002, 0.006), shot=(0.003, 0.012))
# False (--without-effects): every image as it would be without its glare or damage, from the same draws:
# each reader's loss to them.
EFFECTS = True
CATEGORY_STRIDE = 100000  # image index = category number * stride + image number; rng = PCG64(seed + index)

# ------------------------------------------------------------------------------------------- tokens
# Real VHC1 tokens from the reference issuer. Keys come from fixed labels and the clock is fixed, so with
# RFC 6979 deterministic ECDSA (below) a token depends only on the claims drawn from the image's rng.
T_NOW = 1795341600                 # 2026-11-22T10:00:00Z, the verification time the tokens are valid at
T_IAT = T_NOW - 10                 # issued 10 s before; exp = iat + 300
TOKEN_KEY_LABEL = "vhc-phone-screens-token-1"
ROOT_KEY_LABEL = "vhc-phone-screens-root"
REVOCATION_KEY_LABEL = "vhc-phone-screens-revocation-1"


def _label_scalar(label):
    return int(hashlib.sha256(label.encode()).hexdigest(), 16) % vr.P256_N


TOKEN_D = _label_scalar(TOKEN_KEY_LABEL)
TOKEN_KEY = vr.private_key_from_scalar(TOKEN_D)
TOKEN_KID = vr.key_kid(TOKEN_KEY)

# P-256 in pure Python, only for deterministic signing (RFC 6979 nonce), so that the same claims give the
# same token on every `cryptography` version. Every signature is checked with the reference's verify_raw.
_P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
_A = _P - 3
_G = (0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
      0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5)


def _ec_add(p1, p2):
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    (x1, y1), (x2, y2) = p1, p2
    if x1 == x2:
        if (y1 + y2) % _P == 0:
            return None
        lam = (3 * x1 * x1 + _A) * pow(2 * y1, -1, _P) % _P
    else:
        lam = (y2 - y1) * pow(x2 - x1, -1, _P) % _P
    x3 = (lam * lam - x1 - x2) % _P
    return x3, (lam * (x1 - x3) - y1) % _P


def _ec_mul(k, point):
    acc = None
    for bit in bin(k)[2:]:
        acc = _ec_add(acc, acc)
        if bit == "1":
            acc = _ec_add(acc, point)
    return acc


def sign_deterministic(d, message):
    """ECDSA P-256/SHA-256 with the RFC 6979 nonce; returns raw r||s (64 bytes)."""
    n = vr.P256_N
    h1 = hashlib.sha256(message).digest()
    z = int.from_bytes(h1, "big")
    x, hz = d.to_bytes(32, "big"), (z % n).to_bytes(32, "big")
    K, V = b"\x00" * 32, b"\x01" * 32
    K = hmac.new(K, V + b"\x00" + x + hz, hashlib.sha256).digest()
    V = hmac.new(K, V, hashlib.sha256).digest()
    K = hmac.new(K, V + b"\x01" + x + hz, hashlib.sha256).digest()
    V = hmac.new(K, V, hashlib.sha256).digest()
    while True:
        V = hmac.new(K, V, hashlib.sha256).digest()
        k = int.from_bytes(V, "big")
        if 1 <= k < n:
            r = _ec_mul(k, _G)[0] % n
            s = pow(k, -1, n) * (z + r * d) % n
            if r and s:
                return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        K = hmac.new(K, V + b"\x00", hashlib.sha256).digest()
        V = hmac.new(K, V, hashlib.sha256).digest()


_SURNAMES = "王李張劉陳楊黃趙吳周徐孫馬朱胡郭何林高羅鄭梁謝宋唐許韓馮鄧曹彭曾蕭田董潘袁蔡蔣余杜葉程魏蘇呂丁沈姚盧傅鍾姜崔廖范汪陸金石戴賈夏邱方侯鄒熊孟秦白江薛尹段雷黎史龍陶賀顧毛郝邵萬錢嚴賴洪武莫孔"
_GIVEN = "小明美玲志偉淑芬家豪怡君雅婷俊傑建宏冠宇承恩佳穎子涵柏翰宗欣妤詩品妍宜蓁文華國強麗秀英惠珍慧如玉春秋月雲山海德仁義"
_COMPOUND = ["歐陽", "司馬", "諸葛", "張簡", "范姜"]


def _tw_id(rng, exclude=None):
    letters = "ABCDEFGHJKLMNPQRTUVXYWZIO"
    while True:
        first = letters[int(rng.integers(len(letters)))]
        body = [int(rng.integers(1, 3))] + [int(v) for v in rng.integers(0, 10, 7)]
        x = vr._ID_LETTER[first]
        total = x // 10 + (x % 10) * 9 + sum(w * d for w, d in zip((8, 7, 6, 5, 4, 3, 2, 1), body))
        s = first + "".join(map(str, body)) + str((10 - total % 10) % 10)
        if vr.valid_tw_id(s) and s != exclude:
            return s


def _name(rng):
    if rng.random() < 0.05:
        sur = _COMPOUND[int(rng.integers(len(_COMPOUND)))]
    else:
        sur = _SURNAMES[int(rng.integers(len(_SURNAMES)))]
    given = "".join(_GIVEN[int(i)] for i in rng.integers(0, len(_GIVEN), 1 if rng.random() < 0.15 else 2))
    return sur + given


def _ymd(rng, y0, y1):
    return int(rng.integers(y0, y1 + 1)) * 10000 + int(rng.integers(1, 13)) * 100 + int(rng.integers(1, 29))


def issue_token(rng, kind):
    """A fresh, valid VHC1 token text (fresh cti); kind 'plain' or 'delegated'."""
    holder = _tw_id(rng)
    delegation = None
    if kind == "delegated":
        delegation = (_tw_id(rng, exclude=holder), rng.bytes(int(rng.integers(8, 13))),
                      20261100 + int(rng.integers(1, 23)), 20261100 + int(rng.integers(22, 31)))
    card = None if rng.random() < 0.5 else "0000" + "".join(str(int(v)) for v in rng.integers(0, 10, 8))
    claims = vr.make_claims(iat=T_IAT, ttl=300, cti=rng.bytes(16), holder_id=holder, name=_name(rng),
                            birth=_ymd(rng, 1940, 2015), photo=int(rng.random() < 0.15), delegation=delegation,
                            card_number=card)
    payload = vr.cbor_encode(claims)
    protected = vr.cbor_encode({1: -7, 4: TOKEN_KID})
    sig = sign_deterministic(TOKEN_D, vr.sig_structure(protected, payload))
    assert vr.verify_raw(TOKEN_KEY.public_key(), vr.sig_structure(protected, payload), sig)
    return vr.token_text(vr.cose_sign1(None, payload, kid=TOKEN_KID, protected_bytes=protected, signature=sig))


def _signed(label, payload):
    key = vr.private_key_from_scalar(_label_scalar(label))
    protected = vr.cbor_encode({1: -7, 4: vr.key_kid(key)})
    sig = sign_deterministic(_label_scalar(label), vr.sig_structure(protected, payload))
    return vr.cose_sign1(None, payload, kid=vr.key_kid(key), protected_bytes=protected, signature=sig)


def verification_context():
    """(root SPKI DER, trust list COSE, revocation list COSE) under which every generated token verifies as
    valid at T_NOW (the revocation list is empty; delegated tokens need one). For benchmark runners that
    also check the decoded text end to end."""
    root = vr.private_key_from_scalar(_label_scalar(ROOT_KEY_LABEL))
    rev = vr.private_key_from_scalar(_label_scalar(REVOCATION_KEY_LABEL))
    entries = [vr.key_entry(TOKEN_KEY, 1, T_NOW - 10 * 86400, T_NOW + 30 * 86400),
               vr.key_entry(rev, 2, T_NOW - 10 * 86400, T_NOW + 30 * 86400)]
    tl = _signed(ROOT_KEY_LABEL, vr.cbor_encode({1: "TW-NHIA", 2: 1, 3: T_NOW - 86400, 4: T_NOW + 30 * 86400,
                                                 5: entries}))
    rl = _signed(REVOCATION_KEY_LABEL, vr.cbor_encode({1: "TW-NHIA", 2: 1, 3: T_NOW - 3600,
                                                       4: T_NOW + 7 * 86400, 5: []}))
    return vr.spki_der(root), tl, rl


# ------------------------------------------------------------------------------------- QR (libqrencode)

class _QRcode(ctypes.Structure):
    _fields_ = [("version", ctypes.c_int), ("width", ctypes.c_int), ("data", ctypes.POINTER(ctypes.c_ubyte))]


_QRLIB = None


def qr_matrix(text):
    """(version, N×N uint8 matrix, 1 = dark) from libqrencode: alphanumeric mode, ECC level Q."""
    global _QRLIB
    if _QRLIB is None:
        lib = ctypes.CDLL("libqrencode.so.4")
        lib.QRinput_new2.restype = ctypes.c_void_p
        lib.QRinput_new2.argtypes = [ctypes.c_int, ctypes.c_int]
        lib.QRinput_append.restype = ctypes.c_int
        lib.QRinput_append.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_char_p]
        lib.QRcode_encodeInput.restype = ctypes.POINTER(_QRcode)
        lib.QRcode_encodeInput.argtypes = [ctypes.c_void_p]
        lib.QRcode_free.argtypes = [ctypes.POINTER(_QRcode)]
        lib.QRinput_free.argtypes = [ctypes.c_void_p]
        _QRLIB = lib
    lib = _QRLIB
    data = text.encode("ascii")
    inp = lib.QRinput_new2(0, 2)  # version 0 = smallest that fits; QR_ECLEVEL_Q = 2
    if not inp:
        raise RuntimeError("QRinput_new2 failed")
    try:
        if lib.QRinput_append(inp, 1, len(data), data) != 0:  # QR_MODE_AN = 1
            raise RuntimeError("QRinput_append failed (text not alphanumeric?)")
        code = lib.QRcode_encodeInput(inp)
        if not code:
            raise RuntimeError("QRcode_encodeInput failed")
        try:
            n = code.contents.width
            raw = np.ctypeslib.as_array(code.contents.data, shape=(n * n,)).copy()
            return code.contents.version, (raw & 1).reshape(n, n).astype(np.uint8)
        finally:
            lib.QRcode_free(code)
    finally:
        lib.QRinput_free(inp)


# ------------------------------------------------------------------------------------------ helpers

def _u(rng, lo, hi):
    return float(lo + (hi - lo) * rng.random())


def _erf(x):
    # Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7); numpy has no erf
    s = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) \
        * t * np.exp(-a * a)
    return s * y


def _phi(z):
    return 0.5 * (1.0 + _erf(z * (1.0 / math.sqrt(2.0))))


def smooth_noise(rng, h, w, cell):
    """Smooth random field in about [-1, 1] with features about `cell` pixels across."""
    gh, gw = max(2, int(h / cell) + 2), max(2, int(w / cell) + 2)
    g = rng.standard_normal((gh, gw)).astype(np.float32)
    return cv2.resize(g, (w, h), interpolation=cv2.INTER_CUBIC) * 0.6


SRGB_TO_LIN = ((np.arange(256) / 255.0) ** 2.2).astype(np.float32)


# ------------------------------------------------------------------------------- glare and damage
# Issue 26's models, shared with the still-image generator: a reflection of a light over the code and
# damage drawn over the code on the screen.

def _choice(rng, seq):
    return seq[int(rng.integers(len(seq)))]


def _lowres_up(a, W, H):
    return cv2.resize(a, (W, H), interpolation=cv2.INTER_LINEAR)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


def reflection_field(rng, W, H, centre, code_px, shape):
    """Light a source reflects off the phone's glass, peak 1, at 1/4 resolution and scaled up. The camera
    focuses on the screen, so the reflection of a distant source is soft. `lobe`: a specular highlight
    (flat-topped to Gaussian); `panel`: a ceiling light panel, a soft-edged rectangle, slightly uneven;
    `window`: a soft quadrilateral, brighter at the top (sky), crossed by dark glazing bars."""
    w4, h4 = max(8, W // 4), max(8, H // 4)
    yy, xx = np.mgrid[0:h4, 0:w4].astype(np.float32)
    gx, gy = centre[0] / 4, centre[1] / 4
    ang = _u(rng, 0, math.pi)
    u = (xx - gx) * math.cos(ang) + (yy - gy) * math.sin(ang)
    v = -(xx - gx) * math.sin(ang) + (yy - gy) * math.cos(ang)
    size = code_px / 4
    if shape == "lobe":
        ax = max(2.0, size * _u(rng, 0.8, 2.0))
        ay = ax * _u(rng, 0.6, 1.0)
        field = np.exp(-np.power((u / ax) ** 2 + (v / ay) ** 2, _u(rng, 0.7, 2.5)))
    else:
        ax = max(2.0, size * _u(rng, 0.8, 2.0))
        ay = ax * _u(rng, 0.6, 1.0)
        soft = max(0.5, size * _u(rng, 0.03, 0.25))
        field = _sigmoid((ax - np.abs(u)) / soft) * _sigmoid((ay - np.abs(v)) / soft)
        if shape == "panel":
            field *= 1 + 0.15 * (u / ax) * _u(rng, -1, 1)
        else:
            field *= 0.75 + 0.25 * np.clip(-v / ay, -1, 1)  # the sky above is brighter
            bars = int(rng.integers(1, 4))
            width = max(0.5, ax * _u(rng, 0.03, 0.08))
            for k in range(bars):
                at = -ax + 2 * ax * (k + 1) / (bars + 1)
                field *= 1 - 0.9 * _sigmoid((width - np.abs(u - at)) / (0.5 * soft))
            if rng.random() < 0.6:
                field *= 1 - 0.9 * _sigmoid((width - np.abs(v - ay * _u(rng, -0.3, 0.3))) / (0.5 * soft))
    return _lowres_up(field.astype(np.float32), W, H)


def damage_screen(rng, screen, code_box, spm, count):
    """Draws `count` kinds of damage over the code on the screen's pixels (uint8 sRGB, in place), as the
    camera then sees them through the glass: `crack` (a cracked screen, lines from an impact), `dead-lines`
    (rows or columns of dead or stuck pixels), `sticker` (a label or a thumb over part of the code), `smudge`
    (greasy blotches that wash the modules out). Returns the kinds drawn."""
    x0, y0, size = code_box
    kinds = list(rng.permutation(["crack", "dead-lines", "sticker", "smudge"]))[:count]
    for kind in kinds:
        if kind == "crack":
            impact = np.array([x0 + _u(rng, -0.3, 1.3) * size, y0 + _u(rng, -0.3, 1.3) * size])
            for _ in range(int(rng.integers(3, 9))):
                point, heading = impact.copy(), _u(rng, 0, 2 * math.pi)
                colour = (20, 20, 20) if rng.random() < 0.6 else (235, 235, 235)
                width = int(rng.integers(1, 3 + int(spm // 4)))
                for _ in range(int(rng.integers(4, 12))):
                    heading += rng.normal(0, 0.35)
                    step = size * _u(rng, 0.05, 0.2)
                    nxt = point + step * np.array([math.cos(heading), math.sin(heading)])
                    cv2.line(screen, tuple(int(c) for c in point), tuple(int(c) for c in nxt), colour, width,
                             cv2.LINE_AA)
                    point = nxt
        elif kind == "dead-lines":
            colour = (0, 0, 0) if rng.random() < 0.5 else (40, 230, 60)
            vertical = rng.random() < 0.5
            for _ in range(int(rng.integers(1, 4))):
                at = int((x0 if vertical else y0) + _u(rng, 0, 1) * size)
                width = int(rng.integers(1, max(2, int(spm))))
                if vertical:
                    screen[:, at:at + width] = colour
                else:
                    screen[at:at + width, :] = colour
        elif kind == "sticker":
            w, h = size * _u(rng, 0.15, 0.4), size * _u(rng, 0.15, 0.4)
            cx, cy = x0 + _u(rng, 0, 1) * size, y0 + _u(rng, 0, 1) * size
            if rng.random() < 0.5:  # a label
                colour = tuple(int(c) for c in rng.integers(150, 250, 3))
                box = cv2.boxPoints(((cx, cy), (w, h), _u(rng, -30, 30))).astype(np.int32)
                cv2.fillPoly(screen, [box], colour, cv2.LINE_AA)
            else:  # a thumb
                cv2.ellipse(screen, (int(cx), int(cy)), (int(w), int(h * 1.6)), _u(rng, 0, 180), 0, 360,
                            (150, 110, 90), -1, cv2.LINE_AA)
        else:
            for _ in range(int(rng.integers(2, 6))):
                blot = np.zeros(screen.shape[:2], np.float32)
                centre = (int(x0 + _u(rng, 0, 1) * size), int(y0 + _u(rng, 0, 1) * size))
                radius = int(size * _u(rng, 0.06, 0.2))
                cv2.circle(blot, centre, radius, 1.0, -1)
                blot = cv2.GaussianBlur(blot, (0, 0), max(1.0, radius * 0.5)) * _u(rng, 0.3, 0.7)
                grey = screen.astype(np.float32)
                screen[:] = np.clip(grey + (170 - grey) * blot[:, :, None], 0, 255).astype(np.uint8)
    return kinds


def lin_to_srgb8(x):
    x = np.clip(x, 0.0, 1.0)
    y = np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)
    return np.clip(np.rint(y * 255.0), 0, 255).astype(np.uint8)


# ------------------------------------------------------------------------------------ sub-pixel layouts
# Rectangles in micro-pixel units, 6 × 6 micro-pixels per screen pixel: (channel, x0, x1, y0, y1, parity).
# parity None: in every pixel; 0 / 1: only where (row + column) % 2 equals it (PenTile-like R/B sharing,
# those sub-pixels carry twice the value so the area average is unchanged).
LAYOUTS = {
    # R, G, B columns two micro-pixels wide, one black gap row
    "stripe-gaprow": [(0, 0, 2, 0, 5, None), (1, 2, 4, 0, 5, None), (2, 4, 6, 0, 5, None)],
    # narrower stripes with black gap columns, thin gap rows
    "stripe-gapcol": [(0, 0.2, 1.6, 0.4, 5.6, None), (1, 2.2, 3.6, 0.4, 5.6, None), (2, 4.2, 5.6, 0.4, 5.6, None)],
    # PenTile-like: a small green in every pixel, larger red / blue alternating in a checkerboard
    "pentile": [(1, 3.4, 5.6, 0.4, 2.6, None), (0, 0.4, 3.4, 2.6, 5.6, 0), (2, 0.4, 3.4, 2.6, 5.6, 1)],
}
LUMA = (0.3, 0.6, 0.1)
MICRO = 6.0


def render_blurred(rgb_lin, crop_x0, crop_y0, grid_x0, grid_y0, h, nx, ny, sigma, layout, tile=192):
    """The screen as the lens images it, sampled on a grid in screen coordinates.

    rgb_lin: (H, W, 3) linear emission of the screen pixels in the crop whose top-left pixel is
    (crop_x0, crop_y0); pixels outside the crop are black. Each pixel is split into the layout's sub-pixel
    rectangles (micro resolution), each rectangle's luma-weighted emission is blurred with an isotropic
    Gaussian of `sigma` screen pixels, and the result is evaluated at screen points
    (grid_x0 + i*h, grid_y0 + j*h), i < nx, j < ny. The convolution of a rectangle with a Gaussian is a
    product of two erf differences, so this is the exact micro-resolution blur (at unlimited micro
    resolution) without building the micro image: a sum of separable matrix products, done in tiles."""
    H, W, _ = rgb_lin.shape
    terms = []
    for ch, x0, x1, y0, y1, parity in LAYOUTS[layout]:
        area = (x1 - x0) * (y1 - y0) / (MICRO * MICRO)
        plane = rgb_lin[:, :, ch] * np.float32(LUMA[ch] / area)
        if parity is not None:
            rr, cc = np.indices((H, W))
            plane = plane * (2.0 * (((rr + crop_y0 + cc + crop_x0) % 2) == parity)).astype(np.float32)
        terms.append((plane, x0 / MICRO, x1 / MICRO, y0 / MICRO, y1 / MICRO))
    groups = {}
    for t in terms:
        groups.setdefault((t[3], t[4]), []).append(t)
    out = np.zeros((ny, nx), np.float32)
    reach = 4.5 * sigma + 1.5
    qs_all = np.arange(W) + crop_x0
    ps_all = np.arange(H) + crop_y0
    for ty in range(0, ny, tile):
        yc = grid_y0 + h * np.arange(ty, min(ny, ty + tile))
        p_lo = max(0, int(math.floor(yc[0] - reach)) - crop_y0)
        p_hi = min(H, int(math.ceil(yc[-1] + reach)) - crop_y0 + 1)
        if p_hi <= p_lo:
            continue
        ps = ps_all[p_lo:p_hi]
        for tx in range(0, nx, tile):
            xc = grid_x0 + h * np.arange(tx, min(nx, tx + tile))
            q_lo = max(0, int(math.floor(xc[0] - reach)) - crop_x0)
            q_hi = min(W, int(math.ceil(xc[-1] + reach)) - crop_x0 + 1)
            if q_hi <= q_lo:
                continue
            qs = qs_all[q_lo:q_hi]
            ux = (xc[:, None] - qs[None, :]) / sigma
            uy = (yc[:, None] - ps[None, :]) / sigma
            acc = None
            for (y0, y1), ts in groups.items():
                ay = (_phi(uy - y0 / sigma) - _phi(uy - y1 / sigma)).astype(np.float32)
                tmp = None
                for plane, x0, x1, _, _ in ts:
                    ax = (_phi(ux - x0 / sigma) - _phi(ux - x1 / sigma)).astype(np.float32)
                    part = plane[p_lo:p_hi, q_lo:q_hi] @ ax.T
                    tmp = part if tmp is None else tmp + part
                blk = ay @ tmp
                acc = blk if acc is None else acc + blk
            out[ty:ty + len(yc), tx:tx + len(xc)] = acc
    return out


# ------------------------------------------------------------------------------------------- phone UI

def _rounded_rect(img, x0, y0, x1, y1, r, color):
    x0, y0, x1, y1, r = int(round(x0)), int(round(y0)), int(round(x1)), int(round(y1)), int(round(r))
    r = max(0, min(r, (x1 - x0) // 2, (y1 - y0) // 2))
    cv2.rectangle(img, (x0 + r, y0), (x1 - r, y1), color, -1)
    cv2.rectangle(img, (x0, y0 + r), (x1, y1 - r), color, -1)
    for cx, cy in ((x0 + r, y0 + r), (x1 - r, y0 + r), (x0 + r, y1 - r), (x1 - r, y1 - r)):
        cv2.circle(img, (cx, cy), r, color, -1, cv2.LINE_AA)


def _text(img, s, x, y, height, color, bold=False):
    scale = height / 22.0
    cv2.putText(img, s, (int(x), int(y)), cv2.FONT_HERSHEY_SIMPLEX, scale, color,
                max(1, int(round(scale * (2.6 if bold else 1.6)))), cv2.LINE_AA)


def _text_lines(rng, img, x0, x1, y, n, height, color):
    """Skeleton text: rounded bars of word lengths."""
    for _ in range(n):
        x = x0
        limit = x0 + (x1 - x0) * _u(rng, 0.55, 1.0)
        while x < limit:
            w = height * _u(rng, 1.2, 4.5)
            if x + w > limit:
                break
            _rounded_rect(img, x, y, x + w, y + height * 0.7, height * 0.3, color)
            x += w + height * 0.5
        y += height * 1.8
    return y


def draw_code(img, matrix, x0, y0, spm, dark_rgb, light_rgb, smooth):
    """Draw the symbol (no quiet zone) with its top-left corner at screen point (x0, y0), spm screen pixels
    per module. smooth: bilinear scaling (grey edge pixels), else nearest-neighbour."""
    n = matrix.shape[0]
    size = n * spm
    qa, qb = int(math.floor(x0)), int(math.ceil(x0 + size))
    pa, pb = int(math.floor(y0)), int(math.ceil(y0 + size))

    def weights(start, a, b):
        centres = (np.arange(a, b) + 0.5 - start) / spm  # in modules
        if smooth:
            w = np.clip(1.0 - np.abs(centres[:, None] - 0.5 - np.arange(n)[None, :]), 0, None)
            w[centres < 0] = 0
            w[centres >= n] = 0
        else:
            idx = np.floor(centres).astype(int)
            w = np.zeros((len(centres), n))
            ok = (idx >= 0) & (idx < n)
            w[np.nonzero(ok)[0], idx[ok]] = 1.0
        return w

    wy, wx = weights(y0, pa, pb), weights(x0, qa, qb)
    darkness = np.clip(wy @ matrix.astype(np.float64) @ wx.T, 0, 1)[:, :, None]
    region = img[pa:pb, qa:qb].astype(np.float64)
    inside = (wy.sum(1)[:, None] > 0) & (wx.sum(1)[None, :] > 0)
    light = np.asarray(light_rgb, np.float64)
    dark = np.asarray(dark_rgb, np.float64)
    drawn = light * (1 - darkness) + dark * darkness
    region = np.where(inside[:, :, None], drawn, region)
    img[pa:pb, qa:qb] = np.clip(np.rint(region), 0, 255).astype(np.uint8)


def render_screen(rng, matrix, p):
    """The phone's screen at screen-pixel resolution (uint8 RGB) and the code's placement."""
    W, H = p["screen_w"], p["screen_h"]
    dp = p["ppi"] / 160.0
    dark = p["dark"]
    bg = (0, 0, 0) if (dark and rng.random() < 0.5) else ((18, 18, 18) if dark else
                                                           ((242, 242, 247) if rng.random() < 0.6 else (255, 255, 255)))
    fg = (235, 235, 240) if dark else (20, 20, 25)
    sub = (140, 140, 150) if dark else (120, 120, 128)
    card = (28, 28, 30) if dark else (255, 255, 255)
    accents = [(0, 122, 255), (52, 168, 83), (0, 150, 136), (26, 115, 232), (233, 84, 32), (94, 53, 177)]
    accent = accents[int(rng.integers(len(accents)))]
    img = np.empty((H, W, 3), np.uint8)
    img[:] = bg

    # status bar
    sb = int(round(_u(rng, 24, 44) * dp))
    _text(img, "%d:%02d" % (int(rng.integers(7, 19)), int(rng.integers(60))), 20 * dp, sb * 0.72, 12 * dp, fg, True)
    for i in range(4):
        hgt = (4 + 2.5 * i) * dp
        x = W - 80 * dp + i * 5 * dp
        cv2.rectangle(img, (int(x), int(sb * 0.72 - hgt)), (int(x + 3 * dp), int(sb * 0.72)), fg, -1)
    bx = W - 52 * dp
    cv2.rectangle(img, (int(bx), int(sb * 0.32)), (int(bx + 24 * dp), int(sb * 0.75)), fg, max(1, int(dp)))
    cv2.rectangle(img, (int(bx + 2 * dp), int(sb * 0.32 + 2 * dp)),
                  (int(bx + (2 + 20 * _u(rng, 0.2, 1)) * dp), int(sb * 0.75 - 2 * dp)), fg, -1)

    # header bar
    hb = int(round(_u(rng, 48, 64) * dp))
    coloured_header = rng.random() < 0.5
    if coloured_header:
        hdr = tuple(int(c * 0.55) for c in accent) if dark else accent
        img[sb:sb + hb] = hdr
        htxt = (255, 255, 255)
    else:
        htxt = fg
    title = ["Virtual NHI Card", "My Health Card", "NHI Express", "Check-in code"][int(rng.integers(4))]
    _text(img, title, 56 * dp, sb + hb * 0.66, 18 * dp, htxt, True)
    cv2.line(img, (int(20 * dp), int(sb + hb * 0.5)), (int(32 * dp), int(sb + hb * 0.5)), htxt, max(1, int(2 * dp)))

    # card
    margin = _u(rng, 12, 20) * dp
    card_x0, card_x1 = margin, W - margin
    y = sb + hb + _u(rng, 8, 28) * dp
    card_y0 = y
    pad = _u(rng, 14, 22) * dp
    y += pad
    y += 52 * dp  # name and id lines, drawn once the card is
    n = matrix.shape[0]
    spm = p["spm"]
    size = n * spm
    qz = 4 * spm
    card_w = card_x1 - card_x0
    code_x0 = card_x0 + (card_w - size) / 2.0
    if p["integer_origin"]:
        code_x0 = float(round(code_x0))
    code_y0 = y + qz + _u(rng, 0, 12) * dp
    if p["integer_origin"]:
        code_y0 = float(round(code_y0))
    code_y1 = code_y0 + size
    y_after = code_y1 + qz + 8 * dp
    y_timer = y_after + 16 * dp
    card_y1 = y_timer + _u(rng, 30, 70) * dp
    _rounded_rect(img, card_x0, card_y0, card_x1, card_y1, _u(rng, 8, 20) * dp, card)
    _text(img, p["display_name"], card_x0 + pad, card_y0 + pad + 18 * dp, 18 * dp, fg, True)
    _text(img, p["display_id"], card_x0 + pad, card_y0 + pad + 28 * dp + 14 * dp, 13 * dp, sub)
    if p["inverted"]:
        mdark, mlight = (235, 235, 235), card  # light modules on the dark card, which is the quiet zone
    else:
        mdark, mlight = (0, 0, 0) if rng.random() < 0.8 else (25, 30, 60), (255, 255, 255)
        if dark:  # white plate with the quiet zone inside a dark card
            plate = qz * _u(rng, 1.0, 1.25)
            _rounded_rect(img, code_x0 - plate, code_y0 - plate, code_x0 + size + plate, code_y1 + plate,
                          min(_u(rng, 0, 12) * dp, plate / 2), (255, 255, 255))
    draw_code(img, matrix, code_x0, code_y0, spm, mdark, mlight, p["smooth"])
    _text(img, "Valid for 0%d:%02d" % (int(rng.integers(0, 5)), int(rng.integers(60))),
          (card_x0 + card_x1) / 2 - 60 * dp, y_timer, 14 * dp, sub)
    bar_y = y_timer + 10 * dp
    cv2.rectangle(img, (int(card_x0 + pad), int(bar_y)), (int(card_x1 - pad), int(bar_y + 4 * dp)),
                  (60, 60, 64) if dark else (225, 225, 230), -1)
    cv2.rectangle(img, (int(card_x0 + pad), int(bar_y)),
                  (int(card_x0 + pad + (card_w - 2 * pad) * _u(rng, 0.1, 1)), int(bar_y + 4 * dp)), accent, -1)

    # below the card: text, a button, a bottom navigation bar and the home indicator
    y = card_y1 + 20 * dp
    y = _text_lines(rng, img, margin + 8 * dp, W - margin, y, int(rng.integers(2, 6)), 12 * dp,
                    (70, 70, 76) if dark else (200, 200, 206))
    if y + 60 * dp < H - 90 * dp:
        _rounded_rect(img, margin, y + 10 * dp, W - margin, y + 58 * dp, 12 * dp, accent)
        _text(img, "Refresh", W / 2 - 36 * dp, y + 42 * dp, 16 * dp, (255, 255, 255), True)
    nav = H - 64 * dp
    img[int(nav):] = (30, 30, 32) if dark else (250, 250, 252)
    for i in range(4):
        cx = W * (i + 0.5) / 4
        cv2.circle(img, (int(cx), int(nav + 24 * dp)), int(9 * dp), accent if i == 0 else sub, -1, cv2.LINE_AA)
    cv2.rectangle(img, (int(W / 2 - 67 * dp), int(H - 10 * dp)), (int(W / 2 + 67 * dp), int(H - 6 * dp)), fg, -1)
    return img, (code_x0, code_y0, size)


# ---------------------------------------------------------------------------------------- geometry

def _rot_axis(axis, ang):
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + math.sin(ang) * k + (1 - math.cos(ang)) * (k @ k)


def _homography(f, ppx, ppy, R, T, ppmm, uc, vc):
    """Screen coordinates (pixels) -> camera pixel coordinates (integer = pixel centre)."""
    K = np.array([[f, 0, ppx], [0, f, ppy], [0, 0, 1.0]])
    cols = np.column_stack([R[:, 0] / ppmm, R[:, 1] / ppmm, T - R[:, 0] * uc / ppmm - R[:, 1] * vc / ppmm])
    return K @ cols


def _apply(Hm, pts):
    pts = np.asarray(pts, float)
    v = np.column_stack([pts, np.ones(len(pts))]) @ Hm.T
    return v[:, :2] / v[:, 2:3]


def _local_scale(Hm, x, y):
    """Singular values (max, min) of the Jacobian of Hm at screen point (x, y): camera px per screen px."""
    e = 0.5
    p = _apply(Hm, [(x, y), (x + e, y), (x, y + e)])
    J = np.column_stack([(p[1] - p[0]) / e, (p[2] - p[0]) / e])
    s = np.linalg.svd(J, compute_uv=False)
    return s[0], s[1]


def place_camera(rng, cfg, W, H, code_box, n, ppmm):
    """Random pose: the symbol spans the category's camera pixels per module and the symbol with its quiet
    zone lies inside the frame. Returns a dict with the homography and the achieved figures."""
    x0, y0, size = code_box
    uc, vc = x0 + size / 2, y0 + size / 2
    spm = size / n
    sym = np.array([(x0, y0), (x0 + size, y0), (x0 + size, y0 + size), (x0, y0 + size)])
    q = 4 * spm
    qzq = np.array([(x0 - q, y0 - q), (x0 + size + q, y0 - q), (x0 + size + q, y0 + size + q),
                    (x0 - q, y0 + size + q)])
    hfov = math.radians(_u(rng, 60, 78))
    f = (W / 2) / math.tan(hfov / 2)
    ppx, ppy = (W - 1) / 2.0, (H - 1) / 2.0
    lo, hi = cfg["cpm"]
    for attempt in range(400):
        target = _u(rng, lo, hi)
        tilt = math.radians(_u(rng, *cfg["tilt"]))
        phi = _u(rng, 0, math.pi)
        if rng.random() < 0.5:
            roll = rng.normal(0, math.radians(12))  # held roughly upright
        else:
            roll = _u(rng, -math.pi, math.pi)       # any angle
        R = _rot_axis((math.cos(phi), math.sin(phi), 0), tilt) @ _rot_axis((0, 0, 1), roll)

        def width_px(Hm):
            c = _apply(Hm, sym)
            return (np.linalg.norm(c[1] - c[0]) + np.linalg.norm(c[2] - c[3])) / 2.0 / n

        def pose(cx, cy, Z):
            T = Z * np.array([(cx - ppx) / f, (cy - ppy) / f, 1.0])
            return _homography(f, ppx, ppy, R, T, ppmm, uc, vc)

        Z = f * (size / ppmm) / (target * n)
        cx, cy = ppx, ppy
        for _ in range(4):
            Z *= width_px(pose(cx, cy, Z)) / target
        c = _apply(pose(cx, cy, Z), qzq)
        half_w = (c[:, 0].max() - c[:, 0].min()) / 2 + 3
        half_h = (c[:, 1].max() - c[:, 1].min()) / 2 + 3
        if 2 * half_w > W or 2 * half_h > H:
            continue
        cx = _u(rng, half_w, W - half_w)
        cy = _u(rng, half_h, H - half_h)
        for _ in range(3):
            Z *= width_px(pose(cx, cy, Z)) / target
        Hm = pose(cx, cy, Z)
        c = _apply(Hm, qzq)
        if c[:, 0].min() < 1 or c[:, 1].min() < 1 or c[:, 0].max() > W - 2 or c[:, 1].max() > H - 2:
            continue
        return dict(H=Hm, f=f, hfov=math.degrees(hfov), tilt=math.degrees(tilt), roll=math.degrees(roll) % 360,
                    Z=Z, cpm=width_px(Hm), qz_quad=c, sym_quad=_apply(Hm, sym), attempts=attempt + 1)
    raise RuntimeError("no pose found")


# ------------------------------------------------------------------------------------------ the scene

def background(rng, W, H, amb):
    """Desk / wall / clutter behind the phone, linear light."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    a = _u(rng, 0, 2 * math.pi)
    grad = (xx * math.cos(a) + yy * math.sin(a)) / max(W, H)
    img = amb * (_u(rng, 0.15, 0.45) + _u(rng, -0.15, 0.15) * grad).astype(np.float32)
    kind = rng.integers(3)
    if kind == 0:  # wood grain desk
        b = _u(rng, 0, math.pi)
        u = (xx * math.cos(b) + yy * math.sin(b))
        warp = smooth_noise(rng, H, W, _u(rng, 60, 200)) * _u(rng, 5, 20)
        grain = np.sin((u + warp) * (2 * math.pi / _u(rng, 6, 25)))
        img *= (1 + _u(rng, 0.1, 0.3) * grain + 0.15 * smooth_noise(rng, H, W, 40)).astype(np.float32)
    elif kind == 1:  # fabric / fine texture
        img *= (1 + 0.12 * rng.standard_normal((H, W)).astype(np.float32) + 0.2 * smooth_noise(rng, H, W, 25))
    else:  # painted wall, smooth blotches
        img *= (1 + 0.25 * smooth_noise(rng, H, W, _u(rng, 50, 150))).astype(np.float32)
    for _ in range(int(rng.integers(3, 10))):  # random shapes: papers, a keyboard, a mug ...
        level = amb * _u(rng, 0.02, 0.9)
        cx, cy = _u(rng, -0.1, 1.1) * W, _u(rng, -0.1, 1.1) * H
        s = _u(rng, 0.05, 0.5) * W
        m = np.zeros((H, W), np.uint8)
        if rng.random() < 0.5:
            box = cv2.boxPoints(((cx, cy), (s, s * _u(rng, 0.3, 1.5)), _u(rng, 0, 180)))
            cv2.fillPoly(m, [np.int32(np.round(box * 16))], 255, cv2.LINE_AA, 4)
        else:
            cv2.ellipse(m, (int(cx * 16), int(cy * 16)), (int(s * 8), int(s * 8 * _u(rng, 0.3, 1))),
                        _u(rng, 0, 180), 0, 360, 255, -1, cv2.LINE_AA, 4)
        alpha = m.astype(np.float32) / 255 * _u(rng, 0.5, 1.0)
        img = img * (1 - alpha) + level * alpha
    return np.maximum(img, 0).astype(np.float32)


def _screen_poly(Hm, pts):
    return np.int32(np.round(_apply(Hm, pts) * 16))


def _ellipse_pts(cx, cy, ax, ay, ang, n=72):
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    ca, sa = math.cos(ang), math.sin(ang)
    x, y = ax * np.cos(t), ay * np.sin(t)
    return np.column_stack([cx + x * ca - y * sa, cy + x * sa + y * ca])


def _fill(W, H, polys):
    m = np.zeros((H, W), np.uint8)
    for poly in polys:
        cv2.fillPoly(m, [poly], 255, cv2.LINE_AA, 4)
    return m.astype(np.float32) / 255.0


def _rounded_rect_pts(x0, y0, x1, y1, r, n=12):
    pts = []
    for cx, cy, a0 in ((x1 - r, y0 + r, -90), (x1 - r, y1 - r, 0), (x0 + r, y1 - r, 90), (x0 + r, y0 + r, 180)):
        for k in range(n + 1):
            a = math.radians(a0 + 90 * k / n)
            pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    return np.array(pts)


# ------------------------------------------------------------------------------------------ one image

def phone_geometry(rng):
    """A phone: its pixel density (ppi, px/mm), its screen in pixels, and the wallet card's width on it."""
    ppi = _u(rng, 400, 460)
    ppmm = ppi / 25.4
    screen_w = int(round(_u(rng, 63, 72) * ppmm))
    screen_h = int(round(screen_w * _u(rng, 2.0, 2.22)))
    card_w = screen_w - 2 * 20 * (ppi / 160)
    return ppi, ppmm, screen_w, screen_h, card_w


def wallet_screen(rng, matrix, screen_w, screen_h, ppi, spm, integer, dark=False, inverted=False):
    """The wallet app's screen with the code at `spm` screen pixels a module, and a drawn holder line:
    (screen, code box, the screen's parameters)."""
    p = dict(screen_w=screen_w, screen_h=screen_h, ppi=ppi, dark=dark, inverted=inverted, spm=spm,
             integer_origin=integer, smooth=(not integer) and rng.random() < 0.4,
             display_name="WANG XIAO MING" if rng.random() < 0.3 else "Holder %04d" % int(rng.integers(10000)),
             display_id="ID  %s****%s" % (chr(65 + int(rng.integers(26))), "%03d" % int(rng.integers(1000))))
    return render_screen(rng, matrix, p) + (p,)


def make_image(args):
    seed, index, cat, number, *given = args  # given: a token text to render instead of issuing one
    cfg = CATEGORIES[cat]
    rng = np.random.Generator(np.random.PCG64(seed + index))
    Wc, Hc = cfg["size"]

    text = given[0] if given and given[0] else issue_token(rng, cfg["token"])
    version, matrix = qr_matrix(text)
    n = matrix.shape[0]

    # ---- phone
    dark = bool(cfg.get("dark", False))
    inverted = dark and number % 2 == 1
    ppi, ppmm, screen_w, screen_h, card_w = phone_geometry(rng)
    code_mm = _u(rng, 30, 55)  # symbol width, without the quiet zone
    spm_max = min(55 * ppmm / n, card_w / (n + 8))  # symbol plus 4-module quiet zones fit on the card
    spm = min(code_mm * ppmm / n, spm_max)
    integer = rng.random() < 0.5
    if integer:  # the nearest whole number of screen pixels that keeps the symbol 30-55 mm and on the card
        fits = [k for k in (round(spm), math.floor(spm), math.ceil(spm)) if 30 * ppmm / n <= k <= spm_max]
        spm = float(fits[0] if fits else math.floor(spm))
    layout = ["stripe-gaprow", "stripe-gapcol", "pentile", "pentile"][int(rng.integers(4))]
    screen, code_box, p = wallet_screen(rng, matrix, screen_w, screen_h, ppi, spm, integer, dark, inverted)
    damaged = []
    if cfg.get("damage"):
        # Drawn on a copy for a twin without it: the same draws, so the same frame otherwise.
        target = screen if EFFECTS else screen.copy()
        damaged = damage_screen(rng, target, code_box, spm, int(rng.integers(cfg["damage"][0], cfg["damage"][1] + 1)))

    # ---- camera pose
    cam = place_camera(rng, cfg, Wc, Hc, code_box, n, ppmm)
    Hm = cam["H"]
    Hinv = np.linalg.inv(Hm)
    sigma_cam = _u(rng, 0.3, 0.8)
    cx_code, cy_code = code_box[0] + code_box[2] / 2, code_box[1] + code_box[2] / 2
    smax, smin = _local_scale(Hm, cx_code, cy_code)
    sigma_s = sigma_cam / math.sqrt(smax * smin)  # blur in screen pixels at the code

    # ---- screen emission (linear luma per channel), brightness, LCD black level
    brightness = _u(rng, 0.35, 1.0)
    black = _u(rng, 0.001, 0.004) if layout.startswith("stripe") else 0.0
    lin = SRGB_TO_LIN[screen]

    def emission(y0, y1, x0, x1):
        return (black + (1 - black) * lin[y0:y1, x0:x1]) * np.float32(brightness)

    bezel_px = _u(rng, 1.2, 3.0) * ppmm
    interp = cv2.INTER_NEAREST if rng.random() < 0.5 else cv2.INTER_LINEAR
    frame = _apply(Hinv, [(-1, -1), (Wc, -1), (Wc, Hc), (-1, Hc)])
    ext = min(bezel_px * 0.9, 5 * sigma_s + 2)

    def layer(rx0, ry0, rx1, ry1, cam_step, budget):
        """Grid over screen rectangle (clipped to the visible part), blurred screen sampled on it, warped."""
        rx0, ry0 = max(rx0, frame[:, 0].min() - 2), max(ry0, frame[:, 1].min() - 2)
        rx1, ry1 = min(rx1, frame[:, 0].max() + 2), min(ry1, frame[:, 1].max() + 2)
        pts = [(x, y) for x in np.linspace(rx0, rx1, 5) for y in np.linspace(ry0, ry1, 5)]
        zoom = max(_local_scale(Hm, x, y)[0] for x, y in pts)  # camera px per screen px, worst case
        step = cam_step / zoom
        nx, ny = int(math.ceil((rx1 - rx0) / step)) + 1, int(math.ceil((ry1 - ry0) / step)) + 1
        if nx * ny > budget:
            step *= math.sqrt(nx * ny / budget)
            nx, ny = int(math.ceil((rx1 - rx0) / step)) + 1, int(math.ceil((ry1 - ry0) / step)) + 1
        reach = int(math.ceil(5 * sigma_s + 2))
        cx0, cy0 = max(0, int(math.floor(rx0)) - reach), max(0, int(math.floor(ry0)) - reach)
        cx1, cy1 = min(screen_w, int(math.ceil(rx1)) + reach), min(screen_h, int(math.ceil(ry1)) + reach)
        em = emission(cy0, cy1, cx0, cx1)
        grid = render_blurred(em, cx0, cy0, rx0, ry0, step, nx, ny, sigma_s, layout)
        S = np.array([[step, 0, rx0], [0, step, ry0], [0, 0, 1.0]])
        M = Hm @ S
        img = cv2.warpPerspective(grid, M, (Wc, Hc), flags=interp, borderMode=cv2.BORDER_REPLICATE)
        ones = np.ones((ny, nx), np.float32)
        ones[0, :] = ones[-1, :] = ones[:, 0] = ones[:, -1] = 0
        mask = cv2.warpPerspective(ones, M, (Wc, Hc), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT)
        return img, mask, step * zoom

    # whole visible screen, coarser; then the code region finely (the part the decoder needs)
    layer_a, mask_a, _ = layer(-ext, -ext, screen_w + ext, screen_h + ext,
                                    max(sigma_cam / 2, 0.25), 3.0e6 if Wc <= 640 else 4.0e6)
    m4 = 6 * spm
    x0, y0, size = code_box
    layer_b, mask_b, _ = layer(x0 - m4, y0 - m4, x0 + size + m4, y0 + size + m4,
                                    min(0.2, sigma_cam / 2.5), 8.0e6)

    # ---- scene, linear light; the screen's white at full brightness is 1
    amb = _u(rng, 0.15, 0.6)  # room light on white paper, relative to the screen's white
    scene = background(rng, Wc, Hc, amb)
    scene = cv2.GaussianBlur(scene, (0, 0), sigma_cam * _u(rng, 1.0, 3.0))
    skin = amb * _u(rng, 0.2, 0.45)
    body_pad = bezel_px
    body = _rounded_rect_pts(-body_pad, -body_pad, screen_w + body_pad, screen_h + body_pad, 8 * ppmm)
    qzb = (x0 - 5 * spm, y0 - 5 * spm, x0 + size + 5 * spm, y0 + size + 5 * spm)  # keep-out for fingers

    def clear_of_code(pts):
        return (pts[:, 0].max() < qzb[0] or pts[:, 0].min() > qzb[2] or pts[:, 1].max() < qzb[1]
                or pts[:, 1].min() > qzb[3])

    # palm behind the phone
    if rng.random() < 0.8:
        palm = _ellipse_pts(screen_w * _u(rng, 0.3, 0.7), screen_h * _u(rng, 0.75, 1.0), screen_w * _u(rng, 0.5, 0.8),
                            screen_h * _u(rng, 0.2, 0.35), _u(rng, -0.4, 0.4))
        m = _fill(Wc, Hc, [_screen_poly(Hm, palm)])
        shade = (1 + 0.15 * smooth_noise(rng, Hc, Wc, 60)).astype(np.float32)
        scene = scene * (1 - m) + skin * shade * m
    # ambient light reflected by the glass: a base level plus the blurred, uneven reflection of the room
    glass = amb * _u(rng, 0.01, 0.05) * (1 + _u(rng, 0.3, 1.0) * smooth_noise(rng, Hc, Wc, _u(rng, 40, 160)))
    glass = np.maximum(glass, 0).astype(np.float32)
    m_body = cv2.GaussianBlur(_fill(Wc, Hc, [_screen_poly(Hm, body)]), (0, 0), sigma_cam)
    img = scene * (1 - m_body) + glass * m_body
    img = img * (1 - mask_a) + (layer_a + glass) * mask_a
    img = img * (1 - mask_b) + (layer_b + glass) * mask_b
    # fingers over the phone's edges (never over the code and its quiet zone)
    fingers = []
    for _ in range(int(rng.integers(0, 4))):
        side = int(rng.integers(2))
        fx = -body_pad + _u(rng, -3, 8) * ppmm if side == 0 else screen_w + body_pad - _u(rng, -3, 8) * ppmm
        fy = screen_h * _u(rng, 0.25, 0.95)
        pts = _ellipse_pts(fx, fy, _u(rng, 7, 11) * ppmm, _u(rng, 18, 30) * ppmm, _u(rng, -0.5, 0.5))
        if clear_of_code(pts):
            fingers.append(_screen_poly(Hm, pts))
    if fingers:
        m = cv2.GaussianBlur(_fill(Wc, Hc, fingers), (0, 0), sigma_cam)
        shade = (1 + 0.2 * smooth_noise(rng, Hc, Wc, 30)).astype(np.float32)
        img = img * (1 - m) + skin * 1.1 * shade * m

    # ---- glare, veiling, exposure
    strong = cfg["glare"] == "strong"
    code_c = _apply(Hm, [(cx_code, cy_code)])[0]
    code_px = size * math.sqrt(smax * smin)
    # white level: the screen's white after the exposure gain (1 = clips exactly)
    glare_peak, glare_on_code, veil, glare_note = 0.0, False, 0.0, None
    if cfg["glare"] == "veil":
        # Over the code, always. The camera meters on the brightest part of the phone, so the lifted whites
        # stay just below clipping and the code's contrast is compressed; a core is brighter than the
        # metering follows: it clips.
        shape = _choice(rng, GLARE_OVER_CODE["shapes"])
        core = rng.random() < GLARE_OVER_CODE["core_share"]
        peak = _u(rng, *(GLARE_OVER_CODE["core"] if core else GLARE_OVER_CODE["veil"]))
        centre = code_c + rng.normal(0, 0.25 * code_px, 2)
        field = reflection_field(rng, Wc, Hc, centre, code_px, shape)
        white = _u(rng, 0.85, 1.0)
        if EFFECTS:
            img = img + field * np.float32(brightness * peak) * m_body
            white /= 1 + (min(peak, 1.3) if core else peak)
        veil = brightness * _u(rng, 0.0, 0.06)
        glare_note = "%s %.2f%s over code" % (shape, peak, " core" if core else "")
    else:
        white = _u(rng, 1.05, 1.6) if rng.random() < 0.25 else _u(rng, 0.5, 1.0)  # auto-exposure errs bright
        if dark and not inverted:
            white = _u(rng, 0.75, 1.8)  # auto-exposure raises the gain on a dark screen
        effects = []
        if strong:
            kinds = [k for k in ("glare", "veil", "overexposed") if rng.random() < 0.4]
            if not kinds:
                kinds = [["glare", "veil", "overexposed"][int(rng.integers(3))]]
            effects = kinds
        if "glare" in effects or (not strong and rng.random() < 0.6):
            glare_peak = brightness * (_u(rng, 0.6, 2.0) if "glare" in effects else _u(rng, 0.05, 0.5))
            glare_on_code = "glare" in effects or rng.random() < 0.4
            if glare_on_code:
                gx, gy = code_c + rng.normal(0, 0.25 * code_px, 2)
            else:
                gx, gy = _u(rng, 0, Wc), _u(rng, 0, Hc)
            ax = code_px * _u(rng, 0.15, 0.6)
            ay = ax * _u(rng, 0.3, 1.0)
            ang = _u(rng, 0, math.pi)
            yy, xx = np.mgrid[0:Hc, 0:Wc].astype(np.float32)
            u = ((xx - gx) * math.cos(ang) + (yy - gy) * math.sin(ang)) / ax
            v = (-(xx - gx) * math.sin(ang) + (yy - gy) * math.cos(ang)) / ay
            power = _u(rng, 1.0, 3.0)  # 1: Gaussian; larger: flatter top, sharper edge (a lamp's reflection)
            blob = np.exp(-np.power(u * u + v * v, power) * 1.0).astype(np.float32)
            img = img + glare_peak * blob * m_body
        if "veil" in effects:
            veil = brightness * _u(rng, 0.15, 0.45)
        elif not strong:
            veil = brightness * _u(rng, 0.0, 0.06)
        if "overexposed" in effects:
            white = _u(rng, 1.6, 3.5)
    img = img + veil
    gain = white / brightness
    img = img * np.float32(gain)

    # ---- sensor noise (Gaussian read noise + signal-dependent shot noise), clipping, tone curve, JPEG
    noise_range = cfg.get("noise", INDOOR_NOISE if cfg["glare"] == "veil" else dict(read=(0.0008, 0.0025), shot=(0.0005, 0.003)))
    read = _u(rng, *noise_range["read"])
    shot = _u(rng, *noise_range["shot"])
    noise = rng.standard_normal((Hc, Wc)).astype(np.float32)
    img = img + noise * np.sqrt(read * read + shot * np.clip(img, 0, None)).astype(np.float32)
    out8 = lin_to_srgb8(img)
    quality = int(rng.integers(60, 91))
    ok, jpg = cv2.imencode(".jpg", out8, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok

    notes = ("%s, %.0f ppi, %.2f screen px/module (%s, %s), code %.1f mm; %s; sigma %.2f px; roll %.0f deg; "
             "brightness %.2f, white level %.2f%s; glare %s; veil %.3f; JPEG q%d; %s; QR v%d (%d chars)") % (
        layout, ppi, spm, "integer" if integer else "non-integer", "bilinear" if p["smooth"] else "nearest",
        size / ppmm, "dark mode, inverted code" if inverted else ("dark mode" if dark else "light mode"),
        sigma_cam, cam["roll"], brightness, white, " (overexposed)" if white > 1.05 else "",
        glare_note or (("%.2f%s" % (glare_peak / brightness, " over code" if glare_on_code else " elsewhere"))
                       if glare_peak else "none"),
        veil / brightness, quality, "INTER_NEAREST" if interp == cv2.INTER_NEAREST else "INTER_LINEAR",
        version, len(text))
    if damaged:
        notes += "; damage " + "+".join(damaged)
    if not EFFECTS and (cfg["glare"] == "veil" or damaged):
        notes = "(without its effects) " + notes
    entry = {"file": "%s/%03d.jpg" % (cat, number), "category": cat, "text": text, "width": Wc, "height": Hc,
             "modulePixels": round(float(cam["cpm"]), 3), "tiltDegrees": round(float(cam["tilt"]), 2),
             "darkMode": dark, "inverted": inverted, "qrVersion": version, "notes": notes}
    return entry, jpg.tobytes()


# ------------------------------------------------------------------------------------------------ main

def set_generator(args, generator):
    """The generator a set's truth.json names: a --without-effects set says it is the twins."""
    return generator + " (without effects)" if args.without_effects else generator


def set_is_current(args, generator):
    """Whether --out already holds a set this generator made (--unless-current: the benchmarks make a set
    again only when it is missing or an older generator made it, one without the newer categories)."""
    try:
        with open(os.path.join(args.out, "truth.json"), encoding="utf-8") as fh:
            return json.load(fh).get("generator") == set_generator(args, generator)
    except (OSError, ValueError, AttributeError):
        return False


def write_truth(args, generator, entries, started):
    """DIR/truth.json: the generator, the seed and every image's entry (the still-image generator's too)."""
    truth = {"seed": args.seed, "generator": set_generator(args, generator), "images": entries}
    with open(os.path.join(args.out, "truth.json"), "w", encoding="utf-8") as fh:
        json.dump(truth, fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    print("wrote %d images to %s in %.1f s" % (len(entries), args.out, time.time() - started), file=sys.stderr)


def add_set_arguments(ap, per_category, jobs, without_effects):
    """The options every set generator takes (the still-image one too); `without_effects`: what that
    option leaves out, in its help."""
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--per-category", type=int, default=per_category)
    ap.add_argument("--only", help="comma-separated categories (default: all)")
    ap.add_argument("--jobs", type=int, default=jobs, help="worker processes (the output is the same)")
    ap.add_argument("--without-effects", action="store_true", help=without_effects)
    ap.add_argument("--unless-current", action="store_true",
                    help="do nothing when --out holds a set this generator made already (its truth.json says so)")


def category_jobs(ap, args, categories):
    """The images to make for --only, --per-category and --seed, one (seed, index, category, number) each,
    with each category's folder made; a bad argument is a usage error. The still-image generator shares it."""
    cats = list(categories)
    if args.only:
        cats = [c.strip() for c in args.only.split(",") if c.strip()]
        bad = [c for c in cats if c not in categories]
        if bad:
            ap.error("unknown categories: %s (known: %s)" % (", ".join(bad), ", ".join(categories)))
    if not 1 <= args.per_category < CATEGORY_STRIDE:
        ap.error("--per-category must be 1..%d" % (CATEGORY_STRIDE - 1))
    jobs = []
    for cat in cats:
        k = list(categories).index(cat)
        os.makedirs(os.path.join(args.out, cat), exist_ok=True)
        jobs += [(args.seed, k * CATEGORY_STRIDE + i, cat, i) for i in range(args.per_category)]
    return jobs


def _init_worker():
    cv2.setNumThreads(1)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_set_arguments(ap, per_category=50, jobs=os.cpu_count() or 1, without_effects=(
        "the same frames without their veiling glare or damage (the twins glare-veil-* and damaged-640 are "
        "measured against)"))
    ap.add_argument("--token", action="append", help="render this token text (repeatable) as phone-N.jpg in --out, "
                    "photographed as in --category, instead of generating the set (the README's demonstration)")
    ap.add_argument("--category", default="plain-640", help="with --token: the camera and screen model to use")
    args = ap.parse_args(argv)
    global EFFECTS
    EFFECTS = not args.without_effects
    if args.token:
        if args.category not in CATEGORIES:
            ap.error("unknown category %s" % args.category)
        os.makedirs(args.out, exist_ok=True)
        cv2.setNumThreads(1)
        for i, text in enumerate(args.token):
            _, data = make_image((args.seed, i, args.category, 0, text))
            with open(os.path.join(args.out, "phone-%d.jpg" % i), "wb") as fh:
                fh.write(data)
        return 0
    if args.unless_current and set_is_current(args, GENERATOR):
        print("%s holds a set of %s already" % (args.out, GENERATOR), file=sys.stderr)
        return 0
    jobs = category_jobs(ap, args, CATEGORIES)
    t0 = time.time()
    cv2.setNumThreads(1)
    entries = []
    if args.jobs > 1:
        with multiprocessing.get_context("fork").Pool(args.jobs, initializer=_init_worker) as pool:
            results = pool.imap(make_image, jobs, chunksize=1)
            for entry, data in results:
                with open(os.path.join(args.out, entry["file"]), "wb") as fh:
                    fh.write(data)
                entries.append(entry)
    else:
        for job in jobs:
            entry, data = make_image(job)
            with open(os.path.join(args.out, entry["file"]), "wb") as fh:
                fh.write(data)
            entries.append(entry)
    write_truth(args, GENERATOR, entries, t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
