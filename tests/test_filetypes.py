import io

import pytest
from PIL import Image

from flickr_ingest.filetypes import from_name, movie_seconds, sniff, video_refusal
from tests.formats import flv_bytes, mkv_bytes, mov_bytes, preview_jpeg, tiff_raw
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


# -- Issue #29: RAW is told from TIFF by content; Flickr's video list --------------------


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        (tiff_raw("cr2", preview_jpeg(1, (64, 48))), "cr2"),
        (tiff_raw("dng", preview_jpeg(2, (64, 48))), "dng"),
        (tiff_raw("nef", None), "nef"),
        (b"\x00\x00\x00\x18ftypcrx \x00\x00\x00\x01crx isom", "cr3"),
        (b"FUJIFILMCCD-RAW 0201FF383501", "raf"),
        (b"IIU\x00\x18\x00\x00\x00", "rw2"),
        (b"IIRO\x08\x00\x00\x00", "orf"),
        (b"MMOR\x00\x00\x00\x08", "orf"),
        (b"IIII\x00\x00\x00\x00Raw\x00", "iiq"),
    ],
)
def test_raw_files_are_raw_never_tiff(head: bytes, fmt: str) -> None:
    found = sniff(head)
    assert (found.kind, found.format, found.is_raw) == ("photo", fmt, True)


def test_a_scanned_tiff_naming_a_camera_maker_is_still_a_tiff() -> None:
    out = io.BytesIO()
    exif = Image.Exif()
    exif[271] = "NIKON"  # a Coolscan writes its maker, but no sub-directories
    Image.new("RGB", (8, 8)).save(out, "TIFF", exif=exif)
    found = sniff(out.getvalue())
    assert (found.format, found.is_raw) == ("tiff", False)


def test_raw_extensions_name_raw_formats() -> None:
    assert from_name("DSC_0001.NRW").format == "nef"
    assert from_name("x.sr2").is_raw and from_name("x.srf").is_raw and from_name("x.3fr").is_raw


def test_webm_is_told_from_mkv_and_flickr_refuses_both_and_flv() -> None:
    assert sniff(mkv_bytes(b"webm")).format == "webm"
    assert sniff(mkv_bytes()).format == "mkv"
    assert sniff(flv_bytes()).format == "flv"
    for fmt in ("mkv", "webm", "flv"):
        assert "Flickr takes MP4, AVI, WMV, MOV, MPEG, 3GP, M2TS, OGG, OGV only" in (
            video_refusal(fmt) or ""
        )
    assert video_refusal("mp4") is None


def test_a_movies_length_comes_from_its_mvhd_wherever_the_moov_sits() -> None:
    movie = mov_bytes(2.5)
    ftyp_end = 20
    moov_end = movie.index(b"mdat") - 4
    moov_last = movie[:ftyp_end] + movie[moov_end:] + movie[ftyp_end:moov_end]  # after mdat
    for data in (movie, moov_last):
        assert movie_seconds(lambda at, n, d=data: d[at : at + n], len(data)) == 2.5
    assert movie_seconds(lambda at, n: jpeg_bytes(1)[at : at + n], len(jpeg_bytes(1))) is None
