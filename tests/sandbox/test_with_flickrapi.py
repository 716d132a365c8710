"""The sandbox driven by python-flickrapi 2.4.0, an independent Flickr client."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from xml.etree import ElementTree

import flickrapi
import flickrapi.auth
import pytest
import requests

from flickr_ingest.sandbox import SandboxServer
from tests.photos import jpeg_bytes


@pytest.fixture
def pointed_at(sandbox: SandboxServer) -> Iterator[SandboxServer]:
    """Point flickrapi's class-level endpoints at the sandbox, and back afterwards."""
    saved = {
        "REST_URL": flickrapi.FlickrAPI.REST_URL,
        "UPLOAD_URL": flickrapi.FlickrAPI.UPLOAD_URL,
        "REPLACE_URL": flickrapi.FlickrAPI.REPLACE_URL,
    }
    oauth_saved = {
        name: getattr(flickrapi.auth.OAuthFlickrInterface, name)
        for name in ("REQUEST_TOKEN_URL", "AUTHORIZE_URL", "ACCESS_TOKEN_URL")
    }
    flickrapi.FlickrAPI.REST_URL = f"{sandbox.url}/services/rest/"
    flickrapi.FlickrAPI.UPLOAD_URL = f"{sandbox.url}/services/upload/"
    flickrapi.FlickrAPI.REPLACE_URL = f"{sandbox.url}/services/replace/"
    for name in oauth_saved:
        path = name.removesuffix("_URL").lower()
        setattr(flickrapi.auth.OAuthFlickrInterface, name, f"{sandbox.url}/services/oauth/{path}")
    yield sandbox
    for name, value in saved.items():
        setattr(flickrapi.FlickrAPI, name, value)
    for name, value in oauth_saved.items():
        setattr(flickrapi.auth.OAuthFlickrInterface, name, value)


def _client(server: SandboxServer, perms: str = "delete") -> flickrapi.FlickrAPI:
    account = server.account
    token = flickrapi.auth.FlickrAccessToken(
        account.oauth_token,
        account.oauth_token_secret,
        perms,
        "",
        account.username,
        account.user_nsid,
    )
    return flickrapi.FlickrAPI(
        account.api_key, account.api_secret, token=token, store_token=False, format="etree"
    )


def _upload(client: flickrapi.FlickrAPI, data: bytes, **fields: str) -> ElementTree.Element:
    return client.upload("photo.jpg", fileobj=io.BytesIO(data), format="etree", **fields)


def test_oauth_dance_with_oob_verifier(pointed_at: SandboxServer) -> None:
    account = pointed_at.account
    client = flickrapi.FlickrAPI(account.api_key, account.api_secret, store_token=False)
    client.get_request_token(oauth_callback="oob")
    page = requests.get(client.auth_url(perms="write"), timeout=10)
    verifier = re.search(r"<code id='oauth-verifier'>([^<]+)</code>", page.text).group(1)
    client.get_access_token(verifier)
    token = client.flickr_oauth.oauth_token
    assert token.user_nsid == account.user_nsid
    assert token.username == account.username
    login = client.test.login(format="parsed-json")
    assert login["user"]["id"] == account.user_nsid


def test_sync_upload_is_stored_with_its_fields(pointed_at: SandboxServer) -> None:
    client = _client(pointed_at)
    answer = _upload(
        client,
        jpeg_bytes(1),
        title="Harbour",
        description="<b>at dawn</b>",
        tags='boats "north sea" checksum:md5=abc',
        is_public="0",
        is_friend="1",
    )
    photo_id = answer.find("photoid").text
    info = client.photos.getInfo(photo_id=photo_id, format="parsed-json")["photo"]
    assert info["title"]["_content"] == "Harbour"
    assert info["description"]["_content"] == "<b>at dawn</b>"
    assert [tag["raw"] for tag in info["tags"]["tag"]] == ["boats", "north sea", "checksum:md5=abc"]
    assert [tag["_content"] for tag in info["tags"]["tag"]][:2] == ["boats", "northsea"]
    assert info["visibility"] == {"ispublic": 0, "isfriend": 1, "isfamily": 0}


def test_async_upload_then_check_tickets(pointed_at: SandboxServer) -> None:
    # Processing takes 1.5 s: the first check comes well inside it, then we poll.
    pointed_at.state.photos.behaviour.async_delay_seconds = 1.5
    client = _client(pointed_at)
    answer = _upload(client, jpeg_bytes(2), **{"async": "1"})
    ticket = answer.find("ticketid").text
    first = client.photos.upload.checkTickets(tickets=ticket, format="parsed-json")
    assert first["uploader"]["ticket"] == [{"id": ticket, "complete": 0}]
    deadline = time.monotonic() + 10
    while True:
        done = client.photos.upload.checkTickets(tickets=f"{ticket},999", format="parsed-json")
        tickets = done["uploader"]["ticket"]
        if tickets[0]["complete"] != 0 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert tickets[0]["complete"] == 1 and tickets[0]["photoid"]
    assert tickets[1] == {"id": "999", "invalid": 1}


def test_replace_keeps_the_id_and_changes_the_bytes(pointed_at: SandboxServer) -> None:
    client = _client(pointed_at)
    photo_id = _upload(client, jpeg_bytes(3)).find("photoid").text
    new_bytes = jpeg_bytes(4)
    answer = client.replace(
        "new.jpg", photo_id=photo_id, fileobj=io.BytesIO(new_bytes), format="etree"
    )
    replaced = answer.find("photoid")
    assert replaced.text == photo_id
    assert replaced.get("originalsecret")
    stored = pointed_at.state.store.photo_path(photo_id).read_bytes()
    assert stored == new_bytes


def test_upload_status_counts_this_months_bytes(pointed_at: SandboxServer) -> None:
    client = _client(pointed_at)
    before = client.people.getUploadStatus(format="parsed-json")["user"]["bandwidth"]
    data = jpeg_bytes(5)
    _upload(client, data)
    after = client.people.getUploadStatus(format="parsed-json")["user"]["bandwidth"]
    assert after["usedbytes"] == before["usedbytes"] + len(data)
    assert after["remainingbytes"] == before["remainingbytes"] - len(data)


def test_same_bytes_with_dedup_check_is_error_9_naming_the_first(pointed_at: SandboxServer) -> None:
    client = _client(pointed_at)
    data = jpeg_bytes(6)
    first = _upload(client, data, dedup_check="1").find("photoid").text
    with pytest.raises(flickrapi.FlickrError) as raised:
        _upload(client, data, dedup_check="1")
    assert raised.value.code == 9
    log = pointed_at.traffic.entries_since(0)
    assert log[-1]["code"] == 9
    # The duplicate's id travels as a child element of <rsp>; read the raw answer.
    assert first in _raw_upload(pointed_at, data)


def _raw_upload(server: SandboxServer, data: bytes) -> str:
    from requests_oauthlib import OAuth1

    account = server.account
    fields = {"dedup_check": "1"}
    auth = OAuth1(
        account.api_key,
        account.api_secret,
        account.oauth_token,
        account.oauth_token_secret,
        signature_type="query",
    )
    prepared = requests.Request("POST", f"{server.url}/services/upload/", data=fields, auth=auth)
    # Sign the form fields (as Flickr wants), then send them as multipart with the photo.
    signed = prepared.prepare()
    response = requests.post(
        signed.url, data=fields, files={"photo": ("same.jpg", data)}, timeout=10
    )
    return response.text


def test_tampered_signature_is_http_401(pointed_at: SandboxServer) -> None:
    """As recorded from Flickr: a bad signature is an HTTP 401 (with a plain-text
    oauth_problem), which python-flickrapi reports by its status."""
    account = pointed_at.account
    client = flickrapi.FlickrAPI(
        account.api_key,
        "0" * 16,  # the wrong consumer secret: every signature is off
        token=flickrapi.auth.FlickrAccessToken(
            account.oauth_token,
            account.oauth_token_secret,
            "write",
            "",
            account.username,
            account.user_nsid,
        ),
        store_token=False,
    )
    with pytest.raises(flickrapi.FlickrError) as raised:
        client.test.login(format="parsed-json")
    assert "Status code 401" in str(raised.value)


def test_albums_through_python_flickrapi(pointed_at: SandboxServer) -> None:
    """The photoset methods the album step uses, driven by an independent client."""
    client = _client(pointed_at)
    p1, p2, p3 = (_upload(client, jpeg_bytes(60 + n)).find("photoid").text for n in range(3))

    def members(album_id: str) -> list[tuple[str, int]]:
        answer = client.photosets.getPhotos(photoset_id=album_id, format="parsed-json")
        return [(p["id"], int(p["isprimary"])) for p in answer["photoset"]["photo"]]

    created = client.photosets.create(title="Lisbon", primary_photo_id=p1, format="parsed-json")
    album_id = created["photoset"]["id"]
    for photo_id in (p2, p3):
        client.photosets.addPhoto(photoset_id=album_id, photo_id=photo_id)
    [listed] = client.photosets.getList(format="parsed-json")["photosets"]["photoset"]
    assert listed["id"] == album_id and int(listed["photos"]) == 3
    assert listed["title"]["_content"] == "Lisbon"
    assert members(album_id) == [(p1, 1), (p2, 0), (p3, 0)]
    client.photosets.editPhotos(photoset_id=album_id, primary_photo_id=p3, photo_ids=f"{p3},{p1}")
    assert members(album_id) == [(p3, 1), (p1, 0)]
    client.photosets.reorderPhotos(photoset_id=album_id, photo_ids=f"{p1},{p3}")
    assert members(album_id) == [(p1, 0), (p3, 1)]
    with pytest.raises(flickrapi.exceptions.FlickrError, match="already in set") as again:
        client.photosets.addPhoto(photoset_id=album_id, photo_id=p1)
    assert again.value.code == 3
    client.photosets.delete(photoset_id=album_id)
    assert client.photosets.getList(format="parsed-json")["photosets"]["photoset"] == []
