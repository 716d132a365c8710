from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flickr_ingest.errors import ConfigurationError
from flickr_ingest.metadata import MappingOptions, PhotoMetadata, map_to_flickr
from flickr_ingest.metadata.mapping import DESCRIPTION_MAX, TITLE_MAX, clean_text, dedupe_tags
from flickr_ingest.tags import MAX_TAGS, format_tags, normalise_tag, parse_tags

CAMERA = PhotoMetadata(
    title=None,
    caption="Dawn at the quay",
    keywords=("boats", "north sea", "Boats"),
    date_taken="2008-05-30T15:56:01",
    make="Canon",
    model="Canon EOS 40D",
    lens="EF 50mm",
)


def test_default_mapping() -> None:
    fields = map_to_flickr(
        CAMERA, relative_path="2008/Harbour/IMG_0001.JPG", machine_tags=["checksum:sha256=ab"]
    )
    assert fields.title == "IMG_0001"
    assert fields.description == "Dawn at the quay"
    assert fields.tags == (
        "checksum:sha256=ab",
        "camera:make=Canon",
        "camera:model=Canon EOS 40D",
        "camera:lens=EF 50mm",
        "taken:year=2008",
        "boats",
        "north sea",
    )


def test_templates_and_path_tags() -> None:
    options = MappingOptions(
        title_template="{year} {folder}: {stem}",
        description_template="{caption} ({model})",
        camera_tags=False,
        lens_tags=False,
        year_tags=False,
        path_tags=True,
        extra_tags=("archive",),
    )
    fields = map_to_flickr(CAMERA, relative_path="2008/Harbour/IMG_0001.JPG", options=options)
    assert fields.title == "2008 Harbour: IMG_0001"
    assert fields.description == "Dawn at the quay (Canon EOS 40D)"
    assert fields.tags == ("boats", "north sea", "2008", "Harbour", "archive")


def test_unknown_template_field_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="unknown field"):
        MappingOptions(title_template="{nope}")


def test_script_in_a_caption_is_escaped() -> None:
    metadata = PhotoMetadata(caption="<script>alert(1)</script><b>ok</b>")
    assert map_to_flickr(metadata, relative_path="a.jpg").description == (
        "&lt;script&gt;alert(1)&lt;/script&gt;<b>ok</b>"
    )


def test_tag_cap_keeps_machine_tags() -> None:
    keywords = tuple(f"tag{i}" for i in range(200))
    fields = map_to_flickr(
        PhotoMetadata(keywords=keywords), relative_path="a.jpg", machine_tags=["checksum:sha256=ff"]
    )
    assert len(fields.tags) == MAX_TAGS and fields.tags[0] == "checksum:sha256=ff"


@given(st.text())
def test_clean_text_never_emits_control_characters_or_long_fields(text: str) -> None:
    for limit, multiline in ((TITLE_MAX, False), (DESCRIPTION_MAX, True)):
        cleaned = clean_text(text, limit, multiline=multiline)
        assert len(cleaned) <= limit
        allowed = {"\n"} if multiline else set()
        assert all(unicodedata.category(c)[0] != "C" or c in allowed for c in cleaned)


@given(st.lists(st.text(min_size=1, max_size=30), max_size=100))
def test_tags_round_trip_through_flickrs_tag_string(tags: list[str]) -> None:
    cleaned = dedupe_tags(tags)
    assert len(cleaned) <= MAX_TAGS
    assert parse_tags(format_tags(cleaned)) == [t for t in cleaned if t.strip()]
    assert len({normalise_tag(t) for t in cleaned}) == len(cleaned)
