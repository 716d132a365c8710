"""Small real images made on the fly for tests (the project's own, not the shared samples)."""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image

SHARED_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "samples" / "photos"


def jpeg_bytes(
    seed: int = 0, size: tuple[int, int] = (64, 48), *, taken: str | None = None
) -> bytes:
    """A small JPEG whose pixels (and so bytes) depend on `seed`; with `taken`
    ("YYYY:MM:DD hh:mm:ss"), its EXIF says when it was taken."""
    rng = random.Random(seed)
    image = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    for _ in range(20):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        image.putpixel((x, y), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    out = io.BytesIO()
    exif = Image.Exif()
    if taken:
        exif.get_ifd(0x8769)[0x9003] = taken  # Exif IFD: DateTimeOriginal
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def png_bytes(seed: int = 0) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (seed % 256, 0, 0)).save(out, "PNG")
    return out.getvalue()


def mp4_bytes(size: int = 4096) -> bytes:
    """Bytes that start like an MP4 file (an ftyp box); enough for type sniffing."""
    header = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    return header + b"\x00" * (size - len(header))
