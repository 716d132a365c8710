"""Whether two files show the same picture, decided by their pixels (never by a name or
a date, which anyone who can write a file can choose).

A picture's print is two 64-bit perceptual hashes of the upright image (EXIF orientation
applied), 32 hex digits in all: a DCT hash (pHash: the signs of the lowest 8x8
frequencies of a 32x32 grey image against their median; it shrugs off exposure, colour,
resizing and re-encoding) and a difference hash (dHash: which of two neighbours of a 9x8
grey image is brighter; it follows the picture's layout). A re-export, a crop of a few
percent, an exposure or colour edit, a resize, a re-encode, stripped EXIF or a rotation
by quarter turns keeps both close; another photo of the same scene moves them apart.
`benchmarks/pictures.py` measured the thresholds (README, "The same picture").
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageOps

#: Most bits of each hash two prints of the same picture differ in (of 64). Measured by
#: benchmarks/pictures.py on the sample photos, edited (README, "The same picture").
MAX_DCT_BITS = 12
MAX_DIFFERENCE_BITS = 16

_SIDE = 32  # the DCT hash's grey image
_LOW = 8  # its frequencies kept per axis
_COSINES = [
    [math.cos(math.pi * (2 * x + 1) * u / (2 * _SIDE)) for x in range(_SIDE)] for u in range(_LOW)
]


#: Crops of a picture whose prints are kept too, as (left, top, right, bottom) shares
#: cut off: a crop changes the hashes of the whole frame more than any other common
#: edit. Centred a little and more, to a centred square, and from each corner.
CROPS: tuple[tuple[float, float, float, float], ...] = (
    (0.05, 0.05, 0.05, 0.05),
    (0.10, 0.10, 0.10, 0.10),
    (0.15, 0.15, 0.0, 0.0),
    (0.0, 0.15, 0.15, 0.0),
    (0.15, 0.0, 0.0, 0.15),
    (0.0, 0.0, 0.15, 0.15),
)
_PRINT = 32  # hex digits per print


@dataclass(frozen=True)
class PicturePrints:
    """The prints of a picture: as it stands and cropped a little (`recorded`: what the
    ledger keeps), and of its quarter turns (a photo rotated in an editor is the same
    picture)."""

    upright: str
    turns: tuple[str, ...]
    crops: tuple[str, ...]

    @property
    def recorded(self) -> str:
        """What the ledger keeps for a path: 256 hex digits (eight prints)."""
        return self.upright + "".join(self.crops)

    def matches(self, recorded: str) -> bool:
        """Whether the picture a `recorded` value (of the ledger, or of a rendition) was
        made from is this one: re-exported, edited, cropped or turned."""
        kept = [recorded[i : i + _PRINT] for i in range(0, len(recorded), _PRINT)]
        mine = (self.upright, *self.turns)
        return any(same_picture(old, new) for old in kept for new in mine)


def prints_of(image: Image.Image, *, turns: bool = True) -> PicturePrints:
    """`image` (any size; a thumbnail-sized decode is plenty) as prints, upright; its
    quarter turns only with `turns` (what a file's new bytes are judged by; recording
    a file sent needs none: about 4 ms instead of 6)."""
    upright = ImageOps.exif_transpose(image).convert("L")  # a copy, turned if need be
    turned = tuple(
        picture_print(upright.transpose(turn))
        for turn in (
            Image.Transpose.ROTATE_90,
            Image.Transpose.ROTATE_180,
            Image.Transpose.ROTATE_270,
        )
        if turns
    )
    crops = tuple(picture_print(_cropped(upright, *shares)) for shares in CROPS)
    crops += (picture_print(_square(upright)),)
    return PicturePrints(picture_print(upright), turned, crops)


def _cropped(
    image: Image.Image, left: float, top: float, right: float, bottom: float
) -> Image.Image:
    w, h = image.size
    return image.crop(
        (round(w * left), round(h * top), w - round(w * right), h - round(h * bottom))
    )


def _square(image: Image.Image) -> Image.Image:
    w, h = image.size
    side = min(w, h)
    return image.crop(((w - side) // 2, (h - side) // 2, (w + side) // 2, (h + side) // 2))


def picture_print(image: Image.Image) -> str:
    """The 32-hex-digit print of `image` as it is (no orientation applied)."""
    grey = image.convert("L")
    return _dct_hash(grey) + _difference_hash(grey)


def distances(a: str, b: str) -> tuple[int, int]:
    """Bits the two prints differ in: (DCT hash, difference hash)."""
    return _bits(a[:16], b[:16]), _bits(a[16:32], b[16:32])


def same_picture(a: str, b: str) -> bool:
    if not (_valid(a) and _valid(b)):
        return False
    dct, difference = distances(a, b)
    return dct <= MAX_DCT_BITS and difference <= MAX_DIFFERENCE_BITS


def _valid(value: str) -> bool:
    return len(value) == _PRINT and all(c in "0123456789abcdef" for c in value)


def _bits(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def _dct_hash(grey: Image.Image) -> str:
    pixels = _pixels(grey.resize((_SIDE, _SIDE), Image.Resampling.LANCZOS))
    rows = [pixels[y * _SIDE : (y + 1) * _SIDE] for y in range(_SIDE)]
    # The 2-D DCT-II's lowest 8x8 frequencies: along x for each row, then along y.
    along_x = [[_dot(_COSINES[u], row) for u in range(_LOW)] for row in rows]
    low = [
        _dot(_COSINES[v], [along_x[y][u] for y in range(_SIDE)])
        for v in range(_LOW)
        for u in range(_LOW)
    ]
    middle = sorted(low)[len(low) // 2 - 1 : len(low) // 2 + 1]
    median = sum(middle) / 2
    return _hex([value > median for value in low])


def _difference_hash(grey: Image.Image) -> str:
    pixels = _pixels(grey.resize((9, 8), Image.Resampling.LANCZOS))
    return _hex([pixels[y * 9 + x + 1] > pixels[y * 9 + x] for y in range(8) for x in range(8)])


def _pixels(grey: Image.Image) -> list[int]:
    """The grey levels, row by row (one byte a pixel; getdata() is deprecated)."""
    return list(grey.convert("L").tobytes())


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    total: float = sum(map(operator.mul, a, b))
    return total


def _hex(bits: list[bool]) -> str:
    return f"{sum(1 << i for i, bit in enumerate(reversed(bits)) if bit):016x}"
