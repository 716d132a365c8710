"""What is sent to Flickr for a file: its own bytes, or, for a format Flickr refuses as it
is, a JPEG made from it. A camera RAW goes as its embedded full-size JPEG preview with the
RAW's EXIF (date taken, camera, GPS); HEIC/HEIF and WebP are re-encoded as JPEG with their
EXIF (orientation and GPS included) and colour profile.

The ledger and the checksum tag still name the source file's bytes: the conversion is
deterministic (same bytes in, same JPEG out), so a rerun sends identical bytes.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import BinaryIO

import pillow_heif
from PIL import Image

from flickr_ingest.errors import FlickrIngestError
from flickr_ingest.files import MIN_BYTES_PER_SECOND, CheckedReader
from flickr_ingest.filetypes import CONVERTIBLE_FORMATS, RAW_FORMATS

pillow_heif.register_heif_opener()  # Pillow opens HEIC/HEIF from here on (thumbnails too)

#: A preview whose longer side is shorter than this is a thumbnail for the camera's
#: screen, not the photo: such a RAW is skipped rather than sent as a postage stamp.
MIN_PREVIEW_SIDE = 1024
#: The JPEG quality of a re-encoded HEIC or WebP (visually lossless at normal sizes).
JPEG_QUALITY = 92


class NotConvertible(FlickrIngestError):
    """The file cannot be turned into something Flickr takes; its reason says why."""


@dataclass
class Payload:
    """What the upload streams (`body`, named `filename`). `body.sha256()` is always the
    SHA-256 of the source bytes it was made from, checked against the one recorded."""

    body: CheckedReader
    filename: str


class _Converted(CheckedReader):
    """A JPEG made from source bytes read in full beforehand: those are what it stands
    for, and what its `sha256` names."""

    def __init__(self, jpeg: bytes, source: CheckedReader) -> None:
        super().__init__(io.BytesIO(jpeg), len(jpeg))
        self._source = source

    def sha256(self) -> str:
        return self._source.sha256()


def needs_conversion(file_format: str) -> bool:
    return file_format in RAW_FORMATS or file_format in CONVERTIBLE_FORMATS


def payload(
    stream: BinaryIO,
    name: str,
    size: int,
    file_format: str,
    *,
    slowest: float = MIN_BYTES_PER_SECOND,
) -> Payload:
    """What is sent for the file `name` of `size` bytes open as `stream`: its own bytes,
    or the JPEG made from them (`slowest`: the rate below which sending is taken for
    stalled, `files.CheckedReader`). Raises NotConvertible."""
    stream.seek(0)
    source = CheckedReader(stream, size, slowest=slowest)
    if not needs_conversion(file_format):
        return Payload(source, name)
    data = source.read()
    jpeg = raw_preview(data) if file_format in RAW_FORMATS else as_jpeg(data, file_format)
    stem = name.rpartition(".")[0] or name
    return Payload(_Converted(jpeg, source), f"{stem}.jpg")


def as_jpeg(data: bytes, file_format: str) -> bytes:
    """A HEIC/HEIF or WebP as JPEG: same pixels as decoded, same EXIF and ICC profile."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            exif = image.getexif()
            icc = image.info.get("icc_profile")
            rgb = image.convert("RGB")
    except Exception as error:
        raise NotConvertible(
            f"{file_format.upper()} that cannot be decoded to JPEG ({type(error).__name__})"
        ) from error
    out = io.BytesIO()
    options = {"icc_profile": icc} if icc else {}
    rgb.save(out, "JPEG", quality=JPEG_QUALITY, exif=exif.tobytes() if exif else b"", **options)
    return out.getvalue()


# -- RAW: the embedded preview -------------------------------------------------------------

_STRIP_OFFSETS, _STRIP_BYTES, _SUB_IFDS = 273, 279, 330
_JPEG_OFFSET, _JPEG_BYTES, _JPG_FROM_RAW = 513, 514, 46  # 46: Panasonic's full-size JPEG
#: IFD0 tags of the RAW kept on the preview (the rest describe the raw data).
_KEPT_IFD0_TAGS = (271, 272, 274, 305, 306, 315, 33432)
_MAKER_NOTE = 0x927C


def raw_preview(data: bytes) -> bytes:
    """The largest full-size JPEG a RAW carries, with the RAW's EXIF. Raises
    NotConvertible when it carries none."""
    found = []
    for start, length in _embedded_jpegs(data):
        piece = data[start : start + length]
        if not piece.startswith(b"\xff\xd8"):
            continue
        try:
            with Image.open(io.BytesIO(piece)) as preview:
                found.append((preview.width * preview.height, max(preview.size), piece))
        except Exception:  # noqa: S112 - a damaged preview is just not one to send
            continue
    full = [entry for entry in found if entry[1] >= MIN_PREVIEW_SIDE]
    if not full:
        raise NotConvertible(
            "RAW without an embedded full-size JPEG preview"
            f" ({MIN_PREVIEW_SIDE} px or more); Flickr does not take RAW files"
        )
    return with_exif(max(full, key=lambda entry: entry[0])[2], _raw_exif(data))


def _embedded_jpegs(data: bytes) -> list[tuple[int, int]]:
    """(offset, length) of every JPEG a RAW's directories point to."""
    if data.startswith(b"FUJIFILMCCD-RAW") and len(data) >= 92:
        return [struct.unpack_from(">II", data, 84)]
    order = "<" if data[:2] == b"II" else ">"
    try:
        (first,) = struct.unpack_from(order + "I", data, 4)
    except struct.error:
        return []
    found: list[tuple[int, int]] = []
    pending: list[int] = [first]
    seen: set[int] = set()
    while pending and len(seen) < 64:
        offset = pending.pop()
        if offset in seen or not 8 <= offset < len(data):
            continue
        seen.add(offset)
        tags, following = _directory(data, order, offset)
        for a, b in ((_JPEG_OFFSET, _JPEG_BYTES), (_STRIP_OFFSETS, _STRIP_BYTES)):
            if a in tags and b in tags and len(tags[a]) == 1 and len(tags[b]) == 1:
                found.append((tags[a][0], tags[b][0]))
        if _JPG_FROM_RAW in tags and len(tags[_JPG_FROM_RAW]) == 2:
            found.append((tags[_JPG_FROM_RAW][1], tags[_JPG_FROM_RAW][0]))
        pending += tags.get(_SUB_IFDS, [])
        if following:
            pending.append(following)
    return found


def _directory(data: bytes, order: str, offset: int) -> tuple[dict[int, list[int]], int]:
    """One TIFF directory's integer values (an UNDEFINED value as (count, offset)), and
    the offset of the next directory."""
    try:
        (count,) = struct.unpack_from(order + "H", data, offset)
        tags: dict[int, list[int]] = {}
        for index in range(min(count, 1024)):
            tag, kind, number, field = struct.unpack_from(
                order + "HHI4s", data, offset + 2 + 12 * index
            )
            if kind == 7:  # UNDEFINED: where the bytes are
                tags[tag] = [number, struct.unpack(order + "I", field)[0]]
            elif kind in (3, 4, 13) and number >= 1:
                size = 2 if kind == 3 else 4
                code = order + ("H" if kind == 3 else "I") * number
                if number * size <= 4:
                    tags[tag] = list(struct.unpack_from(code, field))
                elif number <= 64:
                    (at,) = struct.unpack(order + "I", field)
                    tags[tag] = list(struct.unpack_from(code, data, at))
        (following,) = struct.unpack_from(order + "I", data, offset + 2 + 12 * count)
    except struct.error:
        return {}, 0
    return tags, following


def _raw_exif(data: bytes) -> Image.Exif:
    """The RAW's own EXIF worth keeping on its preview: camera, dates, orientation,
    author, and the EXIF and GPS directories (without the maker's notes)."""
    kept = Image.Exif()
    if not data.startswith((b"II*\x00", b"MM\x00*")):
        return kept
    raw = Image.Exif()
    try:
        raw.load(data)
        for tag in _KEPT_IFD0_TAGS:
            if tag in raw:
                kept[tag] = raw[tag]
        for directory in (0x8769, 0x8825):
            values = {t: v for t, v in raw.get_ifd(directory).items() if t != _MAKER_NOTE}
            if values:
                kept.get_ifd(directory).update(values)
    except Exception:  # noqa: S110 - a RAW with unreadable EXIF still has its preview
        pass
    return kept


def with_exif(jpeg: bytes, exif: Image.Exif) -> bytes:
    """`jpeg` with its EXIF segment replaced by `exif` (the image data untouched)."""
    segments, at = [], 2
    while at + 4 <= len(jpeg) and jpeg[at] == 0xFF and jpeg[at + 1] not in (0xDA, 0xD9):
        (length,) = struct.unpack_from(">H", jpeg, at + 2)
        segment = jpeg[at : at + 2 + length]
        if not (jpeg[at + 1] == 0xE1 and segment[4:10] == b"Exif\x00\x00"):
            segments.append(segment)
        at += 2 + length
    body = exif.tobytes()
    app1 = b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body
    head = [s for s in segments if s[1] in (0xE0,)]  # JFIF first, as readers expect
    rest = [s for s in segments if s[1] not in (0xE0,)]
    return b"\xff\xd8" + b"".join(head) + app1 + b"".join(rest) + jpeg[at:]
