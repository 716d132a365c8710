"""Property and security checks that need no server: the client's signer against the
sandbox's verifier for arbitrary parameters, and hostile XML from a "Flickr" server."""

from __future__ import annotations

import http.server
import threading
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oauthlib.oauth1 import Client as OAuthSigner

from flickr_ingest.flickr import Credentials, Endpoints, FlickrClient, errors
from flickr_ingest.sandbox import oauth

# Printable text without surrogates; names that are not OAuth's own.
_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)
_names = st.text(
    st.characters(whitelist_categories=("Ll", "Lu", "Nd"), whitelist_characters="_-."),
    min_size=1,
    max_size=20,
).filter(lambda n: not n.startswith("oauth_"))


@settings(max_examples=200, deadline=None)
@given(params=st.dictionaries(_names, _text, max_size=8), token_secret=_text, post=st.booleans())
def test_signer_and_verifier_agree(params: dict[str, str], token_secret: str, post: bool) -> None:
    signer = OAuthSigner(
        "key",
        client_secret="consumer secret",
        resource_owner_key="token",
        resource_owner_secret=token_secret or None,
    )
    url = "https://api.flickr.com/services/rest/"
    if post:
        _, headers, _ = signer.sign(
            url,
            "POST",
            body=urlencode(params),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    else:
        url, headers, _ = signer.sign(f"{url}?{urlencode(params)}" if params else url, "GET")
    header = oauth.parse_authorization_header(headers["Authorization"])
    signature = header.pop("oauth_signature")
    signed = list(header.items()) + list(params.items())
    assert oauth.signature_matches(
        signature,
        "POST" if post else "GET",
        "http://127.0.0.1:9/services/rest/",
        signed,
        "consumer secret",
        token_secret,
    )
    tampered = [*signed, ("extra", "1")]
    assert not oauth.signature_matches(
        signature,
        "POST" if post else "GET",
        "http://127.0.0.1:9/services/rest/",
        tampered,
        "consumer secret",
        token_secret,
    )


_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<rsp stat="ok"><photoid>&lol3;</photoid></rsp>"""


@pytest.fixture
def hostile_server():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.end_headers()
            self.wfile.write(_BOMB)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_xml_entity_bombs_are_refused(hostile_server: str) -> None:
    import io

    client = FlickrClient(Credentials("k", "s", "t", "ts"), endpoints=Endpoints.at(hostile_server))
    with client, pytest.raises(errors.ProtocolError, match="refused unsafe XML"):
        client.upload(io.BytesIO(b"\xff\xd8\xff"), filename="a.jpg")
