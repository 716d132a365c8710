"""Decide what a file is from its first bytes (magic numbers).

Flickr accepts photos and videos on the same endpoint and answers error 5 for anything
else; deciding by content lets us skip an HTML page named `.jpg` before sending it.
Only where reading costs a request per file (S3) does discovery go by the name
(`from_name`); the upload step then checks the content before anything is sent.

Camera RAW files are told apart from TIFF here: most start with a TIFF header, and
Flickr refuses them all ("RAW is not supported", error 5 after the bytes are sent).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

#: How many leading bytes `sniff` needs to recognise every format below (a RAW's TIFF
#: header, its first directory and the maker's name it points to).
SNIFF_BYTES = 4096

PHOTO = "photo"
VIDEO = "video"
UNSUPPORTED = "unsupported"

# ISO base media file format ("ftyp" box) brands.
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_MOV_BRANDS = {b"qt  "}
_MP4_BRANDS = {
    b"isom",
    b"iso2",
    b"iso4",
    b"iso5",
    b"iso6",
    b"mp41",
    b"mp42",
    b"avc1",
    b"M4V ",
    b"M4VP",
    b"MSNV",
    b"dash",
    b"f4v ",
    b"NDAS",
    b"XAVC",
    b"mmp4",
}
_3GP_BRANDS = {b"3gp4", b"3gp5", b"3gp6", b"3gg6", b"3g2a", b"3g2b", b"3g2c"}
# QuickTime files without an ftyp box start straight with one of these atoms.
_MOV_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


# What Flickr takes as sent: Flickr Help Center, "Flickr upload requirements"
# (flickrhelp.com article 4404079649300): photos JPEG, PNG, GIF, TIFF, BMP (HEIC/HEIF
# through Flickr's own apps only); videos MP4, AVI, WMV, MOV, MPEG, 3GP, M2TS, OGG, OGV.
# "RAW is not supported"; WebP is refused with "5: Filetype was not recognised"
# (dtinit/data-transfer-project #886).
FLICKR_VIDEO_FORMATS = ("mp4", "avi", "wmv", "mov", "mpeg", "3gp", "mpegts", "ogg")
FLICKR_VIDEO_LIST = "MP4, AVI, WMV, MOV, MPEG, 3GP, M2TS, OGG, OGV"
#: Camera RAW formats `sniff` recognises (by content; `from_name` by extension).
RAW_FORMATS = frozenset(
    {
        "cr2",
        "cr3",
        "crw",
        "nef",
        "arw",
        "dng",
        "pef",
        "erf",
        "3fr",
        "orf",
        "rw2",
        "raf",
        "iiq",
        "srw",
        "kdc",
        "mos",
        "x3f",
        "mrw",
        "raw",
    }
)
#: Photos Flickr refuses as they are but that convert to a JPEG (`conversion.py`).
CONVERTIBLE_FORMATS = frozenset({"heic", "webp"})


@dataclass(frozen=True)
class FileType:
    kind: str  # PHOTO, VIDEO or UNSUPPORTED
    format: str  # "jpeg", "png", "mp4", ... or "unknown"
    mime: str

    @property
    def is_supported(self) -> bool:
        return self.kind != UNSUPPORTED

    @property
    def is_raw(self) -> bool:
        return self.format in RAW_FORMATS


def video_refusal(file_format: str) -> str | None:
    """Why Flickr will not take a video of this format as it is; None when it will."""
    if file_format in ("mkv", "webm", "flv"):
        return (
            f"{file_format.upper()} video: Flickr takes {FLICKR_VIDEO_LIST} only"
            " (Flickr upload requirements)"
        )
    return None


UNKNOWN = FileType(UNSUPPORTED, "unknown", "application/octet-stream")


def sniff(head: bytes) -> FileType:
    """Return the type of a file whose first bytes are `head` (pass at least SNIFF_BYTES)."""
    if head.startswith(b"\xff\xd8\xff"):
        return FileType(PHOTO, "jpeg", "image/jpeg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileType(PHOTO, "png", "image/png")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return FileType(PHOTO, "gif", "image/gif")
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return _sniff_tiff(head)
    raw = _sniff_raw(head)
    if raw is not None:
        return raw
    if head[:2] == b"BM" and head[6:10] == b"\x00\x00\x00\x00" and head[14:15] in b"\x0c(@l|":
        return FileType(PHOTO, "bmp", "image/bmp")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return FileType(PHOTO, "webp", "image/webp")
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return FileType(VIDEO, "avi", "video/x-msvideo")
    if head[4:8] == b"ftyp":
        return _sniff_ftyp(head[8:12])
    if head[4:8] in _MOV_ATOMS:
        return FileType(VIDEO, "mov", "video/quicktime")
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: its DocType says Matroska or WebM
        if b"\x42\x82\x84webm" in head[:64]:
            return FileType(VIDEO, "webm", "video/webm")
        return FileType(VIDEO, "mkv", "video/x-matroska")
    if head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        return FileType(VIDEO, "wmv", "video/x-ms-wmv")
    if head.startswith(b"FLV\x01"):
        return FileType(VIDEO, "flv", "video/x-flv")
    if head.startswith((b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3")):
        return FileType(VIDEO, "mpeg", "video/mpeg")
    if len(head) > 188 and head[0] == 0x47 and head[188] == 0x47:
        return FileType(VIDEO, "mpegts", "video/mp2t")
    return UNKNOWN


_JPEG = FileType(PHOTO, "jpeg", "image/jpeg")
_TIFF = FileType(PHOTO, "tiff", "image/tiff")
_HEIC = FileType(PHOTO, "heic", "image/heic")
_MP4 = FileType(VIDEO, "mp4", "video/mp4")
_MPEG = FileType(VIDEO, "mpeg", "video/mpeg")
_MPEGTS = FileType(VIDEO, "mpegts", "video/mp2t")
_BY_EXTENSION = {
    "jpg": _JPEG,
    "jpeg": _JPEG,
    "png": FileType(PHOTO, "png", "image/png"),
    "gif": FileType(PHOTO, "gif", "image/gif"),
    "tif": _TIFF,
    "tiff": _TIFF,
    "webp": FileType(PHOTO, "webp", "image/webp"),
    "bmp": FileType(PHOTO, "bmp", "image/bmp"),
    "webm": FileType(VIDEO, "webm", "video/webm"),
    "heic": _HEIC,
    "heif": _HEIC,
    "mp4": _MP4,
    "m4v": _MP4,
    "mov": FileType(VIDEO, "mov", "video/quicktime"),
    "avi": FileType(VIDEO, "avi", "video/x-msvideo"),
    "mkv": FileType(VIDEO, "mkv", "video/x-matroska"),
    "wmv": FileType(VIDEO, "wmv", "video/x-ms-wmv"),
    "flv": FileType(VIDEO, "flv", "video/x-flv"),
    "mpg": _MPEG,
    "mpeg": _MPEG,
    "mts": _MPEGTS,
    "m2ts": _MPEGTS,
    "3gp": FileType(VIDEO, "3gp", "video/3gpp"),
}


_RAW_EXTENSIONS = {
    **{name: name for name in RAW_FORMATS},
    "nrw": "nef",
    "srf": "arw",
    "sr2": "arw",
    "rwl": "rw2",
    "orf": "orf",
    "ori": "orf",
    "dcr": "kdc",
}


def from_name(name: str) -> FileType | None:
    """What a file's extension claims it is; None when the name says nothing we know."""
    _, dot, extension = name.rpartition(".")
    if not dot:
        return None
    raw = _RAW_EXTENSIONS.get(extension.lower())
    if raw is not None:
        return _raw(raw)
    return _BY_EXTENSION.get(extension.lower())


def _raw(file_format: str) -> FileType:
    return FileType(PHOTO, file_format, f"image/x-{file_format}")


def _sniff_raw(head: bytes) -> FileType | None:
    """RAW formats that do not start with a TIFF header."""
    if head.startswith(b"FUJIFILMCCD-RAW"):
        return _raw("raf")
    if head[:4] in (b"IIU\x00", b"IIU\x18"):  # Panasonic's TIFF variant (RW2, RWL)
        return _raw("rw2")
    if head[:4] in (b"IIRO", b"IIRS", b"MMOR"):  # Olympus's TIFF variant
        return _raw("orf")
    if head[:4] in (b"IIII", b"MMMM") and head[8:11] == b"Raw":  # Phase One
        return _raw("iiq")
    if head[:2] == b"II" and head[6:14] == b"HEAPCCDR":  # Canon before CR2
        return _raw("crw")
    if head.startswith(b"FOVb"):  # Sigma
        return _raw("x3f")
    if head.startswith(b"\x00MRM"):  # Minolta
        return _raw("mrw")
    return None


# Camera makers' Make values (IFD0 tag 271) that mark a TIFF as their RAW when the file
# also has a SubIFDs tag (the full-size raw data sits in a sub-directory; a scanner's or
# an editor's TIFF has none).
_RAW_MAKERS = (
    ("NIKON", "nef"),
    ("SONY", "arw"),
    ("PENTAX", "pef"),
    ("RICOH", "pef"),
    ("SEIKO EPSON", "erf"),
    ("HASSELBLAD", "3fr"),
    ("SAMSUNG", "srw"),
    ("KODAK", "kdc"),
    ("EASTMAN KODAK", "kdc"),
    ("LEAF", "mos"),
    ("CANON", "cr2"),
    ("PHASE ONE", "iiq"),
)
_MAKE, _SUB_IFDS, _DNG_VERSION = 271, 330, 50706


def _sniff_tiff(head: bytes) -> FileType:
    """A TIFF, or a camera's RAW built on TIFF: CR2 ("CR" at offset 8), DNG (a DNGVersion
    tag), or a TIFF with a camera maker's Make and sub-directories (NEF, NRW, ARW, SRF,
    SR2, PEF, ERF, 3FR, ...)."""
    if head[8:10] == b"CR" and head[10:11] in (b"\x02", b"\x03"):
        return _raw("cr2")
    tags = _ifd0_tags(head)
    if _DNG_VERSION in tags:
        return _raw("dng")
    make = _ascii_value(head, tags.get(_MAKE)).upper()
    if _SUB_IFDS in tags:
        for maker, file_format in _RAW_MAKERS:
            if make.startswith(maker):
                return _raw(file_format)
    return FileType(PHOTO, "tiff", "image/tiff")


def _ifd0_tags(head: bytes) -> dict[int, tuple[int, int, bytes]]:
    """The first directory's entries found in `head`: tag -> (type, count, value field)."""
    order = "<" if head[:2] == b"II" else ">"
    try:
        (offset,) = struct.unpack_from(order + "I", head, 4)
        (count,) = struct.unpack_from(order + "H", head, offset)
    except struct.error:
        return {}
    tags: dict[int, tuple[int, int, bytes]] = {}
    for index in range(min(count, 512)):
        start = offset + 2 + 12 * index
        if start + 12 > len(head):
            break
        tag, kind, number = struct.unpack_from(order + "HHI", head, start)
        tags[tag] = (kind, number, head[start + 8 : start + 12])
    return tags


def _ascii_value(head: bytes, entry: tuple[int, int, bytes] | None) -> str:
    if entry is None or entry[0] != 2:  # not ASCII
        return ""
    _, number, field = entry
    if number <= 4:
        value = field[:number]
    else:
        (at,) = struct.unpack("<I" if head[:2] == b"II" else ">I", field)
        value = head[at : at + min(number, 64)]
    return value.split(b"\x00", 1)[0].decode("ascii", "replace").strip()


def _sniff_ftyp(brand: bytes) -> FileType:
    if brand == b"crx ":  # Canon CR3
        return _raw("cr3")
    if brand in _HEIF_BRANDS:
        return FileType(PHOTO, "heic", "image/heic")
    if brand in _MOV_BRANDS:
        return FileType(VIDEO, "mov", "video/quicktime")
    if brand in _3GP_BRANDS:
        return FileType(VIDEO, "3gp", "video/3gpp")
    if brand in _MP4_BRANDS or brand.startswith(b"mp4"):
        return FileType(VIDEO, "mp4", "video/mp4")
    return UNKNOWN


def movie_seconds(read: Callable[[int, int], bytes], size: int) -> float | None:
    """A QuickTime/MP4 file's length from its movie header (`moov`/`mvhd`), or None.
    `read(start, length)` reads the file; only box headers and the mvhd are read, with a
    bounded number of boxes (the moov may come after the media data)."""
    at, boxes = 0, 0
    while at + 8 <= size and boxes < 64:
        boxes += 1
        head = read(at, 16)
        if len(head) < 8:
            return None
        box_size, box_type = struct.unpack(">I4s", head[:8])
        header = 8
        if box_size == 1 and len(head) == 16:
            (box_size,) = struct.unpack(">Q", head[8:16])
            header = 16
        elif box_size == 0:
            box_size = size - at
        if box_size < header:
            return None
        if box_type == b"moov":
            return _mvhd_seconds(read, at + header, at + box_size)
        at += box_size
    return None


def _mvhd_seconds(read: Callable[[int, int], bytes], start: int, end: int) -> float | None:
    at, boxes = start, 0
    while at + 8 <= end and boxes < 64:
        boxes += 1
        head = read(at, 8 + 32)
        if len(head) < 8:
            return None
        box_size, box_type = struct.unpack(">I4s", head[:8])
        if box_type == b"mvhd":
            body = head[8:]
            try:
                if body[0] == 1:
                    timescale, duration = struct.unpack_from(">IQ", body, 20)
                else:
                    timescale, duration = struct.unpack_from(">II", body, 12)
            except (struct.error, IndexError):
                return None
            return duration / timescale if timescale else None
        if box_size < 8:
            return None
        at += box_size
    return None
