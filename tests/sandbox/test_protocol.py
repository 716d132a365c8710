"""The sandbox over HTTP: exact answers for OAuth rules, formats, bad input. OAuth
refusals come as Flickr sends them (recorded real traffic, janko/flickr-objects' VCR
cassettes): HTTP 401 or 400 with a plain-text `oauth_problem=…`, whatever the format."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qsl, urlencode

import pytest
import requests
from oauthlib.oauth1 import Client as OAuthSigner

from flickr_ingest.sandbox import SandboxServer
from flickr_ingest.sandbox.oauth import parse_authorization_header
from tests.photos import jpeg_bytes


def _signer(sandbox: SandboxServer, **overrides: str) -> OAuthSigner:
    a = sandbox.account
    return OAuthSigner(
        a.api_key,
        client_secret=a.api_secret,
        resource_owner_key=a.oauth_token,
        resource_owner_secret=a.oauth_token_secret,
        **overrides,
    )


def _rest(
    sandbox: SandboxServer, method: str, signer: OAuthSigner | None = None, **params: str
) -> requests.Response:
    query = urlencode({"method": method, "format": "json", "nojsoncallback": "1", **params})
    url = f"{sandbox.url}/services/rest/?{query}"
    url, headers, _ = (signer or _signer(sandbox)).sign(url, "GET")
    return requests.get(url, headers=headers, timeout=10)


def test_json_and_xml_formats(sandbox: SandboxServer) -> None:
    answer = _rest(sandbox, "flickr.test.login").json()
    assert answer["stat"] == "ok" and answer["user"]["id"] == sandbox.account.user_nsid
    query = urlencode({"method": "flickr.test.login"})
    url, headers, _ = _signer(sandbox).sign(f"{sandbox.url}/services/rest/?{query}", "GET")
    xml = requests.get(url, headers=headers, timeout=10).text
    assert '<rsp stat="ok">' in xml and f'<user id="{sandbox.account.user_nsid}">' in xml


def test_jsonp_without_nojsoncallback(sandbox: SandboxServer) -> None:
    params = {"method": "flickr.test.echo", "api_key": sandbox.account.api_key, "format": "json"}
    body = requests.get(f"{sandbox.url}/services/rest/", params=params, timeout=10).text
    assert body.startswith("jsonFlickrApi({") and body.endswith("})")


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"method": "flickr.no.such"}, 112),
        ({"method": "flickr.test.login", "format": "yaml"}, 111),
    ],
)
def test_unknown_method_and_format(sandbox: SandboxServer, params: dict, code: int) -> None:
    body = requests.get(
        f"{sandbox.url}/services/rest/",
        params={"api_key": sandbox.account.api_key, **params},
        timeout=10,
    ).text
    assert f'<err code="{code}"' in body


def _refusal(response: requests.Response) -> tuple[int, dict[str, str]]:
    assert response.headers["content-type"].startswith("text/plain"), response.headers
    return response.status_code, dict(parse_qsl(response.text))


def test_replayed_nonce_is_refused(sandbox: SandboxServer) -> None:
    signer = _signer(sandbox, nonce="fixed-nonce-1", timestamp=str(int(time.time())))
    assert _rest(sandbox, "flickr.test.login", signer).json()["stat"] == "ok"
    status, fields = _refusal(_rest(sandbox, "flickr.test.login", signer))
    assert (status, fields) == (401, {"oauth_problem": "nonce_used"})


def test_stale_timestamp_is_refused(sandbox: SandboxServer) -> None:
    signer = _signer(sandbox, timestamp=str(int(time.time()) - 3600))
    status, fields = _refusal(_rest(sandbox, "flickr.test.login", signer))
    assert (status, fields) == (401, {"oauth_problem": "timestamp_refused"})


def test_a_bad_signature_is_401_with_the_base_string_even_in_json(
    sandbox: SandboxServer,
) -> None:
    a = sandbox.account
    wrong = OAuthSigner(
        a.api_key,
        client_secret="0" * 16,
        resource_owner_key=a.oauth_token,
        resource_owner_secret=a.oauth_token_secret,
    )
    status, fields = _refusal(_rest(sandbox, "flickr.test.login", wrong))
    assert status == 401 and fields["oauth_problem"] == "signature_invalid"
    # debug_sbs is what Flickr signed: METHOD&url&params, percent-encoded
    assert fields["debug_sbs"].startswith("GET&http%3A%2F%2F127.0.0.1")
    assert (
        "flickr.test.login" in fields["debug_sbs"]
        and "oauth_signature%3D" not in fields["debug_sbs"]
    )


def test_missing_signature_and_unsigned_calls(sandbox: SandboxServer) -> None:
    a = sandbox.account
    base = {
        "method": "flickr.test.login",
        "format": "json",
        "nojsoncallback": "1",
        "api_key": a.api_key,
    }
    unsigned = requests.get(f"{sandbox.url}/services/rest/", params=base, timeout=10).json()
    assert unsigned["code"] == 99  # the method needs read permission; none granted
    with_token = requests.get(
        f"{sandbox.url}/services/rest/", params={**base, "oauth_token": a.oauth_token}, timeout=10
    )
    assert _refusal(with_token) == (
        400,
        {"oauth_problem": "parameter_absent", "oauth_parameters_absent": "oauth_signature"},
    )


def test_a_signed_call_without_a_token_is_400_parameter_absent(sandbox: SandboxServer) -> None:
    a = sandbox.account
    app_only = OAuthSigner(a.api_key, client_secret=a.api_secret)  # signed, no token
    assert _rest(sandbox, "flickr.test.echo", app_only).json()["stat"] == "ok"
    assert _refusal(_rest(sandbox, "flickr.test.login", app_only)) == (
        400,
        {"oauth_problem": "parameter_absent", "oauth_parameters_absent": "oauth_token"},
    )


def _valid_key_header(sandbox: SandboxServer, extra: str) -> str:
    a = sandbox.account
    return f'OAuth oauth_consumer_key="{a.api_key}", oauth_token="{a.oauth_token}", {extra}'


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        # A real key and token, then a signature that cannot be right: each is refused
        # for its own reason, not as an unknown key (which every header without a key
        # gets, and which would prove nothing here).
        (
            'oauth_signature_method="HMAC-SHA1", oauth_signature="%%%", oauth_nonce="n1", '
            'oauth_timestamp="{now}"',
            "signature_invalid",
        ),
        (
            'oauth_signature_method="HMAC-SHA1", oauth_signature="' + "a" * 20000 + '", '
            'oauth_nonce="n2", oauth_timestamp="{now}"',
            "signature_invalid",
        ),
        ('oauth_signature_method="PLAINTEXT", oauth_signature="x"', "signature_method_rejected"),
        ('oauth_signature_method="HMAC-SHA1", oauth_signature="x"', "timestamp_refused"),
        ('oauth_nonce="n3"', "parameter_absent"),
    ],
)
def test_malformed_oauth_headers_with_a_valid_key_get_their_oauth_problem(
    sandbox: SandboxServer, extra: str, problem: str
) -> None:
    now = str(int(time.time()))  # when the test runs, not when it was collected
    response = requests.get(
        f"{sandbox.url}/services/rest/",
        params={"method": "flickr.test.login", "format": "json", "nojsoncallback": "1"},
        headers={"Authorization": _valid_key_header(sandbox, extra.replace("{now}", now))},
        timeout=10,
    )
    status, fields = _refusal(response)
    assert fields["oauth_problem"] == problem
    assert status == (400 if problem == "parameter_absent" else 401)


@pytest.mark.parametrize(
    "header",
    [
        "OAuth garbage",
        'OAuth oauth_consumer_key="x", oauth_signature="%%%"',
        "Bearer abc",
        "OAuth " + "a" * 20000,
    ],
)
def test_headers_without_a_known_key_get_error_100(sandbox: SandboxServer, header: str) -> None:
    response = requests.get(
        f"{sandbox.url}/services/rest/",
        params={"method": "flickr.test.login"},
        headers={"Authorization": header},
        timeout=10,
    )
    assert response.status_code == 200 and '<err code="100"' in response.text


def test_other_users_photos(sandbox: SandboxServer, client) -> None:
    photo = client.upload(
        __import__("io").BytesIO(jpeg_bytes(1)), filename="a.jpg", is_public=False
    )
    other = requests.post(
        f"{sandbox.url}/sandbox/accounts",
        headers=sandbox.admin_headers,
        json={"username": "eve"},
        timeout=5,
    ).json()
    eve = OAuthSigner(
        sandbox.account.api_key,
        client_secret=sandbox.account.api_secret,
        resource_owner_key=other["oauth_token"],
        resource_owner_secret=other["oauth_token_secret"],
    )
    info = _rest(sandbox, "flickr.photos.getInfo", eve, photo_id=photo.photo_id).json()
    assert info["code"] == 1  # private and not hers: not found
    query = urlencode(
        {
            "method": "flickr.photos.delete",
            "photo_id": photo.photo_id,
            "format": "json",
            "nojsoncallback": "1",
        }
    )
    url, headers, body = eve.sign(
        f"{sandbox.url}/services/rest/",
        "POST",
        body=query,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    deleted = requests.post(url, data=body, headers=headers, timeout=10).json()
    assert deleted["code"] == 1
    assert sandbox.state.photos.photo_row(photo.photo_id)["status"] == "active"


def test_write_methods_need_post(sandbox: SandboxServer, client) -> None:
    photo = client.upload(__import__("io").BytesIO(jpeg_bytes(3)), filename="a.jpg")
    answer = _rest(sandbox, "flickr.photos.delete", photo_id=photo.photo_id).json()
    assert (answer["stat"], answer["code"]) == ("fail", 116)
    assert answer["message"] == "The POST method is now required for all setters"


def _signed_upload_headers(sandbox: SandboxServer, fields: dict[str, str]) -> dict[str, str]:
    _, headers, _ = _signer(sandbox).sign(
        f"{sandbox.url}/services/upload/",
        "POST",
        body=urlencode(fields),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    return {"Authorization": headers["Authorization"]}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (
            b'--xx\r\nContent-Disposition: form-data; name="photo"; filename="a.jpg"\r\n\r\nabc',
            "multipart/form-data; boundary=xx",
        ),
        (b"not multipart at all", "multipart/form-data; boundary=zz"),
        (b"photo=abc", "application/x-www-form-urlencoded"),
        (b"", "multipart/form-data"),
    ],
)
def test_malformed_uploads_get_error_2(
    sandbox: SandboxServer, body: bytes, content_type: str
) -> None:
    response = requests.post(
        f"{sandbox.url}/services/upload/",
        data=body,
        headers={"Content-Type": content_type, **_signed_upload_headers(sandbox, {})},
        timeout=10,
    )
    assert response.status_code == 200 and '<err code="2"' in response.text


def test_non_utf8_fields_are_answered_not_crashed(sandbox: SandboxServer) -> None:
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\n'.encode()
        + b"\xff\xfe caf\xe9\r\n"
        + f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n".encode()
        + jpeg_bytes(4)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = requests.post(
        f"{sandbox.url}/services/upload/",
        data=body,
        timeout=10,
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            **_signed_upload_headers(sandbox, {"title": "x"}),
        },
    )
    status, fields = _refusal(response)  # signed "x", sent other bytes
    assert status == 401 and fields["oauth_problem"] == "signature_invalid"


@pytest.mark.parametrize("declare_length", [True, False])
def test_huge_body_is_error_8_not_a_crash(sandbox: SandboxServer, declare_length: bool) -> None:
    sandbox.traffic.update(max_body_bytes=1024 * 1024)
    head = (
        b'--x\r\nContent-Disposition: form-data; name="photo"; filename="a.jpg"\r\n\r\n'
        + jpeg_bytes(5)
    )
    size = 4 * 1024 * 1024

    def chunks():
        yield head
        for _ in range(size // (256 * 1024)):
            yield b"\0" * (256 * 1024)
        yield b"\r\n--x--\r\n"

    headers = {
        "Content-Type": "multipart/form-data; boundary=x",
        **_signed_upload_headers(sandbox, {}),
    }
    # A declared length is refused before the body is read; a chunked body once it passes the cap.
    body = b"".join(chunks()) if declare_length else chunks()
    try:
        response = requests.post(
            f"{sandbox.url}/services/upload/", data=body, timeout=30, headers=headers
        )
        assert '<err code="8"' in response.text
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
        pass  # the server may close while the client is still sending; never a 500
    finally:
        sandbox.traffic.update(max_body_bytes=1200 * 1024 * 1024)
    log = requests.get(
        f"{sandbox.url}/sandbox/requests", headers=sandbox.admin_headers, timeout=5
    ).json()["requests"]
    assert log[-1]["code"] == 8 and log[-1]["status"] == 200
    assert sandbox.state.photos.counts() == {}


def test_oauth_endpoints_answer_oauth_problem_with_401(sandbox: SandboxServer) -> None:
    signer = OAuthSigner(sandbox.account.api_key, client_secret="wrong", callback_uri="oob")
    url, headers, _ = signer.sign(f"{sandbox.url}/services/oauth/request_token", "GET")
    response = requests.get(url, headers=headers, timeout=10)
    status, fields = _refusal(response)
    assert status == 401 and fields["oauth_problem"] == "signature_invalid"
    assert fields["debug_sbs"].startswith("GET&") and "request_token" in fields["debug_sbs"]
    assert parse_authorization_header(headers["Authorization"])["oauth_callback"] == "oob"


def test_callback_authorization_redirects_with_the_verifier(sandbox: SandboxServer) -> None:
    a = sandbox.account
    signer = OAuthSigner(
        a.api_key, client_secret=a.api_secret, callback_uri="http://localhost:9/cb"
    )
    url, headers, _ = signer.sign(f"{sandbox.url}/services/oauth/request_token", "GET")
    token = dict(
        p.split("=") for p in requests.get(url, headers=headers, timeout=10).text.split("&")
    )
    assert token["oauth_callback_confirmed"] == "true"
    redirect = requests.get(
        f"{sandbox.url}/services/oauth/authorize",
        params={"oauth_token": token["oauth_token"], "perms": "read"},
        allow_redirects=False,
        timeout=10,
    )
    assert redirect.status_code == 302
    assert redirect.headers["location"].startswith("http://localhost:9/cb?oauth_token=")
    assert "oauth_verifier=" in redirect.headers["location"]


def test_a_lost_answer_is_lost_even_when_it_is_a_refusal(sandbox: SandboxServer) -> None:
    """The injected fault "lost" drops the connection whatever the call's outcome, an
    OAuth refusal included."""
    sandbox.traffic.update(next_faults=("lost",))
    a = sandbox.account
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        requests.get(
            f"{sandbox.url}/services/rest/",
            params={
                "method": "flickr.test.login",
                "oauth_consumer_key": a.api_key,
                "oauth_token": a.oauth_token,  # unsigned: refused, parameter_absent
            },
            timeout=10,
        )


def _request_token(sandbox: SandboxServer, callback: str) -> dict[str, str]:
    a = sandbox.account
    signer = OAuthSigner(a.api_key, client_secret=a.api_secret, callback_uri=callback)
    url, headers, _ = signer.sign(f"{sandbox.url}/services/oauth/request_token", "GET")
    return dict(parse_qsl(requests.get(url, headers=headers, timeout=10).text))


def test_a_reloaded_authorize_page_shows_the_same_verifier(sandbox: SandboxServer) -> None:
    """Issue #30: each GET issued a new verifier and cancelled the shown one, so a reload or
    a browser's prefetch turned the typed code into TokenRequestDenied."""
    token = _request_token(sandbox, "oob")
    page = f"{sandbox.url}/services/oauth/authorize"
    params = {"oauth_token": token["oauth_token"], "perms": "write"}
    shown = [
        re.search(
            r"<code id=.oauth-verifier.>([^<]+)</code>", requests.get(page, params=params).text
        )
        for _ in range(3)
    ]
    verifiers = {match.group(1) for match in shown if match}
    assert len(verifiers) == 1 and len(shown) == 3
    a = sandbox.account
    signer = OAuthSigner(
        a.api_key,
        client_secret=a.api_secret,
        resource_owner_key=token["oauth_token"],
        resource_owner_secret=token["oauth_token_secret"],
        verifier=verifiers.pop(),
    )
    url, headers, _ = signer.sign(f"{sandbox.url}/services/oauth/access_token", "GET")
    exchanged = requests.get(url, headers=headers, timeout=10)
    assert exchanged.status_code == 200 and "oauth_token_secret=" in exchanged.text
    again = requests.get(page, params=params, timeout=10)  # exchanged: the token is gone
    assert again.status_code == 400 and "oauth-verifier" not in again.text
