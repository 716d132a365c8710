"""Demo photos made by our own code: real JPEGs with real EXIF and XMP, in folders, plus
the awkward cases a real archive has (a copy under another name, a non-photo, an empty
file), so that the demo shows every kind of outcome."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw

_ALBUMS = {
    "2019 Lisbon": ("Lisbon", ["tram", "azulejos", "river", "sunset"], "Canon", "Canon EOS 80D"),
    "2021 Iceland": (
        "Iceland",
        ["waterfall", "glacier", "northern lights"],
        "NIKON CORPORATION",
        "NIKON Z 6",
    ),
    "2023 Kyoto": ("Kyoto", ["temple", "maple", "garden"], "FUJIFILM", "X-T4"),
}
_EXIF_IFD = 0x8769


def _xmp(title: str, description: str, keywords: list[str]) -> bytes:
    items = "".join(f"<rdf:li>{escape(k)}</rdf:li>" for k in keywords)
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(title)}</rdf:li>'
        "</rdf:Alt></dc:title>"
        f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(description)}</rdf:li>'
        f"</rdf:Alt></dc:description><dc:subject><rdf:Bag>{items}</rdf:Bag></dc:subject>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    ).encode()


def _picture(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """A sky-and-land landscape with a few shapes: varied, and cheap to make."""
    width, height = size
    sky = tuple(rng.randrange(90, 200) for _ in range(3))
    land = tuple(rng.randrange(20, 120) for _ in range(3))
    image = Image.new("RGB", size, sky)
    draw = ImageDraw.Draw(image)
    horizon = rng.randrange(height // 3, 2 * height // 3)
    draw.rectangle((0, horizon, width, height), fill=land)
    for _ in range(rng.randrange(3, 9)):
        x, y, r = rng.randrange(width), rng.randrange(height), rng.randrange(8, width // 6)
        colour = tuple(rng.randrange(256) for _ in range(3))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    return image


def make_demo_photos(
    folder: Path, *, per_album: int = 4, seed: int = 2024, size: tuple[int, int] = (800, 600)
) -> list[Path]:
    """Write the demo archive into `folder`; returns the files made."""
    rng = random.Random(seed)
    made: list[Path] = []
    start = datetime(2019, 5, 3, 9, 30)
    for album_number, (album, (place, keywords, make, model)) in enumerate(_ALBUMS.items()):
        for number in range(1, per_album + 1):
            taken = start + timedelta(days=700 * album_number + number, minutes=37 * number)
            path = folder / album / f"IMG_{album_number + 1}{number:03d}.jpg"
            path.parent.mkdir(parents=True, exist_ok=True)
            exif = Image.Exif()
            exif[0x010F], exif[0x0110] = make, model
            exif[0x0132] = taken.strftime("%Y:%m:%d %H:%M:%S")
            exif.get_ifd(_EXIF_IFD)[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
            picked = rng.sample(keywords, k=min(2, len(keywords)))
            xmp = _xmp(f"{place} #{number}", f"Day {number} in {place}.", [place, *picked])
            _picture(rng, size).save(path, "JPEG", quality=85, exif=exif, xmp=xmp)
            made.append(path)
    copy = folder / "2023 Kyoto" / "copy of IMG_3001.jpg"  # the same bytes under another name
    copy.write_bytes((folder / "2023 Kyoto" / "IMG_3001.jpg").read_bytes())
    notes = folder / "notes.jpg"  # a text file wearing a photo's name
    notes.write_text("Packing list: tripod, spare batteries, rain cover.\n", encoding="utf-8")
    empty = folder / "empty.jpg"
    empty.write_bytes(b"")
    return [*made, copy, notes, empty]
