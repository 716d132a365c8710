"""FlickrClient: the calls the pipeline makes, signed with OAuth 1.0a, over one pooled
session that threads may share.

No retries here: the pipeline has one retry layer (the Prefect task) and asks
`errors.is_retryable` what to retry. Uploads stream from disk in constant memory.
"""

from __future__ import annotations

import datetime
import email.utils
import logging
import mimetypes
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
import urllib3
from oauthlib.oauth1 import Client as OAuthSigner
from requests.adapters import HTTPAdapter
from requests_toolbelt.multipart.encoder import MultipartEncoder

from flickr_ingest import __version__
from flickr_ingest.flickr import errors
from flickr_ingest.flickr.credentials import Credentials
from flickr_ingest.flickr.endpoints import Endpoints
from flickr_ingest.flickr.responses import (
    Album,
    AlbumPhoto,
    TicketStatus,
    UploadResult,
    UploadStatus,
    as_int,
    parse_album_photos,
    parse_albums,
    parse_json,
    parse_tickets,
    parse_upload,
    parse_upload_status,
)
from flickr_ingest.numbers import parse_count, parse_seconds
from flickr_ingest.pacing import Pacing
from flickr_ingest.tags import format_tags

logger = logging.getLogger(__name__)

#: (connect, read) seconds. Finite, always: a stalled server must not hang a worker.
DEFAULT_TIMEOUT = (10.0, 120.0)
#: An upload's body is read and sent this much at a time. urllib3's 16 KiB blocks cost
#: about 4 ms of CPU per 2.5 MB photo in per-block Python (the multipart encoder's, most
#: of all); past 128 KiB the cost stops falling. urllib3 sends each block within the
#: connect timeout, so an upload needs 64 KiB / 10 s, about 52 kbit/s per connection:
#: 64 KiB keeps most of the gain and works on slow uplinks.
_SEND_BLOCK = 64 * 1024
_FORM = "application/x-www-form-urlencoded"
_TICKETS_PER_CALL = 100
_ALBUMS_PER_PAGE = 500  # Flickr's maximum for getList and getPhotos
#: The most of an answer read: Flickr's biggest (a page of 500 photos with extras) is well
#: under 1 MB. A server sending more is not Flickr: stop reading rather than hold it all.
MAX_ANSWER_BYTES = 16 * 1024 * 1024
_READ_BLOCK = 64 * 1024
#: Flickr's photoset codes
_ALBUM_NOT_FOUND, _ALREADY_IN_ALBUM = 1, 3


class Readable(Protocol):
    """What a photo is sent from when it is not a path: an open binary file, or an object
    that reads like one (files.CheckedReader, which hashes what it hands out)."""

    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class Login:
    user_nsid: str
    username: str


@dataclass(frozen=True)
class TokenInfo:
    user_nsid: str
    username: str
    perms: str


class FlickrClient:
    """A Flickr API client. Use as a context manager, or call `close()`."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        endpoints: Endpoints | None = None,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        pool_size: int = 32,
    ) -> None:
        self.credentials = credentials
        self.endpoints = endpoints or Endpoints.from_environment(credentials.base_url)
        self.timeout = timeout
        #: What each request waits for: the REST budget, the upload gate (none by default).
        self.pacing = Pacing()
        #: Requests sent, by REST method ("upload" and "replace" for those endpoints).
        self.calls: Counter[str] = Counter()
        self._calls_lock = threading.Lock()
        self._signer = OAuthSigner(
            credentials.api_key,
            client_secret=credentials.api_secret,
            resource_owner_key=credentials.oauth_token or None,
            resource_owner_secret=credentials.oauth_token_secret or None,
        )
        self._owns_session = session is None
        self._session = session or requests.Session()
        #: Proxies and CA bundle from the environment, by scheme and host (see _environment)
        self._environments: dict[tuple[str, str], dict[str, Any]] = {}
        self._environments_lock = threading.Lock()
        if self._owns_session:
            adapter = _Adapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
            self._session.mount("http://", adapter)
            self._session.mount("https://", adapter)
            self._session.headers["User-Agent"] = f"flickr-ingest/{__version__}"
            self._session.trust_env = False  # read once per host instead (_environment)

    def __repr__(self) -> str:
        return (
            f"FlickrClient(api_key={self.credentials.api_key!r}, endpoints={self.endpoints.rest!r})"
        )

    def __enter__(self) -> FlickrClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    # -- REST ----------------------------------------------------------------------------

    def call(self, method: str, *, post: bool = False, **params: object) -> dict[str, Any]:
        """Call a REST method (JSON format); returns the answer or raises a FlickrError."""
        values = {
            "method": method,
            "format": "json",
            "nojsoncallback": "1",
            **{name: str(value) for name, value in params.items() if value is not None},
        }
        self.pacing.before_rest_call()
        self._count(method)
        try:
            if post:
                body = urlencode(values)
                url, headers, _ = self._signer.sign(
                    self.endpoints.rest, "POST", body=body, headers={"Content-Type": _FORM}
                )
                answer = self._send("POST", url, data=body, headers=headers)
            else:
                url, headers, _ = self._signer.sign(
                    f"{self.endpoints.rest}?{urlencode(values)}", "GET"
                )
                answer = self._send("GET", url, headers=headers)
            return parse_json(answer)
        except errors.FlickrError as error:
            self.pacing.rest_throttled(error)
            raise

    def test_login(self) -> Login:
        user = self.call("flickr.test.login")["user"]
        return Login(str(user["id"]), str(user.get("username", {}).get("_content", "")))

    def check_token(self) -> TokenInfo:
        """Who the token belongs to and what it may do (flickr.auth.oauth.checkToken)."""
        oauth = self.call("flickr.auth.oauth.checkToken", oauth_token=self.credentials.oauth_token)[
            "oauth"
        ]
        user = oauth.get("user", {})
        return TokenInfo(
            str(user.get("nsid", "")),
            str(user.get("username", "")),
            str(oauth.get("perms", {}).get("_content", "")),
        )

    def upload_status(self) -> UploadStatus:
        """The account's quota. A free account's item count comes with it in today's
        answers (`upload_count`); older ones lack it, and then people.getPhotos tells."""
        status = parse_upload_status(self.call("flickr.people.getUploadStatus"))
        if status.is_pro or status.items_uploaded is not None:
            return status
        photos = self.call("flickr.people.getPhotos", user_id="me", per_page=1).get("photos")
        total = as_int(photos.get("total", 0)) if isinstance(photos, dict) else None
        if total is None:
            raise errors.ProtocolError("Flickr's answer names no number of photos on the account")
        return replace(status, items_uploaded=total)

    def default_privacy(self) -> int | None:
        """Who sees a new photo whose upload names no audience (flickr.prefs.getPrivacy):
        1 public, 2 friends, 3 family, 4 friends and family, 5 private; None if not said."""
        person = self.call("flickr.prefs.getPrivacy").get("person", {})
        return as_int(person.get("privacy")) if isinstance(person, dict) else None

    def check_tickets(self, ticket_ids: Sequence[str]) -> dict[str, TicketStatus]:
        """Status of async uploads, many tickets per call."""
        statuses: dict[str, TicketStatus] = {}
        for start in range(0, len(ticket_ids), _TICKETS_PER_CALL):
            batch = ticket_ids[start : start + _TICKETS_PER_CALL]
            answer = self.call("flickr.photos.upload.checkTickets", tickets=",".join(batch))
            statuses.update((ticket.ticket_id, ticket) for ticket in parse_tickets(answer))
        return statuses

    def wait_for_tickets(
        self, ticket_ids: Sequence[str], *, timeout: float = 300.0, poll_seconds: float = 1.0
    ) -> dict[str, TicketStatus]:
        """Poll until every ticket is done or failed (or the timeout passes)."""
        pending = list(ticket_ids)
        final: dict[str, TicketStatus] = {}
        deadline = time.monotonic() + timeout
        while pending:
            statuses = self.check_tickets(pending)
            final.update({tid: s for tid, s in statuses.items() if s.complete != 0})
            pending = [tid for tid in pending if tid not in final]
            if not pending or time.monotonic() > deadline:
                break
            time.sleep(poll_seconds)
        return {**{tid: TicketStatus(tid, 0) for tid in pending}, **final}

    def photos_with_machine_tag(self, machine_tag: str) -> list[str]:
        """Ids of the account's photos carrying `machine_tag` (e.g. a checksum tag)."""
        answer = self.call(
            "flickr.photos.search", user_id="me", machine_tags=machine_tag, per_page=500
        )
        return [str(photo["id"]) for photo in answer["photos"]["photo"]]

    def photo_info(self, photo_id: str) -> dict[str, Any]:
        photo: dict[str, Any] = self.call("flickr.photos.getInfo", photo_id=photo_id)["photo"]
        return photo

    def delete_photo(self, photo_id: str) -> None:
        self.call("flickr.photos.delete", post=True, photo_id=photo_id)

    def add_tags(self, photo_id: str, tags: Sequence[str]) -> None:
        self.call("flickr.photos.addTags", post=True, photo_id=photo_id, tags=format_tags(tags))

    def remove_tag(self, tag_id: str) -> None:
        """Remove a tag by its id as getInfo gives it (`<user>-<photo>-<tag>`)."""
        self.call("flickr.photos.removeTag", post=True, tag_id=tag_id)

    def set_tags(self, photo_id: str, tags: Sequence[str]) -> None:
        """Make `tags` the photo's only tags."""
        self.call("flickr.photos.setTags", post=True, photo_id=photo_id, tags=format_tags(tags))

    def set_meta(self, photo_id: str, *, title: str, description: str) -> None:
        self.call(
            "flickr.photos.setMeta",
            post=True,
            photo_id=photo_id,
            title=title,
            description=description,
        )

    # -- albums (Flickr's "photosets") ----------------------------------------------------

    def albums(self) -> list[Album]:
        """Every album of the account, newest first."""
        found: list[Album] = []
        page, pages = 1, 1
        while page <= pages:
            answer = self.call("flickr.photosets.getList", page=page, per_page=_ALBUMS_PER_PAGE)
            albums, pages = parse_albums(answer)
            found += albums
            page += 1
        return found

    def create_album(self, title: str, primary_photo_id: str, description: str = "") -> str:
        """A new album holding `primary_photo_id`; returns its id."""
        answer = self.call(
            "flickr.photosets.create",
            post=True,
            title=title,
            description=description,
            primary_photo_id=primary_photo_id,
        )
        return str(answer["photoset"]["id"])

    def add_to_album(self, album_id: str, photo_id: str) -> bool:
        """Put a photo in an album: True if added, False if it was there already."""
        try:
            self.call(
                "flickr.photosets.addPhoto", post=True, photoset_id=album_id, photo_id=photo_id
            )
        except errors.FlickrAPIError as error:
            if error.code == _ALREADY_IN_ALBUM:
                return False
            raise
        return True

    def album_photos(self, album_id: str) -> list[AlbumPhoto]:
        """The album's photos in album order, with their dates taken."""
        found: list[AlbumPhoto] = []
        page, pages = 1, 1
        while page <= pages:
            answer = self.call(
                "flickr.photosets.getPhotos",
                photoset_id=album_id,
                extras="date_taken",
                page=page,
                per_page=_ALBUMS_PER_PAGE,
            )
            photos, pages = parse_album_photos(answer)
            found += photos
            page += 1
        return found

    def edit_album_photos(
        self, album_id: str, primary_photo_id: str, photo_ids: Sequence[str]
    ) -> None:
        """Set the album's whole membership, in this order, in one call
        (flickr.photosets.editPhotos): photos left out leave the album."""
        self.call(
            "flickr.photosets.editPhotos",
            post=True,
            photoset_id=album_id,
            primary_photo_id=primary_photo_id,
            photo_ids=",".join(photo_ids),
        )

    def reorder_album(self, album_id: str, photo_ids: Sequence[str]) -> None:
        self.call(
            "flickr.photosets.reorderPhotos",
            post=True,
            photoset_id=album_id,
            photo_ids=",".join(photo_ids),
        )

    def delete_album(self, album_id: str) -> None:
        self.call("flickr.photosets.delete", post=True, photoset_id=album_id)

    @staticmethod
    def is_album_gone(error: errors.FlickrError) -> bool:
        """Whether a photoset call failed because the album no longer exists."""
        return isinstance(error, errors.FlickrAPIError) and error.code == _ALBUM_NOT_FOUND

    # -- upload and replace --------------------------------------------------------------

    def upload(
        self,
        source: Path | str | Readable,
        *,
        filename: str | None = None,
        title: str | None = None,
        description: str | None = None,
        tags: Sequence[str] | str | None = None,
        is_public: bool | None = None,
        is_friend: bool | None = None,
        is_family: bool | None = None,
        safety_level: int | None = None,
        content_type: int | None = None,
        hidden: int | None = None,
        dedup_check: int | None = None,
        asynchronous: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> UploadResult:
        """Upload a photo or video from a path or a readable stream (then give `filename`,
        the real name with its real extension: Flickr rejects some videos without it).
        `progress` hears of each piece of the body as it goes."""
        fields = {
            "title": title,
            "description": description,
            "tags": tags if isinstance(tags, str) or tags is None else format_tags(tags),
            "is_public": _flag(is_public),
            "is_friend": _flag(is_friend),
            "is_family": _flag(is_family),
            "safety_level": safety_level,
            "content_type": content_type,
            "hidden": hidden,
            "dedup_check": dedup_check,
            "async": 1 if asynchronous else None,
        }
        return self._post_file(self.endpoints.upload, source, filename, fields, progress)

    def replace(
        self,
        source: Path | str | Readable,
        *,
        photo_id: str,
        filename: str | None = None,
        asynchronous: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> UploadResult:
        fields = {"photo_id": photo_id, "async": 1 if asynchronous else None}
        return self._post_file(self.endpoints.replace, source, filename, fields, progress)

    def _post_file(
        self,
        url: str,
        source: Path | str | Readable,
        filename: str | None,
        fields: Mapping[str, object],
        progress: Callable[[int], None] | None = None,
    ) -> UploadResult:
        form = {name: str(value) for name, value in fields.items() if value is not None}
        # Every field but the photo is signed, as if it were a form-encoded body.
        _, headers, _ = self._signer.sign(
            url, "POST", body=urlencode(form), headers={"Content-Type": _FORM}
        )
        self._count("replace" if url == self.endpoints.replace else "upload")
        with _opened(source) as (stream, name), self.pacing.upload_slot():
            name = filename or name
            mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
            encoder = MultipartEncoder(fields=[*form.items(), ("photo", (name, stream, mime))])
            headers = {
                "Authorization": headers["Authorization"],
                "Content-Type": encoder.content_type,
            }
            body = _MeteredBody(encoder, self.pacing.sending, progress)
            answer = self._send("POST", url, data=body, headers=headers)
            return parse_upload(answer)  # in the slot: error 14 is a throttle signal

    # -- transport -----------------------------------------------------------------------

    def _count(self, name: str) -> None:
        with self._calls_lock:
            self.calls[name] += 1

    def _environment(self, url: str) -> dict[str, Any]:
        """What the environment says for requests to this URL's host: proxies
        (HTTPS_PROXY, NO_PROXY…) and the CA bundle (REQUESTS_CA_BUNDLE…). requests works
        this out again for every request, about 0.5 ms each; here once per host."""
        if not self._owns_session:  # a session handed in keeps its own ways
            return {}
        parts = urlsplit(url)
        origin = (parts.scheme, parts.netloc)
        with self._environments_lock:
            if origin not in self._environments:
                found = requests.Session().merge_environment_settings(url, {}, None, None, None)
                self._environments[origin] = {
                    name: found[name] for name in ("proxies", "verify", "cert")
                }
            return self._environments[origin]

    def _send(self, method: str, url: str, **kwargs: Any) -> bytes:
        """Send one request and return the answer's body; every foreign exception
        becomes a FlickrError here. Redirects are not followed (an answer from another
        host is not Flickr's), and at most MAX_ANSWER_BYTES of an answer are read."""
        where = _where(url)
        kwargs = {**self._environment(url), **kwargs}
        try:
            response = self._session.request(
                method, url, timeout=self.timeout, allow_redirects=False, stream=True, **kwargs
            )
            with response:
                # Read the body inside the try: a connection dropped mid-answer fails here.
                body = _read_limited(response, where)
        except requests.ConnectTimeout as error:
            raise errors.TransportError(
                f"timed out connecting to {where}", unreachable=True
            ) from error
        except requests.Timeout as error:
            raise errors.TransportError(f"timed out talking to {where}") from error
        except requests.RequestException as error:
            raise errors.TransportError(
                f"{type(error).__name__} talking to {where}", unreachable=_never_connected(error)
            ) from error
        status = response.status_code
        if status == 200:
            return body
        if status in (408, 429) or status >= 500:
            raise errors.transient(
                f"HTTP {status} from {where}", retry_after=_retry_after(response), status=status
            )
        if 300 <= status < 400:
            target = _where(response.headers.get("Location", ""))[:200] or "nowhere"
            raise errors.ProtocolError(
                f"{where} answered HTTP {status}, a redirect to {target}: API calls are not"
                " redirected (check FLICKR_BASE_URL)"
            )
        # OAuth refusals: HTTP 400/401, a form-encoded `oauth_problem=…` in plain text,
        # whatever the format asked for (recorded Flickr traffic; never shown: debug_sbs).
        text = body[:4096].decode("utf-8", "replace")
        fields = parse_qs(text) if status in (400, 401, 403) else {}
        if "oauth_problem" in fields:
            problem = _OAUTH_NAME.sub("", fields["oauth_problem"][0])[:64]  # shown to people
            absent = _OAUTH_NAME.sub("", fields.get("oauth_parameters_absent", [""])[0])[:200]
            raise errors.oauth_refusal(where, problem or "(unnamed)", absent)
        if status in (401, 403):
            raise errors.AuthError(f"{where} refused the credentials: HTTP {status}")
        raise errors.FlickrAPIError(f"HTTP {status} from {where}")


class _Adapter(HTTPAdapter):
    """requests' adapter, sending request bodies in blocks of `_SEND_BLOCK` bytes."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **{"blocksize": _SEND_BLOCK, **kwargs})

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        return super().proxy_manager_for(proxy, **{"blocksize": _SEND_BLOCK, **proxy_kwargs})


class _MeteredBody:
    """An upload's body as requests reads it: each piece waits for the bandwidth cap
    (`before`) and is told to whoever shows progress (`after`) as it goes."""

    def __init__(
        self,
        encoder: MultipartEncoder,
        before: Callable[[int], None],
        after: Callable[[int], None] | None,
    ) -> None:
        self._encoder, self._before, self._after = encoder, before, after

    def __len__(self) -> int:  # requests declares Content-Length from it
        return int(self._encoder.len)

    def read(self, size: int = -1) -> bytes:
        piece: bytes = self._encoder.read(size)
        if piece:
            self._before(len(piece))  # returned only once the cap lets it go
            if self._after is not None:
                self._after(len(piece))
        return piece


def _flag(value: bool | None) -> int | None:
    return None if value is None else int(value)


#: What an oauth_problem name or list may hold; anything else is dropped before display.
_OAUTH_NAME = re.compile(r"[^a-z_,]")


def _never_connected(error: requests.RequestException) -> bool:
    """Whether no connection was made at all (refused, no such host): nothing was sent."""
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def _where(url: str) -> str:
    parts = urlsplit(url)  # host and path only: never a query string in a message
    return f"{parts.netloc}{parts.path}"


def _read_limited(response: requests.Response, where: str) -> bytes:
    """The answer's body, read a block at a time up to MAX_ANSWER_BYTES (decoded: a
    compressed answer counts as it unpacks)."""
    declared = parse_count(response.headers.get("Content-Length"))
    if declared is not None and declared > MAX_ANSWER_BYTES:
        raise errors.ProtocolError(_too_big(where, f"{declared:,} bytes"))
    blocks, size = [], 0
    for block in response.iter_content(_READ_BLOCK):
        size += len(block)
        if size > MAX_ANSWER_BYTES:
            raise errors.ProtocolError(_too_big(where, "more"))
        blocks.append(block)
    return b"".join(blocks)


def _too_big(where: str, size: str) -> str:
    limit = MAX_ANSWER_BYTES // (1024 * 1024)
    return f"the answer from {where} is too big ({size}; at most {limit} MB is read)"


def _retry_after(response: requests.Response) -> float | None:
    """The wait a Retry-After header names: seconds (ASCII digits), or an HTTP date."""
    value = response.headers.get("Retry-After", "").strip()
    seconds = parse_seconds(value)
    if seconds is not None:
        return seconds
    try:  # an HTTP date; anything else is no usable wait
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; a naive one is read as such
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, when.timestamp() - time.time())


@contextmanager
def _opened(source: Path | str | Readable) -> Iterator[tuple[Readable, str]]:
    if isinstance(source, (str, Path)):
        path = Path(source)
        with open(path, "rb") as stream:
            yield stream, path.name
    else:
        yield source, Path(getattr(source, "name", "photo") or "photo").name
