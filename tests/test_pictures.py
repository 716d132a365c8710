"""The same picture, by its prints (`flickr_ingest.pictures`): edits match, other
pictures do not; on the shared sample photos, the rates README states."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageEnhance

from flickr_ingest.pictures import picture_print, prints_of, same_picture
from tests.photos import SHARED_PHOTOS, edited_jpeg_bytes, jpeg_bytes, picture


def _prints(data: bytes, *, turns: bool = True):
    return prints_of(Image.open(io.BytesIO(data)), turns=turns)


@pytest.mark.parametrize("seed", range(20))
def test_an_edit_matches_and_another_picture_does_not(seed: int) -> None:
    recorded = _prints(jpeg_bytes(seed, (160, 120)), turns=False).recorded
    assert len(recorded) == 256
    assert _prints(edited_jpeg_bytes(seed, (160, 120))).matches(recorded)
    assert not _prints(jpeg_bytes(seed + 100, (160, 120))).matches(recorded)


def test_a_quarter_turn_and_exif_orientation_are_the_same_picture() -> None:
    upright = picture(31, (160, 120))
    recorded = prints_of(upright, turns=False).recorded
    assert prints_of(upright.transpose(Image.Transpose.ROTATE_90)).matches(recorded)
    sideways = upright.transpose(Image.Transpose.ROTATE_90)  # stored sideways, tagged 6
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    sideways.save(out, "JPEG", quality=90, exif=exif)
    tagged = prints_of(Image.open(io.BytesIO(out.getvalue())), turns=False)
    assert same_picture(tagged.upright, prints_of(upright, turns=False).upright)


def test_a_damaged_or_foreign_record_never_matches() -> None:
    candidate = prints_of(ImageEnhance.Brightness(picture(32)).enhance(1.1))
    for recorded in ("", "zz" * 128, "0" * 31, picture_print(picture(32)).upper()):
        assert not candidate.matches(recorded)


@pytest.mark.skipif(
    not SHARED_PHOTOS.is_dir(),
    reason=f"the shared sample photos are not at {SHARED_PHOTOS} (README's rates come from them)",
)
def test_the_rates_on_the_sample_photos() -> None:
    from benchmarks.pictures import measure

    result = measure(SHARED_PHOTOS)
    assert result["photos"] >= 20
    assert result["false_accepts"] == []  # no photo ever replaced by another
    off_centre = {
        "crop 12% left, 8% top",
        "crop 20% right, 5% bottom",
        "crop to a square, off centre",
    }
    rejected = [r for r in result["false_rejects"] if r[1] not in off_centre]
    assert len(rejected) <= 1, rejected  # one straightened photo of 276 edits
