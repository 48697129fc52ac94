"""A minimal PNG writer (8-bit grayscale or RGB) on the standard library's zlib.

>>> import numpy as np, io
>>> data = encode_png(np.zeros((2, 3, 3), dtype=np.uint8))
>>> data[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
"""
import struct
import zlib

import numpy as np

_COLOR_TYPES = {2: 0, 3: 2}  # array rank -> PNG colour type (0 grayscale, 2 RGB)


def _chunk(kind, payload):
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))


def encode_png(pixels):
    """PNG bytes of a uint8 array shaped (height, width) or (height, width, 3)."""
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    if pixels.ndim not in _COLOR_TYPES or (pixels.ndim == 3 and pixels.shape[2] != 3):
        raise ValueError(f"expected (h, w) or (h, w, 3) pixels, got shape {pixels.shape}")
    height, width = pixels.shape[:2]
    rows = pixels.reshape(height, -1)
    raw = np.concatenate([np.zeros((height, 1), dtype=np.uint8), rows], axis=1).tobytes()  # filter 0
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPES[pixels.ndim], 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 6))
            + _chunk(b"IEND", b""))


def write_png(path, pixels):
    """Write ``pixels`` (see :func:`encode_png`) to ``path``."""
    with open(path, "wb") as f:
        f.write(encode_png(pixels))


def decode_png_size(data):
    """(width, height) from a PNG's header, checking the signature and the IHDR chunk's CRC."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    length, kind = struct.unpack(">I4s", data[8:16])
    payload = data[16:16 + length]
    (crc,) = struct.unpack(">I", data[16 + length:20 + length])
    if kind != b"IHDR" or zlib.crc32(kind + payload) & 0xFFFFFFFF != crc:
        raise ValueError("corrupt PNG header")
    return struct.unpack(">II", payload[:8])


def colormap(values):
    """Map floats in [0, 1] to RGB with a blue-to-yellow ramp (uint8, shape (..., 3))."""
    v = np.clip(np.asarray(values, dtype=np.float32), 0.0, 1.0)[..., None]
    stops = np.array([[8, 8, 40], [40, 60, 160], [200, 80, 80], [250, 220, 80], [255, 255, 230]], np.float32)
    position = v * (len(stops) - 1)
    low = np.floor(position).astype(int).clip(0, len(stops) - 2)
    t = position - low
    return (stops[low[..., 0]] * (1 - t) + stops[low[..., 0] + 1] * t).astype(np.uint8)
