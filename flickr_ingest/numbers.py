"""Numbers read from outside (HTTP headers, Flickr answers, S3 messages, files, ledgers).

One strict reading for all of them: ASCII digits only, a bounded length. `str.isdigit()`
also takes '²' and '١٢٣', which `int()` then refuses (a crash) or reads as a number nobody
wrote; `int()` itself takes '+1', ' 1', '1_000' and numbers of any length; `float()` takes
'1e400' (inf) and 'nan'.
"""

from __future__ import annotations

import re

_COUNT = re.compile(r"[0-9]{1,18}")
_DECIMAL = re.compile(r"([0-9]{1,18})(?:\.([0-9]{1,9}))?")


def parse_count(text: str | None, *, max_digits: int = 18) -> int | None:
    """A whole number written in at most `max_digits` ASCII digits, else None."""
    if text is None or len(text) > max_digits or not _COUNT.fullmatch(text):
        return None
    return int(text)


def parse_seconds(text: str | None) -> float | None:
    """A non-negative number of seconds such as '5' or '2.5' (ASCII only), else None."""
    if text is None:
        return None
    match = _DECIMAL.fullmatch(text.strip(" \t"))
    if match is None:
        return None
    whole, fraction = match.groups()
    return int(whole) + (int(fraction) / 10 ** len(fraction) if fraction else 0.0)
