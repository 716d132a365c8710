"""Small JPEG thumbnails for the HTML report (the only place pixels are decoded).

Cheap whatever the image: a camera JPEG's own EXIF thumbnail when it shows the same
picture; else a JPEG decoded at 1/8 scale (libjpeg scales in the DCT); else the image
decoded whole, only if that fits a memory budget. No thumbnail rather than an error."""

from __future__ import annotations

import io
import logging
import os
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from PIL import ExifTags, Image

from flickr_ingest.metadata import jpeg
from flickr_ingest.metadata.read import head_for_metadata
from flickr_ingest.private_files import open_private, private_folder

logger = logging.getLogger(__name__)

THUMBNAIL_SIZE = (160, 160)
#: Refuse images past this many pixels (a "decompression bomb" declares billions).
MAX_PIXELS = 120_000_000
#: Most memory decoding one image may take: past it, no thumbnail (a 9400x9400 PNG
#: would take 350 MB; a JPEG decoded at 1/8 scale takes 1/64 of that).
DECODE_BUDGET = 160 * 1024 * 1024
#: Memory all the decodes of a process may hold at once (the upload lanes share it, so
#: peak memory does not grow with --concurrency): one decode of DECODE_BUDGET always fits.
SHARED_DECODE_BUDGET = 256 * 1024 * 1024
#: A JPEG with more scans than this is not decoded: each scan of a progressive JPEG
#: costs a pass over the whole image (libjpeg's encoder writes about 10; a file padded
#: with 20,000 empty scans took 26 s of CPU).
MAX_SCANS = 100
#: From this size on, a JPEG's EXIF thumbnail is used when it shows the same picture:
#: decoding the image, even at 1/8 scale, costs about 10 ms of CPU per megabyte.
EMBEDDED_FROM_PIXELS = 2_000_000
_DARK = 40  # the brightest a letterbox bar's pixel may be (JPEG blurs pure black)


def make_thumbnail(source: Path | BinaryIO, target: Path) -> bool:
    """Write a thumbnail of `source` (a path, or a file already open) to `target`; False
    (and no file) if it cannot be made."""
    if isinstance(source, Path):
        with open(source, "rb") as stream:
            return make_thumbnail(stream, target)
    thumbnail, _ = _small(source, target.name, embedded=True)
    return thumbnail is not None and save_thumbnail(thumbnail, target)


def save_thumbnail(picture: Image.Image, target: Path) -> bool:
    """Write `picture` (from `small_picture`) as the report's JPEG thumbnail."""
    try:
        private_folder(target.parent)
        with open_private(target, "wb") as out:  # a private photo's likeness
            picture.convert("RGB").save(out, "JPEG", quality=80)
        return True
    except Exception as error:
        logger.debug("no thumbnail for %s: %s", target.name, error)
        target.unlink(missing_ok=True)
        return False


def small_picture(source: BinaryIO, *, camera_thumbnail: bool) -> Image.Image | None:
    """The picture, upright (EXIF orientation applied), at most THUMBNAIL_SIZE: the
    report's thumbnail and the picture's prints (`pictures`) come from this one bounded
    decode. With `camera_thumbnail`, a large JPEG's own EXIF thumbnail where it shows
    the same frame (a third of the CPU); without, always the image's own pixels (what a
    file's new bytes are judged by: an EXIF thumbnail can be copied into any file along
    with a date). None if it cannot be decoded within the budgets."""
    return picture_or_why_not(source, camera_thumbnail=camera_thumbnail)[0]


def picture_or_why_not(
    source: BinaryIO, *, camera_thumbnail: bool
) -> tuple[Image.Image | None, str | None]:
    """`small_picture`, and why there is none when the image is too costly to decode (for
    the file's record); one look at the file decides both."""
    return _small(source, "image", embedded=camera_thumbnail)


def too_costly_to_decode(source: BinaryIO) -> str | None:
    """Why the picture in `source` is not worth decoding (a JPEG padded with scans),
    or None. Reads the file once, counting scan markers (entropy-coded data never holds
    FF DA: a 0xFF byte there is followed by 0x00)."""
    source.seek(0)
    if source.read(2) != b"\xff\xd8":
        return None
    scans, carry = 0, b""
    while chunk := source.read(1024 * 1024):
        scans += (carry + chunk).count(b"\xff\xda")
        carry = chunk[-1:]
        if scans > MAX_SCANS:
            return f"no thumbnail: a JPEG of more than {MAX_SCANS} scans (too costly to decode)"
    return None


class MemoryBudget:
    """Bytes that decodes in this process may hold at once; a decode waits for its share."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._used = 0
        self._freed = threading.Condition()

    @contextmanager
    def hold(self, size: int) -> Iterator[None]:
        size = min(size, self.limit)  # a decode larger than the budget goes alone
        with self._freed:
            self._freed.wait_for(lambda: self._used + size <= self.limit)
            self._used += size
        try:
            yield
        finally:
            with self._freed:
                self._used -= size
                self._freed.notify_all()


#: One per process: every upload lane's decode draws from it.
_DECODES = MemoryBudget(SHARED_DECODE_BUDGET)


def _small(source: BinaryIO, name: str, *, embedded: bool) -> tuple[Image.Image | None, str | None]:
    try:
        problem = too_costly_to_decode(source)
        if problem is not None:
            logger.warning("%s: %s", name, problem)
            return None, problem
        head = _jpeg_head(source)
        layout = jpeg.walk(head) if head else None
        if layout is not None and layout.too_many:  # built to waste time: not worth it
            logger.debug("no thumbnail for %s: too many JPEG segments", name)
            return None, None
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            source.seek(0)
            with Image.open(source) as image:
                thumbnail = _thumbnail(image, head, layout, embedded=embedded)
                if thumbnail is None:
                    logger.debug("no thumbnail for %s: too big to decode", name)
                    return None, None
                thumbnail.load()
                # Only now: a PNG's getexif() decodes the whole image to find its eXIf.
                return _upright(thumbnail, image.getexif().get(0x0112)), None
    except Exception as error:  # any undecodable image: the report shows no thumbnail
        logger.debug("no thumbnail for %s: %s", name, error)
        return None, None


def _upright(image: Image.Image, orientation: object) -> Image.Image:
    """`image` turned as its EXIF orientation says (a camera's portrait is stored
    sideways with orientation 6 or 8)."""
    turn = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }.get(orientation if isinstance(orientation, int) else 1)
    return image.transpose(turn) if turn is not None else image.copy()


def _jpeg_head(stream: BinaryIO) -> bytes:
    """A JPEG's bytes up to its image data (b"" for other formats)."""
    stream.seek(0)
    if stream.read(2) != b"\xff\xd8":
        return b""

    def read_range(start: int, length: int) -> bytes:
        stream.seek(start)
        return stream.read(length)

    size = stream.seek(0, os.SEEK_END)  # a file, or bytes in memory (a rendition)
    return head_for_metadata(read_range, size)


def _thumbnail(
    image: Image.Image, head: bytes, layout: jpeg.SegmentWalker | None, *, embedded: bool
) -> Image.Image | None:
    pixels = image.width * image.height
    if pixels > MAX_PIXELS:
        return None
    buffered = 0
    if image.format == "JPEG" and layout is not None:
        wanted = embedded and pixels >= EMBEDDED_FROM_PIXELS
        camera_thumbnail = _try_embedded(image) if wanted else None
        if camera_thumbnail is not None:
            return camera_thumbnail
        buffered = _coefficient_bytes(image, head, layout)
        image.draft("RGB", THUMBNAIL_SIZE)  # decode at 1/2..1/8 scale, cheaply
    needed = buffered + image.width * image.height * _bytes_per_pixel(image.mode)
    if needed > DECODE_BUDGET:
        return None
    with _DECODES.hold(needed):  # the full decode happens here, then shrinks
        image.thumbnail(THUMBNAIL_SIZE)
    return image


def _bytes_per_pixel(mode: str) -> int:
    """Pillow's memory per pixel, doubled where resizing copies to premultiplied alpha."""
    if mode in ("1", "L", "P"):
        return 1
    if mode.startswith("I;16"):
        return 2
    if mode in ("LA", "La", "PA", "RGBA", "RGBa"):
        return 8
    return 4


def _coefficient_bytes(image: Image.Image, head: bytes, layout: jpeg.SegmentWalker) -> int:
    """What libjpeg holds besides its output: nothing much for a one-scan JPEG (it
    decodes row by row), but every DCT coefficient (2 bytes, 64 per 8x8 block) of the
    whole image for a progressive one, or one whose first scan lacks a component."""
    scan = next((s for s in layout.segments if s.marker == 0xDA), None)
    components = getattr(image, "layers", 0) or 3
    if (
        not image.info.get("progressive")
        and scan is not None
        and scan.start < len(head)
        and head[scan.start] >= components
    ):
        return 0
    sampling = [(h, v) for _, h, v, _ in getattr(image, "layer", [])]
    largest = max((h * v for h, v in sampling), default=0)
    planes = sum(h * v for h, v in sampling) / largest if largest else components
    return int(2 * image.width * image.height * planes)


def _try_embedded(image: Image.Image) -> Image.Image | None:
    try:
        return _embedded(image)
    except Exception as error:  # a broken EXIF block: decode the image itself instead
        logger.debug("EXIF thumbnail unusable: %s", error)
        return None


def _embedded(image: Image.Image) -> Image.Image | None:
    """The camera's own thumbnail (EXIF IFD1), if it shows the whole picture."""
    exif = image.info.get("exif")
    if not isinstance(exif, bytes) or not exif.startswith(b"Exif\x00\x00"):
        return None
    ifd1 = image.getexif().get_ifd(ExifTags.IFD.IFD1)
    offset, length = ifd1.get(0x0201), ifd1.get(0x0202)  # JPEGInterchangeFormat(Length)
    if not isinstance(offset, int) or not isinstance(length, int) or length <= 0:
        return None
    data = exif[6 + offset : 6 + offset + length]
    if len(data) != length or not data.startswith(b"\xff\xd8"):
        return None
    with Image.open(io.BytesIO(data)) as small:
        if small.format != "JPEG" or not 120 <= max(small.size) <= 640:
            return None
        small.load()
        picture = _without_bars(small.convert("RGB"), image.size)
    if picture is not None:
        picture.thumbnail(THUMBNAIL_SIZE)
    return picture


def _without_bars(small: Image.Image, size: tuple[int, int]) -> Image.Image | None:
    """`small` if it has the picture's proportions; the picture inside if `small` is it
    letterboxed between dark bars (160x120 for a 3:2 picture); else None (a thumbnail
    left over from before a crop, say)."""
    width, height = size
    tw, th = small.size
    if abs(tw * height - th * width) <= 0.02 * th * width:
        return small
    if tw * height > th * width:  # bars left and right
        inner = round(th * width / height)
        box = ((tw - inner) // 2, 0, (tw - inner) // 2 + inner, th)
        bars = [(0, 0, box[0] - 2, th), (box[2] + 2, 0, tw, th)]
    else:  # bars above and below
        inner = round(tw * height / width)
        box = (0, (th - inner) // 2, tw, (th - inner) // 2 + inner)
        bars = [(0, 0, tw, box[1] - 2), (0, box[3] + 2, tw, th)]
    if inner < 8 or any(right - left < 1 or bottom - top < 1 for left, top, right, bottom in bars):
        return None
    grey = small.convert("L")
    if any(_brightest(grey.crop(bar)) > _DARK for bar in bars):
        return None
    return small.crop(box)


def _brightest(grey: Image.Image) -> float:
    """The highest level in a one-band image (getextrema gives a pair per band for others)."""
    _, highest = grey.getextrema()
    if isinstance(highest, tuple):
        raise ValueError(f"one band expected, not {grey.mode}")
    return highest
