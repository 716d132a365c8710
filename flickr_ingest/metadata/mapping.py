"""Map a photo's metadata to Flickr's title, description and tags, cleaned for sending.

Defaults: the title is the XMP/IPTC title, else a short meaningful EXIF ImageDescription,
else the file's stem; the description is the caption; tags are the keywords plus, as
machine tags, camera, lens and year. Templates replace the title or description rules.
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from flickr_ingest.errors import ConfigurationError
from flickr_ingest.limited_html import sanitise
from flickr_ingest.metadata.read import PhotoMetadata
from flickr_ingest.tags import MAX_TAGS, is_machine_tag, normalise_tag

# Flickr does not document these limits; these keep every field well inside what it takes.
TITLE_MAX = 255
DESCRIPTION_MAX = 5000
TAG_MAX = 100
_SHORT_TITLE = 100  # a longer EXIF description is a caption, not a title

TEMPLATE_FIELDS = (
    "title",
    "caption",
    "stem",
    "name",
    "folder",
    "path",
    "date",
    "year",
    "make",
    "model",
    "lens",
    "keywords",
)


@dataclass(frozen=True)
class MappingOptions:
    title_template: str | None = None  # e.g. "{year} {folder}: {stem}"
    description_template: str | None = None
    camera_tags: bool = True
    lens_tags: bool = True
    year_tags: bool = True
    path_tags: bool = False
    extra_tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for template in (self.title_template, self.description_template):
            if template is not None:
                _check_template(template)


@dataclass(frozen=True)
class FlickrFields:
    title: str
    description: str
    tags: tuple[str, ...]  # raw tags; `tags.format_tags` quotes them for sending


def _check_template(template: str) -> None:
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as error:
        raise ConfigurationError(f"bad template {template!r}: {error}") from None
    unknown = sorted(set(names) - set(TEMPLATE_FIELDS))
    if unknown:
        raise ConfigurationError(
            f"template {template!r} uses unknown field(s) {', '.join(unknown)};"
            f" known: {', '.join(TEMPLATE_FIELDS)}"
        )


def map_to_flickr(
    metadata: PhotoMetadata,
    *,
    relative_path: str,
    machine_tags: Sequence[str] = (),
    options: MappingOptions | None = None,
) -> FlickrFields:
    options = options or MappingOptions()
    path = PurePosixPath(relative_path)
    values = _template_values(metadata, path)
    short_description = metadata.camera_description
    if short_description and ("\n" in short_description or len(short_description) > _SHORT_TITLE):
        short_description = None
    if options.title_template is not None:
        title = options.title_template.format_map(values)
    else:
        title = metadata.title or short_description or path.stem
    if options.description_template is not None:
        description = options.description_template.format_map(values)
    else:
        description = (
            metadata.caption
            or (metadata.camera_description if metadata.camera_description != title else None)
            or ""
        )
    return FlickrFields(
        title=clean_text(title, TITLE_MAX) or clean_text(path.stem, TITLE_MAX),
        description=sanitise(clean_text(description, DESCRIPTION_MAX, multiline=True)),
        tags=_tags(metadata, path, machine_tags, options),
    )


def _template_values(metadata: PhotoMetadata, path: PurePosixPath) -> dict[str, str]:
    date = metadata.date_taken or ""
    return {
        "title": metadata.title or "",
        "caption": metadata.caption or "",
        "stem": path.stem,
        "name": path.name,
        "folder": path.parent.name,
        "path": str(path.parent) if str(path.parent) != "." else "",
        "date": date[:10],
        "year": date[:4],
        "make": metadata.make or "",
        "model": metadata.model or "",
        "lens": metadata.lens or "",
        "keywords": ", ".join(metadata.keywords),
    }


def _tags(
    metadata: PhotoMetadata,
    path: PurePosixPath,
    machine_tags: Sequence[str],
    options: MappingOptions,
) -> tuple[str, ...]:
    wanted: list[str] = list(machine_tags)  # first, so that they always fit
    if options.camera_tags and metadata.make:
        wanted.append(f"camera:make={metadata.make}")
    if options.camera_tags and metadata.model:
        wanted.append(f"camera:model={metadata.model}")
    if options.lens_tags and metadata.lens:
        wanted.append(f"camera:lens={metadata.lens}")
    if options.year_tags and metadata.date_taken:
        wanted.append(f"taken:year={metadata.date_taken[:4]}")
    wanted += metadata.keywords
    if options.path_tags:
        wanted += [part for part in path.parent.parts if part not in (".", "/", "..")]
    wanted += options.extra_tags
    return dedupe_tags(wanted)


def dedupe_tags(tags: Sequence[str], limit: int = MAX_TAGS) -> tuple[str, ...]:
    """Clean each tag, drop empties and repeats (by Flickr's normalised form), keep at
    most `limit`, machine tags first in the order given."""
    cleaned = [clean_text(tag.replace('"', ""), TAG_MAX) for tag in tags]
    ordered = [t for t in cleaned if is_machine_tag(t)] + [
        t for t in cleaned if not is_machine_tag(t)
    ]
    seen: set[str] = set()
    kept: list[str] = []
    for tag in ordered:
        key = normalise_tag(tag)
        if key and key not in seen and len(kept) < limit:
            seen.add(key)
            kept.append(tag)
    return tuple(kept)


def clean_text(text: str, limit: int, *, multiline: bool = False) -> str:
    """NFC text without control or format characters, white space tidied, at most
    `limit` characters (cut ones end with an ellipsis)."""
    text = unicodedata.normalize("NFC", text)
    kept = []
    for char in text:
        if char == "\n" and multiline:
            kept.append(char)
        elif char in "\t\r\n\v\f":
            kept.append(" ")
        elif unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co", "Cn"):
            kept.append(char)
    text = "".join(kept)
    if multiline:
        lines = [" ".join(line.split()) for line in text.split("\n")]
        text = "\n".join(lines).strip()
    else:
        text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text
