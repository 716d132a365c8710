"""Flickr's tag string: parsing, quoting and normalising, shared by the client and the sandbox.

Flickr takes tags as one space-separated string; a tag holding spaces is wrapped in double
quotes (`Amsterdam "central station"`). A tag cannot contain a double quote. Flickr keeps
each tag raw and normalised (lower case, spaces and punctuation removed); machine tags
(`namespace:predicate=value`) keep their structure.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

#: Flickr's documented ceiling on tags per photo, machine tags included.
MAX_TAGS = 75

_MACHINE_TAG = re.compile(r"^([a-z][a-z0-9_]*):([a-z][a-z0-9_]*)=(.+)$", re.IGNORECASE | re.DOTALL)


def parse_tags(text: str) -> list[str]:
    """Split a Flickr tag string into raw tags, honouring double quotes."""
    tags: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
            continue
        if char.isspace() and not quoted:
            if current:
                tags.append("".join(current))
                current = []
            continue
        current.append(char)
    if current:
        tags.append("".join(current))
    return [tag for tag in (t.strip() for t in tags) if tag]


def format_tags(tags: Iterable[str]) -> str:
    """Join tags into Flickr's tag string, quoting those with spaces.

    Double quotes cannot be represented inside a tag, so they are removed; white space
    runs collapse to one space; empty tags are dropped.
    """
    parts = []
    for tag in tags:
        cleaned = " ".join(tag.replace('"', "").split())
        if not cleaned:
            continue
        parts.append(f'"{cleaned}"' if " " in cleaned else cleaned)
    return " ".join(parts)


def is_machine_tag(tag: str) -> bool:
    return _MACHINE_TAG.match(tag) is not None


def normalise_tag(tag: str) -> str:
    """Flickr's normalised form: lower case without spaces or punctuation.

    A machine tag keeps its `namespace:predicate=value` shape (lower-cased) so that
    `machine_tags=` searches can match it.
    """
    match = _MACHINE_TAG.match(tag)
    if match:
        namespace, predicate, value = match.groups()
        return f"{namespace.lower()}:{predicate.lower()}={value.strip().lower()}"
    return "".join(char for char in tag.lower() if unicodedata.category(char)[0] in ("L", "N"))
