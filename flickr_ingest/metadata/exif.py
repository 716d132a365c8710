"""EXIF through exifread, reduced to the handful of values the pipeline uses."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

import exifread

_ORIENTATION_TAG = "Image Orientation"
# ASCII digits only: str.isdigit() also takes '²' or '١'.
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME = re.compile(r"[0-9]{2}:[0-9]{2}:[0-9]{2}")


@dataclass(frozen=True)
class ExifFields:
    description: str | None = None
    make: str | None = None
    model: str | None = None
    lens: str | None = None
    date_taken: str | None = None  # ISO 8601, no time zone (EXIF has none)
    latitude: float | None = None
    longitude: float | None = None
    orientation: int | None = None
    pixel_size: tuple[int, int] | None = None
    tag_count: int = 0


def read_exif(head: bytes) -> ExifFields:
    """EXIF of a file whose first bytes are `head`; raises whatever exifread raises on a
    broken block (the caller turns that into a warning)."""
    tags = exifread.process_file(
        io.BytesIO(head), details=False, extract_thumbnail=False, strict=False
    )
    return ExifFields(
        description=_text(tags, "Image ImageDescription"),
        make=_text(tags, "Image Make"),
        model=_text(tags, "Image Model"),
        lens=_text(tags, "EXIF LensModel"),
        date_taken=_date(
            _text(tags, "EXIF DateTimeOriginal")
            or _text(tags, "EXIF DateTimeDigitized")
            or _text(tags, "Image DateTime")
        ),
        latitude=_coordinate(tags, "GPS GPSLatitude", "GPS GPSLatitudeRef", "S"),
        longitude=_coordinate(tags, "GPS GPSLongitude", "GPS GPSLongitudeRef", "W"),
        orientation=_first_int(tags.get(_ORIENTATION_TAG)),
        pixel_size=_pixel_size(tags),
        tag_count=len(tags),
    )


def _text(tags: dict[str, Any], name: str) -> str | None:
    tag = tags.get(name)
    if tag is None:
        return None
    value = tag.values if isinstance(tag.values, str) else str(tag)
    value = value.replace("\x00", "").strip()
    return value or None


def _date(value: str | None) -> str | None:
    """'2008:05:30 15:56:01' -> '2008-05-30T15:56:01'; None for zeros or junk."""
    if not value or len(value) < 19 or value.startswith("0000"):
        return None
    date, time = value[:10].replace(":", "-"), value[11:19]
    if not _DATE.fullmatch(date) or not _TIME.fullmatch(time) or not "1800" <= date[:4] <= "2200":
        return None
    return f"{date}T{time}"


def _ratio(value: Any) -> float:
    numerator, denominator = getattr(value, "num", value), getattr(value, "den", 1)
    return float(numerator) / float(denominator) if denominator else 0.0


def _coordinate(tags: dict[str, Any], name: str, ref_name: str, negative: str) -> float | None:
    tag = tags.get(name)
    if tag is None or not isinstance(tag.values, list) or len(tag.values) != 3:
        return None
    try:
        degrees, minutes, seconds = (_ratio(v) for v in tag.values)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    value = degrees + minutes / 60 + seconds / 3600
    if str(tags.get(ref_name, "")).strip().upper() == negative:
        value = -value
    return round(value, 7)


def _first_int(tag: Any) -> int | None:
    if tag is None or not isinstance(tag.values, list) or not tag.values:
        return None
    value = tag.values[0]
    return value if isinstance(value, int) else None


def _pixel_size(tags: dict[str, Any]) -> tuple[int, int] | None:
    width = _first_int(tags.get("EXIF ExifImageWidth"))
    height = _first_int(tags.get("EXIF ExifImageLength"))
    return (width, height) if width and height else None
