"""Decide what a file is from its first bytes (magic numbers).

Flickr accepts photos and videos on the same endpoint and answers error 5 for anything
else; deciding by content lets us skip an HTML page named `.jpg` before sending it.
Only where reading costs a request per file (S3) does discovery go by the name
(`from_name`); the upload step then checks the content before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass

#: How many leading bytes `sniff` needs to recognise every format below.
SNIFF_BYTES = 512

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


@dataclass(frozen=True)
class FileType:
    kind: str  # PHOTO, VIDEO or UNSUPPORTED
    format: str  # "jpeg", "png", "mp4", ... or "unknown"
    mime: str

    @property
    def is_supported(self) -> bool:
        return self.kind != UNSUPPORTED


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
        return FileType(PHOTO, "tiff", "image/tiff")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return FileType(PHOTO, "webp", "image/webp")
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return FileType(VIDEO, "avi", "video/x-msvideo")
    if head[4:8] == b"ftyp":
        return _sniff_ftyp(head[8:12])
    if head[4:8] in _MOV_ATOMS:
        return FileType(VIDEO, "mov", "video/quicktime")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
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


def from_name(name: str) -> FileType | None:
    """What a file's extension claims it is; None when the name says nothing we know."""
    _, dot, extension = name.rpartition(".")
    return _BY_EXTENSION.get(extension.lower()) if dot else None


def _sniff_ftyp(brand: bytes) -> FileType:
    if brand in _HEIF_BRANDS:
        return FileType(PHOTO, "heic", "image/heic")
    if brand in _MOV_BRANDS:
        return FileType(VIDEO, "mov", "video/quicktime")
    if brand in _3GP_BRANDS:
        return FileType(VIDEO, "3gp", "video/3gpp")
    if brand in _MP4_BRANDS or brand.startswith(b"mp4"):
        return FileType(VIDEO, "mp4", "video/mp4")
    return UNKNOWN
