"""Flickr's "limited HTML" for descriptions: keep a few harmless tags, escape the rest.

Used twice: the metadata mapper cleans what comes from EXIF/XMP before it is sent, and the
sandbox's pages render stored descriptions with it, so a `<script>` from a photo's EXIF
is shown as text everywhere.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser

ALLOWED_TAGS = frozenset({"a", "b", "strong", "i", "em", "u", "s", "strike", "br", "blockquote"})
_VOID_TAGS = frozenset({"br"})
_SAFE_URL_SCHEMES = ("http://", "https://", "mailto:")


class _Sanitiser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open_tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.out.append(html.escape(self.get_starttag_text() or ""))
            return
        if tag == "a":
            href = next((value or "" for name, value in attrs if name == "href"), "")
            if not href.strip().lower().startswith(_SAFE_URL_SCHEMES):
                self.out.append("<a>")
            else:
                self.out.append(
                    f'<a href="{html.escape(href.strip(), quote=True)}" rel="nofollow">'
                )
        else:
            self.out.append(f"<{tag}>")
        if tag not in _VOID_TAGS:
            self.open_tags.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID_TAGS:
            self.out.append(f"<{tag}>")
        else:
            self.out.append(html.escape(self.get_starttag_text() or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open_tags:
            # Close everything opened inside it too, so the output stays well nested.
            while self.open_tags:
                inner = self.open_tags.pop()
                self.out.append(f"</{inner}>")
                if inner == tag:
                    break
        else:
            self.out.append(html.escape(f"</{tag}>"))

    def handle_data(self, data: str) -> None:
        self.out.append(html.escape(data, quote=False))

    def handle_comment(self, data: str) -> None:
        self.out.append(html.escape(f"<!--{data}-->", quote=False))

    def handle_decl(self, decl: str) -> None:
        self.out.append(html.escape(f"<!{decl}>", quote=False))

    def handle_pi(self, data: str) -> None:
        self.out.append(html.escape(f"<?{data}>", quote=False))

    def unknown_decl(self, data: str) -> None:
        self.out.append(html.escape(f"<![{data}]>", quote=False))


def sanitise(text: str) -> str:
    """Return `text` as safe HTML: allowed tags kept (links only to http/https/mailto),
    everything else escaped so it shows as text."""
    parser = _Sanitiser()
    parser.feed(text)
    parser.close()
    # Text the parser held back (an unterminated "<tag") is escaped, never dropped.
    rest = parser.rawdata
    if rest:
        parser.out.append(html.escape(rest, quote=False))
    parser.out.extend(f"</{tag}>" for tag in reversed(parser.open_tags))
    return "".join(parser.out)
