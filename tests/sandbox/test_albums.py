"""Albums on the sandbox, through the client over HTTP: what Flickr's photoset methods do,
including the answers a careless uploader trips over (duplicate titles, fault 3)."""

from __future__ import annotations

import io

import pytest
import requests

from flickr_ingest.flickr import Credentials, Endpoints, FlickrClient, errors
from flickr_ingest.sandbox import SandboxServer
from tests.photos import jpeg_bytes


def _upload(client: FlickrClient, seed: int, taken: str | None = None) -> str:
    result = client.upload(io.BytesIO(jpeg_bytes(seed, taken=taken)), filename=f"{seed}.jpg")
    assert result.photo_id
    return result.photo_id


def test_create_add_list_reorder_delete(client: FlickrClient, sandbox: SandboxServer) -> None:
    first = _upload(client, 1, "2020:05:03 10:00:00")
    second = _upload(client, 2, "2020:05:01 09:30:00")
    third = _upload(client, 3)  # no date taken: Flickr falls back to the upload time

    album_id = client.create_album("Trip", first, description="by the sea")
    assert album_id.startswith("72157") and len(album_id) == 17
    assert client.add_to_album(album_id, second) is True
    assert client.add_to_album(album_id, third) is True
    assert client.add_to_album(album_id, first) is False  # the primary is a member already

    [album] = client.albums()
    assert (album.album_id, album.title, album.photo_count) == (album_id, "Trip", 3)
    photos = client.album_photos(album_id)
    assert [p.photo_id for p in photos] == [first, second, third]
    assert photos[1].date_taken == "2020-05-01 09:30:00" and not photos[1].date_taken_unknown
    assert photos[2].date_taken_unknown

    client.reorder_album(album_id, [second, first])  # the unlisted photo keeps its place after
    assert [p.photo_id for p in client.album_photos(album_id)] == [second, first, third]

    page = requests.get(f"{sandbox.url}/photos/{sandbox.account.user_nsid}/{first}/", timeout=5)
    assert "In albums:" in page.text and "Trip" in page.text
    organize = requests.get(
        f"{sandbox.url}/photos/upload/edit/?ids={first},{second}", timeout=5
    ).text
    assert organize.count("In albums:") == 2
    album_page = requests.get(
        f"{sandbox.url}/photos/{sandbox.account.user_nsid}/albums/{album_id}", timeout=5
    )
    assert album_page.status_code == 200 and "3 photo(s)" in album_page.text

    client.delete_album(album_id)
    assert client.albums() == []
    with pytest.raises(errors.FlickrAPIError) as gone:
        client.add_to_album(album_id, first)
    assert client.is_album_gone(gone.value)


def test_titles_are_not_unique_and_errors_have_flickr_codes(client: FlickrClient) -> None:
    photo = _upload(client, 4)
    one, two = client.create_album("Same", photo), client.create_album("Same", photo)
    assert one != two and sorted(a.title for a in client.albums()) == ["Same", "Same"]

    with pytest.raises(errors.FlickrAPIError) as no_title:
        client.create_album("", photo)
    assert no_title.value.code == 1
    with pytest.raises(errors.FlickrAPIError) as no_photo:
        client.create_album("X", "12345")
    assert no_photo.value.code == 2
    with pytest.raises(errors.FlickrAPIError) as not_member:
        client.reorder_album(one, ["12345"])
    assert not_member.value.code == 2
    with pytest.raises(errors.FlickrAPIError) as missing:
        client.album_photos("72157000000000000")
    assert client.is_album_gone(missing.value)


def test_deleting_photos_updates_albums(client: FlickrClient, sandbox: SandboxServer) -> None:
    first, second = _upload(client, 5), _upload(client, 6)
    album_id = client.create_album("Shrinking", first)
    client.add_to_album(album_id, second)
    client.delete_photo(first)
    assert [p.photo_id for p in client.album_photos(album_id)] == [second]
    listed = requests.get(f"{sandbox.url}/sandbox/albums", timeout=5).json()["albums"]
    assert listed[0]["primary"] == second
    client.delete_photo(second)  # an album left empty disappears, as on Flickr
    assert client.albums() == []


def test_write_methods_need_post_and_write_permission(
    client: FlickrClient, sandbox: SandboxServer
) -> None:
    photo = _upload(client, 7)
    with pytest.raises(errors.FlickrAPIError) as via_get:
        client.call("flickr.photosets.create", title="T", primary_photo_id=photo)
    assert via_get.value.code == 3 and "POST" in str(via_get.value)
    account = sandbox.account
    token = sandbox.state.accounts.issue_access_token(account.api_key, account.user_nsid, "read")
    read_only = Credentials(account.api_key, account.api_secret, token.token, token.secret)
    with FlickrClient(read_only, endpoints=Endpoints.at(sandbox.url)) as reader:
        assert reader.albums() == []  # reading is allowed
        with pytest.raises(errors.AuthError) as refused:
            reader.create_album("T", photo)
    assert refused.value.code == 99
