"""JSON from outside, parsed only when it nests no deeper than asked.

Python's parser recurses once per level: JSON nested 100,000 deep (200 KB) ends in a
`RecursionError`, which nothing expects. The depth is measured first, in a few passes
of C over the bytes (0.1 s for 16 MB), then the document is parsed as usual.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

#: The brackets that nest.
_DEPTH = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_NOT_BRACKETS = bytes(b for b in range(256) if b not in _DEPTH)


class TooDeep(ValueError):
    """The document nests deeper than allowed; it was not parsed."""


def depth(document: str | bytes) -> int:
    """How deep the document's arrays and objects nest (an upper bound for invalid JSON)."""
    body = document.encode("utf-8", "surrogatepass") if isinstance(document, str) else document
    unescaped = body.replace(b"\\\\", b"").replace(b'\\"', b"")  # no quote left in a string
    outside_strings = b"".join(unescaped.split(b'"')[::2])
    brackets = outside_strings.translate(None, _NOT_BRACKETS)
    return max(itertools.accumulate(map(_DEPTH.__getitem__, brackets)), default=0)


def loads(document: str | bytes, *, max_depth: int) -> Any:
    """`json.loads(document)`, or TooDeep (a ValueError) past `max_depth` levels."""
    found = depth(document)
    if found > max_depth:
        raise TooDeep(f"JSON nested more than {max_depth} deep")
    return json.loads(document)
