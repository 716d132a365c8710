"""HTML pages a person can look at: the organize page, a photo's page, the authorize page.

Every stored value is escaped; descriptions go through Flickr's limited-HTML sanitiser,
so a `<script>` from a photo's EXIF shows as text.
"""

from __future__ import annotations

import html
import sqlite3
from collections.abc import Iterable

from flickr_ingest.limited_html import sanitise

_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
.banner { background: #ffe8a3; padding: .5em 1em; border-radius: 4px; }
.photos { display: flex; flex-wrap: wrap; gap: 1em; }
.photo { width: 260px; border: 1px solid #ddd; padding: .5em; border-radius: 4px; }
.photo img { max-width: 240px; max-height: 240px; }
.tags span { background: #eef; margin: 0 .2em; padding: 0 .3em; border-radius: 3px; }
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


def _card(photo: sqlite3.Row, tags: Iterable[sqlite3.Row]) -> str:
    photo_id = html.escape(photo["id"])
    tag_html = "".join(f"<span>{html.escape(tag['raw'])}</span>" for tag in tags)
    return (
        f"<div class='photo' id='photo-{photo_id}'>"
        f"<a href='/photos/{html.escape(photo['owner'])}/{photo_id}/'>"
        f"<img src='/sandbox/photos/{photo_id}/file' alt='{html.escape(photo['filename'])}'></a>"
        f"<h3 class='title'>{html.escape(photo['title']) or '<em>untitled</em>'}</h3>"
        f"<div class='description'>{sanitise(photo['description'])}</div>"
        f"<p class='tags'>{tag_html}</p>"
        f"<p class='visibility'>{_visibility(photo)} · {html.escape(photo['kind'])} · "
        f"{photo['size']:,} bytes · id {photo_id}</p></div>"
    )


def organize_page(photos: list[tuple[sqlite3.Row, list[sqlite3.Row]]], missing: list[str]) -> str:
    cards = "".join(_card(photo, tags) for photo, tags in photos)
    missing_html = (
        f"<p class='missing'>Not found: {html.escape(', '.join(missing))}</p>" if missing else ""
    )
    return _page(
        "Organize your uploads",
        f"<h1>Organize: {len(photos)} photo(s)</h1>{missing_html}<div class='photos'>{cards}</div>",
    )


def photo_page(photo: sqlite3.Row, tags: list[sqlite3.Row]) -> str:
    return _page(photo["title"] or photo["id"], _card(photo, tags))


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
