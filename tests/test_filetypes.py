import pytest

from flickr_ingest.filetypes import sniff
from tests.photos import jpeg_bytes, mp4_bytes, png_bytes


@pytest.mark.parametrize(
    ("head", "kind", "fmt"),
    [
        (jpeg_bytes(1), "photo", "jpeg"),
        (png_bytes(1), "photo", "png"),
        (b"GIF89a" + b"\x00" * 10, "photo", "gif"),
        (b"II*\x00" + b"\x00" * 10, "photo", "tiff"),
        (b"MM\x00*" + b"\x00" * 10, "photo", "tiff"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "photo", "webp"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "photo", "heic"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00", "photo", "heic"),
        (mp4_bytes(), "video", "mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "video", "mov"),
        (b"\x00\x00\x00\x08wide\x00\x00\x00\x00mdat", "video", "mov"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "video", "avi"),
        (b"\x1a\x45\xdf\xa3\x00", "video", "mkv"),
        (b"<html><body>", "unsupported", "unknown"),
        (b"\x00\x00\x00\x18ftypavif\x00\x00\x00\x00", "unsupported", "unknown"),
        (b"", "unsupported", "unknown"),
    ],
)
def test_sniff(head: bytes, kind: str, fmt: str) -> None:
    found = sniff(head)
    assert (found.kind, found.format) == (kind, fmt)
