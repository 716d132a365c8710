"""OAuth 1.0a HMAC-SHA1 signatures, written out by hand for the sandbox's verifier.

The client signs with oauthlib; the sandbox checks with this independent implementation,
so that each tests the other. Pure functions: no state, no HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable
from urllib.parse import quote, unquote, urlsplit

# Where Flickr itself serves each path: a client behind a proxy or a hosts-file override
# signs these URLs although the request reached the sandbox.
_CANONICAL_HOSTS = (
    ("/services/upload", "up.flickr.com"),
    ("/services/replace", "up.flickr.com"),
    ("/services/rest", "api.flickr.com"),
    ("/services/oauth", "www.flickr.com"),
)

# A name may not start inside another name (the lookbehind): without that, a long run of
# name characters with no `="…"` is retried from every position, which took 18 s of the
# event loop for a 20 kB header.
_AUTH_PARAM = re.compile(r'(?<![A-Za-z0-9_\-.~%])([A-Za-z0-9_\-.~%]+)\s*=\s*"([^"]*)"')


def percent_encode(value: str) -> str:
    """RFC 3986 encoding: only unreserved characters stay; a space becomes %20."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="~-._")


def normalised_url(url: str) -> str:
    """Scheme and host in lower case, default port dropped, query and fragment removed."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path or '/'}"


def base_string(method: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """The signature base string: METHOD&url&sorted-params, every piece percent-encoded."""
    encoded = sorted(
        (percent_encode(name), percent_encode(value))
        for name, value in params
        if name != "oauth_signature"
    )
    joined = "&".join(f"{name}={value}" for name, value in encoded)
    return "&".join((method.upper(), percent_encode(normalised_url(url)), percent_encode(joined)))


def hmac_sha1(base: str, consumer_secret: str, token_secret: str = "") -> str:
    key = f"{percent_encode(consumer_secret)}&{percent_encode(token_secret)}"
    digest = hmac.new(key.encode("utf-8"), base.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def parse_authorization_header(header: str) -> dict[str, str]:
    """The parameters of an `Authorization: OAuth k="v", …` header ({} if it is not OAuth)."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "oauth":
        return {}
    return {
        unquote(name): unquote(value)
        for name, value in _AUTH_PARAM.findall(rest)
        if name.lower() != "realm"
    }


def candidate_urls(request_url: str) -> list[str]:
    """URLs a legitimate client may have signed for a request that reached `request_url`:
    the URL itself and the canonical flickr.com one, each with and without a trailing slash."""
    path = urlsplit(request_url).path or "/"
    urls = [normalised_url(request_url)]
    for prefix, host in _CANONICAL_HOSTS:
        if path.startswith(prefix):
            urls += [f"https://{host}{path}", f"http://{host}{path}"]
            break
    with_toggled_slash = []
    for url in urls:
        with_toggled_slash.append(url)
        with_toggled_slash.append(url[:-1] if url.endswith("/") else url + "/")
    return with_toggled_slash


def signature_matches(
    signature: str,
    method: str,
    request_url: str,
    params: list[tuple[str, str]],
    consumer_secret: str,
    token_secret: str,
) -> bool:
    for url in candidate_urls(request_url):
        expected = hmac_sha1(base_string(method, url, params), consumer_secret, token_secret)
        if hmac.compare_digest(expected, signature):
            return True
    return False
