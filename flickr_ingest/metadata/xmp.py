"""XMP packets (Lightroom, darktable, Photoshop): title, description, keywords, dates."""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from flickr_ingest.numbers import parse_count

_NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "lr": "http://ns.adobe.com/lightroom/1.0/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "exif": "http://ns.adobe.com/exif/1.0/",
    "aux": "http://ns.adobe.com/exif/1.0/aux/",
}
_RDF_LI = f"{{{_NS['rdf']}}}li"


@dataclass(frozen=True)
class XmpFields:
    title: str | None = None
    description: str | None = None
    keywords: tuple[str, ...] = ()
    hierarchical_keywords: tuple[str, ...] = ()
    date_created: str | None = None
    lens: str | None = None
    pixel_size: tuple[int, int] | None = None
    warnings: tuple[str, ...] = field(default=())


def find_packet(data: bytes) -> bytes | None:
    start = data.find(b"<x:xmpmeta")
    if start == -1:
        return None
    end = data.find(b"</x:xmpmeta>", start)
    if end == -1:
        return data[start:]  # cut off: the parser reports it
    return data[start : end + len(b"</x:xmpmeta>")]


def read_xmp(data: bytes) -> XmpFields | None:
    """The XMP fields of the first packet in `data`, or None if there is none."""
    packet = find_packet(data)
    if packet is None:
        return None
    try:
        root = fromstring(packet)
    except (ParseError, DefusedXmlException) as error:
        return XmpFields(warnings=(f"XMP packet unreadable ({type(error).__name__})",))
    return XmpFields(
        title=_alt_text(root, "dc", "title"),
        description=_alt_text(root, "dc", "description"),
        keywords=_list(root, "dc", "subject"),
        hierarchical_keywords=_list(root, "lr", "hierarchicalSubject"),
        date_created=_simple(root, "photoshop", "DateCreated")
        or _simple(root, "xmp", "CreateDate"),
        lens=_simple(root, "aux", "Lens") or _simple(root, "exif", "LensModel"),
        pixel_size=_pixel_size(root),
    )


def _pixel_size(root: Element) -> tuple[int, int] | None:
    width = parse_count(_simple(root, "exif", "PixelXDimension"), max_digits=9)
    height = parse_count(_simple(root, "exif", "PixelYDimension"), max_digits=9)
    return (width, height) if width is not None and height is not None else None


def _qualified(prefix: str, name: str) -> str:
    return f"{{{_NS[prefix]}}}{name}"


def _properties(root: Element, prefix: str, name: str) -> list[Element]:
    return list(root.iter(_qualified(prefix, name)))


def _alt_text(root: Element, prefix: str, name: str) -> str | None:
    """A language alternative: the x-default entry, else the first one."""
    for prop in _properties(root, prefix, name):
        items = list(prop.iter(_RDF_LI))
        for item in items:
            if item.get("{http://www.w3.org/XML/1998/namespace}lang") == "x-default" and item.text:
                return item.text
        for item in items:
            if item.text:
                return item.text
        if prop.text and prop.text.strip():
            return prop.text
    return None


def _list(root: Element, prefix: str, name: str) -> tuple[str, ...]:
    values: list[str] = []
    for prop in _properties(root, prefix, name):
        values += [item.text for item in prop.iter(_RDF_LI) if item.text and item.text.strip()]
    return tuple(values)


def _simple(root: Element, prefix: str, name: str) -> str | None:
    """A simple property, written as an element or as an attribute of rdf:Description."""
    for prop in _properties(root, prefix, name):
        if prop.text and prop.text.strip():
            return prop.text.strip()
    attribute = _qualified(prefix, name)
    for description in root.iter(f"{{{_NS['rdf']}}}Description"):
        if description.get(attribute):
            return description.get(attribute)
    return None
