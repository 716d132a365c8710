"""FlickrClient against the sandbox over HTTP: every call the pipeline makes, and one
test per error class."""

from __future__ import annotations

import io
import time

import pytest
import requests

from flickr_ingest.flickr import Credentials, Endpoints, FlickrClient, errors
from flickr_ingest.sandbox import SandboxServer
from tests.photos import jpeg_bytes, mp4_bytes, png_bytes
from tests.ports import closed_port


def _faults(sandbox: SandboxServer, **settings: object) -> None:
    response = requests.post(
        f"{sandbox.url}/sandbox/faults", headers=sandbox.admin_headers, json=settings, timeout=5
    )
    assert response.status_code == 200, response.text


def test_sync_upload_with_every_field(client: FlickrClient, sandbox: SandboxServer) -> None:
    result = client.upload(
        io.BytesIO(jpeg_bytes(10)),
        filename='Crémieux "11".jpg',
        title="Quay",
        description="<i>fog</i>",
        tags=["harbour", "north sea", "checksum:sha256=ab12"],
        is_public=False,
        is_family=True,
        safety_level=1,
        content_type=1,
        hidden=2,
    )
    assert result.photo_id and result.secret and result.ticket_id is None
    info = client.photo_info(result.photo_id)
    assert info["title"]["_content"] == "Quay"
    assert [t["raw"] for t in info["tags"]["tag"]] == [
        "harbour",
        "north sea",
        "checksum:sha256=ab12",
    ]
    assert info["visibility"] == {"ispublic": 0, "isfriend": 0, "isfamily": 1}
    assert info["hidden"] == 2
    stored = sandbox.state.photos.photo_row(result.photo_id)
    assert stored["filename"] == 'Crémieux "11".jpg'
    assert client.photos_with_machine_tag("checksum:sha256=ab12") == [result.photo_id]


def test_upload_from_a_path_sends_its_real_name(client: FlickrClient, sandbox, tmp_path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(mp4_bytes())
    result = client.upload(path)
    row = sandbox.state.photos.photo_row(result.photo_id)
    assert (row["filename"], row["kind"], row["format"]) == ("clip.mp4", "video", "mp4")


def test_async_upload_and_batched_tickets(client: FlickrClient, sandbox: SandboxServer) -> None:
    sandbox.state.photos.behaviour.async_delay_seconds = 1.5  # still processing at the first check
    tickets = [
        client.upload(
            io.BytesIO(jpeg_bytes(20 + i)), filename=f"{i}.jpg", asynchronous=True
        ).ticket_id
        for i in range(3)
    ]
    assert all(tickets)
    first = client.check_tickets(tickets)
    assert {status.complete for status in first.values()} == {0}
    final = client.wait_for_tickets(tickets, timeout=10, poll_seconds=0.1)
    assert all(status.done and status.photo_id for status in final.values())
    assert client.check_tickets(["123"])["123"].invalid


def test_async_conversion_failure_is_complete_2(client: FlickrClient, sandbox) -> None:
    sandbox.state.photos.behaviour.async_delay_seconds = 0.0
    sandbox.state.photos.behaviour.async_failure_rate = 1.0
    ticket = client.upload(io.BytesIO(png_bytes(3)), filename="a.png", asynchronous=True).ticket_id
    status = client.wait_for_tickets([ticket], timeout=5, poll_seconds=0.1)[ticket]
    assert status.complete == 2 and status.failed


def test_replace(client: FlickrClient, sandbox: SandboxServer) -> None:
    photo_id = client.upload(io.BytesIO(jpeg_bytes(30)), filename="a.jpg").photo_id
    replaced = client.replace(io.BytesIO(jpeg_bytes(31)), photo_id=photo_id, filename="a.jpg")
    assert replaced.photo_id == photo_id and replaced.originalsecret
    assert sandbox.state.store.photo_path(photo_id).read_bytes() == jpeg_bytes(31)


def test_upload_status_before_and_after(client: FlickrClient) -> None:
    before = client.upload_status()
    data = jpeg_bytes(40)
    client.upload(io.BytesIO(data), filename="a.jpg")
    after = client.upload_status()
    assert before.is_pro and after.bandwidth_unlimited
    assert after.bandwidth_used_bytes == before.bandwidth_used_bytes + len(data)
    assert after.max_photo_bytes == 200 * 1024 * 1024


def test_free_account_reports_items(sandbox: SandboxServer, client: FlickrClient) -> None:
    sandbox.state.accounts.set_limits(sandbox.account.user_nsid, max_items=3)
    client.upload(io.BytesIO(jpeg_bytes(41)), filename="a.jpg")
    free = requests.post(
        f"{sandbox.url}/sandbox/accounts",
        headers=sandbox.admin_headers,
        json={"username": "free", "plan": "free"},
        timeout=5,
    ).json()
    account = sandbox.account
    with FlickrClient(
        Credentials(
            account.api_key, account.api_secret, free["oauth_token"], free["oauth_token_secret"]
        ),
        endpoints=Endpoints.at(sandbox.url),
    ) as free_client:
        status = free_client.upload_status()
        assert not status.is_pro and (status.items_uploaded, status.item_limit) == (0, 1000)
        free_client.upload(io.BytesIO(jpeg_bytes(42)), filename="a.jpg")
        assert free_client.upload_status().items_uploaded == 1
        # getUploadStatus states count and limit today: no people.getPhotos to count them.
        assert free_client.calls["flickr.people.getPhotos"] == 0


# -- one test per error class ---------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "code", "retry_after"),
    [("105", 105, None), ("106", 106, None), ("3", 3, None), ("14", 14, 1.0)],
)
def test_flickr_transient_errors(client, sandbox, fault: str, code: int, retry_after) -> None:
    _faults(sandbox, faults=f"{fault}=1")
    with pytest.raises(errors.TransientError) as raised:
        client.upload(io.BytesIO(jpeg_bytes(50)), filename="a.jpg")
    assert raised.value.code == code and raised.value.retry_after == retry_after
    assert errors.is_retryable(raised.value)


@pytest.mark.parametrize("fault", ["500", "502", "503", "504", "reset", "lost"])
def test_transport_failures_are_transient(client, sandbox, fault: str) -> None:
    _faults(sandbox, faults=f"{fault}=1")
    with pytest.raises(errors.TransportError) as raised:
        client.upload(io.BytesIO(jpeg_bytes(51)), filename="a.jpg")
    assert errors.is_retryable(raised.value) and raised.value.code is None


def test_http_429_carries_retry_after(client, sandbox) -> None:
    _faults(sandbox, faults="429=1", retry_after_seconds=7)
    with pytest.raises(errors.TransportError) as raised:
        client.test_login()
    assert raised.value.retry_after == 7.0


def test_rate_limit_answers_429_with_the_wait(client, sandbox) -> None:
    _faults(sandbox, rate_limit_calls=2, rate_limit_seconds=60)
    client.test_login()
    client.test_login()
    with pytest.raises(errors.TransportError) as raised:
        client.test_login()
    assert 55 <= raised.value.retry_after <= 60


def test_timeout_is_transient(sandbox, credentials) -> None:
    _faults(sandbox, latency_ms=1500)
    slow = FlickrClient(credentials, endpoints=Endpoints.at(sandbox.url), timeout=(2, 0.3))
    with slow, pytest.raises(errors.TransportError, match="timed out"):
        slow.test_login()


def test_lost_answer_then_dedup_retry_yields_the_original(client, sandbox) -> None:
    data = jpeg_bytes(52)
    _faults(sandbox, faults="lost=1")
    with pytest.raises(errors.TransportError):
        client.upload(io.BytesIO(data), filename="a.jpg", dedup_check=1)
    _faults(sandbox, faults="")
    stored = [
        p
        for p in requests.get(
            f"{sandbox.url}/sandbox/photos", headers=sandbox.admin_headers, timeout=5
        ).json()["photos"]
    ]
    assert len(stored) == 1  # the lost attempt landed
    with pytest.raises(errors.DuplicatePhotoError) as raised:
        client.upload(io.BytesIO(data), filename="a.jpg", dedup_check=1)
    assert raised.value.photo_id == stored[0]["id"]
    assert raised.value.status == "ACTIVE"


@pytest.mark.parametrize(
    ("payload", "code"),
    [(b"", 4), (b"<html><body>not a photo</body></html>", 5)],
)
def test_permanent_file_errors(client, payload: bytes, code: int) -> None:
    with pytest.raises(errors.PermanentFileError) as raised:
        client.upload(io.BytesIO(payload), filename="a.jpg")
    assert raised.value.code == code and not errors.is_retryable(raised.value)


def test_too_large_unsafe_and_bad_url_are_permanent(client, sandbox) -> None:
    nsid = sandbox.account.user_nsid
    sandbox.state.accounts.set_limits(nsid, max_photo_bytes=100)
    with pytest.raises(errors.PermanentFileError, match="too large") as raised:
        client.upload(io.BytesIO(jpeg_bytes(53)), filename="a.jpg")
    assert raised.value.code == 8
    sandbox.state.accounts.set_limits(nsid, max_photo_bytes=10**8, safe_only=True)
    with pytest.raises(errors.PermanentFileError) as raised:
        client.upload(io.BytesIO(jpeg_bytes(53)), filename="a.jpg", safety_level=3)
    assert raised.value.code == 15
    with pytest.raises(errors.PermanentFileError) as raised:
        client.upload(
            io.BytesIO(jpeg_bytes(53)), filename="a.jpg", title="see http://x.spam.example/"
        )
    assert raised.value.code == 116


def test_quota_errors(client, sandbox) -> None:
    nsid = sandbox.account.user_nsid
    data = jpeg_bytes(54)
    sandbox.state.accounts.set_limits(nsid, monthly_bandwidth_bytes=len(data) + 10)
    client.upload(io.BytesIO(data), filename="a.jpg")
    with pytest.raises(errors.QuotaError) as raised:
        client.upload(io.BytesIO(jpeg_bytes(55)), filename="b.jpg")
    assert raised.value.code == 6 and not raised.value.videos_only
    sandbox.state.accounts.set_limits(nsid, monthly_bandwidth_bytes=None, max_videos=0)
    with pytest.raises(errors.QuotaError) as raised:
        client.upload(io.BytesIO(mp4_bytes()), filename="c.mp4")
    assert raised.value.code == 7 and raised.value.videos_only


def test_auth_errors(sandbox, credentials, client) -> None:
    wrong = Credentials(
        credentials.api_key, "f" * 16, credentials.oauth_token, credentials.oauth_token_secret
    )
    with FlickrClient(wrong, endpoints=Endpoints.at(sandbox.url)) as bad:
        with pytest.raises(errors.AuthError) as raised:
            bad.upload(io.BytesIO(jpeg_bytes(56)), filename="a.jpg")
        assert raised.value.oauth_problem == "signature_invalid"
        # It says what to do, and nothing of the signed text (debug_sbs) or any secret.
        assert "FLICKR_API_SECRET" in str(raised.value) and "debug_sbs" not in str(raised.value)
        assert "f" * 16 not in str(raised.value)
        assert credentials.oauth_token_secret not in str(raised.value)
    unknown = Credentials(
        "0" * 32, "f" * 16, credentials.oauth_token, credentials.oauth_token_secret
    )
    with FlickrClient(unknown, endpoints=Endpoints.at(sandbox.url)) as bad:
        with pytest.raises(errors.AuthError) as raised:
            bad.test_login()
        assert raised.value.code == 100
    reader = requests.post(
        f"{sandbox.url}/sandbox/accounts",
        headers=sandbox.admin_headers,
        json={"perms": "read"},
        timeout=5,
    ).json()
    read_only = Credentials(
        credentials.api_key,
        credentials.api_secret,
        reader["oauth_token"],
        reader["oauth_token_secret"],
    )
    with FlickrClient(read_only, endpoints=Endpoints.at(sandbox.url)) as bad:
        bad.test_login()
        with pytest.raises(errors.AuthError) as raised:
            bad.upload(io.BytesIO(jpeg_bytes(56)), filename="a.jpg")
        assert raised.value.code == 99
        requests.post(
            f"{sandbox.url}/sandbox/tokens/{reader['oauth_token']}/revoke",
            headers=sandbox.admin_headers,
            timeout=5,
        )
        with pytest.raises(errors.AuthError) as raised:
            bad.test_login()
        assert raised.value.code == 98


def test_duplicate_is_success_equivalent(client) -> None:
    first = client.upload(io.BytesIO(jpeg_bytes(57)), filename="a.jpg", dedup_check=1)
    with pytest.raises(errors.DuplicatePhotoError) as raised:
        client.upload(io.BytesIO(jpeg_bytes(57)), filename="copy.jpg", dedup_check=1)
    assert raised.value.photo_id == first.photo_id and not errors.is_retryable(raised.value)


def test_rest_method_errors(client) -> None:
    with pytest.raises(errors.FlickrAPIError) as raised:
        client.photo_info("1")
    assert raised.value.code == 1
    with pytest.raises(errors.FlickrAPIError) as raised:
        client.call("flickr.no.such.method")
    assert raised.value.code == 112


def test_sandbox_down_is_transient(credentials) -> None:
    with (
        closed_port() as port,
        FlickrClient(credentials, endpoints=Endpoints.at(f"http://127.0.0.1:{port}")) as api,
    ):
        started = time.monotonic()
        with pytest.raises(errors.TransportError, match="ConnectionError"):
            api.test_login()
        assert time.monotonic() - started < 5


def test_client_is_safe_to_share_between_threads(client, sandbox) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        results = list(
            pool.map(
                lambda i: client.upload(io.BytesIO(jpeg_bytes(100 + i)), filename=f"{i}.jpg"),
                range(24),
            )
        )
    assert len({result.photo_id for result in results}) == 24


@pytest.mark.parametrize(
    ("problem", "advice"),
    [
        ("signature_invalid", "FLICKR_API_SECRET"),
        ("timestamp_refused", "clock"),
        ("token_rejected", "flickr-ingest auth login"),
        ("token_revoked", "flickr-ingest auth login"),
        ("token_expired", "flickr-ingest auth login"),
        ("parameter_absent", "oauth_token"),
        ("consumer_key_unknown", "FLICKR_API_KEY"),
        ("something_new", "flickr-ingest auth login"),
    ],
)
def test_every_oauth_problem_stops_the_run_and_says_what_to_do(problem: str, advice: str) -> None:
    error = errors.oauth_refusal("up.flickr.com/services/upload/", problem, "oauth_token")
    assert isinstance(error, errors.AuthError) and not errors.is_retryable(error)
    assert error.oauth_problem == problem and advice in str(error)


def test_a_used_nonce_is_retried_with_a_new_signature() -> None:
    assert errors.is_retryable(errors.oauth_refusal("api.flickr.com/services/rest/", "nonce_used"))


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("7", 7.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # a date in the past: no wait
        ("garbage", None),
        ("Wed, 99 Foo 2015", None),
        ("", None),
    ],
)
def test_a_hostile_retry_after_is_no_wait_not_a_crash(header: str, expected) -> None:
    from flickr_ingest.flickr.client import _retry_after

    response = requests.Response()
    response.headers["Retry-After"] = header
    assert _retry_after(response) == expected


def test_unreachable_means_no_connection_was_made(client, sandbox, credentials) -> None:
    """A refused connection is `unreachable` (the run's first call gives up soon on it);
    an answer lost mid-way is not: the server is there."""
    _faults(sandbox, next_faults=["lost"])
    with pytest.raises(errors.TransportError) as lost:
        client.test_login()
    assert not lost.value.unreachable
    with closed_port() as port:
        nobody = FlickrClient(credentials, endpoints=Endpoints.at(f"http://127.0.0.1:{port}"))
        with nobody, pytest.raises(errors.TransportError) as refused:
            nobody.test_login()
    assert refused.value.unreachable and "ConnectionError" in str(refused.value)


def test_proxies_from_the_environment_are_used_and_no_proxy_is_honoured(
    credentials, sandbox: SandboxServer, monkeypatch
) -> None:
    """The client reads proxy settings once per host, not per request; they still apply:
    a proxy nobody listens on fails the request, and NO_PROXY naming the host skips it."""
    with closed_port() as port:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        with (
            FlickrClient(credentials, endpoints=Endpoints.at(sandbox.url)) as proxied,
            pytest.raises(errors.TransportError, match="ProxyError"),
        ):
            proxied.test_login()
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        with FlickrClient(credentials, endpoints=Endpoints.at(sandbox.url)) as direct:
            assert direct.test_login().username


def test_refusals_are_classed_by_what_the_run_does_with_the_file(client, sandbox) -> None:
    """An empty file breaks Flickr's rules (NotAcceptedError: skipped); a URL Flickr
    refuses is for the user to fix (PermanentFileError only: failed)."""
    with pytest.raises(errors.NotAcceptedError) as raised:
        client.upload(io.BytesIO(b""), filename="a.jpg")
    assert raised.value.code == 4
    with pytest.raises(errors.PermanentFileError) as raised:
        client.upload(
            io.BytesIO(jpeg_bytes(54)), filename="a.jpg", title="see http://x.spam.example/"
        )
    assert raised.value.code == 116 and not isinstance(raised.value, errors.NotAcceptedError)
