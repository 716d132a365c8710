"""The sandbox against hostile callers: foreign hosts and origins, cross-site writes, a bind
beyond loopback, predictable credentials, held connections, stalled and unwanted bodies."""

from __future__ import annotations

import io
import json
import random
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
import requests
from oauthlib.oauth1 import Client as OAuthSigner

from flickr_ingest.flickr import Credentials, Endpoints, FlickrClient
from flickr_ingest.sandbox import SandboxServer, running_sandbox
from flickr_ingest.sandbox.connections import ConnectionLimits
from flickr_ingest.sandbox.oauth import parse_authorization_header
from flickr_ingest.sandbox.store import Store
from tests.photos import jpeg_bytes

MB = 1024 * 1024


def _port(server: SandboxServer) -> int:
    return server.address()[1]


def _connect(server: SandboxServer, timeout: float = 5.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", _port(server)), timeout=timeout)


def _answer(sock: socket.socket, limit: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes (or `limit` seconds pass), and when
    that happened."""
    started, data = time.monotonic(), b""
    sock.settimeout(0.2)
    while time.monotonic() - started < limit:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data, time.monotonic() - started


# -- item 4: who may call ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/sandbox/photos", "/sandbox/health", "/services/rest/", "/photos/upload/edit/"]
)
def test_foreign_host_headers_are_refused_everywhere(sandbox: SandboxServer, path: str) -> None:
    port = _port(sandbox)
    for host in (f"rebound.example:{port}", "rebound.example", f"127.0.0.1:{port + 1}", ""):
        response = requests.get(f"{sandbox.url}{path}", headers={"Host": host}, timeout=5)
        assert response.status_code == 403, host


def test_loopback_host_names_are_accepted(sandbox: SandboxServer) -> None:
    port = _port(sandbox)
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}", "localhost"):
        response = requests.get(f"{sandbox.url}/sandbox/health", headers={"Host": host}, timeout=5)
        assert response.status_code == 200, host
    with _connect(sandbox) as sock:  # requests would not send an IPv6 literal to 127.0.0.1
        request = f"GET /sandbox/health HTTP/1.1\r\nHost: [::1]:{port}\r\nConnection: close\r\n"
        sock.sendall(request.encode() + b"\r\n")
        assert _answer(sock, 2)[0].startswith(b"HTTP/1.1 200 ")


def test_cross_site_writes_cannot_reset_or_change_faults(
    sandbox: SandboxServer, client: FlickrClient
) -> None:
    client.upload(io.BytesIO(jpeg_bytes(1)), filename="kept.jpg")
    foreign = requests.post(
        f"{sandbox.url}/sandbox/reset",
        data="{}",
        headers={"Origin": "http://attacker.example", "Content-Type": "text/plain"},
        timeout=5,
    )
    assert foreign.status_code == 403
    for origin in ("null", f"http://localhost:{_port(sandbox) + 1}", "https://127.0.0.1"):
        refused = requests.post(
            f"{sandbox.url}/sandbox/faults", json={"faults": "lost=1"}, headers={"Origin": origin}
        )
        assert refused.status_code == 403, origin
    plain = requests.post(  # a `text/plain` fetch needs no preflight, Origin or not
        f"{sandbox.url}/sandbox/faults",
        data='{"faults": "lost=1"}',
        headers={**sandbox.admin_headers, "Content-Type": "text/plain"},
        timeout=5,
    )
    assert plain.status_code == 415
    form = requests.post(
        f"{sandbox.url}/sandbox/accounts",
        headers=sandbox.admin_headers,
        data={"perms": "delete"},
        timeout=5,
    )
    assert form.status_code == 415
    cross_site = requests.get(
        f"{sandbox.url}/sandbox/photos", headers={"Sec-Fetch-Site": "cross-site"}, timeout=5
    )
    assert cross_site.status_code == 403
    assert sandbox.state.photos.counts() == {"active": 1}
    assert sandbox.traffic.settings.faults == {}


def test_same_origin_json_and_bodiless_posts_still_work(sandbox: SandboxServer) -> None:
    own = requests.post(
        f"{sandbox.url}/sandbox/faults",
        json={"latency_ms": 1},
        headers={**sandbox.admin_headers, "Origin": sandbox.url, "Sec-Fetch-Site": "same-origin"},
        timeout=5,
    )
    assert own.status_code == 200 and own.json()["latency_ms"] == 1
    assert (
        requests.post(
            f"{sandbox.url}/sandbox/reset", headers=sandbox.admin_headers, timeout=5
        ).status_code
        == 200
    )
    assert (
        requests.post(
            f"{sandbox.url}/sandbox/reset", headers=sandbox.admin_headers, json={}, timeout=5
        ).status_code
        == 200
    )


def test_a_bind_beyond_loopback_warns_and_wants_the_admin_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with running_sandbox(host="0.0.0.0") as server:  # the case under test
        token = server.account.admin_token
        assert token and json.loads(server.account.to_json())["admin_token"] == token
        base = f"http://127.0.0.1:{_port(server)}"
        assert requests.get(f"{base}/sandbox/photos", timeout=5).status_code == 401
        wrong = {"Authorization": "Bearer " + "x" * len(token)}
        assert requests.get(f"{base}/sandbox/photos", headers=wrong, timeout=5).status_code == 401
        bearer = {"Authorization": f"Bearer {token}"}
        assert requests.get(f"{base}/sandbox/photos", headers=bearer, timeout=5).status_code == 200
        header = {"X-Sandbox-Admin": token}
        assert requests.get(f"{base}/sandbox/albums", headers=header, timeout=5).status_code == 200
        minted = requests.post(f"{base}/sandbox/accounts", json={}, timeout=5)
        assert minted.status_code == 401
        assert requests.get(f"{base}/sandbox/health", timeout=5).status_code == 200
        assert requests.get(f"{server.url}/sandbox/health", timeout=5).status_code == 200
    assert any("beyond this machine" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/sandbox/photos"),
        ("GET", "/sandbox/albums"),
        ("GET", "/sandbox/accounts"),
        ("GET", "/sandbox/requests"),
        ("GET", "/sandbox/faults"),
        ("POST", "/sandbox/reset"),
        ("POST", "/sandbox/accounts"),
    ],
)
def test_loopback_control_endpoints_want_the_admin_token_too(
    sandbox: SandboxServer, client: FlickrClient, method: str, path: str
) -> None:
    """Any local user reaches a loopback port: without the token nobody lists, reads,
    mints or resets (issue #30)."""
    client.upload(io.BytesIO(jpeg_bytes(1)), filename="kept.jpg")
    token = sandbox.account.admin_token
    assert token == sandbox.admin_token and json.loads(sandbox.account.to_json())["admin_token"]
    url = f"{sandbox.url}{path}"
    refused = requests.request(method, url, json={}, timeout=5)
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert "kept.jpg" not in refused.text
    wrong = {"X-Sandbox-Admin": "x" * len(token)}
    assert requests.request(method, url, json={}, headers=wrong, timeout=5).status_code == 401
    assert sandbox.state.photos.counts() == {"active": 1}  # no reset went through
    allowed = requests.request(method, url, json={}, headers=sandbox.admin_headers, timeout=5)
    assert allowed.status_code == 200
    assert requests.get(f"{sandbox.url}/sandbox/health", timeout=5).status_code == 200


@pytest.mark.integration  # runs the sandbox command
def test_the_command_warns_on_a_public_bind_and_prints_the_token() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "sandbox", "--host", "0.0.0.0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        account = json.loads(process.stdout.readline())
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert len(account["admin_token"]) >= 32
    assert "beyond this machine" in stderr


def test_each_state_gets_its_own_random_credentials_despite_one_seed(tmp_path: Path) -> None:
    accounts = []
    for name in ("a", "b"):
        with running_sandbox(state_dir=tmp_path / name, seed=20190) as server:
            accounts.append(server.account)
    a, b = accounts
    assert a.user_nsid == b.user_nsid  # the seed still decides ids
    for secret in ("api_key", "api_secret", "oauth_token", "oauth_token_secret"):
        assert getattr(a, secret) != getattr(b, secret), secret
    with running_sandbox(state_dir=tmp_path / "a", seed=20190) as again:
        assert (again.account.api_secret, again.account.oauth_token_secret) == (
            a.api_secret,
            a.oauth_token_secret,
        )


def _draws(seed: int) -> tuple[str, str]:
    """What a seeded sandbox of the previous version made first: its app key and secret."""
    rng = random.Random(seed)
    return tuple("".join(rng.choice("0123456789abcdef") for _ in range(n)) for n in (32, 16))


def test_seed_made_credentials_in_a_kept_state_are_replaced(tmp_path: Path) -> None:
    key, secret = _draws(20190)
    old = Store(tmp_path, seed=20190)
    with old.transaction() as db:
        db.execute("INSERT INTO apps VALUES (?, ?)", (key, secret))
        db.execute(
            "INSERT INTO accounts VALUES ('1@N01', 'demo', 'demo', 1, ?)",
            (json.dumps({}),),
        )
        db.execute(
            "INSERT INTO tokens (token, secret, api_key, kind, nsid, perms, created)"
            " VALUES ('t-1', 's', ?, 'access', '1@N01', 'delete', 0)",
            (key,),
        )
    old.close()
    with running_sandbox(state_dir=tmp_path, seed=20190) as server:
        account = server.account
        assert (account.api_key, account.api_secret) != (key, secret)
        assert account.user_nsid == "1@N01" and account.oauth_token != "t-1"
        rows = server.state.store.query("SELECT token FROM tokens WHERE api_key = ?", (key,))
        assert rows == []


# -- item 9: connections held open, bodies read before auth ------------------------------


@pytest.fixture
def strict() -> Iterator[SandboxServer]:
    limits = ConnectionLimits(max_connections=20, header_timeout=1.0, body_timeout=1.0)
    with running_sandbox(limits=limits) as server:
        yield server


def test_headers_sent_slowly_are_cut_off(strict: SandboxServer) -> None:
    with _connect(strict) as sock:
        sock.sendall(b"GET /sandbox/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        started = time.monotonic()
        try:  # a byte now and then does not buy more time
            while time.monotonic() - started < 3:
                sock.sendall(b"X")
                time.sleep(0.2)
        except OSError:
            pass
        answer, _ = _answer(sock, 3)
        elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 ") and elapsed < 2.5


def test_a_body_that_stalls_gets_408_and_the_connection_closes(strict: SandboxServer) -> None:
    with _connect(strict) as sock:
        sock.sendall(
            b"POST /sandbox/faults HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + f"Authorization: Bearer {strict.admin_token}\r\n".encode()
            + b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        )
        answer, elapsed = _answer(sock, 5)
    assert answer.startswith(b"HTTP/1.1 408 ") and b"connection: close" in answer.lower()
    assert elapsed < 2.5


def test_an_upload_that_stalls_mid_body_gets_408(strict: SandboxServer) -> None:
    head = _upload_head(strict, _signed_header(strict), length=10 * MB)
    with _connect(strict) as sock:
        sock.sendall(head + _PHOTO_PART + b"\0" * 65536)
        answer, elapsed = _answer(sock, 5)
    assert answer.startswith(b"HTTP/1.1 408 ") and elapsed < 2.5
    assert strict.traffic.log[-1]["stat"] == "timed-out"


def test_idle_connections_past_the_cap_make_way_for_real_requests() -> None:
    capped = ConnectionLimits(max_connections=20, header_timeout=30, body_timeout=30)
    with running_sandbox(limits=capped) as server:
        idle = [_connect(server) for _ in range(40)]
        try:
            closed: set[socket.socket] = set()
            deadline = time.monotonic() + 5
            while len(closed) < 20 and time.monotonic() < deadline:
                readable, _, _ = select.select([s for s in idle if s not in closed], [], [], 0.2)
                closed.update(readable)  # the server answered 503 or 408 and closed
            assert len(closed) >= 20
            health = requests.get(f"{server.url}/sandbox/health", timeout=5)
            assert health.status_code == 200
        finally:
            for sock in idle:
                sock.close()


_PHOTO_PART = (
    b'--b\r\nContent-Disposition: form-data; name="photo"; filename="a.jpg"\r\n'
    b"Content-Type: image/jpeg\r\n\r\n"
)


def _signed_header(server: SandboxServer, **overrides: str) -> str:
    account = server.account
    signer = OAuthSigner(
        overrides.pop("api_key", account.api_key),
        client_secret=account.api_secret,
        resource_owner_key=overrides.pop("token", account.oauth_token),
        resource_owner_secret=account.oauth_token_secret,
        **overrides,
    )
    _, headers, _ = signer.sign(
        f"{server.url}/services/upload/",
        "POST",
        body="",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    return headers["Authorization"]


def _signed_fields(server: SandboxServer, **overrides: str) -> bytes:
    """The OAuth parameters as multipart fields ahead of the file part, as Flickr's
    JavaScript SDK sends them (no Authorization header; see test_conformance.py)."""
    account = server.account
    signer = OAuthSigner(
        overrides.pop("api_key", account.api_key),
        client_secret=overrides.pop("api_secret", account.api_secret),
        resource_owner_key=overrides.pop("token", account.oauth_token),
        resource_owner_secret=account.oauth_token_secret,
        signature_type="BODY",
        **overrides,
    )
    _, _, body = signer.sign(
        f"{server.url}/services/upload/",
        "POST",
        body="title=screened",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    return b"".join(
        f'--b\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in parse_qsl(body)
    )


def _upload_head(server: SandboxServer, authorization: str | None, length: int) -> bytes:
    lines = [
        "POST /services/upload/ HTTP/1.1",
        f"Host: 127.0.0.1:{_port(server)}",
        "Content-Type: multipart/form-data; boundary=b",
        f"Content-Length: {length}",
    ]
    if authorization is not None:
        lines.append(f"Authorization: {authorization}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.mark.parametrize("where", ["header", "body"])
def test_a_50mb_upload_with_a_bogus_key_is_refused_before_its_body(
    sandbox: SandboxServer, where: str
) -> None:
    size = 50 * MB
    if where == "header":
        head = _upload_head(sandbox, _signed_header(sandbox, api_key="bogus"), size)
    else:  # signed in the form: refused where the file part begins
        head = _upload_head(sandbox, None, size) + _signed_fields(sandbox, api_key="bogus")
    chunk, sent = b"\0" * 65536, 0
    with _connect(sandbox) as sock:
        sock.sendall(head + _PHOTO_PART)
        sock.setblocking(False)
        deadline = time.monotonic() + 8
        while sent < size and time.monotonic() < deadline:
            readable, writable, _ = select.select([sock], [sock], [], 0.5)
            if readable:
                break  # the answer came while the body was still on its way
            if writable:
                try:
                    sent += sock.send(chunk)
                except BlockingIOError:
                    continue
                except OSError:
                    break
        sock.setblocking(True)
        answer, _ = _answer(sock, 3)
    assert b'<err code="100"' in answer
    print(f"{sent / MB:.1f} MB of {size / MB:.0f} MB sent before the refusal")
    assert sent < size // 4, f"{sent / MB:.1f} MB sent before the refusal"


_REFUSALS = [
    ({"api_key": "bogus"}, b'<err code="100"'),
    ({"token": "72157-unknown"}, b'<err code="98"'),
    ({"timestamp": str(int(time.time()) - 3600)}, b"oauth_problem=timestamp_refused"),
]


@pytest.mark.parametrize(("overrides", "refusal"), _REFUSALS)
def test_uploads_are_screened_before_any_body_byte(
    sandbox: SandboxServer, overrides: dict[str, str], refusal: bytes
) -> None:
    authorization = _signed_header(sandbox, **overrides)
    with _connect(sandbox) as sock:
        sock.sendall(_upload_head(sandbox, authorization, length=1000))  # and no body at all
        answer, elapsed = _answer(sock, 5)
    assert refusal in answer and elapsed < 3


@pytest.mark.parametrize(
    ("overrides", "refusal"),
    [
        *_REFUSALS,
        ({"api_secret": "not-the-secret"}, b"oauth_problem=signature_invalid"),
        ({"signature_method": "PLAINTEXT"}, b"oauth_problem=signature_method_rejected"),
    ],
)
def test_uploads_signed_in_the_form_are_refused_before_the_file_bytes(
    sandbox: SandboxServer, overrides: dict[str, str], refusal: bytes
) -> None:
    """OAuth as form fields ahead of the file (issue #30): the fields are authenticated as
    soon as the file part begins; the file's bytes never need to come."""
    fields = _signed_fields(sandbox, **overrides)
    with _connect(sandbox) as sock:
        sock.sendall(_upload_head(sandbox, None, length=10 * MB) + fields + _PHOTO_PART)
        answer, elapsed = _answer(sock, 5)
    assert refusal in answer and b"connection: close" in answer.lower() and elapsed < 3
    assert sandbox.state.photos.counts() == {}


def test_a_well_signed_upload_still_goes_through(
    sandbox: SandboxServer, credentials: Credentials
) -> None:
    with FlickrClient(credentials, endpoints=Endpoints.at(sandbox.url)) as api:
        assert api.upload(io.BytesIO(jpeg_bytes(2)), filename="ok.jpg").photo_id


def test_a_long_garbage_authorization_header_parses_in_linear_time() -> None:
    started = time.monotonic()
    assert parse_authorization_header("OAuth " + "a" * 16000) == {}
    assert parse_authorization_header('OAuth x="' + "a=" * 8000) == {}
    assert time.monotonic() - started < 0.5


# -- issue 30: numbers from outside are ASCII digits or nothing ----------------------------


def _with_xmp_pixels(width: str) -> bytes:
    packet = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
        ' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/"'
        f' exif:PixelXDimension="{width}" exif:PixelYDimension="600"/>'
        "</rdf:RDF></x:xmpmeta>"
    ).encode()
    segment = b"http://ns.adobe.com/xap/1.0/\x00" + packet
    photo = jpeg_bytes(5)
    return photo[:2] + b"\xff\xe1" + (len(segment) + 2).to_bytes(2, "big") + segment + photo[2:]


def test_unicode_digits_in_an_upload_never_reach_int(
    sandbox: SandboxServer, client: FlickrClient
) -> None:
    """'²' passes str.isdigit() and int() refuses it (HTTP 500); '٣' int() reads as 3, a
    number nobody wrote. In the file (XMP) and in the form, both are as if absent."""
    photo = client.upload(
        io.BytesIO(_with_xmp_pixels("²")),
        filename="odd.jpg",
        safety_level="²",  # type: ignore[arg-type]  (what a hostile client sends)
        content_type="٣",  # type: ignore[arg-type]
    )
    info = client.photo_info(photo.photo_id)
    assert info["safety_level"] == "1" and info["content_type"] == 1  # the defaults


def test_unicode_digits_in_rest_arguments_are_not_numbers(
    sandbox: SandboxServer, client: FlickrClient
) -> None:
    client.upload(io.BytesIO(jpeg_bytes(6)), filename="a.jpg")
    listed = client.call("flickr.photos.search", user_id="me", per_page="²", page="١")
    assert listed["photos"]["perpage"] == 100 and listed["photos"]["page"] == 1
    listed = client.call("flickr.photos.search", user_id="me", per_page="١٢")
    assert listed["photos"]["perpage"] == 100


def test_an_oauth_timestamp_in_other_digits_is_refused(sandbox: SandboxServer) -> None:
    arabic = str(int(time.time())).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    account = sandbox.account
    signer = OAuthSigner(
        account.api_key,
        client_secret=account.api_secret,
        resource_owner_key=account.oauth_token,
        resource_owner_secret=account.oauth_token_secret,
        timestamp=arabic,
    )
    url, headers, _ = signer.sign(f"{sandbox.url}/services/rest/?method=flickr.test.login", "GET")
    refused = requests.get(url, headers=headers, timeout=5)
    assert refused.status_code == 401 and "timestamp_refused" in refused.text


def test_control_endpoints_refuse_numbers_in_other_digits(sandbox: SandboxServer) -> None:
    admin = sandbox.admin_headers
    since = requests.get(f"{sandbox.url}/sandbox/requests?since=²", headers=admin, timeout=5)
    assert since.status_code == 400
    for changes in ({"faults": "lost=١"}, {"async_delay_seconds": "²"}):
        refused = requests.post(f"{sandbox.url}/sandbox/faults", json=changes, headers=admin)
        assert refused.status_code == 400, changes
    assert sandbox.traffic.settings.faults == {}
