"""Small real images made on the fly for tests (the project's own, not the shared samples)."""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageEnhance

SHARED_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "samples" / "photos"


def jpeg_bytes(
    seed: int = 0, size: tuple[int, int] = (64, 48), *, taken: str | None = None
) -> bytes:
    """A small JPEG whose pixels (and so bytes) depend on `seed`; with `taken`
    ("YYYY:MM:DD hh:mm:ss"), its EXIF says when it was taken."""
    return _jpeg(picture(seed, size), taken)


def picture(seed: int, size: tuple[int, int] = (64, 48)) -> Image.Image:
    """A picture of its own for each seed (a few blocks of colour, as a scene has
    shapes: a perceptual print tells two seeds apart, and an edit from its seed)."""
    rng = random.Random(seed)
    image = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    draw = ImageDraw.Draw(image)
    w, h = size
    for _ in range(6):
        x, y = rng.randrange(w), rng.randrange(h)
        box = (x, y, x + rng.randrange(w // 4, w // 2 + 2), y + rng.randrange(h // 4, h // 2 + 2))
        draw.rectangle(box, fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    for _ in range(20):
        x, y = rng.randrange(w), rng.randrange(h)
        image.putpixel((x, y), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    return image


def edited_jpeg_bytes(
    seed: int, size: tuple[int, int] = (64, 48), *, taken: str | None = None
) -> bytes:
    """`jpeg_bytes(seed, size)` as an editor saves it again: a little brighter, cropped
    by 4% a side, re-encoded; with `taken`, if the editor kept the EXIF date."""
    image = ImageEnhance.Brightness(picture(seed, size)).enhance(1.15)
    w, h = size
    dx, dy = round(w * 0.04), round(h * 0.04)
    return _jpeg(image.crop((dx, dy, w - dx, h - dy)).resize(size), taken, quality=85)


def _jpeg(image: Image.Image, taken: str | None, quality: int = 90) -> bytes:
    out = io.BytesIO()
    exif = Image.Exif()
    if taken:
        exif.get_ifd(0x8769)[0x9003] = taken  # Exif IFD: DateTimeOriginal
    image.save(out, "JPEG", quality=quality, exif=exif)
    return out.getvalue()


def png_bytes(seed: int = 0) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (seed % 256, 0, 0)).save(out, "PNG")
    return out.getvalue()


def mp4_bytes(size: int = 4096) -> bytes:
    """Bytes that start like an MP4 file (an ftyp box); enough for type sniffing."""
    header = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    return header + b"\x00" * (size - len(header))
