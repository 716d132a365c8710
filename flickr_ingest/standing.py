"""What a file is relative to the ledger, decided once: after its bytes are hashed and
claimed (or found recorded), before any byte is sent. `classify` is the one place.

- `Known`: its bytes are on Flickr from this very path. Nothing to send.
- `Moved`: its bytes are on Flickr from a path where no file is now. Nothing to send; the
  ledger learns the new path (`syncing.learn_move`).
- `Duplicate`: its bytes are on Flickr as another file's photo, and that file is still
  there. Nothing to send.
- `New`: bytes the ledger does not know, at a path never sent (or sent before, with
  `--on-change upload`: not compared). Sent as a new photo (`uploading`).
- `Edited`: other bytes at a path sent before, showing the same picture: its photo is
  replaced (`syncing`).
- `AnotherPicture`: other bytes at a path sent before, showing another picture (a new
  card's DSC_0001): sent as a new photo; the old one stays as it is.
- `Undecided`: other bytes at a path sent before, and no telling whether it is the
  same picture (a video, no pixels, the photo gone from Flickr): left `changed`, with why.

Same picture or not is decided by the pixels' prints (`pictures`), never by the name or
the date taken: a date is missing from scans and screenshots, and anyone who can write a
file can copy one. A ledger record from before prints is compared with a small rendition
from Flickr (one download, for a changed file only).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

import requests

from flickr_ingest.filetypes import VIDEO
from flickr_ingest.flickr import FlickrClient, errors
from flickr_ingest.ledger.base import PathRecord, Upload
from flickr_ingest.outcomes import OnChange
from flickr_ingest.pictures import PicturePrints, prints_of
from flickr_ingest.report.thumbnails import small_picture
from flickr_ingest.sources import Source
from flickr_ingest.sources.base import shown_text

#: getInfo's error 1: no such photo (deleted on Flickr since it was sent).
PHOTO_NOT_FOUND = 1
#: What to do about an edited file that is not replaced.
UPLOAD_INSTEAD = "to upload it as a new photo, run again with --on-change upload"
#: The largest rendition read to compare a record from before prints (a sandbox serves
#: the original only; Flickr's 320-pixel rendition is some 30 KB).
MAX_RENDITION_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class New:
    """Bytes to send as a new photo."""


@dataclass(frozen=True, slots=True)
class Known:
    """Already on Flickr from this path, as `photo_id`."""

    photo_id: str


@dataclass(frozen=True, slots=True)
class Moved:
    """On Flickr as `photo_id`, sent from `old_uri` (`old_path` as people read it), where
    no file is now."""

    photo_id: str
    old_uri: str
    old_path: str


@dataclass(frozen=True, slots=True)
class Duplicate:
    """The same bytes as the file at `first` (as people read it), on Flickr as `of`."""

    of: str
    first: str


@dataclass(frozen=True, slots=True)
class Edited:
    """The same picture as the photo of `edit`, with other bytes: replace it. `picture`:
    the file's prints, from its own pixels."""

    edit: PathRecord
    picture: str | None


@dataclass(frozen=True, slots=True)
class AnotherPicture:
    """Another picture under the name of the photo of `edit`: a new photo. `picture`: the
    file's prints, from its own pixels."""

    edit: PathRecord
    picture: str | None

    @property
    def reason(self) -> str:
        return (
            f"another picture took the name of photo {self.edit.photo_id} (its pixels"
            " differ): uploaded as a new photo; that one stays as it is"
        )


@dataclass(frozen=True, slots=True)
class Undecided:
    """Other bytes at the path of the photo of `edit`, and `why` they are left as they are."""

    edit: PathRecord
    why: str


Standing = New | Known | Moved | Duplicate | Edited | AnotherPicture | Undecided


def classify(
    known: Upload | None,
    here: PathRecord | None,
    uri: str,
    sha256: str,
    *,
    source: Source,
    client: FlickrClient,
    on_change: str,
    kind: str,
    pixel_prints: Callable[[], PicturePrints | None],
) -> Standing:
    """What the file at `uri` with these bytes is: `known` is the ledger's photo for the
    bytes (looked up under their claim), `here` the ledger's photo for the path.
    `pixel_prints` decodes the file's own pixels (never its EXIF thumbnail, which anyone
    can copy in), for new bytes at a known path only. Asks the source whether an old path
    still holds a file, and Flickr for a rendition when a record has no prints;
    transient errors are raised, for a retry."""
    if known is not None:
        if known.source == uri or is_here(here, known.photo_id, sha256):
            return Known(known.photo_id)
        if moved_from(source, known.source, uri):
            return Moved(known.photo_id, known.source, _as_read(source, known.source))
        return Duplicate(known.photo_id, _as_read(source, known.source))
    edit = edit_of(here, sha256)
    if edit is None or on_change == OnChange.UPLOAD:
        return New()
    return _compared(client, edit, pixel_prints(), kind)


def edit_of(previous: PathRecord | None, sha256: str) -> PathRecord | None:
    """The ledger's record of the file's path, if the file holds other bytes than its
    photo (or than a replace noted for it): an edit of that photo, or another picture
    under its name (`classify` tells which)."""
    if previous is None:
        return None
    noted = previous.replacing_sha256
    changed = previous.sha256 != sha256 or (noted is not None and noted != sha256)
    return previous if changed else None


def is_here(previous: PathRecord | None, photo_id: str, sha256: str) -> bool:
    """Whether the file's own path was sent as `photo_id` with these very bytes."""
    return previous is not None and (previous.photo_id, previous.sha256) == (photo_id, sha256)


def moved_from(source: Source, old_uri: str, uri: str) -> bool:
    """Whether bytes first sent from `old_uri` and found now at `uri` were moved there:
    no file is at the old path any more (a file still there makes this one a copy)."""
    return old_uri != uri and source.holds(old_uri) is False


def _compared(
    client: FlickrClient, edit: PathRecord, prints: PicturePrints | None, kind: str
) -> Edited | AnotherPicture | Undecided:
    """Whether the file (its pixels' `prints`) shows the picture of the photo of `edit`,
    or why that cannot be told or done."""
    if kind == VIDEO:
        why = (
            "Flickr cannot replace a video; to upload it as a new video (the old one stays),"
            " run again with --on-change upload"
        )
        return Undecided(edit, why)
    if prints is None:
        return Undecided(edit, f"its picture could not be decoded to compare; {UPLOAD_INSTEAD}")
    recorded = edit.picture
    if recorded is None:
        try:
            recorded = rendition_picture(client, edit.photo_id)
        except errors.FlickrAPIError as error:
            if error.code != PHOTO_NOT_FOUND:
                raise
            why = f"photo {edit.photo_id} is no longer on Flickr; {UPLOAD_INSTEAD}"
            return Undecided(edit, why)
        if recorded is None:
            why = (
                f"photo {edit.photo_id}'s picture could not be read from Flickr to compare;"
                f" {UPLOAD_INSTEAD}"
            )
            return Undecided(edit, why)
    if prints.matches(recorded):
        return Edited(edit, prints.recorded)
    return AnotherPicture(edit, prints.recorded)


def rendition_picture(client: FlickrClient, photo_id: str) -> str | None:
    """The prints of the photo as Flickr shows it: its 320-pixel rendition on flickr.com
    (`live.staticflickr.com/{server}/{id}_{secret}_n.jpg`, a URL getInfo's answer
    names); a sandbox has no renditions and serves the original at the same kind of
    static URL (`/static/{server}/{id}_{originalsecret}_o.{originalformat}`). None if it
    is not an image that decodes."""
    info = client.photo_info(photo_id)
    endpoints = client.endpoints
    server = str(info.get("server", ""))
    secret_name = "secret" if endpoints.is_flickr else "originalsecret"
    secret, extension = str(info.get(secret_name, "")), str(info.get("originalformat", "jpg"))
    if not all(part.isascii() and part.isalnum() for part in (server, secret, extension)):
        return None
    if not (photo_id.isascii() and photo_id.isdigit()):
        return None
    if endpoints.is_flickr:
        url = f"https://live.staticflickr.com/{server}/{photo_id}_{secret}_n.jpg"
    else:
        url = f"{endpoints.base_url}/static/{server}/{photo_id}_{secret}_o.{extension}"
    data = _download(url)
    if data is None:
        return None
    picture = small_picture(io.BytesIO(data), camera_thumbnail=False)
    return prints_of(picture).recorded if picture is not None else None


def _download(url: str) -> bytes | None:
    """The body at `url`, up to MAX_RENDITION_BYTES; None for a 4xx answer or a larger
    body; transport failures and 5xx are transient (the task's retry comes back)."""
    try:
        with requests.get(url, timeout=(10, 60), stream=True, allow_redirects=False) as answer:
            if answer.status_code >= 500 or answer.status_code == 429:
                raise errors.TransportError(f"HTTP {answer.status_code} fetching a rendition")
            if answer.status_code != 200:
                return None
            data = bytearray()
            for chunk in answer.iter_content(1024 * 1024):
                data += chunk
                if len(data) > MAX_RENDITION_BYTES:
                    return None
            return bytes(data)
    except requests.RequestException as error:
        raise errors.TransportError(f"fetching a rendition: {type(error).__name__}") from None


def _as_read(source: Source, uri: str) -> str:
    """A file's URI as people read it in a reason: its path below the source where it
    lies there (`2019/a.jpg`, not `file:///home/…/2019/a.jpg` percent-encoded), else the
    whole URI, decoded; bytes that are not UTF-8 escaped (`\\xf6`)."""
    root = source.root_uri
    text = uri[len(root) :] if uri.startswith(root) and len(uri) > len(root) else uri
    return shown_text(unquote(text, errors="surrogateescape"))
