"""What schemathesis cannot know from JSON Schema alone, for the API runs in scripts/test.sh
(SCHEMATHESIS_HOOKS=schemathesis_hooks, with Tests/tools on PYTHONPATH):

- format `tw-id`: a Taiwan national ID or resident number, whose last digit is a checksum (docs/openapi.yaml);
  values are generated with a correct check digit, so a schema-valid request is one the station can accept;
- media types image/png, image/jpeg and image/heic or image/heif (POST /v1/scans/image, /v1/scans/frame):
  small real images, since any bytes fit a `format: binary` schema but only an image can be read.

A test tool, never part of the station."""

import os
import struct
import subprocess
import tempfile
import zlib

import schemathesis
from hypothesis import strategies as st

LETTER_VALUES = [10, 11, 12, 13, 14, 15, 16, 17, 34, 18, 19, 20, 21, 22, 35, 23, 24, 25, 26, 27, 28, 29, 32, 30, 31, 33]


def with_check_digit(first, second, digits):
    """The ID number of letter `first`, second character `second` (1, 2, 8 or 9) and 7 digits, completed."""
    value = LETTER_VALUES[ord(first) - ord("A")]
    total = value // 10 + value % 10 * 9 + int(second) * 8
    total += sum(int(d) * w for d, w in zip(digits, [7, 6, 5, 4, 3, 2, 1]))
    return f"{first}{second}{digits}{(10 - total % 10) % 10}"


schemathesis.openapi.format(
    "tw-id",
    st.builds(with_check_digit, st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), st.sampled_from("1289"),
              st.from_regex(r"\A[0-9]{7}\Z")))



def grey_png(width, height):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + bytes((x * 16 + y * 8) % 256 for x in range(width)) for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def grey_jpeg(width, height):
    """Through cjpeg (libjpeg-turbo-progs), from a PGM on its standard input."""
    pgm = f"P5 {width} {height} 255\n".encode() + bytes((x * 16 + y * 8) % 256 for y in range(height) for x in range(width))
    return subprocess.run(["cjpeg", "-grayscale"], input=pgm, capture_output=True, check=True).stdout


def grey_heic(width, height):
    """Through heif-enc (libheif-examples), from a PNG written to a temporary folder."""
    with tempfile.TemporaryDirectory() as folder:
        png, heic = os.path.join(folder, "grey.png"), os.path.join(folder, "grey.heic")
        with open(png, "wb") as out:
            out.write(grey_png(width, height))
        subprocess.run(["heif-enc", "-q", "50", "-o", heic, png], capture_output=True, check=True)
        with open(heic, "rb") as made:
            return made.read()


schemathesis.openapi.media_type("image/png", st.just(grey_png(16, 16)))
schemathesis.openapi.media_type("image/jpeg", st.just(grey_jpeg(16, 16)))
schemathesis.openapi.media_type("image/heic", st.just(grey_heic(16, 16)))
schemathesis.openapi.media_type("image/heif", st.just(grey_heic(16, 16)))

# A visit opening (POST /v1/visits) is a COSE_Sign1 no generator can sign: bytes up to the limit, so the
# operation is at least fuzzed for server errors; its refusals are expected (Tests/tools/schemathesis.toml).
schemathesis.openapi.media_type("application/cose", st.binary(max_size=1024))
