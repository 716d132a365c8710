"""The real FlickrClient against a hostile Flickr-compatible server (a wrong
FLICKR_BASE_URL, or a man in the middle on plain HTTP): each trick ends in a clear,
bounded FlickrIngestError: no hang, no crash, no raw escape on the terminal, no answer
read whole."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from flickr_ingest.flickr import Credentials, Endpoints, FlickrClient, errors
from tests.hostile_server import Answer, HostileServer, endless, hostile_server
from tests.photos import jpeg_bytes

CREDENTIALS = Credentials("key", "api-secret", "token", "token-secret")
ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x1b[31mall is well"


@pytest.fixture
def server() -> HostileServer:
    with hostile_server() as server:
        yield server


@pytest.fixture
def api(server: HostileServer) -> FlickrClient:
    with FlickrClient(CREDENTIALS, endpoints=Endpoints.at(server.url), timeout=(5, 10)) as api:
        yield api


def _json(document: object) -> bytes:
    return json.dumps(document).encode()


def _upload(api: FlickrClient) -> None:
    api.upload(io.BytesIO(jpeg_bytes(1)), filename="a.jpg")


def test_a_huge_retry_after_is_not_waited(server: HostileServer, api: FlickrClient) -> None:
    """3.2 years, in seconds or as an HTTP date, on a REST call or an upload."""
    for retry_after in ("99999999", "Fri, 31 Dec 9999 23:59:59 GMT"):
        server.answer = Answer(429, {"Retry-After": retry_after})
        began = time.monotonic()
        with pytest.raises(errors.WaitTooLong, match="more than the 15-minute maximum"):
            api.test_login()
        with pytest.raises(errors.WaitTooLong):
            _upload(api)
        server.answer = Answer(200, body=_json({"stat": "ok", "user": {"id": "1@N01"}}))
        assert api.test_login().user_nsid == "1@N01"  # the next call does not wait either
        assert time.monotonic() - began < 5
        assert not errors.is_retryable(errors.WaitTooLong("x", wait=10**8))


def test_flickrs_upload_wait_time_is_capped_too(server: HostileServer, api: FlickrClient) -> None:
    server.answer = Answer(
        200,
        body=b'<rsp stat="fail"><err code="14" msg="slow down"/>'
        b"<non_pro_desktop_upload_wait_time>99999999</non_pro_desktop_upload_wait_time></rsp>",
    )
    with pytest.raises(errors.WaitTooLong, match="Flickr error 14: slow down; asked to wait"):
        _upload(api)
    server.answer = Answer(
        200,
        body=b'<rsp stat="fail"><err code="14" msg="slow down"/>'
        b"<non_pro_desktop_upload_wait_time>\xc2\xb2</non_pro_desktop_upload_wait_time></rsp>",
    )
    with pytest.raises(errors.TransientError) as raised:  # no usable wait: the default one
        _upload(api)
    assert raised.value.retry_after is None


def test_superscript_digits_are_no_numbers(server: HostileServer, api: FlickrClient) -> None:
    """`'²'.isdigit()` is True, and `int('²')` a ValueError: a crash before."""
    server.answer = Answer(503, {"Retry-After": "²"})
    with pytest.raises(errors.TransportError) as raised:
        api.test_login()
    assert raised.value.retry_after is None and errors.is_retryable(raised.value)
    user = {"id": "1@N01", "ispro": "²", "upload_count": "12", "upload_limit": "1000"}
    server.answer = Answer(200, body=_json({"stat": "ok", "user": user}))
    status = api.upload_status()
    assert (status.is_pro, status.items_uploaded, status.item_limit) == (False, 12, 1000)
    user["upload_count"] = "١٢٣"  # then people.getPhotos would tell, but names no number
    server.answer = Answer(200, body=_json({"stat": "ok", "user": user}))
    with pytest.raises(errors.ProtocolError, match="names no number of photos"):
        api.upload_status()
    server.answer = Answer(200, body=_json({"stat": "fail", "code": "-²", "message": "no"}))
    with pytest.raises(errors.FlickrAPIError, match="Flickr error -1: no"):
        api.test_login()


def test_a_redirect_to_another_host_is_not_followed(server: HostileServer) -> None:
    with hostile_server() as elsewhere:
        elsewhere.answer = Answer(200, body=_json({"stat": "ok", "user": {"id": "evil"}}))
        other_host = f"http://localhost:{elsewhere.port}"
        server.answer = Answer(302, {"Location": f"{other_host}/services/rest/?stolen=1"})
        with FlickrClient(CREDENTIALS, endpoints=Endpoints.at(server.url)) as api:
            with pytest.raises(
                errors.ProtocolError, match=f"redirect to localhost:{elsewhere.port}"
            ):
                api.test_login()
            server.answer.status = 307  # keeps the method and body: the upload itself
            with pytest.raises(errors.ProtocolError, match="not redirected"):
                _upload(api)
        assert elsewhere.requests == []


def test_deeply_nested_answers_are_refused(server: HostileServer, api: FlickrClient) -> None:
    server.answer = Answer(200, body=b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(errors.ProtocolError, match="nested more than 64 deep"):
        api.test_login()
    server.answer = Answer(200, body=b"<rsp>" * 100_000 + b"</rsp>" * 100_000)
    with pytest.raises(errors.ProtocolError, match="nested more than 64 deep"):
        _upload(api)


def test_a_declared_huge_answer_is_not_read(server: HostileServer, api: FlickrClient) -> None:
    server.answer = Answer(200, {"Content-Length": str(300 * 1024 * 1024)}, endless(1024))
    with pytest.raises(errors.ProtocolError, match="too big"):
        api.test_login()


_READ_300_MB = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from flickr_ingest.flickr import Credentials, Endpoints, FlickrClient, errors
    credentials = Credentials("key", "api-secret", "token", "token-secret")
    began = time.monotonic()
    with FlickrClient(credentials, endpoints=Endpoints.at(sys.argv[1])) as api:
        try:
            api.test_login()
            outcome = "read"
        except errors.FlickrIngestError as error:
            outcome = f"{type(error).__name__}: {error}"
    peak = next(
        int(line.split()[1]) * 1024
        for line in Path("/proc/self/status").read_text().splitlines()
        if line.startswith("VmHWM:")
    )
    print(json.dumps({"outcome": outcome, "peak": peak, "seconds": time.monotonic() - began}))
    """
)


@pytest.mark.integration  # measures memory in a Python process of its own
def test_a_300_mb_answer_is_not_read_whole(server: HostileServer) -> None:
    """Streamed without a length (the server holds 1 MB of it at a time): the client
    reads up to its limit and stops, in a process that stays under 100 MB."""
    server.answer = Answer(200, body=endless(300 * 1024 * 1024))
    done = subprocess.run(
        [sys.executable, "-c", _READ_300_MB, server.url],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["outcome"].startswith("ProtocolError: the answer from 127.0.0.1:"), result
    assert "too big" in result["outcome"]
    assert result["peak"] < 100 * 1024 * 1024, result
