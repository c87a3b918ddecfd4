#!/usr/bin/env python3
"""Independent reference implementation of the VHC1 token profile (shared/token-profile.md).

Stdlib + `cryptography` (>= 38) only. Verifier, issuer-side builders (including deliberately broken
tokens for conformance vectors), and a small command line:

    vhc_reference.py batch  --root ROOT.pem --trust-list TL.cose [--revocations RL.cose]   < lines.jsonl
    vhc_reference.py verify --root ROOT.pem --trust-list TL.cose [--revocations RL.cose]
                            [--at TIME] [--skew S] [TOKEN | -]
    vhc_reference.py selftest          # Base45 / RFC 8949 appendix A / Taiwan ID checks
"""
import argparse
import datetime
import hashlib
import json
import re
import sys
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

CODES = (
    "valid", "prefix_missing", "prefix_unsupported", "base45_invalid", "cbor_invalid", "cose_invalid",
    "algorithm_unsupported", "kid_invalid", "key_unknown", "signature_invalid", "claims_invalid",
    "not_yet_valid", "expired", "delegation_not_yet_valid", "delegation_expired", "delegation_revoked",
    "revocation_list_unavailable", "replayed", "trust_list_invalid", "trust_list_expired",
    "trust_list_rollback", "revocation_list_invalid",
)

P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
MAX_TOKEN_COSE = 1024
MAX_LIST_COSE = 65536
MAX_DEPTH = 8
INT64_MAX = 2 ** 63 - 1
TAIPEI_OFFSET = 8 * 3600
LIST_CLOCK_SLACK = 300
MAX_SKEW = 120


class Invalid(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


# ----------------------------------------------------------------------------------------- Base45

B45_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_B45_INDEX = {c: i for i, c in enumerate(B45_ALPHABET)}


def b45encode(data):
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        out += [B45_ALPHABET[n % 45], B45_ALPHABET[n // 45 % 45], B45_ALPHABET[n // 2025]]
    if len(data) % 2:
        n = data[-1]
        out += [B45_ALPHABET[n % 45], B45_ALPHABET[n // 45]]
    return "".join(out)


def b45decode(text):
    """Strict RFC 9285. Raises ValueError. (The empty string decodes to b''.)"""
    if len(text) % 3 == 1:
        raise ValueError("length mod 3 is 1")
    vals = []
    for c in text:
        if c not in _B45_INDEX:
            raise ValueError("not in alphabet")
        vals.append(_B45_INDEX[c])
    out = bytearray()
    for i in range(0, len(vals), 3):
        g = vals[i:i + 3]
        if len(g) == 3:
            n = g[0] + g[1] * 45 + g[2] * 2025
            if n > 0xFFFF:
                raise ValueError("group above 65535")
            out += n.to_bytes(2, "big")
        else:
            n = g[0] + g[1] * 45
            if n > 0xFF:
                raise ValueError("group above 255")
            out.append(n)
    return bytes(out)


# ------------------------------------------------------------------------------------------ CBOR

class CBORError(Exception):
    pass


class Tag:
    def __init__(self, tag, value):
        self.tag, self.value = tag, value

    def __repr__(self):
        return "Tag(%d, %r)" % (self.tag, self.value)


class Raw:
    """Encoder: emit these bytes verbatim (to build non-canonical or malformed CBOR)."""

    def __init__(self, data):
        self.data = bytes(data)


class OrderedMap:
    """Encoder: a map whose (key, value) pairs are emitted in the given order, duplicates allowed."""

    def __init__(self, pairs):
        self.pairs = list(pairs)


class OddKey:
    """Decoder: a map key that is not an int/text/bytes (bool, null, array, map). Compared by encoding,
    so that e.g. `true` never collides with the integer 1 in a Python dict."""

    def __init__(self, enc):
        self.enc = enc

    def __eq__(self, other):
        return isinstance(other, OddKey) and other.enc == self.enc

    def __hash__(self):
        return hash(("OddKey", self.enc))

    def __repr__(self):
        return "OddKey(%s)" % self.enc.hex()


def _head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for ai, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | ai]) + n.to_bytes(size, "big")
    raise ValueError("integer too large for CBOR")


def cbor_encode(obj):
    """Core deterministic encoding (plus Raw / OrderedMap escape hatches for broken test data)."""
    if isinstance(obj, Raw):
        return obj.data
    if obj is False:
        return b"\xf4"
    if obj is True:
        return b"\xf5"
    if obj is None:
        return b"\xf6"
    if isinstance(obj, Tag):
        return _head(6, obj.tag) + cbor_encode(obj.value)
    if isinstance(obj, int):
        return _head(0, obj) if obj >= 0 else _head(1, -1 - obj)
    if isinstance(obj, (bytes, bytearray)):
        return _head(2, len(obj)) + bytes(obj)
    if isinstance(obj, str):
        b = obj.encode("utf-8")
        return _head(3, len(b)) + b
    if isinstance(obj, (list, tuple)):
        return _head(4, len(obj)) + b"".join(cbor_encode(x) for x in obj)
    if isinstance(obj, OrderedMap):
        return _head(5, len(obj.pairs)) + b"".join(cbor_encode(k) + cbor_encode(v) for k, v in obj.pairs)
    if isinstance(obj, dict):
        items = sorted((cbor_encode(k), cbor_encode(v)) for k, v in obj.items())
        return _head(5, len(items)) + b"".join(k + v for k, v in items)
    raise TypeError("cannot encode %r" % type(obj))


_MIN_FOR_AI = {24: (1, 24), 25: (2, 256), 26: (4, 65536), 27: (8, 1 << 32)}


def cbor_decode(data, allow_top_tag18=False):
    """Strict decoder for the profile's CBOR subset (§3). Raises CBORError."""
    data = bytes(data)
    value, pos = _decode_item(data, 0, 0, allow_top_tag18)
    if pos != len(data):
        raise CBORError("data after the top-level item")
    return value


def _decode_item(data, pos, depth, tag_allowed):
    if pos >= len(data):
        raise CBORError("truncated")
    ib = data[pos]
    pos += 1
    major, ai = ib >> 5, ib & 31
    if major == 7:
        if ai == 20:
            return False, pos
        if ai == 21:
            return True, pos
        if ai == 22:
            return None, pos
        raise CBORError("float, undefined, simple value or break")
    if ai >= 28:
        raise CBORError("reserved additional information or indefinite length")
    if ai < 24:
        arg = ai
    else:
        size, minimum = _MIN_FOR_AI[ai]
        if pos + size > len(data):
            raise CBORError("truncated")
        arg = int.from_bytes(data[pos:pos + size], "big")
        pos += size
        if arg < minimum:
            raise CBORError("argument not in shortest form")
    if major == 0:
        if arg > INT64_MAX:
            raise CBORError("integer outside signed 64-bit")
        return arg, pos
    if major == 1:
        if arg > INT64_MAX:
            raise CBORError("integer outside signed 64-bit")
        return -1 - arg, pos
    if major in (2, 3):
        if arg > len(data) - pos:
            raise CBORError("truncated")
        raw = data[pos:pos + arg]
        pos += arg
        if major == 2:
            return raw, pos
        try:
            return raw.decode("utf-8", "strict"), pos
        except UnicodeDecodeError:
            raise CBORError("text is not valid UTF-8")
    if major == 4:
        if depth + 1 > MAX_DEPTH:
            raise CBORError("nesting too deep")
        if arg > len(data) - pos:
            raise CBORError("truncated")
        out = []
        for _ in range(arg):
            v, pos = _decode_item(data, pos, depth + 1, False)
            out.append(v)
        return out, pos
    if major == 5:
        if depth + 1 > MAX_DEPTH:
            raise CBORError("nesting too deep")
        if 2 * arg > len(data) - pos:
            raise CBORError("truncated")
        out = {}
        prev = None
        for _ in range(arg):
            kstart = pos
            k, pos = _decode_item(data, pos, depth + 1, False)
            kenc = data[kstart:pos]
            if prev is not None and kenc <= prev:
                raise CBORError("map keys not in order or duplicated")
            prev = kenc
            v, pos = _decode_item(data, pos, depth + 1, False)
            if isinstance(k, bool) or k is None or isinstance(k, (list, dict)):
                k = OddKey(kenc)
            out[k] = v
        return out, pos
    # major 6: a tag
    if not (tag_allowed and arg == 18):
        raise CBORError("tag not allowed here")
    v, pos = _decode_item(data, pos, depth, False)
    return Tag(18, v), pos


def is_uint(v):
    return type(v) is int and v >= 0


# ------------------------------------------------------------------------------------------ keys

P256_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")


def spki_der(key):
    """DER SubjectPublicKeyInfo of a public or private key object. For P-256 always the one canonical
    form (named curve, uncompressed point), whatever form the key was loaded from."""
    if hasattr(key, "public_key"):
        key = key.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return P256_SPKI_PREFIX + key.public_bytes(serialization.Encoding.X962,
                                                   serialization.PublicFormat.UncompressedPoint)
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def kid_of_spki(der):
    return hashlib.sha256(der).digest()[:8]


def key_kid(key):
    """kid of a key object (private or public) or of SPKI DER bytes."""
    if isinstance(key, (bytes, bytearray)):
        return kid_of_spki(bytes(key))
    return kid_of_spki(spki_der(key))


def load_p256_spki(der, canonical_only=True):
    """Parse DER SPKI; return the public key if it is a P-256 EC key, else None. With canonical_only
    (used for trust-list entries) the bytes must be exactly the canonical 91-byte form: named curve
    prime256v1, uncompressed point (so that one key has exactly one kid)."""
    try:
        k = serialization.load_der_public_key(bytes(der))
    except Exception:
        return None
    if isinstance(k, ec.EllipticCurvePublicKey) and isinstance(k.curve, ec.SECP256R1):
        if canonical_only and spki_der(k) != bytes(der):
            return None
        return k
    return None


def private_key_from_scalar(d):
    return ec.derive_private_key(d, ec.SECP256R1())


def sig_structure(protected, payload):
    return cbor_encode(["Signature1", bytes(protected), b"", bytes(payload)])


def sign_raw(private_key, message):
    der = private_key.sign(message, ec.ECDSA(hashes.SHA256()))
    r, s = utils.decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def verify_raw(public_key, message, sig):
    if len(sig) != 64:
        return False
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    if not (0 < r < P256_N and 0 < s < P256_N):
        return False
    try:
        public_key.verify(utils.encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256()))
        return True
    except (InvalidSignature, ValueError):
        return False


# ----------------------------------------------------------------------------------- COSE_Sign1

_ABSENT = object()


def _cbor_phase(data, max_size):
    """Decode COSE bytes strictly, plus the protected header and payload contents. Raises CBORError.
    Returns the top item with the tag removed."""
    if len(data) > max_size:
        raise CBORError("too large")
    top = cbor_decode(data, allow_top_tag18=True)
    item = top.value if isinstance(top, Tag) else top
    if isinstance(item, list):
        if len(item) >= 1 and isinstance(item[0], bytes) and item[0]:
            cbor_decode(item[0])
        if len(item) >= 3 and isinstance(item[2], bytes):
            cbor_decode(item[2])
    return item


class CoseParts:
    def __init__(self, item):
        self.protected, self.unprotected, self.payload, self.signature = item
        self.prot = cbor_decode(self.protected)
        self.claims = cbor_decode(self.payload)

    def alg(self):
        return self.prot.get(1, _ABSENT)

    def kid(self):
        return self.prot[4] if 4 in self.prot else self.unprotected.get(4, _ABSENT)

    def tbs(self):
        return sig_structure(self.protected, self.payload)


def _cose_structure(item):
    """COSE phase after a successful CBOR phase. Returns CoseParts or None for cose_invalid."""
    if not (isinstance(item, list) and len(item) == 4 and isinstance(item[0], bytes)
            and isinstance(item[1], dict) and isinstance(item[2], bytes) and isinstance(item[3], bytes)):
        return None
    if not item[0]:
        return None
    parts = CoseParts(item)
    if not isinstance(parts.prot, dict):
        return None
    if any(not (type(k) is int and k in (1, 4)) for k in parts.prot):
        return None
    if any(not (type(k) is int and k == 4) for k in parts.unprotected):
        return None
    if 1 not in parts.prot:
        return None
    return parts


def _alg_ok(alg):
    return type(alg) is int and alg == -7


def _kid_ok(kid):
    return isinstance(kid, bytes) and len(kid) == 8


# ------------------------------------------------------------------------- dates, IDs, strings

_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()


def ymd_to_epoch_day(v, min_year=1000):
    """8-digit YYYYMMDD uint -> days since 1970-01-01, or None if not a real Gregorian date."""
    if not (type(v) is int and 10000000 <= v <= 99999999):
        return None
    y, m, d = v // 10000, v // 100 % 100, v % 100
    if y < min_year:
        return None
    try:
        return datetime.date(y, m, d).toordinal() - _EPOCH_ORDINAL
    except ValueError:
        return None


def taipei_day(t):
    return (t + TAIPEI_OFFSET) // 86400


def civil_from_days(z):
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return (y + 1 if m <= 2 else y), m, d


def iso_utc(t):
    y, mo, d = civil_from_days(t // 86400)
    s = t % 86400
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (y, mo, d, s // 3600, s // 60 % 60, s % 60)


def ymd_iso(v):
    return "%04d-%02d-%02d" % (v // 10000, v // 100 % 100, v % 100)


_ID_LETTER = dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                      (10, 11, 12, 13, 14, 15, 16, 17, 34, 18, 19, 20, 21, 22, 35, 23, 24, 25, 26, 27, 28,
                       29, 32, 30, 31, 33)))


def valid_tw_id(s):
    if not isinstance(s, str):
        return False
    if re.fullmatch(r"[A-Z][1289][0-9]{8}", s):
        d2 = ord(s[1]) - 48
    elif re.fullmatch(r"[A-Z][A-D][0-9]{8}", s):
        d2 = _ID_LETTER[s[1]] % 10
    else:
        return False
    x = _ID_LETTER[s[0]]
    digits = [d2] + [ord(c) - 48 for c in s[2:]]
    total = x // 10 + (x % 10) * 9 + sum(w * d for w, d in zip((8, 7, 6, 5, 4, 3, 2, 1, 1), digits))
    return total % 10 == 0


def _is_cc(ch):
    o = ord(ch)
    return o <= 0x1F or 0x7F <= o <= 0x9F


def valid_name(s):
    return isinstance(s, str) and 1 <= len(s) <= 40 and not any(_is_cc(c) for c in s)


# ------------------------------------------------------------------------- trust / revocation

class TrustList:
    def __init__(self, issuer, seq, issued_at, expires_at, entries):
        self.issuer, self.seq, self.issued_at, self.expires_at = issuer, seq, issued_at, expires_at
        self.entries = entries  # list of (kid, public key, spki der, usage, nbf, exp)

    def candidates(self, kid, usage, now):
        return [e for e in self.entries if e[0] == kid and e[3] == usage and e[4] <= now <= e[5]]


def _parse_signed_list(data):
    """CBOR + COSE rules for a list; returns CoseParts or None."""
    if not isinstance(data, (bytes, bytearray)):
        return None
    try:
        item = _cbor_phase(bytes(data), MAX_LIST_COSE)
    except CBORError:
        return None
    parts = _cose_structure(item)
    if parts is None or not _alg_ok(parts.alg()) or not _kid_ok(parts.kid()):
        return None
    if len(parts.signature) != 64:
        return None
    return parts


def _exact_keys(m, keys):
    return isinstance(m, dict) and set(m.keys()) == set(keys) and all(type(k) is int for k in m)


@lru_cache(maxsize=32)
def _parse_trust_list(data, root_der):
    """Time-independent part of trust list validation: a TrustList, or None (trust_list_invalid)."""
    root = load_p256_spki(root_der, canonical_only=False)
    if root is None:
        raise ValueError("root key is not a P-256 public key")
    parts = _parse_signed_list(data)
    if parts is None or parts.kid() != kid_of_spki(spki_der(root)):
        return None
    if not verify_raw(root, parts.tbs(), parts.signature):
        return None
    p = parts.claims
    if not _exact_keys(p, (1, 2, 3, 4, 5)):
        return None
    if not (isinstance(p[1], str) and is_uint(p[2]) and is_uint(p[3]) and is_uint(p[4])
            and isinstance(p[5], list)):
        return None
    entries = []
    for e in p[5]:
        if not _exact_keys(e, (1, 2, 3, 4, 5)):
            return None
        kid, spki, usage, nbf, exp = e[1], e[2], e[3], e[4], e[5]
        if not (isinstance(kid, bytes) and len(kid) == 8 and isinstance(spki, bytes)
                and type(usage) is int and usage in (1, 2) and is_uint(nbf) and is_uint(exp)):
            return None
        pub = load_p256_spki(spki)
        if pub is None or kid_of_spki(spki) != kid:
            return None
        entries.append((kid, pub, spki, usage, nbf, exp))
    return TrustList(p[1], p[2], p[3], p[4], entries)


def check_trust_list(data, root_der, now, held_seq=None):
    """Returns a TrustList or raises Invalid(trust_list_*)."""
    tl = _parse_trust_list(bytes(data), bytes(root_der))
    if tl is None or tl.issued_at > now + LIST_CLOCK_SLACK:
        raise Invalid("trust_list_invalid")
    if now > tl.expires_at + LIST_CLOCK_SLACK:
        raise Invalid("trust_list_expired")
    if held_seq is not None and tl.seq < held_seq:
        raise Invalid("trust_list_rollback")
    return tl


@lru_cache(maxsize=32)
def _parse_revocation_list(data):
    parts = _parse_signed_list(data)
    if parts is None:
        return None
    p = parts.claims
    if not _exact_keys(p, (1, 2, 3, 4, 5)):
        return None
    if not (isinstance(p[1], str) and is_uint(p[2]) and is_uint(p[3]) and is_uint(p[4])
            and isinstance(p[5], list)):
        return None
    revoked = set()
    for e in p[5]:
        if not _exact_keys(e, (1, 2, 3)):
            return None
        if not (isinstance(e[1], bytes) and is_uint(e[2]) and ymd_to_epoch_day(e[3]) is not None):
            return None
        revoked.add(e[1])
    return parts, {"issuer": p[1], "seq": p[2], "issued_at": p[3], "expires_at": p[4],
                   "revoked": frozenset(revoked)}


def check_revocation_list(data, tl, now, held_seq=None):
    """Returns (current: bool, revoked ids) or raises Invalid(revocation_list_invalid)."""
    parsed = _parse_revocation_list(bytes(data))
    if parsed is None:
        raise Invalid("revocation_list_invalid")
    parts, rl = parsed
    cands = tl.candidates(parts.kid(), 2, now)
    if not any(verify_raw(c[1], parts.tbs(), parts.signature) for c in cands):
        raise Invalid("revocation_list_invalid")
    if rl["issuer"] != tl.issuer:
        raise Invalid("revocation_list_invalid")
    if held_seq is not None and rl["seq"] < held_seq:
        raise Invalid("revocation_list_invalid")
    return now <= rl["expires_at"] + LIST_CLOCK_SLACK, rl["revoked"]


# ---------------------------------------------------------------------------------- the verifier

def _strip_newline(text):
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith("\n"):
        return text[:-1]
    return text


_UNSUPPORTED_VERSION = set("23456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _check_claims(c, issuer):
    """Returns the parsed claims dict or raises Invalid(claims_invalid)."""
    bad = Invalid("claims_invalid")
    if not _exact_keys(c, (1, 4, 6, 7, -70000)):
        raise bad
    iss, exp, iat, cti, vhc = c[1], c[4], c[6], c[7], c[-70000]
    if not (isinstance(iss, str) and iss == issuer):
        raise bad
    if not (is_uint(exp) and is_uint(iat) and 0 < exp - iat <= 300):
        raise bad
    if not (isinstance(cti, bytes) and len(cti) == 16):
        raise bad
    if not (isinstance(vhc, dict) and all(type(k) is int for k in vhc)
            and {1, 2, 3, 4} <= set(vhc) <= {1, 2, 3, 4, 5, 6}):
        raise bad
    hid, name, birth, photo = vhc[1], vhc[2], vhc[3], vhc[4]
    if not valid_tw_id(hid) or not valid_name(name):
        raise bad
    bday = ymd_to_epoch_day(birth, min_year=1900)
    if bday is None or bday > taipei_day(iat):
        raise bad
    if not (type(photo) is int and photo in (0, 1)):
        raise bad
    deleg = None
    if 5 in vhc:
        d = vhc[5]
        if not _exact_keys(d, (1, 2, 3, 4)):
            raise bad
        if not (valid_tw_id(d[1]) and d[1] != hid):
            raise bad
        if not (isinstance(d[2], bytes) and 8 <= len(d[2]) <= 16):
            raise bad
        f, t = ymd_to_epoch_day(d[3]), ymd_to_epoch_day(d[4])
        if f is None or t is None or f > t:
            raise bad
        deleg = {"delegate": d[1], "id": d[2], "from": d[3], "to": d[4], "from_day": f, "to_day": t}
    card = None
    if 6 in vhc:
        card = vhc[6]
        if not (isinstance(card, str) and re.fullmatch(r"[0-9]{12}", card)):
            raise bad
    return {"iss": iss, "exp": exp, "iat": iat, "cti": cti, "holder": hid, "name": name,
            "birth": birth, "photo": photo, "delegation": deleg, "card": card}


def _verify_token(text, tl, rl, now, skew, consumed):
    # 1. text form
    if not isinstance(text, str):
        raise Invalid("prefix_missing")
    text = _strip_newline(text)
    if not text.startswith("VHC1:"):
        if len(text) >= 5 and text[:3] == "VHC" and text[3] in _UNSUPPORTED_VERSION and text[4] == ":":
            raise Invalid("prefix_unsupported")
        raise Invalid("prefix_missing")
    # 2. Base45
    body = text[5:]
    if not body:
        raise Invalid("base45_invalid")
    try:
        cose = b45decode(body)
    except ValueError:
        raise Invalid("base45_invalid")
    # 3. CBOR
    try:
        item = _cbor_phase(cose, MAX_TOKEN_COSE)
    except CBORError:
        raise Invalid("cbor_invalid")
    # 4. COSE
    parts = _cose_structure(item)
    if parts is None:
        raise Invalid("cose_invalid")
    if not _alg_ok(parts.alg()):
        raise Invalid("algorithm_unsupported")
    kid = parts.kid()
    if not _kid_ok(kid):
        raise Invalid("kid_invalid")
    cands = tl.candidates(kid, 1, now)
    if not cands:
        raise Invalid("key_unknown")
    if len(parts.signature) != 64 or not any(verify_raw(c[1], parts.tbs(), parts.signature) for c in cands):
        raise Invalid("signature_invalid")
    # 5. claims
    c = _check_claims(parts.claims, tl.issuer)
    # 6. time and state
    if c["iat"] > now + skew:
        raise Invalid("not_yet_valid")
    if now > c["exp"] + skew:
        raise Invalid("expired")
    d = c["delegation"]
    if d is not None:
        today = taipei_day(now)
        if today < d["from_day"]:
            raise Invalid("delegation_not_yet_valid")
        if today > d["to_day"]:
            raise Invalid("delegation_expired")
        if rl is None or not rl[0]:
            raise Invalid("revocation_list_unavailable")
        if d["id"] in rl[1]:
            raise Invalid("delegation_revoked")
    if consumed is not None and c["cti"] in consumed:
        raise Invalid("replayed")
    if consumed is not None:
        consumed.add(c["cti"])
    return {
        "result": "valid",
        "code": "valid",
        "holder": {"id": c["holder"], "name": c["name"], "birthDate": ymd_iso(c["birth"]),
                   "photo": "verified" if c["photo"] == 0 else "none"},
        "idCheckRequired": c["photo"] == 1,
        "delegation": None if d is None else {
            "delegateId": d["delegate"], "delegationId": d["id"].hex(),
            "validFrom": ymd_iso(d["from"]), "validTo": ymd_iso(d["to"])},
        "cardNumber": c["card"],
        "tokenId": c["cti"].hex(),
        "issuedAt": iso_utc(c["iat"]),
        "expiresAt": iso_utc(c["exp"]),
    }


def verify(text, *, root_spki_der, trust_list_cose, revocation_list_cose=None, now, skew=60,
           consumed=None, held_trust_seq=None, held_revocation_seq=None):
    """Verify one token text. Returns {"result", "code", ...§9 fields when valid}.
    `consumed` is the replay store (a set of cti bytes); None means no replay check.
    Raises ValueError only for configuration errors (bad root key, skew outside 0..120)."""
    if not (type(skew) is int and 0 <= skew <= MAX_SKEW):
        raise ValueError("skew must be an integer 0..120")
    if type(now) is not int:
        raise ValueError("now must be an integer (Unix seconds)")
    try:
        tl = check_trust_list(trust_list_cose, root_spki_der, now, held_trust_seq)
        rl = None
        if revocation_list_cose is not None:
            rl = check_revocation_list(revocation_list_cose, tl, now, held_revocation_seq)
        return _verify_token(text, tl, rl, now, skew, consumed)
    except Invalid as e:
        return {"result": "invalid", "code": e.code}


def decode_token_cose(text):
    """The COSE bytes of a token text, or None if the text fails at the prefix or Base45 stage."""
    if not isinstance(text, str):
        return None
    text = _strip_newline(text)
    if not text.startswith("VHC1:") or len(text) == 5:
        return None
    try:
        return b45decode(text[5:])
    except ValueError:
        return None


# ------------------------------------------------------------------------------------ builders

def make_claims(*, iss="TW-NHIA", iat, ttl=300, exp=None, cti, holder_id, name, birth, photo=0,
                delegation=None, card_number=None):
    """A claims dict. delegation: (delegate_id, delegation_id bytes, from YYYYMMDD, to YYYYMMDD)."""
    vhc = {1: holder_id, 2: name, 3: birth, 4: photo}
    if delegation is not None:
        vhc[5] = {1: delegation[0], 2: delegation[1], 3: delegation[2], 4: delegation[3]}
    if card_number is not None:
        vhc[6] = card_number
    return {1: iss, 4: iat + ttl if exp is None else exp, 6: iat, 7: cti, -70000: vhc}


def cose_sign1(key, payload, *, kid=None, kid_location="protected", alg=-7, protected=None,
               protected_bytes=None, unprotected=None, tagged=True, signature=None, signed_payload=None,
               signed_protected=None):
    """Build COSE_Sign1 bytes.
    key: private key used to sign (None if `signature` is given).
    payload: bytes placed in the message. signed_payload / signed_protected: bytes actually signed
    (default: the ones placed), to build signatures over something else.
    kid: bytes (default: kid of key); kid_location: "protected" | "unprotected" | "none".
    alg: the alg value (any CBOR-encodable object, or _ABSENT via alg=None to omit).
    protected: full protected header map (overrides alg/kid); protected_bytes: raw protected bstr content.
    unprotected: full unprotected map (overrides kid placement there).
    signature: bytes to use instead of signing; or a callable(sig64) -> bytes.
    tagged: wrap in tag 18."""
    if kid is None and key is not None:
        kid = key_kid(key)
    if protected_bytes is None:
        if protected is None:
            protected = {}
            if alg is not None:
                protected[1] = alg
            if kid_location == "protected":
                protected[4] = kid
        protected_bytes = cbor_encode(protected)
    if unprotected is None:
        unprotected = {4: kid} if kid_location == "unprotected" else {}
    to_sign_p = protected_bytes if signed_protected is None else signed_protected
    to_sign = payload if signed_payload is None else signed_payload
    if signature is None or callable(signature):
        sig = sign_raw(key, sig_structure(to_sign_p, to_sign))
        if callable(signature):
            sig = signature(sig)
    else:
        sig = signature
    arr = [protected_bytes, unprotected, payload, sig]
    return cbor_encode(Tag(18, arr) if tagged else arr)


def token_text(cose):
    return "VHC1:" + b45encode(cose)


def issue_token(key, claims=None, *, payload=None, **cose_options):
    """Token text. Either `claims` (any CBOR-encodable object, canonical encoding) or raw `payload` bytes.
    Other options as for cose_sign1 (untagged: tagged=False; kid in unprotected: kid_location=...;
    wrong alg: alg=-35; ...)."""
    if payload is None:
        payload = cbor_encode(claims)
    return token_text(cose_sign1(key, payload, **cose_options))


def key_entry(pub_or_priv, usage, nbf, exp, *, kid=None, spki=None):
    spki = spki if spki is not None else spki_der(pub_or_priv)
    return {1: kid if kid is not None else kid_of_spki(spki), 2: spki, 3: usage, 4: nbf, 5: exp}


def build_trust_list(root_key, *, issuer="TW-NHIA", seq, issued_at, expires_at, entries, payload=None,
                     **cose_options):
    """entries: list of key_entry(...) maps. Signed by root_key with its kid in the protected header."""
    if payload is None:
        payload = cbor_encode({1: issuer, 2: seq, 3: issued_at, 4: expires_at, 5: list(entries)})
    return cose_sign1(root_key, payload, **cose_options)


def build_revocation_list(key, *, issuer="TW-NHIA", seq, issued_at, expires_at, revoked=(), payload=None,
                          **cose_options):
    """revoked: iterable of (delegation id bytes, revoked_at, keep_until YYYYMMDD)."""
    if payload is None:
        payload = cbor_encode({1: issuer, 2: seq, 3: issued_at, 4: expires_at,
                               5: [{1: i, 2: r, 3: k} for i, r, k in revoked]})
    return cose_sign1(key, payload, **cose_options)


# ---------------------------------------------------------------------------------- self test

def selftest(vectors_dir):
    import os
    failures = 0
    with open(os.path.join(vectors_dir, "rfc9285-base45.json")) as f:
        b45 = json.load(f)
    for v in b45["valid"]:
        ok = b45decode(v["base45"]) == v["bytes_utf8"].encode() and b45encode(v["bytes_utf8"].encode()) == v["base45"]
        failures += not ok
    for v in b45["invalid"]:
        try:
            b45decode(v["base45"])
            failures += 1
            print("base45 accepted", v)
        except ValueError:
            pass
    with open(os.path.join(vectors_dir, "rfc8949-appendix-a.json")) as f:
        cb = json.load(f)
    accepted = 0
    for v in cb:
        data = bytes.fromhex(v["hex"])
        # the profile's subset: definite lengths, no floats, no tags, ints within signed 64-bit,
        # only false/true/null simple values; all such appendix examples are also deterministic
        dec = v.get("decoded")
        subset = v["roundtrip"] and data[0] >> 5 != 6 and (
            ("decoded" in v and not isinstance(dec, float)
             and not (type(dec) is int and not -2 ** 63 <= dec < 2 ** 63))
            or v.get("diagnostic", "").startswith(("h'", "{1: 2")))
        try:
            val = cbor_decode(data)
            ok = subset and cbor_encode(val) == data and ("decoded" not in v or val == dec)
            accepted += 1
        except CBORError:
            ok = not subset
        if not ok:
            failures += 1
            print("cbor mismatch", v)
    for s, want in (("A123456789", True), ("F222333444", True), ("A800000014", True), ("F912345678", True),
                    ("AC01234567", True), ("A123456788", False), ("A800000015", False)):
        if valid_tw_id(s) != want:
            failures += 1
            print("id mismatch", s)
    print("selftest: %d CBOR examples accepted of %d, %d failures" % (accepted, len(cb), failures))
    return failures == 0


# ---------------------------------------------------------------------------------- command line

def parse_time(s):
    if re.fullmatch(r"-?[0-9]+", s):
        return int(s)
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    dt = datetime.datetime.fromisoformat(s)
    if dt.tzinfo is None:
        raise ValueError("time needs a zone, e.g. 2026-11-22T10:00:00Z")
    return int((dt - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)).total_seconds())


def _load_config(args):
    with open(args.root, "rb") as f:
        root = serialization.load_pem_public_key(f.read())
    if not (isinstance(root, ec.EllipticCurvePublicKey) and isinstance(root.curve, ec.SECP256R1)):
        raise ValueError("root key is not a P-256 public key")
    with open(args.trust_list, "rb") as f:
        tl = f.read()
    rl = None
    if args.revocations:
        with open(args.revocations, "rb") as f:
            rl = f.read()
    return spki_der(root), tl, rl


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("batch", "verify"):
        p = sub.add_parser(name)
        p.add_argument("--root", required=True)
        p.add_argument("--trust-list", required=True)
        p.add_argument("--revocations")
        if name == "verify":
            p.add_argument("--at")
            p.add_argument("--skew", type=int, default=60)
            p.add_argument("token", nargs="?", default="-")
    st = sub.add_parser("selftest")
    st.add_argument("--vectors", default="/work/shared/vectors")
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    if args.cmd == "selftest":
        return 0 if selftest(args.vectors) else 1
    try:
        root_der, tl, rl = _load_config(args)
    except (OSError, ValueError) as e:
        print("vhc_reference: %s" % e, file=sys.stderr)
        return 2

    if args.cmd == "verify":
        try:
            now = parse_time(args.at) if args.at else int(datetime.datetime.now(datetime.timezone.utc).timestamp())
            if not 0 <= args.skew <= MAX_SKEW:
                raise ValueError("--skew must be 0..120")
        except ValueError as e:
            print("vhc_reference: %s" % e, file=sys.stderr)
            return 2
        # read stdin as bytes: text mode would turn "\r\n" and a lone "\r" into "\n"
        token = (sys.stdin.buffer.read().decode("utf-8", "surrogateescape") if args.token == "-"
                 else args.token)
        out = verify(token, root_spki_der=root_der, trust_list_cose=tl, revocation_list_cose=rl, now=now,
                     skew=args.skew, consumed=None)
        sys.stdout.buffer.write(json.dumps(out, ensure_ascii=False).encode("utf-8") + b"\n")
        sys.stdout.flush()
        return 0 if out["code"] == "valid" else 1

    # batch: one JSON object per input line -> one {"code": ...} per line; stateless
    for raw in sys.stdin.buffer:
        try:
            req = json.loads(raw.decode("utf-8"))
            token, at, skew = req["token"], req["at"], req.get("skew", 60)
            if not (isinstance(token, str) and type(at) is int and type(skew) is int
                    and 0 <= skew <= MAX_SKEW):
                raise ValueError("need token (string), at (int), skew (int 0..120)")
            held_t = req.get("heldTrustListSequence")
            held_r = req.get("heldRevocationListSequence")
            if any(h is not None and type(h) is not int for h in (held_t, held_r)):
                raise ValueError("held sequences must be integers")
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            out = {"code": None, "error": "bad input line: %s" % e}
        else:
            try:
                out = {"code": verify(token, root_spki_der=root_der, trust_list_cose=tl, revocation_list_cose=rl,
                                      now=at, skew=skew, consumed=set(), held_trust_seq=held_t,
                                      held_revocation_seq=held_r)["code"]}
            except Exception as e:  # a bug in this reference: report it, do not die
                out = {"code": None, "error": "internal error: %r" % e}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
