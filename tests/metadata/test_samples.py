"""Metadata of real camera photos (../shared/samples/photos), read from head bytes only."""

from __future__ import annotations

from pathlib import Path

import pytest

from flickr_ingest.content import fingerprint
from flickr_ingest.filetypes import sniff
from flickr_ingest.metadata import PhotoMetadata, head_for_metadata, map_to_flickr, read_metadata
from flickr_ingest.sources import LocalSource
from tests.photos import SHARED_PHOTOS

pytestmark = pytest.mark.skipif(
    not SHARED_PHOTOS.is_dir(), reason=f"sample photos not found at {SHARED_PHOTOS}"
)


def _metadata(relative: str) -> PhotoMetadata:
    data = (SHARED_PHOTOS / relative).read_bytes()
    head = head_for_metadata(lambda start, length: data[start : start + length], len(data))
    return read_metadata(head, size=len(data))


@pytest.mark.parametrize(
    ("name", "make", "model", "date"),
    [
        ("Canon_40D.jpg", "Canon", "Canon EOS 40D", "2008-05-30T15:56:01"),
        ("Canon_DIGITAL_IXUS_400.jpg", "Canon", "Canon DIGITAL IXUS 400", "2004-08-27T13:52:55"),
        ("Canon_PowerShot_S40.jpg", "Canon", "Canon PowerShot S40", "2003-12-14T12:01:44"),
        ("Fujifilm_FinePix6900ZOOM.jpg", "FUJIFILM", "FinePix6900ZOOM", "2001-02-19T06:40:05"),
        (
            "Kodak_CX7530.jpg",
            "EASTMAN KODAK COMPANY",
            "KODAK CX7530 ZOOM DIGITAL CAMERA",
            "2005-08-13T09:47:23",
        ),
        ("Nikon_D70.jpg", "NIKON CORPORATION", "NIKON D70", "2008-03-15T09:52:01"),
        ("Olympus_C8080WZ.jpg", "OLYMPUS CORPORATION", "C8080WZ", "2006-10-22T15:44:29"),
        ("Panasonic_DMC-FZ30.jpg", "Panasonic", "DMC-FZ30", "2008-07-16T11:33:20"),
        ("Pentax_K10D.jpg", "PENTAX Corporation", "PENTAX K10D", "2008-05-04T16:47:24"),
        ("Sony_HDR-HC3.jpg", "SONY", "HDR-HC3", "2007-06-15T04:42:32"),
    ],
)
def test_camera_models_and_dates(name: str, make: str, model: str, date: str) -> None:
    metadata = _metadata(f"camera/{name}")
    assert (metadata.make, metadata.model, metadata.date_taken) == (make, model, date)
    assert metadata.warnings == ()


@pytest.mark.parametrize(
    ("name", "latitude", "longitude"),
    [
        ("DSCN0010.jpg", 43.4674483, 11.8851267),
        ("DSCN0012.jpg", 43.4671567, 11.885395),
        ("DSCN0021.jpg", 43.4670817, 11.8845383),
    ],
)
def test_gps_positions(name: str, latitude: float, longitude: float) -> None:
    metadata = _metadata(f"gps/{name}")
    assert metadata.latitude == pytest.approx(latitude, abs=1e-6)
    assert metadata.longitude == pytest.approx(longitude, abs=1e-6)


def test_xmp_title_caption_and_keywords() -> None:
    metadata = _metadata("xmp/BlueSquare.jpg")
    assert metadata.title == "Blue Square Test File - .jpg"
    assert metadata.keywords == ("XMP", "Blue Square", "test file", "Photoshop", ".jpg")
    fields = map_to_flickr(metadata, relative_path="xmp/BlueSquare.jpg")
    assert fields.title == "Blue Square Test File - .jpg"
    assert fields.description.startswith("XMPFiles BlueSquare test file")
    assert {"XMP", "Blue Square", "test file"} <= set(fields.tags)


def test_orientation() -> None:
    assert _metadata("orientation/landscape_6.jpg").orientation == 6
    assert _metadata("orientation/portrait_8.jpg").orientation == 8


def test_long_description_becomes_the_description_not_the_title() -> None:
    metadata = _metadata("camera/long_description.jpg")
    fields = map_to_flickr(metadata, relative_path="camera/long_description.jpg")
    assert fields.title == "030904-A-2140D-006"  # its IPTC/XMP title
    assert fields.description.startswith("Operation Mountain Viper")


def test_camera_boilerplate_is_not_a_title() -> None:
    for name in ("Samsung_Digimax_i50_MP3.jpg", "WWL_(Polaroid)_ION230.jpg"):
        metadata = _metadata(f"camera/{name}")
        assert metadata.camera_description is None
        assert map_to_flickr(metadata, relative_path=name).title == Path(name).stem


@pytest.mark.parametrize("name", ["image01137.jpg", "image02206.jpg"])
def test_invalid_exif_is_a_warning(name: str) -> None:
    metadata = _metadata(f"invalid/{name}")
    assert metadata.warnings and "EXIF" in metadata.warnings[0]
    assert metadata.date_taken  # what XMP still says is kept


def test_broken_image_data_is_a_warning_not_an_exception() -> None:
    path = SHARED_PHOTOS / "broken" / "corrupted.jpg"
    metadata = _metadata("broken/corrupted.jpg")
    assert metadata.model == "u1020,S1020"
    with open(path, "rb") as stream:
        print_ = fingerprint(stream, check_jpeg=True)
    assert print_.size == path.stat().st_size
    assert any("image data damaged" in warning for warning in print_.warnings)


def test_every_sample_reads_without_an_exception() -> None:
    source = LocalSource(SHARED_PHOTOS)
    items = list(source.list())
    assert len(items) >= 25
    names = {item.name for item in items}
    assert "Crémieux11.tiff" in names and "WWL_(Polaroid)_ION230.jpg" in names
    for item in items:
        head = head_for_metadata(lambda s, n, item=item: source.read_range(item, s, n), item.size)
        kind = sniff(head)
        assert kind.is_supported, item.name
        metadata = read_metadata(head, size=item.size)
        map_to_flickr(metadata, relative_path=item.relative_path)
    assert sniff((SHARED_PHOTOS / "heic" / "samplefilehub.heif").read_bytes()[:64]).format == "heic"
    assert sniff((SHARED_PHOTOS / "tiff" / "Crémieux11.tiff").read_bytes()[:64]).format == "tiff"


def test_intact_jpegs_have_no_integrity_warnings() -> None:
    for path in sorted((SHARED_PHOTOS / "camera").glob("*.jpg")):
        with open(path, "rb") as stream:
            assert fingerprint(stream, check_jpeg=True).warnings == (), path.name
