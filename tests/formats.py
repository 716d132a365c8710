"""Files in the formats Flickr does not take as they are, built for tests: TIFF-based RAW
files with a maker's markers and an embedded JPEG preview, WebP, HEIC (pillow-heif's
encoder), minimal MKV, WebM, FLV and MOV headers."""

from __future__ import annotations

import io
import struct

from PIL import Image, ImageEnhance

from tests.photos import picture

# TIFF field types
_SHORT, _LONG, _ASCII, _BYTE = 3, 4, 2, 1


def tiff_raw(
    maker: str = "dng",
    preview: bytes | None = None,
    *,
    taken: str | None = "2021:06:05 10:11:12",
    camera: tuple[str, str] = ("Canon", "Canon EOS 5D Mark IV"),
) -> bytes:
    """A little-endian TIFF as a camera writes its RAW: `maker` "cr2" ("CR" at offset 8,
    the preview as IFD0's strip), "dng" (a DNGVersion tag, the preview in a sub-IFD) or
    "nef" (Make NIKON and a sub-IFD holding the preview as JPEGInterchangeFormat). The
    EXIF sub-directory carries `taken`; a few bytes stand for the raw data."""
    make, model = ("NIKON CORPORATION", "NIKON D750") if maker == "nef" else camera
    blobs: list[bytes] = []  # laid out after the directories, in order
    out_of_line: dict[int, int] = {}

    def blob(data: bytes) -> int:
        blobs.append(data)
        return len(blobs) - 1

    ifd0: list[tuple[int, int, int, object]] = [(256, _LONG, 1, 16), (257, _LONG, 1, 16)]
    ifd0 += [(271, _ASCII, len(make) + 1, blob(make.encode() + b"\x00"))]
    ifd0 += [(272, _ASCII, len(model) + 1, blob(model.encode() + b"\x00"))]
    if taken:
        ifd0 += [(306, _ASCII, 20, blob(taken.encode() + b"\x00"))]
    sub: list[tuple[int, int, int, object]] = []
    raw_data = blob(bytes(range(256)) * 4)
    preview_blob = blob(preview) if preview is not None else None
    if maker == "cr2":
        if preview_blob is not None:
            ifd0 += [(259, _SHORT, 1, 6), (273, _LONG, 1, ("at", preview_blob))]
            ifd0 += [(279, _LONG, 1, len(preview))]  # type: ignore[arg-type]
    else:
        if maker == "dng":
            ifd0 += [(50706, _BYTE, 4, 0x00000401)]  # DNGVersion 1.4.0.0
        if preview_blob is not None:
            sub += [(254, _LONG, 1, 1), (259, _SHORT, 1, 7 if maker == "dng" else 6)]
            if maker == "dng":
                sub += [(273, _LONG, 1, ("at", preview_blob))]
                sub += [(279, _LONG, 1, len(preview))]  # type: ignore[arg-type]
            else:
                sub += [(513, _LONG, 1, ("at", preview_blob))]
                sub += [(514, _LONG, 1, len(preview))]  # type: ignore[arg-type]
        else:
            sub += [(254, _LONG, 1, 0), (273, _LONG, 1, ("at", raw_data)), (279, _LONG, 1, 1024)]
        ifd0 += [(330, _LONG, 1, ("ifd", "sub"))]
    exif: list[tuple[int, int, int, object]] = []
    if taken:
        exif += [(36867, _ASCII, 20, blob(taken.encode() + b"\x00"))]
    ifd0 += [(34665, _LONG, 1, ("ifd", "exif"))]

    directories = {"ifd0": sorted(ifd0, key=lambda e: e[0]), "sub": sub, "exif": exif}
    offsets, at = {}, 16  # after the header (and CR2's 8 bytes of marker)
    for name, entries in directories.items():
        offsets[name] = at
        at += 2 + 12 * len(entries) + 4
    for index, data in enumerate(blobs):
        out_of_line[index] = at
        at += len(data) + (len(data) & 1)

    def value(kind: int, count: int, raw: object) -> bytes:
        if isinstance(raw, tuple):
            target = offsets[raw[1]] if raw[0] == "ifd" else out_of_line[raw[1]]  # type: ignore[index]
            return struct.pack("<I", target)
        if kind == _ASCII:
            return struct.pack("<I", out_of_line[raw])  # type: ignore[index]
        if kind == _SHORT:
            return struct.pack("<HH", raw, 0)
        return struct.pack("<I", raw)

    out = bytearray(b"II*\x00" + struct.pack("<I", 16))
    out += b"CR\x02\x00\x00\x00\x00\x00" if maker == "cr2" else b"\x00" * 8
    for entries in directories.values():
        out += struct.pack("<H", len(entries))
        for tag, kind, count, raw in entries:
            out += struct.pack("<HHI", tag, kind, count) + value(kind, count, raw)
        out += b"\x00\x00\x00\x00"
    for data in blobs:
        out += data + b"\x00" * (len(data) & 1)
    return bytes(out)


def preview_jpeg(seed: int, size: tuple[int, int] = (1536, 1024)) -> bytes:
    """A camera's full-size JPEG preview: no EXIF of its own (the RAW holds it)."""
    out = io.BytesIO()
    picture(seed, (96, 64)).resize(size).save(out, "JPEG", quality=80)
    return out.getvalue()


def webp_bytes(seed: int, *, taken: str | None = None, size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    exif = Image.Exif()
    if taken:
        exif.get_ifd(0x8769)[0x9003] = taken
        exif[0x0132] = taken
    picture(seed, size).save(out, "WEBP", quality=90, exif=exif.tobytes())
    return out.getvalue()


def heic_bytes(
    seed: int,
    *,
    taken: str | None = None,
    size: tuple[int, int] = (64, 48),
    edited: bool = False,
) -> bytes:
    """A HEIC made by pillow-heif's encoder; `edited`: a little brighter, as an editor
    saves the same picture again."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    exif = Image.Exif()
    if taken:
        exif.get_ifd(0x8769)[0x9003] = taken
        exif[0x0132] = taken
    image = picture(seed, size)
    if edited:
        image = ImageEnhance.Brightness(image).enhance(1.1)
    image.save(out, "HEIF", quality=90, exif=exif.tobytes())
    return out.getvalue()


def mkv_bytes(doc_type: bytes = b"matroska") -> bytes:
    """An EBML header naming its DocType, as every Matroska and WebM file starts."""
    body = b"\x42\x86\x81\x01" + b"\x42\xf7\x81\x01" + b"\x42\x82" + bytes([0x80 | len(doc_type)])
    body += doc_type
    return (
        b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(body)]) + body + b"\x18\x53\x80\x67" + b"\x00" * 64
    )


def flv_bytes() -> bytes:
    return b"FLV\x01\x05\x00\x00\x00\x09" + b"\x00\x00\x00\x00" + b"\x12" + b"\x00" * 64


def mov_bytes(seconds: float) -> bytes:
    """A QuickTime file of `seconds`: ftyp, then a moov holding an mvhd (version 0)."""
    timescale = 600
    mvhd = struct.pack(">B3xIIII", 0, 0, 0, timescale, round(seconds * timescale))
    mvhd += b"\x00\x01\x00\x00" + b"\x01\x00" + b"\x00" * 10 + b"\x00" * 36 + b"\x00" * 24
    mvhd += struct.pack(">I", 2)
    mvhd_box = struct.pack(">I", 8 + len(mvhd)) + b"mvhd" + mvhd
    moov = struct.pack(">I", 8 + len(mvhd_box)) + b"moov" + mvhd_box
    ftyp = struct.pack(">I", 20) + b"ftypqt  " + b"\x00\x00\x02\x00" + b"qt  "
    mdat = struct.pack(">I", 8 + 64) + b"mdat" + bytes(64)
    return ftyp + moov + mdat
