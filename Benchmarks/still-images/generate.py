#!/usr/bin/env python3
"""Deterministic still-image QR benchmark set for the telemedicine path: photos and screenshots that a
clinician pastes or uploads, each holding one or more real VHC1 tokens.

    python3 Benchmarks/still-images/generate.py --out DIR [--seed 1] [--per-category 16] [--only CAT,CAT]
                                                [--jobs 2]

Writes DIR/<category>/<NNN>.jpg (colour JPEG photos) or .png (lossless screenshots) and DIR/truth.json.
The same seed and arguments give byte-identical files on the same library versions and machine type.
The phone UI, tokens, QR encoder and camera pose come from Benchmarks/phone-screens/generate.py,
imported by path. See README.md next to this file for the model and the category parameters.

Needs numpy, opencv (cv2), libqrencode.so.4 and `cryptography` (as the phone-screens generator does).
"""
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import math  # noqa: E402
import multiprocessing  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True


def _load_phone_screens():
    path = os.path.join(HERE, "..", "phone-screens", "generate.py")
    spec = importlib.util.spec_from_file_location("vhc_phone_screens_generate", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ps = _load_phone_screens()
_u = ps._u
_lowres_up = ps._lowres_up
_choice = ps._choice

GENERATOR = "vhc still-images 2"  # 2: issue 26's glare-veil and damaged categories added
CATEGORY_STRIDE = ps.CATEGORY_STRIDE  # image index = category number * stride + image number

# frame sizes (width, height)
MP4, MP8, MP12 = (2304, 1728), (3264, 2448), (4032, 3024)

# code: fraction of the frame width the symbol spans; sigma: defocus blur in pixels at 4 MP (scaled by
# width / 2304); motion: probability of motion blur and its length at 4 MP; glare: probability.
PHOTO = dict(code=(0.12, 0.40), tilt=(0, 35), sigma=(0.5, 3.6), motion=(0.3, 3, 10), glare=0.3)
# False: every image as it would be without its glare or damage (the same draws): each reader's loss to them.
EFFECTS = True
GLARE_OVER_CODE = ps.GLARE_OVER_CODE
CATEGORIES = {
    "photo-4mp": dict(kind="photo", sizes=[MP4], **PHOTO),
    "photo-8mp": dict(kind="photo", sizes=[MP8], **PHOTO),
    "photo-12mp": dict(kind="photo", sizes=[MP12], **PHOTO),
    "monitor-photo": dict(kind="monitor", sizes=[MP8, MP12], zoom=(0.85, 1.45), spm=(2.2, 4.0), tilt=(0, 25),
                          sigma=(0.35, 1.0)),
    "screenshot-fhd": dict(kind="screenshot", size=(1920, 1080), module=(1.5, 3.5),
                           streams=[(1920, 1080)], codec_q=(55, 86)),
    "screenshot-4k": dict(kind="screenshot", size=(3840, 2160), module=(2.5, 6.0),
                          streams=[(2560, 1440), (2560, 1440), (1920, 1080)],
                          codec_q=(45, 81)),
    "multi-code-page": dict(kind="page", sizes=[(2000, 3000), (2448, 3264), (3024, 4032)], codes=(3, 9),
                            page_fill=(0.6, 0.9), tilt=(0, 30), sigma=(0.5, 2.2), module_mm=(0.55, 1.0)),
    "high-version": dict(kind="high", sizes=[MP4, MP8], versions=(14, 25), code=(0.14, 0.40), tilt=(0, 30),
                         sigma=(0.5, 3.0)),
    # Issue 26: the front desk's phone under ceiling lights and windows, and phones that are not whole.
    "glare-veil": dict(kind="photo", sizes=[MP4, MP8], **dict(PHOTO, code=(0.09, 0.30), glare=GLARE_OVER_CODE,
                                                                   noise=ps.INDOOR_NOISE)),
    "damaged": dict(kind="photo", sizes=[MP4, MP8], **dict(PHOTO, damage=(1, 3))),
}

# Display sub-pixel layouts, in the phone-screens format: (channel, x0, x1, y0, y1, parity) in 1/6 pixel.
LAYOUTS = dict(ps.LAYOUTS)
LAYOUTS["monitor-stripe"] = [(0, 0.4, 1.6, 0.5, 5.5, None), (1, 2.4, 3.6, 0.5, 5.5, None),
                             (2, 4.4, 5.6, 0.5, 5.5, None)]
LAYOUTS["monitor-stripe-wide"] = [(0, 0.2, 1.8, 0.3, 5.7, None), (1, 2.2, 3.8, 0.3, 5.7, None),
                                  (2, 4.2, 5.8, 0.3, 5.7, None)]
# camera colour filters see a little of the neighbouring display primaries
CROSSTALK = np.array([[0.86, 0.12, 0.02], [0.08, 0.84, 0.08], [0.02, 0.14, 0.84]], np.float32)
ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


# ------------------------------------------------------------------------------------------ helpers

def subpixel_lut(rects, sigma, L=16):
    """Blurred sub-pixel emission pattern over one 2×2-pixel period, per channel (L samples per pixel),
    normalised so that each channel's area mean is 1. sigma: optical blur in display pixels."""
    s = max(sigma, 0.04)
    xs = (np.arange(2 * L) + 0.5) / L
    K = int(math.ceil(5 * s / 2)) + 1
    lut = np.zeros((2 * L, 2 * L, 3))
    for ch, x0, x1, y0, y1, parity in rects:
        w = 36.0 / ((x1 - x0) * (y1 - y0)) * (1 if parity is None else 2)
        for py in range(2):
            for px in range(2):
                if parity is not None and (px + py) % 2 != parity:
                    continue
                ax = np.zeros_like(xs)
                ay = np.zeros_like(xs)
                for k in range(-K, K + 1):
                    ax += ps._phi((xs - (px + 2 * k + x0 / 6)) / s) - ps._phi((xs - (px + 2 * k + x1 / 6)) / s)
                    ay += ps._phi((xs - (py + 2 * k + y0 / 6)) / s) - ps._phi((xs - (py + 2 * k + y1 / 6)) / s)
                lut[:, :, ch] += w * ay[:, None] * ax[None, :]
    lut /= lut.reshape(-1, 3).mean(0)
    return lut.astype(np.float32)


def _bbox(pts, W, H, pad=3):
    x0 = max(0, int(math.floor(pts[:, 0].min())) - pad)
    y0 = max(0, int(math.floor(pts[:, 1].min())) - pad)
    x1 = min(W, int(math.ceil(pts[:, 0].max())) + pad)
    y1 = min(H, int(math.ceil(pts[:, 1].max())) + pad)
    return x0, y0, x1, y1


def _translate(dx, dy):
    return np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1.0]])


def _fill_box(box, polys):
    """Anti-aliased mask (float32, 0..1) of camera-frame polygons within box (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    m = np.zeros((y1 - y0, x1 - x0), np.uint8)
    for poly in polys:
        cv2.fillPoly(m, [np.int32(np.round((poly - (x0, y0)) * 16))], 255, cv2.LINE_AA, 4)
    return m.astype(np.float32) * np.float32(1 / 255)


def render_emissive(em, Hm, fine, rects, sigma_cam, W, H, max_up=6):
    """A display photographed by the camera: em is the linear RGB emission per display pixel (h, w, 3),
    Hm maps display coordinates (pixel q spans [q, q+1)) to camera pixel centres. The display is blurred
    by the optics (sigma_cam camera pixels, mapped to display units at the `fine` rectangle), point-sampled
    at the camera pixels and multiplied by the blurred sub-pixel pattern of `rects`, which is where the
    moiré comes from. The `fine` rectangle (display pixels) is resampled at ceil(zoom) times the display
    resolution so its edges stay sharp. Returns (box, rgb, mask) in camera coordinates, box = x0, y0, x1, y1."""
    sh, sw = em.shape[:2]
    corners = ps._apply(Hm, [(0, 0), (sw, 0), (sw, sh), (0, sh)])
    box = _bbox(corners, W, H)
    bx0, by0, bx1, by1 = box
    bw, bh = bx1 - bx0, by1 - by0
    T = _translate(-bx0, -by0)
    fx0, fy0, fx1, fy1 = fine
    smax, smin = ps._local_scale(Hm, (fx0 + fx1) / 2, (fy0 + fy1) / 2)
    zoom = math.sqrt(smax * smin)
    sig_s = sigma_cam / zoom
    a = cv2.GaussianBlur(em, (0, 0), sig_s) if sig_s > 0.25 else em
    S1 = _translate(0.5, 0.5)
    img = cv2.warpPerspective(a, T @ Hm @ S1, (bw, bh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    U = int(min(max_up, max(1, math.ceil(smax))))
    qx0, qy0 = max(0, int(math.floor(fx0))), max(0, int(math.floor(fy0)))
    qx1, qy1 = min(sw, int(math.ceil(fx1))), min(sh, int(math.ceil(fy1)))
    crop = em[qy0:qy1, qx0:qx1]
    up = np.repeat(np.repeat(crop, U, 0), U, 1) if U > 1 else crop
    if sig_s * U > 0.25:
        up = cv2.GaussianBlur(up, (0, 0), sig_s * U)
    S = np.array([[1.0 / U, 0, qx0 + 0.5 / U], [0, 1.0 / U, qy0 + 0.5 / U], [0, 0, 1]])
    fine_img = cv2.warpPerspective(up, T @ Hm @ S, (bw, bh), flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_REPLICATE)
    ones = np.ones((qy1 - qy0, qx1 - qx0), np.float32)
    ones[:2, :] = ones[-2:, :] = ones[:, :2] = ones[:, -2:] = 0
    mb = cv2.warpPerspective(ones, T @ Hm @ _translate(qx0 + 0.5, qy0 + 0.5), (bw, bh), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_CONSTANT)
    img += (fine_img - img) * mb[:, :, None]
    del fine_img, up
    # sub-pixel pattern, sampled at each camera pixel's display position
    L = 16
    lut = subpixel_lut(rects, sig_s, L)
    Hi = np.linalg.inv(T @ Hm)
    xs = np.arange(bw, dtype=np.float64)[None, :]
    ys = np.arange(bh, dtype=np.float64)[:, None]
    den = Hi[2, 0] * xs + Hi[2, 1] * ys + Hi[2, 2]
    mx = np.mod((Hi[0, 0] * xs + Hi[0, 1] * ys + Hi[0, 2]) / den * L - 0.5, 2 * L).astype(np.float32)
    my = np.mod((Hi[1, 0] * xs + Hi[1, 1] * ys + Hi[1, 2]) / den * L - 0.5, 2 * L).astype(np.float32)
    del den
    img *= cv2.remap(lut, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
    mask = _fill_box(box, [corners])
    return box, img, mask, zoom


def motion_kernel(rng, length):
    k = int(math.ceil(length)) | 1
    ker = np.zeros((k + 2, k + 2), np.uint8)
    a = _u(rng, 0, math.pi)
    c = (k + 1) / 2
    dx, dy = math.cos(a) * (length - 1) / 2, math.sin(a) * (length - 1) / 2
    cv2.line(ker, (int(round((c - dx) * 16)), int(round((c - dy) * 16))),
             (int(round((c + dx) * 16)), int(round((c + dy) * 16))), 255, 1, cv2.LINE_AA, 4)
    ker = ker.astype(np.float32)
    return ker / ker.sum()


_TONE = None


def tone8(x):
    """Linear -> 8-bit sRGB through a 4096-entry table (clips)."""
    global _TONE
    if _TONE is None:
        _TONE = ps.lin_to_srgb8(np.arange(4096) / 4095.0)
    idx = np.clip(x * 4095.0 + 0.5, 0, 4095).astype(np.uint16)
    return _TONE[idx]


def camera_finish(rng, lin_rgb, read=(0.001, 0.003), shot=(0.0008, 0.003), sharpen=(0.2, 0.8)):
    """Bayer RGGB sensor: crosstalk, mosaic, read + shot noise, tone curve, demosaic, sharpening.
    Returns BGR uint8."""
    img = cv2.transform(lin_rgb, CROSSTALK)
    H, W = img.shape[:2]
    mosaic = np.empty((H, W), np.float32)
    mosaic[0::2, 0::2] = img[0::2, 0::2, 0]
    mosaic[0::2, 1::2] = img[0::2, 1::2, 1]
    mosaic[1::2, 0::2] = img[1::2, 0::2, 1]
    mosaic[1::2, 1::2] = img[1::2, 1::2, 2]
    del img
    r, s = _u(rng, *read), _u(rng, *shot)
    noise = rng.standard_normal((H, W), dtype=np.float32)
    mosaic += noise * np.sqrt(np.float32(r * r) + np.float32(s) * np.clip(mosaic, 0, None))
    del noise
    bgr = cv2.cvtColor(tone8(mosaic), cv2.COLOR_BayerRGGB2BGR)
    amount = _u(rng, *sharpen)
    soft = cv2.GaussianBlur(bgr, (0, 0), 1.2)
    return cv2.addWeighted(bgr, 1 + amount, soft, -amount, 0)



def shoot(rng, img, chance, motion, scale, noise=None):
    """The camera's last steps, in one order for every kind of photo: motion blur with `chance`
    (`motion` px at the reference size, times `scale`), the sensor, then JPEG at quality 88-92."""
    mot = 0.0
    if rng.random() < chance:
        mot = _u(rng, *motion) * scale
        img = apply_motion(rng, img, mot)
    bgr = camera_finish(rng, img, **(noise or {}))
    q = int(rng.integers(88, 93))
    return jpeg(bgr, q), mot, q

def jpeg(bgr, quality):
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    assert ok
    return data.tobytes()


def colour_background(rng, W, H, amb, person=False):
    """Room behind the subject (linear RGB), built at 1/4 resolution and scaled up (it is out of focus)."""
    w4, h4 = max(8, W // 4), max(8, H // 4)
    g = ps.background(rng, w4, h4, amb)
    tint = np.array([_u(rng, 0.7, 1.2), _u(rng, 0.75, 1.1), _u(rng, 0.6, 1.1)], np.float32)
    bg = g[:, :, None] * tint[None, None, :]
    bg *= (1 + 0.12 * np.stack([ps.smooth_noise(rng, h4, w4, 40) for _ in range(3)], -1)).astype(np.float32)
    if person:  # torso, neck, head and hair of the person holding the phone up
        skin = np.array([0.55, 0.38, 0.28], np.float32) * amb * _u(rng, 0.5, 1.0)
        shirt = np.array([_u(rng, 0.02, 0.5), _u(rng, 0.02, 0.5), _u(rng, 0.02, 0.5)], np.float32) * amb
        hair = np.array([0.03, 0.025, 0.02], np.float32) * amb
        cx = _u(rng, 0.3, 0.7) * w4
        head = _u(rng, 0.13, 0.2) * h4
        hy = _u(rng, 0.25, 0.45) * h4
        m = np.zeros((h4, w4), np.uint8)
        cv2.ellipse(m, (int(cx), int(hy + 3.8 * head)), (int(2.6 * head), int(2.4 * head)), 0, 0, 360, 255, -1)
        bg[m > 0] = shirt
        m[:] = 0
        cv2.rectangle(m, (int(cx - 0.4 * head), int(hy)), (int(cx + 0.4 * head), int(hy + 1.8 * head)), 255, -1)
        cv2.ellipse(m, (int(cx), int(hy)), (int(0.8 * head), int(head)), 0, 0, 360, 255, -1)
        bg[m > 0] = skin
        m[:] = 0
        cv2.ellipse(m, (int(cx), int(hy - 0.35 * head)), (int(0.85 * head), int(0.75 * head)), 0, 180, 360, 255, -1)
        bg[m > 0] = hair
    return _lowres_up(np.ascontiguousarray(bg), W, H)


def glare_field(rng, W, H, centre, size, peak):
    """Additive elliptical reflection (flat-topped to Gaussian), at 1/4 resolution, scaled up."""
    w4, h4 = max(8, W // 4), max(8, H // 4)
    yy, xx = np.mgrid[0:h4, 0:w4].astype(np.float32)
    gx, gy = centre[0] / 4, centre[1] / 4
    ax = max(2.0, size / 4 * _u(rng, 0.15, 0.6))
    ay = ax * _u(rng, 0.3, 1.0)
    ang = _u(rng, 0, math.pi)
    u = ((xx - gx) * math.cos(ang) + (yy - gy) * math.sin(ang)) / ax
    v = (-(xx - gx) * math.sin(ang) + (yy - gy) * math.cos(ang)) / ay
    blob = np.exp(-np.power(u * u + v * v, _u(rng, 1.0, 3.0))).astype(np.float32) * np.float32(peak)
    return _lowres_up(blob, W, H)


# ------------------------------------------------------------------------------------------- payloads

_CAPACITY = {}


def capacity(version):
    """Longest alphanumeric text libqrencode puts in at most `version` (ECC Q, as phone-screens uses)."""
    if version not in _CAPACITY:
        lo, hi = 1, 4000
        while lo < hi:
            mid = (lo + hi + 1) // 2
            try:
                ok = ps.qr_matrix("A" * mid)[0] <= version
            except RuntimeError:
                ok = False
            lo, hi = (mid, hi) if ok else (lo, mid - 1)
        _CAPACITY[version] = lo
    return _CAPACITY[version]


def long_payload(rng, version):
    """A real token, a space and a printable alphanumeric suffix, sized so that the QR is `version`."""
    token = ps.issue_token(rng, "plain" if rng.random() < 0.6 else "delegated")
    total = int(rng.integers(capacity(version - 1) + 1, capacity(version) + 1))
    total = max(total, len(token) + 2)
    suffix = "".join(ALNUM[int(i)] for i in rng.integers(0, len(ALNUM), total - len(token) - 1))
    text = token + " " + suffix
    v, matrix = ps.qr_matrix(text)
    assert v == version, (v, version, len(text))
    return text, matrix


# ---------------------------------------------------------------------------------------- phone photo

def phone_screen(rng, matrix, spm_range_mm=(30, 55)):
    """The wallet app's screen (phone-screens' render_screen) with the phone-screens sizing rules."""
    n = matrix.shape[0]
    ppi, ppmm, screen_w, screen_h, card_w = ps.phone_geometry(rng)
    spm_max = min(spm_range_mm[1] * ppmm / n, card_w / (n + 8))
    spm = min(_u(rng, *spm_range_mm) * ppmm / n, spm_max)
    integer = rng.random() < 0.5
    if integer:
        spm = float(max(1, math.floor(spm) if round(spm) > spm_max else round(spm)))
    layout = _choice(rng, ["stripe-gaprow", "stripe-gapcol", "pentile", "pentile"])
    screen, code_box, _ = ps.wallet_screen(rng, matrix, screen_w, screen_h, ppi, spm, integer)
    return screen, code_box, ppmm, spm, layout


def phone_photo(rng, matrix, W, H, cpm, tilt, sigma_cam, glare, person=False, damage=None):
    """Linear RGB camera frame of a phone showing `matrix`, held in a hand in a room. `glare`: the chance
    of a reflection somewhere on the glass, or GLARE_OVER_CODE's kind of dict for one always over the code;
    `damage`: how many kinds of damage (a range) to draw over the code (damage_screen)."""
    n = matrix.shape[0]
    screen, code_box, ppmm, spm, layout = phone_screen(rng, matrix)
    damaged = []
    if damage:
        # Drawn on a copy for a twin without it: the same draws, so the same photo otherwise.
        target = screen if EFFECTS else screen.copy()
        damaged = ps.damage_screen(rng, target, code_box, spm, int(rng.integers(damage[0], damage[1] + 1)))
    cam = ps.place_camera(rng, dict(cpm=cpm, tilt=tilt), W, H, code_box, n, ppmm)
    Hm = cam["H"]
    brightness = _u(rng, 0.45, 1.0)
    black = _u(rng, 0.001, 0.004) if layout.startswith("stripe") else 0.0
    em = (black + (1 - black) * ps.SRGB_TO_LIN[screen]) * np.float32(brightness)
    x0, y0, size = code_box
    m6 = 6 * spm
    box, layer, mask, zoom = render_emissive(em, Hm, (x0 - m6, y0 - m6, x0 + size + m6, y0 + size + m6),
                                             LAYOUTS[layout], sigma_cam, W, H)
    del em
    amb = _u(rng, 0.15, 0.6)
    img = colour_background(rng, W, H, amb, person)
    skin = np.array([0.55, 0.4, 0.3], np.float32) * amb * _u(rng, 0.5, 0.9)
    sw, sh = screen.shape[1], screen.shape[0]
    bezel = _u(rng, 1.2, 3.0) * ppmm
    body = ps._apply(Hm, ps._rounded_rect_pts(-bezel, -bezel, sw + bezel, sh + bezel, 8 * ppmm))
    if rng.random() < 0.8:  # palm behind the phone
        palm = ps._apply(Hm, ps._ellipse_pts(sw * _u(rng, 0.3, 0.7), sh * _u(rng, 0.75, 1.0), sw * _u(rng, 0.5, 0.8),
                                             sh * _u(rng, 0.2, 0.35), _u(rng, -0.4, 0.4)))
        pb = _bbox(palm, W, H)
        if pb[2] > pb[0] and pb[3] > pb[1]:
            m = _fill_box(pb, [palm])[:, :, None]
            sub = img[pb[1]:pb[3], pb[0]:pb[2]]
            sub += (skin - sub) * m
    bb = _bbox(body, W, H)
    glass = np.float32(amb * _u(rng, 0.01, 0.05))
    if bb[2] > bb[0] and bb[3] > bb[1]:
        mb = cv2.GaussianBlur(_fill_box(bb, [body]), (0, 0), max(0.5, sigma_cam))[:, :, None]
        sub = img[bb[1]:bb[3], bb[0]:bb[2]]
        sub += (glass - sub) * mb
    x0b, y0b, x1b, y1b = box
    sub = img[y0b:y1b, x0b:x1b]
    sub += (layer + glass - sub) * mask[:, :, None]
    del layer
    # fingers over the phone's edges, never over the code and its quiet zone
    qzb = (x0 - 5 * spm, y0 - 5 * spm, x0 + size + 5 * spm, y0 + size + 5 * spm)
    for _ in range(int(rng.integers(0, 4))):
        side = int(rng.integers(2))
        fx = -bezel + _u(rng, -3, 8) * ppmm if side == 0 else sw + bezel - _u(rng, -3, 8) * ppmm
        pts = ps._ellipse_pts(fx, sh * _u(rng, 0.25, 0.95), _u(rng, 7, 11) * ppmm, _u(rng, 18, 30) * ppmm,
                              _u(rng, -0.5, 0.5))
        if not (pts[:, 0].max() < qzb[0] or pts[:, 0].min() > qzb[2] or pts[:, 1].max() < qzb[1]
                or pts[:, 1].min() > qzb[3]):
            continue
        cp = ps._apply(Hm, pts)
        fb = _bbox(cp, W, H)
        if fb[2] > fb[0] and fb[3] > fb[1]:
            m = cv2.GaussianBlur(_fill_box(fb, [cp]), (0, 0), max(0.5, sigma_cam))[:, :, None]
            sub = img[fb[1]:fb[3], fb[0]:fb[2]]
            sub += (skin * 1.1 - sub) * m
    # glare on the glass, veil, exposure
    glare_note = "none"
    smax, smin = ps._local_scale(Hm, x0 + size / 2, y0 + size / 2)
    code_px = size * math.sqrt(smax * smin)
    white = None  # the exposure, unless a metered reflection sets it
    if isinstance(glare, dict) and bb[2] > bb[0] and bb[3] > bb[1]:
        # Over the code, always. A veil is metered: the camera exposes for the brightest part of the phone,
        # so the lifted whites stay just below clipping and the code's contrast is compressed. A core is
        # brighter than the metering follows: it clips.
        shape = _choice(rng, glare["shapes"])
        core = rng.random() < glare["core_share"]
        peak = _u(rng, *(glare["core"] if core else glare["veil"]))
        c = ps._apply(Hm, [(x0 + size / 2, y0 + size / 2)])[0]
        centre = c + rng.normal(0, 0.25 * code_px, 2)
        mb_full = np.zeros((H, W), np.float32)
        mb_full[bb[1]:bb[3], bb[0]:bb[2]] = _fill_box(bb, [body])
        field = ps.reflection_field(rng, W, H, centre, code_px, shape)
        _u(rng, 0.0, 0.1)  # one draw of a grease-streak model tried and left out: kept, so the set stays as measured
        metered = 1 + (min(peak, 1.3) if core else peak)
        white = _u(rng, 0.85, 1.0)
        if EFFECTS:
            img += (field * np.float32(brightness * peak) * mb_full)[:, :, None]
            white /= metered
        glare_note = "%s %.2f%s over code" % (shape, peak, " core" if core else "")
    elif not isinstance(glare, dict) and rng.random() < glare and bb[2] > bb[0] and bb[3] > bb[1]:
        on_code = rng.random() < 0.5
        c = ps._apply(Hm, [(x0 + size / 2, y0 + size / 2)])[0]
        centre = c + rng.normal(0, 0.3 * code_px, 2) if on_code else (_u(rng, 0, W), _u(rng, 0, H))
        peak = brightness * _u(rng, 0.1, 1.2)
        g = glare_field(rng, W, H, centre, code_px, peak)
        mb_full = np.zeros((H, W), np.float32)
        mb_full[bb[1]:bb[3], bb[0]:bb[2]] = _fill_box(bb, [body])
        img += (g * mb_full)[:, :, None]
        glare_note = "%.2f%s" % (peak / brightness, " over code" if on_code else "")
    veil = brightness * _u(rng, 0.0, 0.06)
    if white is None:  # drawn here, as before issue 26: the other categories' images stay as they were
        white = _u(rng, 1.0, 1.4) if rng.random() < 0.25 else _u(rng, 0.55, 1.0)
    img += np.float32(veil)
    img *= np.float32(white / brightness)
    notes = "%s, %.1f screen px/module, zoom %.2f cam px/screen px, tilt %.0f, blur sigma %.2f, glare %s" % (
        layout, spm, zoom, cam["tilt"], sigma_cam, glare_note)
    if not EFFECTS and (isinstance(glare, dict) or damage):
        notes = "(without its effects) " + notes
    if damaged:
        notes += ", damage " + "+".join(damaged)
    return img, cam, notes


def apply_motion(rng, img, length):
    if length <= 1.2:
        return img
    return cv2.filter2D(img, -1, motion_kernel(rng, length), borderType=cv2.BORDER_REFLECT)


def make_photo(rng, cfg, text, matrix, W, H):
    s = W / 2304.0
    n = matrix.shape[0]
    frac = cfg["code"]
    cpm = (frac[0] * W / n, frac[1] * W / n)
    sigma = _u(rng, *cfg["sigma"]) * s
    img, cam, notes = phone_photo(rng, matrix, W, H, cpm, cfg["tilt"], sigma, cfg["glare"], damage=cfg.get("damage"))
    data, mot, q = shoot(rng, img, cfg["motion"][0], (cfg["motion"][1], cfg["motion"][2]), s, cfg.get("noise"))
    del img
    return data, "%.1f px/module; %s; motion %.1f px; JPEG q%d" % (cam["cpm"], notes, mot, q)


# --------------------------------------------------------------------------------------- monitor photo

def desktop(rng, matrix, mw, mh, spm):
    """A desktop (sRGB uint8) with an image viewer or a video-call window showing the code."""
    img = np.empty((mh, mw, 3), np.uint8)
    top = np.array([_u(rng, 20, 120), _u(rng, 40, 140), _u(rng, 80, 200)])
    bot = top * _u(rng, 0.3, 0.8)
    ramp = np.linspace(0, 1, mh)[:, None]
    img[:] = (top[None, :] * (1 - ramp) + bot[None, :] * ramp)[:, None, :].astype(np.uint8)
    tb = int(mh * 0.04)
    img[mh - tb:] = (32, 32, 36)
    for i in range(8):
        cv2.rectangle(img, (int(mw * 0.3 + i * tb * 1.3), mh - tb + 6), (int(mw * 0.3 + i * tb * 1.3 + tb - 12),
                      mh - 6), (90 + 15 * i, 120, 160), -1)
    n = matrix.shape[0]
    size = n * spm
    viewer = rng.random() < 0.5
    ww = int(max(size + 12 * spm + 40, mw * _u(rng, 0.45, 0.8)))
    wh = int(max(size + 12 * spm + 80, mh * _u(rng, 0.55, 0.85)))
    ww, wh = min(ww, mw - 4), min(wh, mh - tb - 4)
    wx, wy = int(_u(rng, 0, mw - ww)), int(_u(rng, 0, mh - tb - wh))
    bar = int(mh * 0.03)
    img[wy:wy + wh, wx:wx + ww] = (30, 30, 30) if viewer else (24, 26, 32)
    img[wy:wy + bar, wx:wx + ww] = (60, 60, 64) if viewer else (45, 50, 62)
    ps._text(img, "qr.png - Image Viewer" if viewer else "Telemedicine - Video visit", wx + 12, wy + bar * 0.7,
             bar * 0.5, (230, 230, 230))
    for i, col in enumerate(((230, 80, 70), (240, 190, 60), (90, 200, 90))):
        cv2.circle(img, (wx + ww - 20 - i * 24, wy + bar // 2), max(3, bar // 4), col, -1, cv2.LINE_AA)
    area = (wx + 10, wy + bar + 10, wx + ww - 10, wy + wh - (10 if viewer else bar + 20))
    cx = _u(rng, area[0] + size / 2 + 6 * spm, area[2] - size / 2 - 6 * spm)
    cy = _u(rng, area[1] + size / 2 + 6 * spm, area[3] - size / 2 - 6 * spm)
    qx, qy = cx - size / 2, cy - size / 2
    plate = 4 * spm * _u(rng, 1.0, 1.6)
    cv2.rectangle(img, (int(qx - plate), int(qy - plate)), (int(qx + size + plate), int(qy + size + plate)),
                  (255, 255, 255), -1)
    if not viewer:
        img[area[3] + 4:wy + wh - 4, wx + 4:wx + ww - 4] = (40, 44, 52)
        for i, col in enumerate(((70, 70, 80), (70, 70, 80), (220, 50, 50))):
            cv2.circle(img, (int(wx + ww / 2 + (i - 1) * bar * 1.6), wy + wh - bar // 2 - 10), bar // 2, col, -1,
                       cv2.LINE_AA)
    integer = rng.random() < 0.4
    if integer:
        qx, qy = float(round(qx)), float(round(qy))
    ps.draw_code(img, matrix, qx, qy, spm, (0, 0, 0), (255, 255, 255), smooth=rng.random() < 0.5)
    return img, (qx, qy, size), viewer


def make_monitor(rng, cfg, text, matrix, W, H):
    n = matrix.shape[0]
    mw, mh, pitch = _choice(rng, [(1920, 1080, 0.277), (1920, 1080, 0.248), (2560, 1440, 0.233),
                                  (2560, 1440, 0.311)])
    ppmm = 1 / pitch
    spm = _u(rng, *cfg["spm"])
    if rng.random() < 0.4:
        spm = float(max(2, round(spm)))
    screen, code_box, viewer = desktop(rng, matrix, mw, mh, spm)
    zoom = cfg["zoom"]
    cam = ps.place_camera(rng, dict(cpm=(spm * zoom[0], spm * zoom[1]), tilt=cfg["tilt"]), W, H, code_box, n, ppmm)
    Hm = cam["H"]
    sigma = _u(rng, *cfg["sigma"])
    brightness = _u(rng, 0.5, 1.0)
    black = _u(rng, 0.001, 0.003)
    em = (black + (1 - black) * ps.SRGB_TO_LIN[screen]) * np.float32(brightness)
    layout = _choice(rng, ["monitor-stripe", "monitor-stripe-wide"])
    x0, y0, size = code_box
    m6 = 6 * spm
    box, layer, mask, z = render_emissive(em, Hm, (x0 - m6, y0 - m6, x0 + size + m6, y0 + size + m6),
                                          LAYOUTS[layout], sigma, W, H)
    del em
    amb = _u(rng, 0.05, 0.35)
    img = colour_background(rng, W, H, amb)
    bez = 8 * ppmm
    body = ps._apply(Hm, [(-bez, -bez), (mw + bez, -bez), (mw + bez, mh + bez), (-bez, mh + bez)])
    bb = _bbox(body, W, H)
    if bb[2] > bb[0] and bb[3] > bb[1]:
        mb = _fill_box(bb, [body])[:, :, None]
        sub = img[bb[1]:bb[3], bb[0]:bb[2]]
        sub += (np.float32(amb * 0.03) - sub) * mb
    sub = img[box[1]:box[3], box[0]:box[2]]
    sub += (layer + np.float32(amb * 0.01) - sub) * mask[:, :, None]
    del layer
    white = _u(rng, 0.6, 1.2)
    img *= np.float32(white / brightness)
    data, mot, q = shoot(rng, img, 0.25, (1.5, 6), W / 3264)
    del img
    notes = ("%dx%d monitor %.3f mm, %s, %.2f monitor px/module, zoom %.2f, %.1f cam px/module, tilt %.0f, "
             "blur sigma %.2f, motion %.1f, JPEG q%d") % (mw, mh, pitch, "viewer" if viewer else "video call",
                                                           spm, z, cam["cpm"], cam["tilt"], sigma, mot, q)
    return data, notes


# ------------------------------------------------------------------------------------------ screenshot

def make_screenshot(rng, cfg, text, matrix, W, H):
    k = W / 1920.0
    img = np.empty((H, W, 3), np.uint8)
    img[:] = (32, 33, 36)
    bar = int(36 * k)
    img[:bar] = (50, 52, 56)
    ps._text(img, "Video visit - Dr. clinic", 16 * k, bar * 0.7, 15 * k, (225, 225, 230))
    for i, col in enumerate(((200, 60, 60), (110, 110, 110), (110, 110, 110))):
        cv2.rectangle(img, (int(W - (i + 1) * 46 * k), 0), (int(W - i * 46 * k - 1), bar - 1),
                      (60, 62, 66) if i else col, -1)
    tool = int(76 * k)
    side = int(_u(rng, 0, 420) * k) if rng.random() < 0.5 else 0
    img[H - tool:] = (40, 41, 45)
    for i in range(5):
        col = (220, 50, 50) if i == 2 else (70, 72, 78)
        cv2.circle(img, (int(W / 2 + (i - 2) * 70 * k), int(H - tool / 2)), int(24 * k), col, -1, cv2.LINE_AA)
    if side:
        img[bar:H - tool, W - side:] = (44, 45, 49)
        y = bar + 30 * k
        while y < H - tool - 40 * k:
            ps._text_lines(rng, img, W - side + 16 * k, W - 16 * k, int(y), 1, 12 * k, (110, 110, 118))
            y += 46 * k
    # the remote video, fitted into the area (16:9)
    aw, ah = W - side - int(16 * k), H - bar - tool - int(16 * k)
    vw = int(min(aw, ah * 16 / 9) * _u(rng, 0.8, 1.0))
    vh = int(vw * 9 / 16)
    vx = int((W - side - vw) / 2)
    vy = int(bar + (H - bar - tool - vh) / 2)
    sw, sh = _choice(rng, cfg["streams"])
    cap = _choice(rng, [1.0, 1.5])
    cw, ch = int(sw * cap), int(sh * cap)
    module = _u(rng, *cfg["module"])
    scale = vw / sw
    cpm = module / scale * cap
    sigma = _u(rng, 0.35, 0.9)
    cam_img, cam, notes = phone_photo(rng, matrix, cw, ch, (cpm, cpm), (0, 25), sigma, 0.2, person=True)
    frame = camera_finish(rng, cam_img, read=(0.002, 0.006), shot=(0.001, 0.004), sharpen=(0.0, 0.6))
    del cam_img
    if cap != 1.0:
        frame = cv2.resize(frame, (sw, sh), interpolation=cv2.INTER_AREA)
    q = int(rng.integers(*cfg["codec_q"]))
    frame = cv2.imdecode(np.frombuffer(jpeg(frame, q), np.uint8), cv2.IMREAD_COLOR)
    frame = cv2.resize(frame, (vw, vh), interpolation=cv2.INTER_LINEAR)
    vb = _u(rng, 0.2, 0.6)
    frame = cv2.GaussianBlur(frame, (0, 0), vb * scale)
    img[vy:vy + vh, vx:vx + vw] = frame
    # self-view thumbnail and a name label, in corners clear of the code and its quiet zone
    qz = cam["qz_quad"] * (vw / cw) + (vx, vy)
    keep = (qz[:, 0].min() - 4, qz[:, 1].min() - 4, qz[:, 0].max() + 4, qz[:, 1].max() + 4)

    def clear(x0, y0, x1, y1):
        return x1 < keep[0] or x0 > keep[2] or y1 < keep[1] or y0 > keep[3]

    tw, th = int(vw * 0.2), int(vw * 0.2 * 9 / 16)
    m = int(12 * k)
    spots = [(vx + vw - tw - m, vy + vh - th - m), (vx + vw - tw - m, vy + m), (vx + m, vy + m),
             (vx + m, vy + vh - th - m)]
    spots = [(x, y) for x, y in spots if clear(x - 2, y - 2, x + tw + 2, y + th + 2)]
    if spots:
        tx, ty = spots[0]
        thumb = colour_background(rng, tw, th, 0.5, person=True)
        img[ty:ty + th, tx:tx + tw] = tone8(thumb)[:, :, ::-1]
        cv2.rectangle(img, (tx - 1, ty - 1), (tx + tw, ty + th), (200, 200, 200), max(1, int(k)))
    label = (vx + int(12 * k), vy + vh - int(40 * k), vx + int(170 * k), vy + vh - int(12 * k))
    if clear(*label) and not (spots and spots[0] == (vx + m, vy + vh - th - m)):
        cv2.rectangle(img, label[:2], label[2:], (20, 20, 20), -1)
        ps._text(img, "Patient", vx + 20 * k, vy + vh - 20 * k, 14 * k, (240, 240, 240))
    ok, data = cv2.imencode(".png", img, [cv2.IMWRITE_PNG_COMPRESSION, 6])
    assert ok
    return data.tobytes(), ("stream %dx%d (captured %dx%d), video %dx%d on screen, %.2f screen px/module, "
                            "%.2f stream px/module, codec JPEG q%d, blur %.2f; camera: %s") % (
        sw, sh, cw, ch, vw, vh, module, module / scale, q, vb, notes)


# ----------------------------------------------------------------------------------------- paper photo

def render_page(rng, matrices, page_mm, module_mm, ppm):
    """A printed page (linear reflectance RGB) at ppm pixels per mm with the codes in a grid of cards or
    form fields. Returns (page, list of code boxes in page pixels)."""
    pw, ph = int(page_mm[0] * ppm), int(page_mm[1] * ppm)
    page = np.empty((ph, pw, 3), np.uint8)
    paper = np.array([_u(rng, 235, 250), _u(rng, 235, 250), _u(rng, 225, 245)])
    page[:] = paper.astype(np.uint8)
    k = len(matrices)
    cols = 1 if k == 1 else (2 if k <= 4 else 3)
    rows = int(math.ceil(k / cols))
    cards = k > 1 and rng.random() < 0.5
    head = 0.12 * ph if not cards else 0.05 * ph
    if not cards:
        ps._text(page, "PATIENT CHECK-IN FORM", 0.08 * pw, 0.06 * ph, 0.03 * ph, (20, 20, 20), True)
        ps._text_lines(rng, page, 0.08 * pw, 0.9 * pw, int(0.075 * ph), 2, 0.012 * ph, (120, 120, 120))
    cw, chh = (0.9 * pw) / cols, (ph - head - 0.04 * ph) / rows
    boxes = []
    for i, m in enumerate(matrices):
        r, c = divmod(i, cols)
        x0, y0 = 0.05 * pw + c * cw, head + r * chh
        n = m.shape[0]
        spm = module_mm * ppm
        size = n * spm
        avail = min(cw, chh * 0.8) - 9 * spm
        if size > avail:
            spm = avail / n
            size = n * spm
        if cards:
            ps._rounded_rect(page, x0 + 0.03 * cw, y0 + 0.03 * chh, x0 + 0.97 * cw, y0 + 0.97 * chh, 0.04 * cw,
                             (120, 120, 120))
            ps._rounded_rect(page, x0 + 0.03 * cw + 3, y0 + 0.03 * chh + 3, x0 + 0.97 * cw - 3, y0 + 0.97 * chh - 3,
                             0.04 * cw, tuple(int(v) for v in paper))
        qx = x0 + (cw - size) / 2 + _u(rng, -0.3, 0.3) * max(0, cw - size - 9 * spm) / 2
        qy = y0 + 0.14 * chh + _u(rng, 0, 1) * max(0, chh * 0.82 - size - 4 * spm - 0.14 * chh)
        ps._text(page, "Patient %d  ID %s****" % (i + 1, chr(65 + int(rng.integers(26)))), x0 + 0.08 * cw,
                 y0 + 0.1 * chh, min(0.05 * chh, 0.06 * cw), (30, 30, 30), True)
        ink = (int(_u(rng, 5, 30)),) * 3
        ps.draw_code(page, m, qx, qy, spm, ink, tuple(int(v) for v in paper), smooth=True)
        boxes.append((qx, qy, size))
    refl = ps.SRGB_TO_LIN[page]
    tex = 1 + 0.04 * rng.standard_normal((ph, pw), dtype=np.float32) + 0.05 * ps.smooth_noise(rng, ph, pw, 30 * ppm)
    refl *= cv2.GaussianBlur(tex.astype(np.float32), (0, 0), 0.7)[:, :, None]
    return refl, boxes


def paper_photo(rng, matrices, W, H, page_mm, module_mm, fill, tilt, sigma_cam):
    ppm = 8.0
    refl, boxes = render_page(rng, matrices, page_mm, module_mm, ppm)
    ph, pw = refl.shape[:2]
    side = max(pw, ph)
    # place the page: its bounding square as the "symbol" of phone-screens' place_camera (n = 1000)
    sq = ((pw - side) / 2, (ph - side) / 2, side)
    fr = _u(rng, *fill) * min(W, H)
    cam = ps.place_camera(rng, dict(cpm=(fr / 1000, fr / 1000), tilt=tilt), W, H, sq, 1000, ppm)
    Hm = cam["H"]
    smax, smin = ps._local_scale(Hm, pw / 2, ph / 2)
    zoom = math.sqrt(smax * smin)
    sig_s = max(sigma_cam / zoom, 0.5 * max(1.0, 1 / zoom))
    refl = cv2.GaussianBlur(refl, (0, 0), sig_s)
    corners = ps._apply(Hm, [(0, 0), (pw, 0), (pw, ph), (0, ph)])
    box = _bbox(corners, W, H)
    T = _translate(-box[0], -box[1])
    layer = cv2.warpPerspective(refl, T @ Hm @ _translate(0.5, 0.5), (box[2] - box[0], box[3] - box[1]),
                                flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    del refl
    mask = _fill_box(box, [corners])
    img = colour_background(rng, W, H, _u(rng, 0.15, 0.4))
    sub = img[box[1]:box[3], box[0]:box[2]]
    sub += (layer - sub) * mask[:, :, None]
    del layer
    # uneven light: a gradient, a soft shadow, a warm or cool tint
    w4, h4 = W // 4, H // 4
    yy, xx = np.mgrid[0:h4, 0:w4].astype(np.float32)
    a = _u(rng, 0, 2 * math.pi)
    light = 1 + _u(rng, 0.1, 0.5) * ((xx * math.cos(a) + yy * math.sin(a)) / max(w4, h4) - 0.5)
    light += 0.15 * ps.smooth_noise(rng, h4, w4, _u(rng, 60, 200))
    if rng.random() < 0.5:
        m = np.zeros((h4, w4), np.uint8)
        cv2.ellipse(m, (int(_u(rng, 0, w4)), int(_u(rng, 0, h4))), (int(_u(rng, 0.1, 0.4) * w4),
                    int(_u(rng, 0.1, 0.4) * h4)), _u(rng, 0, 180), 0, 360, 255, -1)
        light *= 1 - _u(rng, 0.2, 0.5) * cv2.GaussianBlur(m.astype(np.float32) / 255, (0, 0), w4 * 0.03)
    light = _lowres_up(np.maximum(light, 0.05).astype(np.float32), W, H)
    tint = np.array([_u(rng, 0.9, 1.1), 1.0, _u(rng, 0.8, 1.1)], np.float32)
    img *= light[:, :, None] * tint
    del light
    img *= np.float32(_u(rng, 0.7, 1.1))
    codes = [ps._apply(Hm, [(b[0], b[1]), (b[0] + b[2], b[1]), (b[0] + b[2], b[1] + b[2])]) for b in boxes]
    cpms = [np.linalg.norm(c[1] - c[0]) / m.shape[0] for c, m in zip(codes, matrices)]
    return img, cam, cpms


def make_page(rng, cfg, texts, matrices, W, H):
    sigma = _u(rng, *cfg["sigma"]) * W / 2448
    module_mm = _u(rng, *cfg["module_mm"])
    img, cam, cpms = paper_photo(rng, matrices, W, H, (210, 297), module_mm, cfg["page_fill"], cfg["tilt"], sigma)
    data, mot, q = shoot(rng, img, 0.25, (2, 8), W / 2448)
    del img
    return data, "A4, %d codes, %.2f mm/module, %.1f-%.1f cam px/module, tilt %.0f, blur %.2f, " \
                         "motion %.1f, JPEG q%d" % (len(texts), module_mm, min(cpms), max(cpms), cam["tilt"], sigma,
                                                    mot, q)


def make_high(rng, cfg, text, matrix, W, H):
    n = matrix.shape[0]
    s = W / 2304.0
    sigma = _u(rng, *cfg["sigma"]) * s
    if rng.random() < 0.5:
        cpm = (cfg["code"][0] * W / n, cfg["code"][1] * W / n)
        img, cam, notes = phone_photo(rng, matrix, W, H, cpm, cfg["tilt"], sigma, 0.25)
        where = "phone screen: " + notes
    else:
        # a printed A6 label: the code fills most of its width
        module_mm = _u(rng, 0.5, 0.8)
        img, cam, cpms = paper_photo(rng, [matrix], W, H, (105, 148), module_mm, (0.45, 0.8), cfg["tilt"], sigma)
        where = "printed A6, %.2f mm/module, %.1f cam px/module, tilt %.0f, blur %.2f" % (
            module_mm, cpms[0], cam["tilt"], sigma)
    data, mot, q = shoot(rng, img, 0.25, (2, 8), s)
    del img
    return data, "QR v%d (%d modules); %s; motion %.1f; JPEG q%d" % ((n - 17) // 4, n, where, mot, q)


# ------------------------------------------------------------------------------------------ one image

def make_image(args):
    seed, index, cat, number = args
    cfg = CATEGORIES[cat]
    rng = np.random.Generator(np.random.PCG64(seed + index))
    kind = cfg["kind"]
    if kind == "page":
        k = int(rng.integers(cfg["codes"][0], cfg["codes"][1] + 1))
        texts = [ps.issue_token(rng, "plain" if rng.random() < 0.7 else "delegated") for _ in range(k)]
        matrices = [ps.qr_matrix(t)[1] for t in texts]
    elif kind == "high":
        v = int(rng.integers(cfg["versions"][0], cfg["versions"][1] + 1))
        text, matrix = long_payload(rng, v)
        texts, matrices = [text], [matrix]
    else:
        text = ps.issue_token(rng, "plain" if rng.random() < 0.75 else "delegated")
        texts, matrices = [text], [ps.qr_matrix(text)[1]]
    if kind == "screenshot":
        W, H = cfg["size"]
    else:
        W, H = _choice(rng, cfg["sizes"])
    maker = dict(photo=make_photo, monitor=make_monitor, screenshot=make_screenshot, high=make_high)
    if kind == "page":
        data, notes = make_page(rng, cfg, texts, matrices, W, H)
    else:
        data, notes = maker[kind](rng, cfg, texts[0], matrices[0], W, H)
    ext = "png" if kind == "screenshot" else "jpg"
    entry = {"file": "%s/%03d.%s" % (cat, number, ext), "category": cat, "texts": texts, "width": W, "height": H,
             "codes": len(texts), "notes": notes}
    return entry, data


# ------------------------------------------------------------------------------------------------ main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ps.add_set_arguments(ap, per_category=16, jobs=2, without_effects=(
        "the same images without their glare or damage (the twins glare-veil and damaged are measured against)"))
    args = ap.parse_args(argv)
    global EFFECTS
    EFFECTS = not args.without_effects
    if args.unless_current and ps.set_is_current(args, GENERATOR):
        print("%s holds a set of %s already" % (args.out, GENERATOR), file=sys.stderr)
        return 0
    jobs = ps.category_jobs(ap, args, CATEGORIES)
    # the slowest kinds first, so that the workers finish together; the output order is the job order
    weight = {"photo-12mp": 0, "monitor-photo": 1, "multi-code-page": 2, "photo-8mp": 3, "screenshot-4k": 4}
    order = sorted(range(len(jobs)), key=lambda j: (weight.get(jobs[j][2], 9), j))
    t0 = time.time()
    cv2.setNumThreads(1)
    results = [None] * len(jobs)

    def store(j, entry, data):
        with open(os.path.join(args.out, entry["file"]), "wb") as fh:
            fh.write(data)
        results[j] = entry

    if args.jobs > 1:
        with multiprocessing.get_context("fork").Pool(args.jobs, initializer=ps._init_worker,
                                                      maxtasksperchild=8) as pool:
            for j, (entry, data) in zip(order, pool.imap(make_image, [jobs[j] for j in order], chunksize=1)):
                store(j, entry, data)
    else:
        for j in order:
            store(j, *make_image(jobs[j]))
    ps.write_truth(args, GENERATOR, results, t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
