"""Editing a photo after upload, over HTTP, in the shapes recorded Flickr traffic shows
(sources in `flickr_ingest/sandbox/edits.py`): addTags answers with what it added,
removeTag takes the three-part tag id alone, setTags replaces every tag, setMeta answers
with the title and description; each refusal has the method's own code."""

from __future__ import annotations

import re

import pytest

from flickr_ingest.flickr import errors
from tests.photos import jpeg_bytes


def _photo(client, tags: str = "harbour boat") -> str:
    return client.upload(jpeg_bytes(41), filename="a.jpg", tags=tags).photo_id


def _tags(client, photo_id: str) -> dict[str, str]:
    """The photo's tags as getInfo gives them: raw text -> tag id."""
    return {tag["raw"]: tag["id"] for tag in client.photo_info(photo_id)["tags"]["tag"]}


def test_add_and_remove_tags_by_their_three_part_ids(client) -> None:
    photo_id = _photo(client)
    added = client.call(
        "flickr.photos.addTags", post=True, photo_id=photo_id, tags='boat "checksum:sha256=ab"'
    )["tags"]["tag"]
    assert [tag["raw"] for tag in added] == ["checksum:sha256=ab"]  # boat was there already
    tags = _tags(client, photo_id)
    assert list(tags) == ["harbour", "boat", "checksum:sha256=ab"]
    assert all(re.fullmatch(rf"\d+-{photo_id}-\d+", tag) for tag in tags.values())
    assert added[0]["id"] == tags["checksum:sha256=ab"]

    client.remove_tag(tags["boat"])
    assert list(_tags(client, photo_id)) == ["harbour", "checksum:sha256=ab"]
    with pytest.raises(errors.FlickrAPIError) as gone:
        client.remove_tag(tags["boat"])  # removed already
    assert gone.value.code == 1 and "Tag not found" in str(gone.value)

    other = _photo(client, tags="boat")  # the same tag text: the same tag number
    assert _tags(client, other)["boat"].rsplit("-", 1)[1] == tags["boat"].rsplit("-", 1)[1]


def test_set_tags_and_meta(client) -> None:
    photo_id = _photo(client)
    client.set_tags(photo_id, ["quay", "night shot"])
    assert list(_tags(client, photo_id)) == ["quay", "night shot"]
    answer = client.call(
        "flickr.photos.setMeta", post=True, photo_id=photo_id, title="Quay", description="<b>x</b>"
    )
    assert answer["photo"]["title"]["_content"] == "Quay"
    info = client.photo_info(photo_id)
    assert info["title"]["_content"] == "Quay" and info["description"]["_content"] == "<b>x</b>"


@pytest.mark.parametrize(
    ("method", "params", "code", "message"),
    [
        ("flickr.photos.addTags", {"photo_id": "999", "tags": "x"}, 1, "Photo not found"),
        ("flickr.photos.setTags", {"photo_id": "999", "tags": "x"}, 1, "Photo not found"),
        ("flickr.photos.setMeta", {"photo_id": "999", "title": "x"}, 1, "Photo not found"),
        ("flickr.photos.setMeta", {}, 2, "At least one of title or description must be set"),
        ("flickr.photos.removeTag", {"tag_id": "1-2-3"}, 1, "Tag not found"),
        ("flickr.photos.addTags", {"tags": " ".join(f"t{n}" for n in range(80))}, 2, "Maximum"),
    ],
)
def test_refusals_carry_the_methods_own_codes(client, method, params, code, message) -> None:
    photo_id = _photo(client)
    with pytest.raises(errors.FlickrAPIError) as refused:
        client.call(method, post=True, **{"photo_id": photo_id, **params})
    assert refused.value.code == code and message in str(refused.value)
    assert list(_tags(client, photo_id)) == ["harbour", "boat"]  # nothing changed
