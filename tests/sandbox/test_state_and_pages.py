"""The sandbox's model through its API: quotas, search, persistence, pages, shaping."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
import requests

from flickr_ingest.flickr import Credentials, Endpoints, FlickrClient, errors
from flickr_ingest.sandbox import SandboxServer, running_sandbox
from tests.photos import jpeg_bytes, mp4_bytes


def test_free_account_limits(sandbox: SandboxServer) -> None:
    free = requests.post(
        f"{sandbox.url}/sandbox/accounts",
        headers=sandbox.admin_headers,
        json={"username": "f", "plan": "free"},
        timeout=5,
    ).json()
    sandbox.state.accounts.set_limits(free["user_nsid"], max_items=3, max_non_public=1)
    account = sandbox.account
    credentials = Credentials(
        account.api_key, account.api_secret, free["oauth_token"], free["oauth_token_secret"]
    )
    with FlickrClient(credentials, endpoints=Endpoints.at(sandbox.url)) as api:
        api.upload(io.BytesIO(jpeg_bytes(1)), filename="a.jpg", is_public=False)
        with pytest.raises(errors.QuotaError):  # the second non-public photo
            api.upload(io.BytesIO(jpeg_bytes(2)), filename="b.jpg", is_public=False)
        with pytest.raises(errors.PermanentFileError) as raised:
            api.upload(io.BytesIO(jpeg_bytes(2)), filename="b.jpg", safety_level=2)
        assert raised.value.code == 15
        api.upload(io.BytesIO(jpeg_bytes(3)), filename="c.jpg")
        api.upload(io.BytesIO(jpeg_bytes(4)), filename="d.jpg")
        with pytest.raises(errors.QuotaError) as raised:  # the 1,000-item rule, here 3
            api.upload(io.BytesIO(jpeg_bytes(5)), filename="e.jpg")
        assert raised.value.code == 6


def test_video_size_cap(sandbox: SandboxServer, client: FlickrClient) -> None:
    sandbox.state.accounts.set_limits(sandbox.account.user_nsid, max_video_bytes=1000)
    with pytest.raises(errors.PermanentFileError) as raised:
        client.upload(io.BytesIO(mp4_bytes(2000)), filename="v.mp4")
    assert raised.value.code == 8
    assert client.upload(io.BytesIO(jpeg_bytes(6)), filename="p.jpg").photo_id  # photos unaffected


def test_dedup_check_2_also_finds_deleted_photos(client: FlickrClient) -> None:
    first = client.upload(io.BytesIO(jpeg_bytes(7)), filename="a.jpg")
    client.delete_photo(first.photo_id)
    with pytest.raises(errors.DuplicatePhotoError) as raised:
        client.upload(io.BytesIO(jpeg_bytes(7)), filename="a.jpg", dedup_check=2)
    assert (raised.value.photo_id, raised.value.status) == (first.photo_id, "DELETED")
    again = client.upload(io.BytesIO(jpeg_bytes(7)), filename="a.jpg", dedup_check=1)
    assert again.photo_id != first.photo_id  # dedup_check=1 looks at live photos only


def test_search_and_paging(client: FlickrClient) -> None:
    ids = [
        client.upload(
            io.BytesIO(jpeg_bytes(100 + n)),
            filename=f"{n}.jpg",
            tags=["sea" if n % 2 else "hills", f"checksum:sha256=n{n}"],
        ).photo_id
        for n in range(5)
    ]
    page = client.call("flickr.people.getPhotos", user_id="me", per_page=2, page=2)["photos"]
    assert (page["total"], page["pages"], len(page["photo"])) == (5, 3, 2)
    assert page["photo"][0]["id"] == ids[2]  # newest first
    sea = client.call("flickr.photos.search", user_id="me", tags="sea")["photos"]
    assert {p["id"] for p in sea["photo"]} == {ids[1], ids[3]}
    assert client.photos_with_machine_tag("checksum:sha256=n4") == [ids[4]]


def test_state_survives_a_restart(tmp_path: Path) -> None:
    with running_sandbox(state_dir=tmp_path, seed=3) as first:
        credentials = Credentials(
            first.account.api_key,
            first.account.api_secret,
            first.account.oauth_token,
            first.account.oauth_token_secret,
        )
        with FlickrClient(credentials, endpoints=Endpoints.at(first.url)) as api:
            photo_id = api.upload(
                io.BytesIO(jpeg_bytes(9)), filename="a.jpg", title="kept"
            ).photo_id
        account = first.account
    with running_sandbox(state_dir=tmp_path, seed=3) as second:
        assert (second.account.api_key, second.account.oauth_token) == (
            account.api_key,
            account.oauth_token,
        )
        with FlickrClient(credentials, endpoints=Endpoints.at(second.url)) as api:
            assert api.photo_info(photo_id)["title"]["_content"] == "kept"
            assert api.upload_status().bandwidth_used_bytes == len(jpeg_bytes(9))
        assert second.state.store.photo_path(photo_id).read_bytes() == jpeg_bytes(9)


def test_pages_render_stored_text_inert(sandbox: SandboxServer, client: FlickrClient) -> None:
    photo = client.upload(
        io.BytesIO(jpeg_bytes(10)),
        filename="x.jpg",
        title="<script>alert(1)</script>",
        description='<b>bold</b> <a href="javascript:alert(2)">x</a> <img src=x onerror=alert(3)>',
        tags=["<i>tag</i>"],
    )
    page = requests.get(
        f"{sandbox.url}/photos/upload/edit/", params={"ids": f"{photo.photo_id},404"}, timeout=5
    ).text
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>bold</b>" in page and "javascript:" not in page and "<img src=x" not in page
    assert "Not found: 404" in page
    own = requests.get(
        f"{sandbox.url}/photos/{sandbox.account.user_nsid}/{photo.photo_id}/", timeout=5
    )
    # The image sits at a Flickr-shaped static URL, outside the token-guarded `/sandbox/`:
    # its original secret is what lets the page show it, as on Flickr.
    [src] = re.findall(r"<img src='([^']+)'", own.text)
    assert own.status_code == 200 and re.fullmatch(
        rf"/static/1/{photo.photo_id}_[0-9a-f]+_o\.jpg", src
    )
    image = requests.get(f"{sandbox.url}{src}", timeout=5)
    assert image.headers["content-type"] == "image/jpeg" and image.content == jpeg_bytes(10)
    guessed = src.replace(f"{photo.photo_id}_", f"{photo.photo_id}_0")
    assert requests.get(f"{sandbox.url}{guessed}", timeout=5).status_code == 404


def test_per_connection_bandwidth_cap_slows_uploads(
    sandbox: SandboxServer, client: FlickrClient
) -> None:
    data = jpeg_bytes(11) + b"\0" * (1024 * 1024)
    sandbox.traffic.update(per_connection_mbps=4.0)
    started = time.monotonic()
    client.upload(io.BytesIO(data), filename="a.jpg")
    elapsed = time.monotonic() - started
    sandbox.traffic.update(per_connection_mbps=None)
    assert elapsed >= 1.5  # 8.4 Mbit at 4 Mbit/s: at least about 2 s, never instant


@pytest.mark.integration  # runs the sandbox command
def test_ready_fast_and_50_concurrent_5mb_uploads_stay_under_200mb(tmp_path: Path) -> None:
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "sandbox"], stdout=subprocess.PIPE, text=True
    )
    try:
        account = json.loads(process.stdout.readline())
        ready = time.monotonic() - started
        credentials = Credentials(
            account["api_key"],
            account["api_secret"],
            account["oauth_token"],
            account["oauth_token_secret"],
        )
        payload = jpeg_bytes(12) + b"\1" * (5 * 1024 * 1024)
        peak = [0]
        watching = threading.Event()

        def watch() -> None:
            server = psutil.Process(process.pid)
            while not watching.is_set():
                peak[0] = max(peak[0], server.memory_info().rss)
                time.sleep(0.02)

        watcher = threading.Thread(target=watch)
        watcher.start()
        with FlickrClient(credentials, endpoints=Endpoints.at(account["url"]), pool_size=50) as api:
            results: list[str] = []

            def upload(n: int) -> None:
                results.append(api.upload(io.BytesIO(payload), filename=f"{n}.jpg").photo_id)

            threads = [threading.Thread(target=upload, args=(n,)) for n in range(50)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        watching.set()
        watcher.join()
        print(f"sandbox ready in {ready:.2f} s; peak RSS {peak[0] / 2**20:.0f} MB for 50 × 5 MB")
        assert len(set(results)) == 50
        assert peak[0] < 200 * 2**20
        assert ready < 3.0
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_aggregate_bandwidth_cap_is_shared(sandbox: SandboxServer, credentials) -> None:
    data = jpeg_bytes(13) + b"\0" * (512 * 1024)
    sandbox.traffic.update(bandwidth_mbps=4.0)
    try:
        with FlickrClient(credentials, endpoints=Endpoints.at(sandbox.url)) as api:
            started = time.monotonic()
            threads = [
                threading.Thread(
                    target=api.upload, args=(io.BytesIO(data),), kwargs={"filename": f"{n}.jpg"}
                )
                for n in range(3)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - started
    finally:
        sandbox.traffic.update(bandwidth_mbps=None)
    assert sandbox.state.photos.counts() == {"active": 3}
    assert elapsed >= 2.4  # 12.6 Mbit through one 4 Mbit/s link: about 3 s, not 1


def test_photo_ids_and_nsids_never_collide(tmp_path: Path) -> None:
    """Photo ids and NSID numbers come from the same seeded draws: a kept state restarted
    with its seed drew the demo account's NSID number again as its first photo id."""
    with running_sandbox(state_dir=tmp_path, seed=30) as first:
        made = requests.post(
            f"{first.url}/sandbox/accounts", json={}, headers=first.admin_headers, timeout=5
        ).json()
    with running_sandbox(state_dir=tmp_path, seed=30) as again:
        account = again.account
        credentials = Credentials(
            account.api_key, account.api_secret, account.oauth_token, account.oauth_token_secret
        )
        with FlickrClient(credentials, endpoints=Endpoints.at(again.url)) as api:
            ids = {
                api.upload(io.BytesIO(jpeg_bytes(i)), filename="a.jpg").photo_id for i in range(3)
            }
        minted = requests.post(
            f"{again.url}/sandbox/accounts", json={}, headers=again.admin_headers, timeout=5
        ).json()
    numbers = {
        nsid.partition("@")[0]
        for nsid in (account.user_nsid, made["user_nsid"], minted["user_nsid"])
    }
    assert len(ids) == 3 and len(numbers) == 3 and not ids & numbers
