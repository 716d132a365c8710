"""The OAuth 1.0a test vectors of the reference, checked by both sides: the client's
signer (oauthlib) and the sandbox's own verifier (hand-written)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from oauthlib.oauth1 import Client as OAuthSigner

from flickr_ingest.sandbox import oauth

FLICKR_KEY, FLICKR_SECRET = "653e7a6ecc1d528c516cc8f92cf98611", "a9567d986a7539fe"

VECTORS = [
    pytest.param(
        dict(
            url="http://www.flickr.com/services/oauth/request_token",
            key=FLICKR_KEY,
            secret=FLICKR_SECRET,
            nonce="95613465",
            timestamp="1305586162",
            callback="http://www.example.com",
        ),
        "7w18YS2bONDPL/zgyzP5XTr5af4=",
        id="flickr-doc-request-token",
    ),
    pytest.param(
        dict(
            url="https://www.flickr.com/services/oauth/request_token",
            key=FLICKR_KEY,
            secret=FLICKR_SECRET,
            nonce="95613465",
            timestamp="1305586162",
            callback="http://www.example.com",
        ),
        "2zL7aYEzEEY0IvEgQjT7IqB518U=",
        id="flickr-doc-request-token-https",
    ),
    pytest.param(
        dict(
            url="http://www.flickr.com/services/oauth/access_token",
            key=FLICKR_KEY,
            secret=FLICKR_SECRET,
            nonce="37026218",
            timestamp="1305586309",
            token="72157626737672178-022bbd2f4c2f3432",
            token_secret="fccb68c4e6103197",
            verifier="5d1b96a26b494074",
        ),
        "UD9TGXzrvLIb0Ar5ynqvzatM58U=",
        id="flickr-doc-access-token",
    ),
    pytest.param(
        dict(
            url="https://api.flickr.com/services/rest?method=flickr.test.echo&foo=bar",
            key="consumer key",
            secret="consumer secret",
            token="oauth token",
            token_secret="oauth token secret",
            nonce="p2m2bnHdXVIsQH0FUv0oN9XrJU57ak7dSSpHU36mn4k=",
            timestamp="499166400",
        ),
        "Dz9rJCs/jKRPMeLztpj7T9Ur9m0=",
        id="flickr-js-sdk",
    ),
]


def _oauth_params(case: dict) -> list[tuple[str, str]]:
    params = [
        ("oauth_consumer_key", case["key"]),
        ("oauth_nonce", case["nonce"]),
        ("oauth_timestamp", case["timestamp"]),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_version", "1.0"),
    ]
    for name in ("callback", "token", "verifier"):
        if name in case:
            params.append((f"oauth_{name}", case[name]))
    return params + parse_qsl(urlsplit(case["url"]).query)


@pytest.mark.parametrize(("case", "signature"), VECTORS)
def test_sandbox_verifier_reproduces_the_vector(case: dict, signature: str) -> None:
    base = oauth.base_string("GET", case["url"], _oauth_params(case))
    assert oauth.hmac_sha1(base, case["secret"], case.get("token_secret", "")) == signature
    assert oauth.signature_matches(
        signature,
        "GET",
        case["url"],
        _oauth_params(case),
        case["secret"],
        case.get("token_secret", ""),
    )
    assert not oauth.signature_matches(
        signature,
        "GET",
        case["url"],
        _oauth_params(case),
        case["secret"] + "x",
        case.get("token_secret", ""),
    )


@pytest.mark.parametrize(("case", "signature"), VECTORS)
def test_client_signer_reproduces_the_vector(case: dict, signature: str) -> None:
    signer = OAuthSigner(
        case["key"],
        client_secret=case["secret"],
        resource_owner_key=case.get("token"),
        resource_owner_secret=case.get("token_secret"),
        callback_uri=case.get("callback"),
        verifier=case.get("verifier"),
        nonce=case["nonce"],
        timestamp=case["timestamp"],
    )
    _, headers, _ = signer.sign(case["url"], "GET")
    header_params = oauth.parse_authorization_header(headers["Authorization"])
    assert header_params["oauth_signature"] == signature


def test_signed_url_may_be_the_canonical_flickr_one() -> None:
    params = [("oauth_nonce", "1"), ("oauth_timestamp", "2"), ("method", "flickr.test.echo")]
    signature = oauth.hmac_sha1(
        oauth.base_string("GET", "https://api.flickr.com/services/rest/", params), "s"
    )
    for reached in ("http://127.0.0.1:8123/services/rest/", "http://127.0.0.1:8123/services/rest"):
        assert oauth.signature_matches(signature, "GET", reached, params, "s", "")
    assert not oauth.signature_matches(
        signature, "GET", "http://127.0.0.1:8123/services/upload/", params, "s", ""
    )


def test_parse_authorization_header() -> None:
    header = 'OAuth realm="x", oauth_nonce="a%20b", oauth_signature="c%2Bd%3D"'
    assert oauth.parse_authorization_header(header) == {
        "oauth_nonce": "a b",
        "oauth_signature": "c+d=",
    }
    assert oauth.parse_authorization_header("Basic Zm9v") == {}
