"""HTML pages a person can look at: the organize page, a photo's page, the authorize page.

Every stored value is escaped; descriptions go through Flickr's limited-HTML sanitiser,
so a `<script>` from a photo's EXIF shows as text.
"""

from __future__ import annotations

import html
import sqlite3
from collections.abc import Iterable

from flickr_ingest.limited_html import sanitise
from flickr_ingest.sandbox.photos import original_path

_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
.banner { background: #ffe8a3; padding: .5em 1em; border-radius: 4px; }
.photos { display: flex; flex-wrap: wrap; gap: 1em; }
.photo { width: 260px; border: 1px solid #ddd; padding: .5em; border-radius: 4px; }
.photo img { max-width: 240px; max-height: 240px; }
.tags span { background: #eef; margin: 0 .2em; padding: 0 .3em; border-radius: 3px;
  display: inline-block; max-width: 100%; overflow-wrap: anywhere; }
.photo h3, .photo p, .photo .description { overflow-wrap: anywhere; }
"""


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        "<p class='banner'>Flickr sandbox: nothing here is on flickr.com.</p>"
        f"{body}</body></html>"
    )


def _visibility(photo: sqlite3.Row) -> str:
    if photo["is_public"]:
        return "public"
    shared = [name for name in ("friend", "family") if photo[f"is_{name}"]]
    return "private" + (f" (visible to {' and '.join(shared)})" if shared else "")


def _album_links(albums: Iterable[sqlite3.Row]) -> str:
    links = ", ".join(
        f"<a href='/photos/{html.escape(a['owner'])}/albums/{html.escape(a['id'])}'>"
        f"{html.escape(a['title'])}</a>"
        for a in albums
    )
    return f"<p class='albums'>In albums: {links}</p>" if links else ""


def _card(
    photo: sqlite3.Row, tags: Iterable[sqlite3.Row], albums: Iterable[sqlite3.Row] = ()
) -> str:
    photo_id = html.escape(photo["id"])
    tag_html = "".join(f"<span>{html.escape(tag['raw'])}</span>" for tag in tags)
    return (
        f"<div class='photo' id='photo-{photo_id}'>"
        f"<a href='/photos/{html.escape(photo['owner'])}/{photo_id}/'>"
        f"<img src='{html.escape(original_path(photo))}'"
        f" alt='{html.escape(photo['filename'])}'></a>"
        f"<h3 class='title'>{html.escape(photo['title']) or '<em>untitled</em>'}</h3>"
        f"<div class='description'>{sanitise(photo['description'])}</div>"
        f"<p class='tags'>{tag_html}</p>{_album_links(albums)}"
        f"<p class='visibility'>{_visibility(photo)} · {html.escape(photo['kind'])} · "
        f"{photo['size']:,} bytes · id {photo_id}</p></div>"
    )


#: A photo with its tags and the albums it is in.
PhotoView = tuple[sqlite3.Row, list[sqlite3.Row], list[sqlite3.Row]]


def organize_page(photos: list[PhotoView], missing: list[str]) -> str:
    cards = "".join(_card(*photo) for photo in photos)
    missing_html = (
        f"<p class='missing'>Not found: {html.escape(', '.join(missing))}</p>" if missing else ""
    )
    return _page(
        "Organize your uploads",
        f"<h1>Organize: {len(photos)} photo(s)</h1>{missing_html}<div class='photos'>{cards}</div>",
    )


def photo_page(photo: PhotoView) -> str:
    return _page(photo[0]["title"] or photo[0]["id"], _card(*photo))


def album_page(album: sqlite3.Row, photos: list[PhotoView]) -> str:
    cards = "".join(_card(*photo) for photo in photos)
    return _page(
        album["title"],
        f"<h1 class='album-title'>Album: {html.escape(album['title'])}</h1>"
        f"<p>{len(photos)} photo(s) · id {html.escape(album['id'])}</p>"
        f"<div class='photos'>{cards}</div>",
    )


def authorize_page(token: str, perms: str, app_key: str) -> str:
    token_html, perms_html = html.escape(token, quote=True), html.escape(perms, quote=True)
    return _page(
        "Authorize",
        f"<h1>Allow app {html.escape(app_key)} to {perms_html} your photos?</h1>"
        "<form method='post'>"
        f"<input type='hidden' name='oauth_token' value='{token_html}'>"
        f"<input type='hidden' name='perms' value='{perms_html}'>"
        "<button type='submit' id='approve'>OK, I'll authorize it</button></form>",
    )


def verifier_page(verifier: str) -> str:
    return _page(
        "Authorized",
        "<h1>You have authorized the app.</h1><p>Type this code into the app:</p>"
        f"<p><code id='oauth-verifier'>{html.escape(verifier)}</code></p>",
    )


def error_page(message: str) -> str:
    return _page("Error", f"<h1>{html.escape(message)}</h1>")
