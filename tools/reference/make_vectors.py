#!/usr/bin/env python3
"""Generate the VHC1 conformance vectors (Tests/VirtualCardTests/Fixtures/conformance/NNN-name.json).

Keys come from fixed scalars, so everything but the (randomized) ECDSA signatures is deterministic.
Every case states its expected code by hand; after writing, all files are read back and run through
vhc_reference.verify(), and the script exits non-zero on any disagreement.

    python3 tools/reference/make_vectors.py [--out DIR]           # (re)generate and check
    python3 tools/reference/make_vectors.py --check [--out DIR]   # only check existing files
"""
import argparse
import datetime
import glob
import hashlib
import json
import os
import re
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vhc_reference as vr  # noqa: E402
from vhc_reference import OrderedMap, Raw, Tag, cbor_encode  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.normpath(os.path.join(HERE, "..", "..", "Tests", "VirtualCardTests", "Fixtures",
                                            "conformance"))

T = 1795341600  # 2026-11-22T10:00:00Z = 18:00 in Taipei
DAY = 86400
TPE = datetime.timezone(datetime.timedelta(hours=8))
ISSUER = "TW-NHIA"


def scalar_key(label, curve=ec.SECP256R1(), order=vr.P256_N):
    return ec.derive_private_key(int(hashlib.sha256(label.encode()).hexdigest(), 16) % order, curve)


ROOT = scalar_key("vhc-vector-root")
TOK = scalar_key("vhc-vector-token-1")            # usage 1, current
TOK_OLD = scalar_key("vhc-vector-token-expired")  # usage 1, window ended T-1d
TOK_NEXT = scalar_key("vhc-vector-token-next")    # usage 1, window starts T+1d
REV = scalar_key("vhc-vector-revocation-1")       # usage 2
ROGUE = scalar_key("vhc-vector-rogue")            # in no list
P384 = scalar_key("vhc-vector-p384", ec.SECP384R1(),
                  0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973)
KID = vr.key_kid

ROOT_PEM = ROOT.public_key().public_bytes(serialization.Encoding.PEM,
                                          serialization.PublicFormat.SubjectPublicKeyInfo).decode()
ROOT_DER = vr.spki_der(ROOT)

DELEGATE = "F222333444"
HOLDER = "A123456789"
DELEG_ID = bytes.fromhex("d1e1e9a7e0000000000001")        # 11 bytes, not revoked
REVOKED_ID = bytes.fromhex("d1e1e9a7e00000000000ff")      # 11 bytes, on the default revocation list
D_FROM, D_TO = 20261120, 20261125


def tpe(y, mo, d, h=0, mi=0, s=0):
    return int(datetime.datetime(y, mo, d, h, mi, s, tzinfo=TPE).timestamp())


def default_entries(tok_nbf=T - 10 * DAY, tok_exp=T + 30 * DAY):
    return [vr.key_entry(TOK, 1, tok_nbf, tok_exp),
            vr.key_entry(TOK_OLD, 1, T - 60 * DAY, T - DAY),
            vr.key_entry(TOK_NEXT, 1, T + DAY, T + 60 * DAY),
            vr.key_entry(REV, 2, T - 10 * DAY, T + 30 * DAY)]


def trust_list(seq=5, issued=T - 10 * DAY, expires=T + 30 * DAY, entries=None, signer=ROOT, **kw):
    kw.setdefault("kid", KID(ROOT))
    return vr.build_trust_list(signer, issuer=ISSUER, seq=seq, issued_at=issued, expires_at=expires,
                               entries=default_entries() if entries is None else entries, **kw)


def revocation_list(seq=3, issued=T - 5 * DAY, expires=T + 10 * DAY, signer=REV, issuer=ISSUER,
                    revoked=((REVOKED_ID, T - 2 * DAY, 20261231),), **kw):
    return vr.build_revocation_list(signer, issuer=issuer, seq=seq, issued_at=issued, expires_at=expires,
                                    revoked=revoked, **kw)


TL = trust_list()
RL = revocation_list()

_cti_counter = [0]


def new_cti():
    _cti_counter[0] += 1
    return hashlib.sha256(b"vhc-vector-cti-%d" % _cti_counter[0]).digest()[:16]


def claims(iat=T - 10, ttl=300, exp=None, cti=None, holder=HOLDER, name="王小明", birth=19800101, photo=0,
           delegation=None, card="000012345678", iss=ISSUER):
    return vr.make_claims(iss=iss, iat=iat, ttl=ttl, exp=exp, cti=new_cti() if cti is None else cti,
                          holder_id=holder, name=name, birth=birth, photo=photo, delegation=delegation,
                          card_number=card)


def delegated(**kw):
    kw.setdefault("delegation", (DELEGATE, DELEG_ID, D_FROM, D_TO))
    return claims(**kw)


def token(c=None, key=TOK, **kw):
    return vr.issue_token(key, claims() if c is None else c, **kw)


def cose_of(c=None, key=TOK, **kw):
    return vr.cose_sign1(key, cbor_encode(claims() if c is None else c), **kw)


def text(cose):
    return vr.token_text(cose)


def expected_output(c):
    """The §9 object for claims dict c, computed independently of the verifier."""
    v = c[-70000]

    def day(n):
        return "%s-%s-%s" % (str(n)[:4], str(n)[4:6], str(n)[6:])

    def iso(t):
        return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    d = v.get(5)
    return {
        "result": "valid", "code": "valid",
        "holder": {"id": v[1], "name": v[2], "birthDate": day(v[3]), "photo": ["verified", "none"][v[4]]},
        "idCheckRequired": v[4] == 1,
        "delegation": None if d is None else {"delegateId": d[1], "delegationId": d[2].hex(),
                                              "validFrom": day(d[3]), "validTo": day(d[4])},
        "cardNumber": v.get(6),
        "tokenId": c[7].hex(),
        "issuedAt": iso(c[6]),
        "expiresAt": iso(c[4]),
    }


CASES = []


def case(name, desc, tok, code, *, now=T, skew=60, tl=TL, rl=RL, held=(0, 0), prescans=(), c=None):
    """tok: token text. c: the claims (required when code == valid, for the expected output)."""
    if code == "valid":
        assert c is not None, name
    CASES.append(dict(name=name, desc=desc, token=tok, code=code, now=now, skew=skew, tl=tl, rl=rl,
                      held=held, prescans=list(prescans), claims=c))


def valid_case(name, desc, c, tok=None, **kw):
    case(name, desc, token(c) if tok is None else tok, "valid", c=c, **kw)


# =========================================================================================== cases

def build_cases():
    # ------------------------------------------------------------------ valid tokens and encodings
    c = claims()
    valid_case("valid-basic", "Undelegated token with photo and card number, tagged, kid in protected header, "
               "current revocation list", c)
    c = claims(card=None)
    valid_case("valid-no-card-no-revocation-list", "No card number (cardNumber null); no revocation list is "
               "needed for an undelegated token", c, rl=None)
    c = claims(photo=1)
    valid_case("valid-photo-none", "Photo 1: photo 'none', idCheckRequired true", c)
    c = delegated()
    valid_case("valid-delegated", "Delegated token inside its window, delegation id not revoked", c)
    c = claims()
    valid_case("valid-untagged", "COSE_Sign1 without tag 18", c, token(c, tagged=False))
    c = claims()
    valid_case("valid-kid-unprotected", "kid only in the unprotected header", c,
               token(c, kid_location="unprotected"))
    c = claims()
    valid_case("valid-kid-both-headers", "kid in both headers: the protected one (right) wins over the "
               "unprotected one (an unknown key)", c, token(c, unprotected={4: KID(ROGUE)}))

    def high_s(sig):
        s = int.from_bytes(sig[32:], "big")
        return sig[:32] + (vr.P256_N - s).to_bytes(32, "big")

    c = claims()
    valid_case("valid-high-s-signature", "Signature with s replaced by n-s (still a valid ECDSA signature; "
               "the profile has no low-s rule)", c, token(c, signature=high_s))
    c = claims(holder="A800000014", birth=20000229)
    valid_case("valid-new-resident-holder", "New resident number A800000014; birth date 2000-02-29 (leap)", c)
    c = claims(holder="AC01234567", birth=19000101, card=None)
    valid_case("valid-old-resident-holder", "Old resident number AC01234567; birth date 1900-01-01 (minimum)", c)
    c = claims()
    valid_case("valid-trailing-lf", "One trailing \\n is removed", c, token(c) + "\n")
    c = claims()
    valid_case("valid-trailing-crlf", "One trailing \\r\\n is removed", c, token(c) + "\r\n")
    name40 = "陳" * 20 + "😀" * 10 + "👨‍👩‍👧" * 2
    assert len(name40) == 40
    c = claims(name=name40)
    valid_case("valid-name-40-scalars", "Name of exactly 40 Unicode scalars (32 grapheme clusters, 56 UTF-16 "
               "units, 136 UTF-8 bytes)", c)
    c = claims(name="王\u200b小明\u00ad")
    valid_case("valid-name-format-characters", "Name with U+200B and U+00AD (category Cf, not Cc): allowed", c)
    c = claims(iat=T + 6 * 3600, birth=20261123)
    valid_case("valid-birth-on-taipei-date-of-iat", "iat 2026-11-22T16:00:00Z is 2026-11-23 00:00 in Taipei; "
               "birth date 2026-11-23 is not after it", c, now=T + 6 * 3600 + 10)
    case("claims-birth-after-taipei-date-of-iat", "iat 2026-11-22T15:59:59Z is 2026-11-22 23:59:59 in "
         "Taipei; birth date 2026-11-23 is after it", token(claims(iat=T + 6 * 3600 - 1, birth=20261123)),
         "claims_invalid", now=T + 6 * 3600 + 10)

    # ------------------------------------------------------------------ time boundaries
    iat, exp = T - 100, T + 200
    c = claims(iat=iat, ttl=300)
    valid_case("valid-now-exp-plus-skew", "now = exp + skew (60)", c, now=exp + 60)
    case("expired-now-exp-plus-skew-plus-1", "now = exp + skew + 1", token(claims(iat=iat)), "expired",
         now=exp + 61)
    c = claims(iat=T + 60)
    valid_case("valid-iat-now-plus-skew", "iat = now + skew (60)", c)
    case("not-yet-valid-iat-now-plus-skew-plus-1", "iat = now + skew + 1", token(claims(iat=T + 61)),
         "not_yet_valid")
    c = claims(ttl=300)
    valid_case("valid-lifetime-300", "exp - iat = 300", c)
    case("claims-lifetime-301", "exp - iat = 301", token(claims(ttl=301)), "claims_invalid")
    case("claims-lifetime-0", "exp = iat", token(claims(ttl=0)), "claims_invalid")
    c = claims(iat=iat)
    valid_case("valid-skew-0-now-exp", "skew 0, now = exp", c, now=exp, skew=0)
    case("expired-skew-0", "skew 0, now = exp + 1", token(claims(iat=iat)), "expired", now=exp + 1, skew=0)
    case("not-yet-valid-skew-0", "skew 0, iat = now + 1", token(claims(iat=T + 1)), "not_yet_valid", skew=0)
    c = claims(iat=iat)
    valid_case("valid-skew-120-now-exp-plus-120", "skew 120, now = exp + 120", c, now=exp + 120, skew=120)
    case("expired-skew-120", "skew 120, now = exp + 121", token(claims(iat=iat)), "expired", now=exp + 121,
         skew=120)
    c = claims(iat=T + 120)
    valid_case("valid-skew-120-iat-now-plus-120", "skew 120, iat = now + 120", c, skew=120)
    case("not-yet-valid-skew-120", "skew 120, iat = now + 121", token(claims(iat=T + 121)), "not_yet_valid",
         skew=120)
    big = 2 ** 63 - 1
    case("not-yet-valid-iat-near-int64-max", "iat = 2^63-101, exp = 2^63-1: valid claims, far future "
         "(no arithmetic may overflow)", token(claims(iat=big - 100, exp=big)), "not_yet_valid")

    # ------------------------------------------------------------------ replay
    c = claims()
    t = token(c)
    case("replayed-after-valid-scan", "The same token was scanned valid 5 s earlier", t, "replayed", now=T + 5,
         prescans=[(t, T, "valid")])
    c = claims()
    t = token(c)
    valid_case("valid-after-not-yet-valid-scan", "An earlier scan failed (not_yet_valid) and consumed nothing",
               c, t, prescans=[(t, T - 200, "not_yet_valid")])
    c = claims()
    t = token(c)
    case("expired-before-replayed", "Scanned valid, then again after exp + skew: expired comes before replay",
         t, "expired", now=c[4] + 61, prescans=[(t, T, "valid")])
    cti = new_cti()
    case("replayed-same-cti-other-token", "Another token with the same cti was consumed: replay is by cti",
         token(claims(cti=cti, name="王大明")), "replayed", now=T + 1,
         prescans=[(token(claims(cti=cti)), T, "valid")])
    c = claims()
    valid_case("valid-other-token-consumed", "A different token (different cti) was consumed first", c,
               prescans=[(token(claims()), T, "valid")])

    # ------------------------------------------------------------------ prefix
    body = token()[5:]
    case("prefix-missing-lowercase", "Prefix 'vhc1:' (case-sensitive)", "vhc1:" + body, "prefix_missing")
    case("prefix-missing-empty", "Empty text", "", "prefix_missing")
    case("prefix-missing-hc1", "EU DCC prefix 'HC1:'", "HC1:" + body, "prefix_missing")
    case("prefix-missing-vhc0", "'VHC0:' is not a version of the form VHC[2-9A-Z]:", "VHC0:" + body,
         "prefix_missing")
    case("prefix-missing-leading-space", "Leading space before VHC1:", " VHC1:" + body, "prefix_missing")
    case("prefix-missing-lowercase-version", "'VHCa:' (lower-case version letter)", "VHCa:" + body,
         "prefix_missing")
    case("prefix-unsupported-vhc2", "Version 2 prefix", "VHC2:" + body, "prefix_unsupported")
    case("prefix-unsupported-vhcz", "Version Z prefix", "VHCZ:" + body, "prefix_unsupported")

    # ------------------------------------------------------------------ Base45
    case("base45-empty-body", "Nothing after VHC1:", "VHC1:", "base45_invalid")
    case("base45-empty-body-newline", "Nothing after VHC1: but a newline", "VHC1:\n", "base45_invalid")
    case("base45-trailing-space", "A trailing space is not removed (and is a Base45 character)",
         token() + " ", "base45_invalid")
    case("base45-two-trailing-newlines", "Only one trailing newline is removed", token() + "\n\n",
         "base45_invalid")
    case("base45-trailing-cr", "A lone trailing \\r is not removed", token() + "\r", "base45_invalid")
    t = token()
    case("base45-lowercase", "A lower-case letter in the body", t[:10] + t[10].lower() + t[11:]
         if t[10].isupper() else "VHC1:a" + t[6:], "base45_invalid")
    t = token()
    b = t[5:]
    cut = b[:-2] if len(b) % 3 == 0 else b[:-1]
    assert len(cut) % 3 == 1
    case("base45-length-mod-3-is-1", "Body length mod 3 = 1", "VHC1:" + cut, "base45_invalid")
    case("base45-group-above-65535", "A 3-character group 'GGW' (65536+) at the start", "VHC1:GGW" + token()[5:],
         "base45_invalid")
    b = token()[5:]
    b = b + "::" if len(b) % 3 == 0 else b[:-2] + "::"
    case("base45-pair-above-255", "A final 2-character group '::' (above 255)", "VHC1:" + b, "base45_invalid")

    # ------------------------------------------------------------------ CBOR (payloads correctly signed)
    def signed_payload(payload_obj, **kw):
        return text(vr.cose_sign1(TOK, cbor_encode(payload_obj), **kw))

    def with_claim(c, key, value):
        c = dict(c)
        c[key] = value
        return c

    def with_vhc(c, key, value):
        c = dict(c)
        c[-70000] = dict(c[-70000])
        c[-70000][key] = value
        return c

    c = claims()
    case("cbor-payload-long-form-integer", "exp encoded with an 8-byte argument (non-shortest), correctly signed",
         signed_payload(with_claim(c, 4, Raw(b"\x1b" + c[4].to_bytes(8, "big")))), "cbor_invalid")
    c = claims()
    case("cbor-payload-unsorted-keys", "Claims map keys not in bytewise order (-70000 first), correctly signed",
         signed_payload(OrderedMap([(-70000, c[-70000]), (1, c[1]), (4, c[4]), (6, c[6]), (7, c[7])])),
         "cbor_invalid")
    c = claims()
    v = c[-70000]
    case("cbor-payload-unsorted-vhc-keys", "vhc map keys in order 2,1,3,4,6, correctly signed",
         signed_payload(with_claim(c, -70000, OrderedMap([(2, v[2]), (1, v[1]), (3, v[3]), (4, v[4]),
                                                          (6, v[6])]))), "cbor_invalid")
    c = claims()
    case("cbor-payload-duplicate-key", "Claim 7 (cti) twice with the same value",
         signed_payload(OrderedMap([(1, c[1]), (4, c[4]), (6, c[6]), (7, c[7]), (7, c[7]),
                                    (-70000, c[-70000])])), "cbor_invalid")
    c = claims()
    case("cbor-payload-float", "exp as a 64-bit float",
         signed_payload(with_claim(c, 4, Raw(b"\xfb" + struct.pack(">d", float(c[4]))))), "cbor_invalid")
    c = claims()
    case("cbor-payload-indefinite-text", "Holder name as an indefinite-length text string",
         signed_payload(with_vhc(c, 2, Raw(b"\x7f" + cbor_encode("王小明") + b"\xff"))), "cbor_invalid")
    c = claims()
    v = c[-70000]
    case("cbor-payload-indefinite-map", "vhc as an indefinite-length map",
         signed_payload(with_claim(c, -70000, Raw(b"\xbf" + b"".join(cbor_encode(k) + cbor_encode(v[k])
                                                                     for k in (1, 2, 3, 4, 6)) + b"\xff"))),
         "cbor_invalid")
    c = claims()
    case("cbor-payload-tag-1", "iat wrapped in tag 1 (epoch time)", signed_payload(with_claim(c, 6, Tag(1, c[6]))),
         "cbor_invalid")
    c = claims()
    case("cbor-payload-tag-18-inside", "cti wrapped in tag 18 inside the payload (tag 18 only at the top)",
         signed_payload(with_claim(c, 7, Tag(18, c[7]))), "cbor_invalid")
    c = claims()
    case("cbor-payload-non-utf8-text", "Holder name bytes C3 28 (invalid UTF-8)",
         signed_payload(with_vhc(c, 2, Raw(b"\x62\xc3\x28"))), "cbor_invalid")
    c = claims()
    case("cbor-payload-undefined", "Card number as the simple value undefined",
         signed_payload(with_vhc(c, 6, Raw(b"\xf7"))), "cbor_invalid")
    c = claims()
    case("cbor-payload-uint-above-int64", "exp = 2^64-1 (outside signed 64-bit)",
         signed_payload(with_claim(c, 4, Raw(b"\x1b" + b"\xff" * 8))), "cbor_invalid")
    c = claims()
    case("cbor-payload-nint-below-int64", "exp = -2^63-1 (outside signed 64-bit)",
         signed_payload(with_claim(c, 4, Raw(b"\x3b\x80" + b"\x00" * 7))), "cbor_invalid")
    case("claims-exp-int64-max", "exp = 2^63-1 decodes, but the lifetime rule fails",
         token(claims(exp=2 ** 63 - 1)), "claims_invalid")
    c = claims()
    case("cbor-payload-bstr-long-form-length", "cti length 16 encoded as 58 10 (non-shortest)",
         signed_payload(with_claim(c, 7, Raw(b"\x58\x10" + c[7]))), "cbor_invalid")
    c = claims()
    case("cbor-payload-trailing-byte", "One byte after the claims map inside the payload bstr",
         text(vr.cose_sign1(TOK, cbor_encode(c) + b"\x00")), "cbor_invalid")

    def nest(n):
        v = 0
        for _ in range(n):
            v = [v]
        return v

    case("claims-depth-8", "Unknown claim 2 holding 7 nested arrays: depth 8 is fine for CBOR",
         token(with_claim(claims(), 2, nest(7))), "claims_invalid")
    case("cbor-payload-depth-9", "Unknown claim 2 holding 8 nested arrays: depth 9",
         token(with_claim(claims(), 2, nest(8))), "cbor_invalid")

    # sizes
    def sized(n_pad):
        return vr.cose_sign1(TOK, cbor_encode(with_claim(claims(cti=b"\x55" * 16), 2, b"\x00" * n_pad)))

    pad = next(p for p in range(600, 1000) if len(sized(p)) == 1024)
    c1024 = sized(pad)
    c1025 = sized(pad + 1)
    assert len(c1024) == 1024 and len(c1025) == 1025
    case("claims-cose-1024-bytes", "COSE of exactly 1024 bytes (unknown claim 2 as padding) passes the CBOR "
         "phase", text(c1024), "claims_invalid")
    case("cbor-cose-1025-bytes", "COSE of 1025 bytes", text(c1025), "cbor_invalid")

    # outer structure
    cose_untagged = cose_of(tagged=False)
    case("cbor-top-tag-61", "CWT tag 61 around the tagged COSE_Sign1",
         text(b"\xd8\x3d\xd2" + cose_of(tagged=False)), "cbor_invalid")
    case("cbor-top-tag-98", "Tag 98 (COSE_Sign) instead of 18", text(b"\xd8\x62" + cose_untagged), "cbor_invalid")
    case("cbor-top-tag-18-long-form", "Tag 18 encoded as D8 12 (non-shortest)",
         text(b"\xd8\x12" + cose_of(tagged=False)), "cbor_invalid")
    case("cbor-top-tag-18-twice", "Tag 18 applied twice", text(b"\xd2\xd2" + cose_of(tagged=False)),
         "cbor_invalid")
    case("cbor-trailing-byte", "One byte after the COSE_Sign1", text(cose_of() + b"\x00"), "cbor_invalid")
    case("cbor-truncated", "Last byte of the signature missing", text(cose_of()[:-1]), "cbor_invalid")
    arr = vr.cbor_decode(cose_of(tagged=False))
    case("cbor-indefinite-outer-array", "COSE_Sign1 array with indefinite length",
         text(b"\xd2\x9f" + b"".join(cbor_encode(x) for x in arr) + b"\xff"), "cbor_invalid")
    case("cbor-empty-payload", "Payload is an empty byte string (not a CBOR item)",
         text(vr.cose_sign1(TOK, b"")), "cbor_invalid")
    kid = KID(TOK)
    case("cbor-protected-long-form-alg", "Protected header a2 01 38 06 ...: alg -7 in non-shortest form",
         token(protected_bytes=b"\xa2\x01\x38\x06\x04\x48" + kid), "cbor_invalid")
    case("cbor-protected-unsorted", "Protected header with kid (4) before alg (1)",
         token(protected_bytes=b"\xa2\x04\x48" + kid + b"\x01\x26"), "cbor_invalid")
    case("cbor-protected-tag", "Protected header kid wrapped in tag 18",
         token(protected_bytes=cbor_encode({1: -7, 4: Tag(18, kid)})), "cbor_invalid")
    c = claims()
    p = cbor_encode(OrderedMap([(-70000, c[-70000]), (1, c[1]), (4, c[4]), (6, c[6]), (7, c[7])]))
    case("cbor-before-signature", "Unsorted payload and a signature by an unknown key under the right kid: "
         "the CBOR phase comes first", text(vr.cose_sign1(ROGUE, p, kid=kid)), "cbor_invalid")

    # ------------------------------------------------------------------ COSE structure
    pb = cbor_encode({1: -7, 4: kid})
    pl = cbor_encode(claims())
    sig = vr.sign_raw(TOK, vr.sig_structure(pb, pl))
    case("cose-array-of-3", "Array [protected, unprotected, payload]", text(cbor_encode(Tag(18, [pb, {}, pl]))),
         "cose_invalid")
    case("cose-array-of-5", "Array of 5 (extra element)", text(cbor_encode(Tag(18, [pb, {}, pl, sig, b""]))),
         "cose_invalid")
    case("cose-top-map", "A map instead of an array", text(cbor_encode({1: pb, 2: {}, 3: pl, 4: sig})),
         "cose_invalid")
    case("cose-tag-18-on-bstr", "Tag 18 around a byte string", text(cbor_encode(Tag(18, pl))), "cose_invalid")
    case("cose-payload-null", "Detached payload (null)", text(cbor_encode(Tag(18, [pb, {}, None, sig]))),
         "cose_invalid")
    case("cose-unprotected-not-map", "Unprotected header as an empty byte string",
         text(cbor_encode(Tag(18, [pb, b"", pl, sig]))), "cose_invalid")
    case("cose-signature-text", "Signature as a text string",
         text(cbor_encode(Tag(18, [pb, {}, pl, "x" * 64]))), "cose_invalid")
    case("cose-protected-empty", "Empty protected bstr (alg and kid unprotected)",
         token(protected_bytes=b"", unprotected={1: -7, 4: kid}), "cose_invalid")
    case("cose-protected-not-map", "Protected header is an array",
         token(protected_bytes=cbor_encode([-7, kid])), "cose_invalid")
    case("cose-protected-content-type", "Protected header has label 3 (content type)",
         token(protected={1: -7, 3: 0, 4: kid}), "cose_invalid")
    case("cose-protected-text-label", "Protected header has a text label",
         token(protected={1: -7, 4: kid, "alg": "ES256"}), "cose_invalid")
    case("cose-unprotected-alg", "Unprotected header has label 1 (alg)",
         token(protected={1: -7}, unprotected={1: -7, 4: kid}), "cose_invalid")
    case("cose-alg-missing", "No alg anywhere", token(protected={4: kid}), "cose_invalid")

    # ------------------------------------------------------------------ algorithm, kid, key
    case("algorithm-es384", "alg -35 (ES384)", token(alg=-35), "algorithm_unsupported")
    case("algorithm-text", "alg as the text 'ES256'", token(alg="ES256"), "algorithm_unsupported")
    case("algorithm-before-kid", "alg -8 (EdDSA) and a 7-byte kid: algorithm first",
         token(alg=-8, kid=kid[:7]), "algorithm_unsupported")
    case("kid-7-bytes", "kid of 7 bytes", token(kid=kid[:7]), "kid_invalid")
    case("kid-9-bytes", "kid of 9 bytes", token(kid=kid + b"\x00"), "kid_invalid")
    case("kid-missing", "No kid in either header", token(kid_location="none"), "kid_invalid")
    case("kid-text", "kid as a text string", token(protected={1: -7, 4: kid.hex()[:8]}), "kid_invalid")
    case("kid-protected-bad-unprotected-good", "7-byte kid in the protected header, the right kid "
         "unprotected: the protected one is used", token(kid=kid[:7], unprotected={4: kid}), "kid_invalid")
    case("key-unknown-kid", "Signed by a key that is in no list", token(key=ROGUE), "key_unknown")
    case("key-unknown-expired-key", "Signed by a usage-1 key whose validity ended a day earlier",
         token(key=TOK_OLD), "key_unknown")
    case("key-unknown-future-key", "Signed by a usage-1 key valid from tomorrow", token(key=TOK_NEXT),
         "key_unknown")
    case("key-unknown-revocation-key", "Signed by the usage-2 (revocation list) key", token(key=REV),
         "key_unknown")
    case("key-unknown-before-signature", "Unknown kid and a 10-byte signature: key lookup first",
         token(key=ROGUE, signature=b"\x01" * 10), "key_unknown")
    c = claims(iat=T - DAY - 10)
    valid_case("valid-key-at-its-exp", "now = the key's exp (nbf <= now <= exp)", c, token(c, key=TOK_OLD),
               now=T - DAY)
    case("key-unknown-one-second-after-key-exp", "now = the key's exp + 1 (no skew for keys)",
         token(claims(iat=T - DAY - 10), key=TOK_OLD), "key_unknown", now=T - DAY + 1)

    # ------------------------------------------------------------------ signature
    case("signature-wrong-key", "Signed by another key under the right kid", token(key=ROGUE, kid=kid),
         "signature_invalid")
    c = claims()
    case("signature-tampered-payload", "Signature over a payload with another holder name",
         token(c, signed_payload=cbor_encode(with_vhc(c, 2, "王大明"))), "signature_invalid")
    case("signature-over-other-protected", "Signature computed over a protected header without kid",
         token(signed_protected=cbor_encode({1: -7})), "signature_invalid")
    case("signature-63-bytes", "Signature truncated to 63 bytes", token(signature=lambda s: s[:63]),
         "signature_invalid")
    case("signature-empty", "Empty signature", token(signature=b""), "signature_invalid")
    case("signature-r-zero", "r = 0", token(signature=lambda s: b"\x00" * 32 + s[32:]), "signature_invalid")
    case("signature-s-equals-n", "s = n", token(signature=lambda s: s[:32] + vr.P256_N.to_bytes(32, "big")),
         "signature_invalid")
    case("signature-before-claims", "Bad signature on a payload whose claims are also invalid",
         token(with_claim(claims(), 2, "x"), key=ROGUE, kid=kid), "signature_invalid")

    # ------------------------------------------------------------------ claims
    case("claims-unknown-claim", "Extra claim 2 (sub)", token(with_claim(claims(), 2, "x")), "claims_invalid")
    case("claims-unknown-vhc-key", "Extra vhc key 7", token(with_vhc(claims(), 7, 1)), "claims_invalid")
    c = claims()
    del c[7]
    case("claims-missing-cti", "No cti", token(c), "claims_invalid")
    case("claims-cti-15-bytes", "cti of 15 bytes", token(claims(cti=new_cti()[:15])), "claims_invalid")
    case("claims-iss-mismatch", "iss TW-NHIB, trust list issuer TW-NHIA", token(claims(iss="TW-NHIB")),
         "claims_invalid")
    case("claims-payload-array", "Payload is an array, correctly signed", token([1, 2, 3]), "claims_invalid")
    c = claims()
    del c[-70000][4]
    case("claims-missing-photo", "vhc without key 4", token(c), "claims_invalid")
    case("claims-id-checksum", "Holder id A123456788 (bad checksum)", token(claims(holder="A123456788")),
         "claims_invalid")
    case("claims-new-resident-checksum", "Holder id A800000015 (bad checksum)", token(claims(holder="A800000015")),
         "claims_invalid")
    case("claims-id-lowercase", "Holder id a123456789", token(claims(holder="a123456789")), "claims_invalid")
    case("claims-delegate-is-holder", "Delegate id equals the holder id",
         token(delegated(delegation=(HOLDER, DELEG_ID, D_FROM, D_TO))), "claims_invalid")
    case("claims-delegate-bad-id", "Delegate id F222333445 (bad checksum)",
         token(delegated(delegation=("F222333445", DELEG_ID, D_FROM, D_TO))), "claims_invalid")
    case("claims-card-number-11-digits", "Card number of 11 digits", token(claims(card="00001234567")),
         "claims_invalid")
    case("claims-card-number-fullwidth", "Card number of 12 full-width digits",
         token(claims(card="００００１２３４５６７８")), "claims_invalid")
    case("claims-card-number-integer", "Card number as an integer", token(claims(card=12345678901)),
         "claims_invalid")
    case("claims-photo-2", "Photo 2", token(claims(photo=2)), "claims_invalid")
    case("claims-photo-false", "Photo as the boolean false", token(claims(photo=False)), "claims_invalid")
    case("claims-birth-1900-02-29", "Birth date 19000229 (1900 is not a leap year)", token(claims(birth=19000229)),
         "claims_invalid")
    case("claims-birth-1899-12-31", "Birth date before 1900", token(claims(birth=18991231)), "claims_invalid")
    case("claims-birth-text", "Birth date as text", token(claims(birth="19800101")), "claims_invalid")
    name41 = "陳" * 20 + "😀" * 11 + "👨‍👩‍👧" * 2
    assert len(name41) == 41
    case("claims-name-41-scalars", "Name of 41 Unicode scalars (33 grapheme clusters)",
         token(claims(name=name41)), "claims_invalid")
    case("claims-name-empty", "Empty name", token(claims(name="")), "claims_invalid")
    case("claims-name-c1-control", "Name containing U+0085 (a C1 control)", token(claims(name="王\u0085明")),
         "claims_invalid")
    c = delegated()
    del c[-70000][5][4]
    case("claims-delegation-missing-valid-to", "Delegation map without key 4", token(c), "claims_invalid")
    case("claims-delegation-id-7-bytes", "Delegation id of 7 bytes",
         token(delegated(delegation=(DELEGATE, DELEG_ID[:7], D_FROM, D_TO))), "claims_invalid")
    case("claims-delegation-id-17-bytes", "Delegation id of 17 bytes",
         token(delegated(delegation=(DELEGATE, b"\x01" * 17, D_FROM, D_TO))), "claims_invalid")
    case("claims-delegation-from-after-to", "valid-from 2026-11-25 after valid-to 2026-11-20",
         token(delegated(delegation=(DELEGATE, DELEG_ID, D_TO, D_FROM))), "claims_invalid")
    case("claims-delegation-bad-date", "valid-to 20261131 (no such day)",
         token(delegated(delegation=(DELEGATE, DELEG_ID, D_FROM, 20261131))), "claims_invalid")
    case("claims-before-time", "Unknown claim on a token that is also expired: claims come before time",
         token(with_claim(claims(), 2, "x")), "claims_invalid", now=T + 3600)

    # ------------------------------------------------------------------ delegation (from 2026-11-20 to -25)
    for nm, desc, now, code in (
            ("delegation-not-yet-valid-eve", "2026-11-19 23:59:59 Taipei, the day before valid-from",
             tpe(2026, 11, 19, 23, 59, 59), "delegation_not_yet_valid"),
            ("valid-delegation-first-day", "2026-11-20 00:00:00 Taipei, the first day", tpe(2026, 11, 20), "valid"),
            ("valid-delegation-last-day", "2026-11-25 23:59:59 Taipei, the last day",
             tpe(2026, 11, 25, 23, 59, 59), "valid"),
            ("delegation-expired-day-after", "2026-11-26 00:00:00 Taipei, the day after valid-to",
             tpe(2026, 11, 26), "delegation_expired")):
        c = delegated(iat=now - 10)
        case(nm, desc, token(c), code, now=now, c=c)
    case("delegation-revoked", "The delegation id is on the current revocation list",
         token(delegated(delegation=(DELEGATE, REVOKED_ID, D_FROM, D_TO))), "delegation_revoked")
    now = tpe(2026, 11, 26)
    case("delegation-expired-before-revoked", "Revoked and past valid-to: the window is checked first",
         token(delegated(iat=now - 10, delegation=(DELEGATE, REVOKED_ID, D_FROM, D_TO))), "delegation_expired",
         now=now)
    now = tpe(2026, 11, 19, 12)
    case("delegation-not-yet-valid-without-list", "Before valid-from and no revocation list: the window is "
         "checked first", token(delegated(iat=now - 10)), "delegation_not_yet_valid", now=now, rl=None)
    case("revocation-list-unavailable-absent", "Delegated token, no revocation list held", token(delegated()),
         "revocation_list_unavailable", rl=None)
    rl_exp = T - 1000
    rl_short = revocation_list(expires=rl_exp)
    c = delegated(iat=rl_exp + 290)
    valid_case("valid-delegated-list-at-grace-end", "now = revocation list expires + 300", c, rl=rl_short,
               now=rl_exp + 300)
    case("revocation-list-unavailable-stale", "now = revocation list expires + 301",
         token(delegated(iat=rl_exp + 291)), "revocation_list_unavailable", rl=rl_short, now=rl_exp + 301)
    c = claims(iat=rl_exp + 291)
    valid_case("valid-undelegated-stale-list", "A stale revocation list does not affect undelegated tokens",
               c, rl=rl_short, now=rl_exp + 301)

    # ------------------------------------------------------------------ trust list
    case("trust-list-invalid-signature", "Trust list signed by another key under the root kid",
         token(), "trust_list_invalid", tl=trust_list(signer=ROGUE, kid=KID(ROOT)))
    case("trust-list-invalid-kid-not-root", "Trust list signed by the root key but with another kid",
         token(), "trust_list_invalid", tl=trust_list(kid=KID(TOK)))
    ents = default_entries()
    ents[2] = vr.key_entry(TOK_NEXT, 1, T + DAY, T + 60 * DAY, kid=KID(ROGUE))
    case("trust-list-invalid-entry-kid", "An entry (not the token's key) whose kid is not SHA-256(SPKI)[:8]",
         token(), "trust_list_invalid", tl=trust_list(entries=ents))
    ents = default_entries() + [vr.key_entry(ROGUE, 3, T - DAY, T + DAY)]
    case("trust-list-invalid-usage-3", "An entry with usage 3", token(), "trust_list_invalid",
         tl=trust_list(entries=ents))
    extra = scalar_key("vhc-vector-compressed").public_key()
    cspki = bytes.fromhex("3039301306072a8648ce3d020106082a8648ce3d030107032200") + extra.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
    ents = default_entries() + [vr.key_entry(None, 1, T - DAY, T + DAY, spki=cspki)]
    case("trust-list-invalid-compressed-spki", "An entry whose SPKI carries the compressed point (kid = "
         "SHA-256 of those bytes): only the canonical uncompressed SPKI is accepted", token(),
         "trust_list_invalid", tl=trust_list(entries=ents))
    ents = default_entries() + [vr.key_entry(P384, 1, T - DAY, T + DAY)]
    case("trust-list-invalid-p384-key", "An entry holding a P-384 key (kid computed correctly)", token(),
         "trust_list_invalid", tl=trust_list(entries=ents))
    case("trust-list-invalid-extra-key", "Trust list payload with an extra key 6", token(), "trust_list_invalid",
         tl=trust_list(payload=cbor_encode({1: ISSUER, 2: 5, 3: T - 10 * DAY, 4: T + 30 * DAY,
                                            5: default_entries(), 6: 0})))
    e0 = default_entries()
    bad_entry = OrderedMap([(2, e0[0][2]), (1, e0[0][1]), (3, 1), (4, e0[0][4]), (5, e0[0][5])])
    case("trust-list-invalid-noncanonical", "An entry map with keys in order 2,1,3,4,5", token(),
         "trust_list_invalid", tl=trust_list(payload=cbor_encode({1: ISSUER, 2: 5, 3: T - 10 * DAY,
                                                                  4: T + 30 * DAY, 5: [bad_entry] + e0[1:]})))
    c = claims()
    valid_case("valid-trust-list-untagged-kid-unprotected", "Untagged trust list with the root kid unprotected",
               c, tl=trust_list(tagged=False, kid_location="unprotected"))
    case("trust-list-invalid-issued-in-future", "Trust list issued at now + 301", token(), "trust_list_invalid",
         tl=trust_list(issued=T + 301))
    c = claims()
    valid_case("valid-trust-list-issued-now-plus-300", "Trust list issued at now + 300", c,
               tl=trust_list(issued=T + 300))
    tl_short = trust_list(expires=T, entries=default_entries(tok_exp=T + DAY))
    c = claims(iat=T + 290)
    valid_case("valid-trust-list-at-expires-plus-300", "now = trust list expires + 300", c, tl=tl_short,
               now=T + 300)
    case("trust-list-expired", "now = trust list expires + 301", token(claims(iat=T + 291)), "trust_list_expired",
         tl=tl_short, now=T + 301)
    case("trust-list-expired-any-token", "An expired trust list is the result even for a text without prefix",
         "hello", "trust_list_expired", tl=tl_short, now=T + 301)
    case("trust-list-invalid-any-token", "An invalid trust list is the result even for an empty text", "",
         "trust_list_invalid", tl=trust_list(kid=KID(TOK)))
    case("trust-list-rollback", "Held sequence 6, list sequence 5", token(), "trust_list_rollback", held=(6, 0))
    c = claims()
    valid_case("valid-trust-list-same-sequence", "Held sequence 5, list sequence 5", c, held=(5, 3))

    # ------------------------------------------------------------------ revocation list
    case("revocation-list-invalid-signature", "Revocation list signed by another key under the usage-2 kid "
         "(undelegated token: still the result)", token(), "revocation_list_invalid",
         rl=revocation_list(signer=ROGUE, kid=KID(REV)))
    case("revocation-list-invalid-token-key", "Revocation list signed by the usage-1 token key", token(),
         "revocation_list_invalid", rl=revocation_list(signer=TOK))
    case("revocation-list-invalid-issuer", "Revocation list issuer TW-NHIB (prefix-less text: the list is "
         "checked first)", "hello", "revocation_list_invalid", rl=revocation_list(issuer="TW-NHIB"))
    case("revocation-list-invalid-rollback", "Held revocation sequence 4, list sequence 3",
         token(delegated()), "revocation_list_invalid", held=(0, 4))
    case("revocation-list-invalid-keep-until", "An entry with keep-until 20261331",
         token(delegated()), "revocation_list_invalid",
         rl=revocation_list(revoked=((REVOKED_ID, T - 2 * DAY, 20261331),)))


# ============================================================================================ output

def write_cases(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for old in glob.glob(os.path.join(out_dir, "[0-9][0-9][0-9]-*.json")):
        os.remove(old)
    files = []
    for i, cs in enumerate(CASES, 1):
        cose = vr.decode_token_cose(cs["token"])
        expected = {"CODE": cs["code"]}
        if cs["code"] == "valid":
            out = expected_output(cs["claims"])
            expected["HOLDER"] = out["holder"]
            expected["OUTPUT"] = out
        doc = {
            "PREFIX": cs["token"],
            "COSE": cose.hex() if cose is not None else None,
            "TESTCTX": {
                "DESCRIPTION": cs["desc"],
                "VALIDATIONCLOCK": cs["now"],
                "SKEW": cs["skew"],
                "ROOT": ROOT_PEM,
                "TRUSTLIST": cs["tl"].hex(),
                "REVOCATIONLIST": cs["rl"].hex() if cs["rl"] is not None else None,
                "HELD": {"trustListSequence": cs["held"][0], "revocationListSequence": cs["held"][1]},
                "PRESCANS": [{"PREFIX": p, "VALIDATIONCLOCK": t, "CODE": k} for p, t, k in cs["prescans"]],
            },
            "EXPECTEDRESULTS": expected,
        }
        path = os.path.join(out_dir, "%03d-%s.json" % (i, cs["name"]))
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, indent=2)
            f.write("\n")
        files.append(path)
    return files


def run_vector(doc):
    """Run one vector file's content through the reference; returns (prescan results, main result)."""
    ctx = doc["TESTCTX"]
    root = serialization.load_pem_public_key(ctx["ROOT"].encode())
    kw = dict(root_spki_der=vr.spki_der(root), trust_list_cose=bytes.fromhex(ctx["TRUSTLIST"]),
              revocation_list_cose=bytes.fromhex(ctx["REVOCATIONLIST"]) if ctx["REVOCATIONLIST"] else None,
              skew=ctx["SKEW"], held_trust_seq=ctx["HELD"]["trustListSequence"],
              held_revocation_seq=ctx["HELD"]["revocationListSequence"])
    consumed = set()
    pre = [vr.verify(p["PREFIX"], now=p["VALIDATIONCLOCK"], consumed=consumed, **kw) for p in ctx["PRESCANS"]]
    return pre, vr.verify(doc["PREFIX"], now=ctx["VALIDATIONCLOCK"], consumed=consumed, **kw)


def check_files(files):
    failures = []
    counts = {}
    for path in files:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        pre, res = run_vector(doc)
        for p, r in zip(doc["TESTCTX"]["PRESCANS"], pre):
            if r["code"] != p["CODE"]:
                failures.append("%s: prescan gave %s, expected %s" % (path, r["code"], p["CODE"]))
        exp = doc["EXPECTEDRESULTS"]
        if res["code"] != exp["CODE"]:
            failures.append("%s: got %s, expected %s" % (os.path.basename(path), res["code"], exp["CODE"]))
        elif exp["CODE"] == "valid" and res != exp["OUTPUT"]:
            failures.append("%s: output differs:\n  got      %s\n  expected %s" % (
                os.path.basename(path), json.dumps(res, ensure_ascii=False), json.dumps(exp["OUTPUT"],
                                                                                        ensure_ascii=False)))
        cose = vr.decode_token_cose(doc["PREFIX"])
        if (cose.hex() if cose is not None else None) != doc["COSE"]:
            failures.append("%s: COSE field does not match PREFIX" % path)
        if not re.fullmatch(r"[0-9]{3}-[a-z0-9-]+\.json", os.path.basename(path)):
            failures.append("%s: bad file name" % path)
        counts[exp["CODE"]] = counts.get(exp["CODE"], 0) + 1
    missing = [c for c in vr.CODES if c not in counts]
    if missing:
        failures.append("codes without a vector: %s" % ", ".join(missing))
    return failures, counts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true",
                    help="do not generate: only re-run the existing vectors in --out through the reference")
    args = ap.parse_args()
    if args.check:
        files = sorted(glob.glob(os.path.join(args.out, "[0-9][0-9][0-9]-*.json")))
    else:
        build_cases()
        names = [c["name"] for c in CASES]
        assert len(names) == len(set(names)), "duplicate case names"
        files = write_cases(args.out)
    failures, counts = check_files(files)
    for code in vr.CODES:
        print("%-28s %d" % (code, counts.get(code, 0)))
    print("%d vectors %s %s" % (len(files), "checked in" if args.check else "written to", args.out))
    if failures:
        print("\nFAILURES:", file=sys.stderr)
        for f in failures:
            print("  " + f, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
