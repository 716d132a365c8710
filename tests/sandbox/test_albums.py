"""Albums on the sandbox, through the client over HTTP: what Flickr's photoset methods do,
including the answers a careless uploader trips over (duplicate titles, fault 3)."""

from __future__ import annotations

import io
import threading
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
import requests
from oauthlib.oauth1 import Client as OAuthSigner

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
    listed = requests.get(
        f"{sandbox.url}/sandbox/albums", headers=sandbox.admin_headers, timeout=5
    ).json()["albums"]
    assert listed[0]["primary"] == second
    client.delete_photo(second)  # an album left empty disappears, as on Flickr
    assert client.albums() == []


def test_write_methods_need_post_and_write_permission(
    client: FlickrClient, sandbox: SandboxServer
) -> None:
    photo = _upload(client, 7)
    with pytest.raises(errors.FlickrAPIError) as via_get:
        client.call("flickr.photosets.create", title="T", primary_photo_id=photo)
    assert via_get.value.code == 116 and "POST" in str(via_get.value)
    account = sandbox.account
    token = sandbox.state.accounts.issue_access_token(account.api_key, account.user_nsid, "read")
    read_only = Credentials(account.api_key, account.api_secret, token.token, token.secret)
    with FlickrClient(read_only, endpoints=Endpoints.at(sandbox.url)) as reader:
        assert reader.albums() == []  # reading is allowed
        with pytest.raises(errors.AuthError) as refused:
            reader.create_album("T", photo)
    assert refused.value.code == 99


# -- flickr.photosets.editPhotos and the album fields of getPhotos ---------------------


def _edit(client: FlickrClient, album_id: str, primary: str, photo_ids: list[str]) -> dict:
    return client.call(
        "flickr.photosets.editPhotos",
        post=True,
        photoset_id=album_id,
        primary_photo_id=primary,
        photo_ids=",".join(photo_ids),
    )


def _control_album(sandbox: SandboxServer, album_id: str) -> dict:
    albums = requests.get(
        f"{sandbox.url}/sandbox/albums", headers=sandbox.admin_headers, timeout=5
    ).json()["albums"]
    return next(album for album in albums if album["id"] == album_id)


def _other_client(sandbox: SandboxServer) -> FlickrClient:
    other = requests.post(
        f"{sandbox.url}/sandbox/accounts",
        headers=sandbox.admin_headers,
        json={"username": "someone-else"},
        timeout=5,
    ).json()
    account = sandbox.account
    credentials = Credentials(
        account.api_key, account.api_secret, other["oauth_token"], other["oauth_token_secret"]
    )
    return FlickrClient(credentials, endpoints=Endpoints.at(sandbox.url))


def test_edit_photos_replaces_membership_order_and_primary(
    client: FlickrClient, sandbox: SandboxServer
) -> None:
    a, b, c, d = (_upload(client, seed) for seed in (20, 21, 22, 23))
    album_id = client.create_album("Edited", a)
    client.add_to_album(album_id, b)
    client.add_to_album(album_id, c)

    # d joins, b leaves, the order is the list's, a duplicate keeps its first place
    assert _edit(client, album_id, c, [d, c, a, d]) == {"stat": "ok"}

    photos = client.call("flickr.photosets.getPhotos", photoset_id=album_id)["photoset"]
    assert [p["id"] for p in photos["photo"]] == [d, c, a]
    assert photos["primary"] == c and photos["total"] == 3
    assert [p["isprimary"] for p in photos["photo"]] == [0, 1, 0]
    assert _control_album(sandbox, album_id) | {"owner": None} == {
        "id": album_id,
        "owner": None,
        "title": "Edited",
        "primary": c,
        "photo_ids": [d, c, a],
    }
    [listed] = client.call("flickr.photosets.getList")["photosets"]["photoset"]
    assert (listed["primary"], listed["photos"]) == (c, 3)
    stored = requests.get(
        f"{sandbox.url}/sandbox/photos", headers=sandbox.admin_headers, timeout=5
    ).json()["photos"]
    assert b in {photo["id"] for photo in stored}  # out of the album, still on the account
    assert client.photo_info(b)["id"] == b

    page = requests.get(
        f"{sandbox.url}/photos/{sandbox.account.user_nsid}/albums/{album_id}", timeout=5
    ).text
    assert "3 photo(s)" in page
    positions = [page.index(f"id='photo-{photo_id}'") for photo_id in (d, c, a)]
    assert positions == sorted(positions) and f"id='photo-{b}'" not in page

    log = requests.get(
        f"{sandbox.url}/sandbox/requests", headers=sandbox.admin_headers, timeout=5
    ).json()
    assert log["counters"]["method:flickr.photosets.editPhotos"] == 1
    edits = [r for r in log["requests"] if r["api_method"] == "flickr.photosets.editPhotos"]
    assert [(r["http_method"], r["stat"]) for r in edits] == [("POST", "ok")]


@pytest.mark.parametrize(
    ("case", "code", "message"),
    [
        ("unknown album", 1, "Photoset not found"),
        ("someone else's album", 1, "Photoset not found"),
        ("no album id", 1, "Photoset not found"),
        ("unknown photo in list", 2, "Photo not found"),
        ("someone else's photo in list", 2, "Photo not found"),
        ("deleted photo in list", 2, "Photo not found"),
        ("unknown primary", 3, "Primary photo not found"),
        ("someone else's primary", 3, "Primary photo not found"),
        ("no primary", 3, "Primary photo not found"),
        ("primary not in list", 4, "Primary photo not in list"),
        ("empty list", 5, "Empty photos list"),
        ("only commas", 5, "Empty photos list"),
    ],
)
def test_edit_photos_errors_have_flickrs_codes(
    client: FlickrClient, sandbox: SandboxServer, case: str, code: int, message: str
) -> None:
    a, b, gone = _upload(client, 30), _upload(client, 31), _upload(client, 32)
    album_id = client.create_album("Mine", a)
    client.add_to_album(album_id, b)
    client.delete_photo(gone)
    with _other_client(sandbox) as other:
        theirs = _upload(other, 33)
        their_album = other.create_album("Theirs", theirs)
    args = {"photoset_id": album_id, "primary_photo_id": a, "photo_ids": f"{a},{b}"}
    args |= {
        "unknown album": {"photoset_id": "72157000000000000"},
        "someone else's album": {"photoset_id": their_album},
        "no album id": {"photoset_id": ""},
        "unknown photo in list": {"photo_ids": f"{a},12345"},
        "someone else's photo in list": {"photo_ids": f"{a},{theirs}"},
        "deleted photo in list": {"photo_ids": f"{a},{gone}"},
        "unknown primary": {"primary_photo_id": "12345", "photo_ids": f"12345,{a}"},
        "someone else's primary": {"primary_photo_id": theirs, "photo_ids": f"{theirs},{a}"},
        "no primary": {"primary_photo_id": ""},
        "primary not in list": {"photo_ids": b},
        "empty list": {"photo_ids": ""},
        "only commas": {"photo_ids": " , ,"},
    }[case]
    with pytest.raises(errors.FlickrAPIError) as refused:
        client.call("flickr.photosets.editPhotos", post=True, **args)
    assert refused.value.code == code and message in str(refused.value)
    assert _control_album(sandbox, album_id)["photo_ids"] == [a, b]  # nothing changed
    assert _control_album(sandbox, album_id)["primary"] == a


def test_edit_photos_needs_post_and_write_permission(
    client: FlickrClient, sandbox: SandboxServer
) -> None:
    a, b = _upload(client, 40), _upload(client, 41)
    album_id = client.create_album("Guarded", a)
    args = {"photoset_id": album_id, "primary_photo_id": b, "photo_ids": f"{b},{a}"}
    with pytest.raises(errors.FlickrAPIError) as via_get:
        client.call("flickr.photosets.editPhotos", **args)
    assert via_get.value.code == 116 and "POST" in str(via_get.value)
    account = sandbox.account
    token = sandbox.state.accounts.issue_access_token(account.api_key, account.user_nsid, "read")
    read_only = Credentials(account.api_key, account.api_secret, token.token, token.secret)
    reader = FlickrClient(read_only, endpoints=Endpoints.at(sandbox.url))
    with reader, pytest.raises(errors.AuthError) as refused:
        reader.call("flickr.photosets.editPhotos", post=True, **args)
    assert refused.value.code == 99
    assert _control_album(sandbox, album_id) | {"owner": None} == {
        "id": album_id,
        "owner": None,
        "title": "Guarded",
        "primary": a,
        "photo_ids": [a],
    }


def test_concurrent_edit_photos_never_mix(
    client: FlickrClient, sandbox: SandboxServer, credentials: Credentials
) -> None:
    photos = [_upload(client, seed) for seed in range(50, 56)]
    album_id = client.create_album("Contested", photos[0])
    one = (photos[0], photos[:3])  # (primary, members in order)
    two = (photos[5], photos[5:2:-1])
    states = {(primary, tuple(members)) for primary, members in (one, two)}
    rounds = 25
    seen: list[tuple[str, tuple[str, ...]]] = []
    failures: list[BaseException] = []

    def writer(primary: str, members: list[str]) -> None:
        try:
            with FlickrClient(credentials, endpoints=Endpoints.at(sandbox.url)) as own:
                for _ in range(rounds):
                    _edit(own, album_id, primary, members)
        except BaseException as error:  # reported by the main thread
            failures.append(error)

    def reader() -> None:
        try:
            with FlickrClient(credentials, endpoints=Endpoints.at(sandbox.url)) as own:
                for _ in range(rounds):
                    answer = own.call("flickr.photosets.getPhotos", photoset_id=album_id)
                    photoset = answer["photoset"]
                    seen.append((photoset["primary"], tuple(p["id"] for p in photoset["photo"])))
        except BaseException as error:
            failures.append(error)

    threads = [
        threading.Thread(target=writer, args=one),
        threading.Thread(target=writer, args=two),
        threading.Thread(target=reader),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures
    assert set(seen) <= states | {(photos[0], (photos[0],))}  # the start, or one edit whole
    final = _control_album(sandbox, album_id)
    assert (final["primary"], tuple(final["photo_ids"])) in states
    counters = requests.get(
        f"{sandbox.url}/sandbox/requests", headers=sandbox.admin_headers, timeout=5
    ).json()["counters"]
    assert counters["method:flickr.photosets.editPhotos"] == 2 * rounds


def test_get_photos_carries_the_album_fields(client: FlickrClient, sandbox: SandboxServer) -> None:
    a, b, c = (_upload(client, seed) for seed in (60, 61, 62))
    album_id = client.create_album("Fields", a)
    client.add_to_album(album_id, b)
    client.add_to_album(album_id, c)
    account = sandbox.account
    photoset = client.call("flickr.photosets.getPhotos", photoset_id=album_id, page=2, per_page=2)[
        "photoset"
    ]
    username = next(
        row["username"]
        for row in requests.get(
            f"{sandbox.url}/sandbox/accounts", headers=sandbox.admin_headers, timeout=5
        ).json()["accounts"]
        if row["nsid"] == account.user_nsid
    )
    assert {name: value for name, value in photoset.items() if name != "photo"} == {
        "id": album_id,
        "primary": a,
        "owner": account.user_nsid,
        "ownername": username,
        "title": "Fields",
        "page": 2,
        "per_page": 2,
        "perpage": 2,
        "pages": 2,
        "total": 3,
    }
    assert [p["id"] for p in photoset["photo"]] == [c]

    query = urlencode({"method": "flickr.photosets.getPhotos", "photoset_id": album_id})
    signer = OAuthSigner(
        account.api_key,
        client_secret=account.api_secret,
        resource_owner_key=account.oauth_token,
        resource_owner_secret=account.oauth_token_secret,
    )
    url, headers, _ = signer.sign(f"{sandbox.url}/services/rest/?{query}", "GET")
    rsp = ElementTree.fromstring(requests.get(url, headers=headers, timeout=10).content)
    element = rsp.find("photoset")
    assert rsp.get("stat") == "ok" and element is not None
    assert {name: element.get(name) for name in ("id", "primary", "owner", "title")} == {
        "id": album_id,
        "primary": a,
        "owner": account.user_nsid,
        "title": "Fields",
    }
    assert {name: element.get(name) for name in ("page", "pages", "perpage", "per_page")} == {
        "page": "1",
        "pages": "1",
        "perpage": "500",
        "per_page": "500",
    }
    assert element.get("total") == "3" and element.get("ownername") == username
    assert [p.get("id") for p in element.findall("photo")] == [a, b, c]
