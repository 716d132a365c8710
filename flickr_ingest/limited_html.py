"""Flickr's "limited HTML" for descriptions: keep a few harmless tags, escape the rest.

Used twice: the metadata mapper cleans what comes from EXIF/XMP before it is sent, and the
sandbox's pages render stored descriptions with it, so a `<script>` from a photo's EXIF
is shown as text everywhere.

nh3 (the Python binding of Ammonia, a maintained and fuzzed allow-list sanitiser that parses
as browsers do) decides what survives. Left to itself it would drop a tag outside the list
and keep its text, or drop `<script>` and `<style>` with their content, so a caption such as
"Tom <tom@example.com>" would lose the address. So first every "<" that does not open or
close an allowed tag becomes "&lt;", as does every "<" after the last ">" (a tag cut short,
say by the length limit, is shown rather than dropped). That step can only turn markup into
text; whether the result is safe is nh3's decision alone.
"""

from __future__ import annotations

import re

import nh3

ALLOWED_TAGS = frozenset({"a", "b", "strong", "i", "em", "u", "s", "strike", "br", "blockquote"})
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})

# "<" followed by something other than an allowed tag's name, ended as HTML ends a tag name.
_NOT_AN_ALLOWED_TAG = re.compile(
    r"<(?!/?(?:{})[\t\n\f\r />])".format("|".join(sorted(ALLOWED_TAGS))), re.IGNORECASE
)

_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    attributes={"a": {"href"}, "*": set()},  # "*" empty: no `title` or `lang` either
    url_schemes=set(ALLOWED_URL_SCHEMES),
    url_relative="deny",
    link_rel="nofollow",
    strip_comments=True,
)


def sanitise(text: str) -> str:
    """Return `text` as safe HTML: allowed tags kept (links only to http/https/mailto),
    everything else escaped so it shows as text."""
    end = text.rfind(">") + 1
    text = _NOT_AN_ALLOWED_TAG.sub("&lt;", text[:end]) + text[end:].replace("<", "&lt;")
    return _CLEANER.clean(text)
