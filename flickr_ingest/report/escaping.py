"""Text from outside (file names, S3 keys, EXIF/XMP titles, Flickr's answers) shown in
Markdown, HTML or a terminal: one escaping function per medium, used by every writer and
every dashboard artifact.

Control characters (which move a terminal's cursor or change its colours when someone
runs `cat report.md`) and bidirectional overrides (which make `gpj.exe` read as
`exe.jpg`) are shown visibly, as `\\x1b` or `U+202E`, in every medium.
"""

from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import quote, urlsplit

#: Bidirectional controls: embeddings, overrides, isolates and the directional marks.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: What can open something live inline (CommonMark and GitHub's extensions): escapes,
#: code, emphasis (an underscore inside a word opens none: IMG_1234), links and images
#: ("[" and "]"), HTML and autolinks ("<"), table cells, strikethrough, entities
#: ("&amp;"), and GitHub's bare autolinks ("https://", "www.", "name@host.domain"). Only
#: these are escaped, so that report.md stays readable in a terminal
#: ("flickr-ingest-demo", not "flickr\\-ingest\\-demo").
_MARKDOWN_INLINE = re.compile(
    r"[\\`*\[\]<|~]|(?<!\w)_|_(?!\w)|&(?=#?\w+;)|:(?=//)|@(?=[\w-]+\.)|(?<=[wW]{3})\."
)
#: What opens a block where the text starts a line (a note after "> ", a list item's
#: text): headings, quotes, list items, thematic breaks and setext underlines.
_MARKDOWN_LINE_START = re.compile(
    r"^(?:#{1,6}(?=[ \t]|$)|>|[-+](?=[ \t]|$)|-{3,}|=+[ \t]*$|\d{1,9}(?=[.)](?:[ \t]|$)))"
)


def _visible_char(char: str) -> str:
    if char in _BIDI:
        return f"U+{ord(char):04X}"
    if unicodedata.category(char) == "Cc" and char not in "\t\n":
        return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"U+{ord(char):04X}"
    return char


def visible(text: object) -> str:
    """`text` with control and bidi characters written out (tabs and newlines kept)."""
    value = "" if text is None else str(text)
    if value.isprintable():
        return value
    return "".join(_visible_char(char) for char in value)


def markdown_text(text: object) -> str:
    """Inline Markdown (also a table cell): literal text on one line, nothing live."""
    flat = visible(text).replace("\r", " ").replace("\n", " ").replace("\t", " ")
    escaped = _MARKDOWN_INLINE.sub(lambda match: "\\" + match.group(), flat)
    start = _MARKDOWN_LINE_START.match(escaped)
    if start is None:
        return escaped
    if start.group().isdigit():  # "1975. Summer": the list marker is the dot after it
        cut = start.end()
        return f"{escaped[:cut]}\\{escaped[cut:]}"
    return "\\" + escaped


def markdown_url(url: str) -> str:
    """A link target we built (organize and album pages): http(s) only, and the
    characters that could end a Markdown link percent-encoded."""
    if urlsplit(url).scheme not in ("http", "https"):
        return "#"
    return quote(visible(url), safe=":/?#&=,;@!$'*+-._~%")


def html_text(text: object) -> str:
    """Text in HTML (element content or a quoted attribute)."""
    return html.escape(visible(text), quote=True)


def terminal_text(text: object) -> str:
    """Text on one terminal line: nothing that moves the cursor or changes colours."""
    return visible(text).replace("\r", " ").replace("\n", " ").replace("\t", " ")
