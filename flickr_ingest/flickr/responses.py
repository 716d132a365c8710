"""Read Flickr's answers safely (defusedxml) into typed results or typed errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from flickr_ingest import shallow_json
from flickr_ingest.flickr import errors
from flickr_ingest.numbers import parse_count

#: The deepest nesting read in an answer. Flickr's go about six levels deep; a deeper
#: one is refused before it is parsed (JSON nested 100,000 deep overflows the parser).
MAX_DEPTH = 64

_DETAIL_NAMES = (
    "duplicate_photo_id",
    "duplicate_photo_status",
    "non_pro_desktop_upload_wait_time",
)


@dataclass(frozen=True)
class UploadResult:
    """A finished upload (`photo_id`) or an accepted async one (`ticket_id`)."""

    photo_id: str | None = None
    ticket_id: str | None = None
    secret: str | None = None
    originalsecret: str | None = None


@dataclass(frozen=True)
class TicketStatus:
    ticket_id: str
    complete: int | None  # 0 processing, 1 done, 2 failed; None for an invalid ticket
    photo_id: str | None = None

    @property
    def invalid(self) -> bool:
        return self.complete is None

    @property
    def done(self) -> bool:
        return self.complete == 1

    @property
    def failed(self) -> bool:
        return self.complete == 2 or self.complete is None


@dataclass(frozen=True)
class UploadStatus:
    """What `flickr.people.getUploadStatus` says about the account. None = not stated."""

    user_nsid: str
    username: str
    is_pro: bool
    bandwidth_unlimited: bool
    bandwidth_max_bytes: int | None
    bandwidth_used_bytes: int | None
    bandwidth_remaining_bytes: int | None
    max_photo_bytes: int | None
    max_video_bytes: int | None
    videos_uploaded: int | None
    videos_remaining: int | None  # None = "lots"
    items_uploaded: int | None = None  # `upload_count`, else from people.getPhotos
    item_limit: int | None = None  # `upload_limit`: a free account's 1,000


class _TooDeep(Exception):
    pass


class _DepthLimitedBuilder(TreeBuilder):
    def __init__(self) -> None:
        super().__init__()
        self._depth = 0

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _TooDeep
        return super().start(tag, attrs)

    def end(self, tag: str) -> Element:
        self._depth -= 1
        return super().end(tag)


def parse_xml(body: bytes) -> Element:
    parser = DefusedXMLParser(target=_DepthLimitedBuilder())
    try:
        parser.feed(body)
        return parser.close()
    except _TooDeep:
        raise errors.ProtocolError(
            f"refused Flickr's answer: XML nested more than {MAX_DEPTH} deep"
        ) from None
    except DefusedXmlException as error:
        raise errors.ProtocolError(
            f"refused unsafe XML in Flickr's answer ({type(error).__name__})"
        ) from None
    except ParseError:
        raise errors.TransportError(f"Flickr's answer is not XML: {_preview(body)}") from None


def _preview(body: bytes) -> str:
    text = body[:80].decode("utf-8", "replace").replace("\n", " ")
    return repr(text + ("…" if len(body) > 80 else ""))


def _error_details(rsp: Element, err: Element) -> dict[str, str]:
    """Duplicate and wait details: child elements of <rsp> (python-flickrapi's reading)
    or attributes (other clients'); both are accepted."""
    details: dict[str, str] = {}
    for name in _DETAIL_NAMES:
        child = rsp.find(name)
        value = (child.text if child is not None else None) or rsp.get(name) or err.get(name)
        if value:
            details[name] = value.strip()
    return details


def parse_upload(body: bytes) -> UploadResult:
    rsp = parse_xml(body)
    if rsp.tag != "rsp":
        raise errors.TransportError(f"unexpected upload answer: {_preview(body)}")
    if rsp.get("stat") != "ok":
        err = rsp.find("err")
        code, message = _code_and_message(err)
        raise errors.upload_error(
            code, message, _error_details(rsp, err) if err is not None else {}
        )
    photo, ticket = rsp.find("photoid"), rsp.find("ticketid")
    if photo is not None and (photo_id := (photo.text or "").strip()):
        return UploadResult(
            photo_id=photo_id,
            secret=photo.get("secret"),
            originalsecret=photo.get("originalsecret"),
        )
    if ticket is not None and (ticket_id := (ticket.text or "").strip()):
        return UploadResult(ticket_id=ticket_id)
    raise errors.TransportError(f"upload answer names no photo or ticket: {_preview(body)}")


def _code_and_message(err: Element | None) -> tuple[int, str]:
    if err is None:
        return -1, "failure without an error element"
    return _code(err.get("code")), err.get("msg", "")


def _code(value: object) -> int:
    """Flickr's error code (a number, or digits in a string); -1 for anything else."""
    code = as_int(value)
    return -1 if code is None else code


def parse_json(body: bytes) -> dict[str, Any]:
    """A REST answer in `format=json&nojsoncallback=1`; raises the mapped error on failure."""
    try:
        document = shallow_json.loads(body, max_depth=MAX_DEPTH)
    except shallow_json.TooDeep as error:
        raise errors.ProtocolError(f"refused Flickr's answer: {error}") from None
    except ValueError:
        raise errors.TransportError(f"Flickr's answer is not JSON: {_preview(body)}") from None
    if not isinstance(document, dict) or "stat" not in document:
        raise errors.TransportError(f"unexpected Flickr answer: {_preview(body)}")
    if document["stat"] != "ok":
        raise errors.api_error(_code(document.get("code")), str(document.get("message", "")))
    return document


def as_int(value: object) -> int | None:
    """Flickr's numbers may come as strings, or as "lots"."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return parse_count(value.strip())
    return None


def parse_upload_status(document: dict[str, Any]) -> UploadStatus:
    user = document.get("user", {})
    bandwidth = user.get("bandwidth", {})
    filesize = user.get("filesize", {})
    videosize = user.get("videosize", {})
    videos = user.get("videos", {})
    username = user.get("username", "")
    return UploadStatus(
        user_nsid=str(user.get("id", "")),
        username=username.get("_content", "") if isinstance(username, dict) else str(username),
        is_pro=as_int(user.get("ispro")) == 1,
        bandwidth_unlimited=as_int(bandwidth.get("unlimited")) == 1,
        bandwidth_max_bytes=as_int(bandwidth.get("maxbytes")),
        bandwidth_used_bytes=as_int(bandwidth.get("usedbytes")),
        bandwidth_remaining_bytes=as_int(bandwidth.get("remainingbytes")),
        max_photo_bytes=as_int(filesize.get("maxbytes")),
        max_video_bytes=as_int(videosize.get("maxbytes")),
        videos_uploaded=as_int(videos.get("uploaded")),
        videos_remaining=as_int(videos.get("remaining")),
        # Since about 2021 (Flickr4Java's payloads of 2021 and 2024; not in 2018's).
        items_uploaded=as_int(user.get("upload_count")),
        item_limit=as_int(user.get("upload_limit")),
    )


def parse_tickets(document: dict[str, Any]) -> list[TicketStatus]:
    tickets = document.get("uploader", {}).get("ticket", [])
    if isinstance(tickets, dict):
        tickets = [tickets]
    statuses = []
    for ticket in tickets:
        invalid = as_int(ticket.get("invalid")) == 1
        statuses.append(
            TicketStatus(
                ticket_id=str(ticket.get("id", "")),
                complete=None if invalid else as_int(ticket.get("complete")),
                photo_id=str(ticket["photoid"]) if ticket.get("photoid") else None,
            )
        )
    return statuses


@dataclass(frozen=True)
class Album:
    album_id: str
    title: str
    photo_count: int


@dataclass(frozen=True)
class AlbumPhoto:
    photo_id: str
    date_taken: str  # "YYYY-MM-DD hh:mm:ss"; the upload time when Flickr does not know
    date_taken_unknown: bool
    is_primary: bool = False  # the album's cover photo


def _text(value: object) -> str:
    return str(value.get("_content", "")) if isinstance(value, dict) else str(value or "")


def parse_albums(document: dict[str, Any]) -> tuple[list[Album], int]:
    """One page of flickr.photosets.getList: the albums and the number of pages."""
    page = document.get("photosets", {})
    albums = [
        Album(
            album_id=str(entry.get("id", "")),
            title=_text(entry.get("title")),
            photo_count=as_int(entry.get("photos")) or 0,
        )
        for entry in page.get("photoset", [])
    ]
    return albums, as_int(page.get("pages")) or 1


def parse_album_photos(document: dict[str, Any]) -> tuple[list[AlbumPhoto], int]:
    """One page of flickr.photosets.getPhotos (extras=date_taken) and the number of pages."""
    page = document.get("photoset", {})
    photos = [
        AlbumPhoto(
            photo_id=str(entry.get("id", "")),
            date_taken=str(entry.get("datetaken", "")),
            date_taken_unknown=as_int(entry.get("datetakenunknown")) == 1,
            is_primary=as_int(entry.get("isprimary")) == 1,
        )
        for entry in page.get("photo", [])
    ]
    return photos, as_int(page.get("pages")) or 1
