"""Issue #29: what is sent for a format Flickr refuses as it is. HEIC/HEIF and WebP become
JPEG with their EXIF, orientation and GPS, the same bytes every time; a RAW its preview."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from flickr_ingest.conversion import NotConvertible, as_jpeg, payload, raw_preview
from tests.formats import preview_jpeg, tiff_raw
from tests.photos import picture


def _with_exif(file_format: str) -> bytes:
    exif = Image.Exif()
    exif[274] = 6  # stored sideways: turn a quarter to show
    exif.get_ifd(0x8769)[0x9003] = "2022:01:02 03:04:05"
    exif.get_ifd(0x8825).update({1: "N", 2: (52.0, 22.0, 1.0)})
    out = io.BytesIO()
    picture(3001, (64, 48)).save(out, file_format, exif=exif.tobytes())
    return out.getvalue()


@pytest.mark.parametrize("file_format", ["heif", "webp"])
def test_heic_and_webp_become_upright_jpegs_with_date_and_gps_the_same_bytes_each_time(
    file_format: str,
) -> None:
    import pillow_heif  # noqa: F401 - conversion registered its opener

    source = _with_exif(file_format.upper())
    jpeg = as_jpeg(source, "heic" if file_format == "heif" else "webp")
    assert jpeg == as_jpeg(source, "webp")  # deterministic: a rerun sends identical bytes
    with Image.open(io.BytesIO(jpeg)) as image:
        exif = image.getexif()
        assert image.format == "JPEG"
        # Shown upright either way: libheif turns the pixels as it decodes (and the tag
        # says 1); WebP's pixels stay as stored, with the tag that turns them.
        expected = ((48, 64), 1) if file_format == "heif" else ((64, 48), 6)
        assert (image.size, exif.get(274)) == expected
        assert exif.get_ifd(0x8769)[0x9003] == "2022:01:02 03:04:05"
        assert exif.get_ifd(0x8825)[2] == (52.0, 22.0, 1.0)


def test_the_payload_of_a_converted_file_names_the_source_bytes() -> None:
    source = _with_exif("WEBP")
    sent = payload(io.BytesIO(source), "a.webp", len(source), "webp")
    assert sent.filename == "a.jpg" and sent.body.read()[:2] == b"\xff\xd8"
    import hashlib

    assert sent.body.sha256() == hashlib.sha256(source).hexdigest()


def test_a_raw_whose_only_preview_is_a_thumbnail_is_not_sent() -> None:
    with pytest.raises(NotConvertible, match="full-size JPEG preview"):
        raw_preview(tiff_raw("nef", preview_jpeg(3002, (160, 120))))
    assert raw_preview(tiff_raw("nef", preview_jpeg(3003)))[:2] == b"\xff\xd8"
