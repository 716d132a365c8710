"""What a file is relative to the ledger (`standing.classify`), decided once before
anything is sent: every case, without Flickr (a client that must not be asked)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from flickr_ingest.ledger.base import PathRecord, Upload
from flickr_ingest.pictures import PicturePrints, prints_of
from flickr_ingest.standing import (
    AnotherPicture,
    Duplicate,
    Edited,
    Known,
    Moved,
    New,
    Undecided,
    classify,
)
from tests.photos import edited_jpeg_bytes, jpeg_bytes

OLD, NEW = "a" * 64, "b" * 64
HERE = "file:///in/2019/a.jpg"


class _Source:
    root_uri = "file:///in/"

    def __init__(self, *present: str) -> None:
        self.present = set(present)

    def holds(self, uri: str) -> bool:
        return uri in self.present


class _NoFlickr:
    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"Flickr was asked ({name})")


def _prints(data: bytes) -> PicturePrints:
    return prints_of(Image.open(io.BytesIO(data)))


def _classify(known, here, *, present=(), on_change="replace", kind="photo", prints=None):
    return classify(
        known,
        here,
        HERE,
        NEW,
        source=_Source(*present),
        client=_NoFlickr(),
        on_change=on_change,
        kind=kind,
        pixel_prints=lambda: prints,
    )


def _recorded(seed: int) -> str:
    return prints_of(Image.open(io.BytesIO(jpeg_bytes(seed, (160, 120)))), turns=False).recorded


def test_bytes_on_flickr_are_known_moved_or_a_duplicate() -> None:
    assert _classify(Upload(NEW, "7", HERE), None) == Known("7")
    here = PathRecord(HERE, "7", NEW)  # sent from here, first recorded from elsewhere
    assert _classify(Upload(NEW, "7", "file:///in/b.jpg"), here) == Known("7")
    gone = Upload(NEW, "8", "file:///in/old%20name.jpg")
    assert _classify(gone, None) == Moved("8", gone.source, "old name.jpg")
    assert _classify(gone, None, present=[gone.source]) == Duplicate("8", "old name.jpg")


def test_new_bytes_at_a_new_path_or_with_on_change_upload_are_new() -> None:
    assert _classify(None, None) == New()
    assert _classify(None, PathRecord(HERE, "7", NEW)) == New()  # the same bytes, unrecorded
    edit = PathRecord(HERE, "7", OLD, picture=_recorded(5))
    assert _classify(None, edit, on_change="upload") == New()  # not even compared


@pytest.mark.parametrize("on_change", ["replace", "skip"])
def test_new_bytes_at_a_known_path_are_judged_by_their_pixels(on_change: str) -> None:
    edit = PathRecord(HERE, "7", OLD, picture=_recorded(5))
    same = _prints(edited_jpeg_bytes(5, (160, 120)))
    other = _prints(jpeg_bytes(105, (160, 120)))
    assert _classify(None, edit, on_change=on_change, prints=same) == Edited(edit, same.recorded)
    another = _classify(None, edit, on_change=on_change, prints=other)
    assert another == AnotherPicture(edit, other.recorded)
    assert "another picture took the name of photo 7" in another.reason


def test_an_edit_that_cannot_be_compared_is_undecided() -> None:
    edit = PathRecord(HERE, "7", OLD, picture=_recorded(5))
    video = _classify(None, edit, kind="video", prints=None)
    assert isinstance(video, Undecided) and "cannot replace a video" in video.why
    blind = _classify(None, edit, prints=None)
    assert isinstance(blind, Undecided) and "could not be decoded" in blind.why
    assert "--on-change upload" in blind.why
