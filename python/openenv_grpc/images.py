"""Image frames to PNG and JPEG and back, for Render, WatchSession and the playground.

PNG is written here with zlib alone, so a server sends lossless frames with no
imaging library; JPEG (and decoding either) needs Pillow, which is optional:
without it a server sends PNG where JPEG was asked, and says so in the
media type. An image is a uint8 array of shape [H, W] (grey) or [H, W, 1|3|4].
"""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import numpy as np

PNG_LEVEL = 1  # zlib level: a CartPole frame in about 3 ms and 5 KiB (6: 7 ms, 2 KiB)
JPEG_QUALITY = 75
PNG_TYPE, JPEG_TYPE = "image/png", "image/jpeg"


def is_image(frame: Any) -> bool:
    """Whether a render result is an image PNG can hold: uint8, [H, W] or [H, W, 1|3|4]."""
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.size == 0:
        return False
    return frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] in (1, 3, 4))


def encode(
    image: np.ndarray[Any, Any], media_type: str, quality: int = JPEG_QUALITY
) -> tuple[str, bytes]:
    """The image as `media_type` (PNG or JPEG); PNG when JPEG cannot be written here."""
    if media_type == JPEG_TYPE:
        data = jpeg(image, quality)
        if data is not None:
            return JPEG_TYPE, data
    return PNG_TYPE, png(image)


def png(image: np.ndarray[Any, Any]) -> bytes:
    """A PNG of a uint8 image: each row filtered "Up" (its difference to the row above,
    which numpy computes at once), then deflated."""
    height, width = image.shape[:2]
    channels = 1 if image.ndim == 2 else image.shape[2]
    rows = np.ascontiguousarray(image).reshape(height, width * channels)
    raw = np.empty((height, 1 + width * channels), np.uint8)
    raw[:, 0] = 2  # filter type Up
    raw[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=raw[1:, 1:])  # wraps modulo 256, as PNG wants
    color = {1: 0, 3: 2, 4: 6}[channels]
    header = struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(raw.tobytes(), PNG_LEVEL)),
            _chunk(b"IEND", b""),
        )
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def jpeg(image: np.ndarray[Any, Any], quality: int = JPEG_QUALITY) -> bytes | None:
    """A JPEG of a uint8 image, or None when Pillow is not installed."""
    try:
        from PIL import Image  # optional: only JPEG frames need it
    except ImportError:
        return None
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    picture = Image.fromarray(image)
    if picture.mode == "RGBA":
        picture = picture.convert("RGB")
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def decode(data: bytes) -> np.ndarray[Any, Any]:
    """A PNG or JPEG back to a uint8 array (needs Pillow: `pip install pillow`)."""
    try:
        from PIL import Image
    except ImportError as exc:
        raise RuntimeError(
            "decoding PNG or JPEG frames needs Pillow (pip install pillow); or ask for RAW "
            "frames, which need nothing"
        ) from exc
    with Image.open(io.BytesIO(data)) as picture:
        return np.asarray(picture)
