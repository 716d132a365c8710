"""The same picture: how often `flickr_ingest.pictures` takes an edit of a photo for
another picture (false reject: a re-export would go up as a second photo) and another
photo for the same picture (false accept: a photo would be replaced by a different one,
its bytes gone from Flickr), on the real sample photos edited in common ways.

    python3 -m benchmarks.pictures [FOLDER]     # default: the shared sample photos
                                                # (../shared/samples/photos)

Genuine pairs: each photo against its edits (crop, exposure, colour, resize, re-encode,
rotation by a quarter turn and by a few degrees, EXIF stripped). Impostor pairs: every
two different photos (the GPS samples are one walk's photos of one town), and for each
photo two overlapping frames of it (a pan: another photo of the same scene). Prints the
distances' spread and the rates at the thresholds in use, and suggests the thresholds.
"""

from __future__ import annotations

import io
import itertools
import sys
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageEnhance, ImageOps

from flickr_ingest.pictures import (
    MAX_DCT_BITS,
    MAX_DIFFERENCE_BITS,
    PicturePrints,
    distances,
    prints_of,
)

#: Where tests/photos.py finds them too.
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples" / "photos"


def _jpeg(image: Image.Image, quality: int = 92) -> Image.Image:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)  # no EXIF: stripped
    out.seek(0)
    return Image.open(out)


def _crop(image: Image.Image, share: float) -> Image.Image:
    w, h = image.size
    dx, dy = round(w * share), round(h * share)
    return image.crop((dx, dy, w - dx, h - dy))


EDITS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "EXIF stripped (re-saved)": lambda im: _jpeg(im, 95),
    "re-encode q60": lambda im: _jpeg(im, 60),
    "resize 50%": lambda im: _jpeg(im.resize((max(im.width // 2, 8), max(im.height // 2, 8)))),
    "crop 5% a side": lambda im: _jpeg(_crop(im, 0.05)),
    "crop 10% a side": lambda im: _jpeg(_crop(im, 0.10)),
    "crop 7% a side": lambda im: _jpeg(_crop(im, 0.07)),
    # Crops unlike the ones whose prints are kept (pictures.CROPS):
    "crop 12% left, 8% top": lambda im: _jpeg(
        im.crop((round(im.width * 0.12), round(im.height * 0.08), im.width, im.height))
    ),
    "crop 20% right, 5% bottom": lambda im: _jpeg(
        im.crop((0, 0, round(im.width * 0.8), round(im.height * 0.95)))
    ),
    "crop to a square, off centre": lambda im: _jpeg(
        ImageOps.fit(im, (min(im.size), min(im.size)), centering=(0.3, 0.3))
    ),
    "exposure +0.5 EV": lambda im: _jpeg(ImageEnhance.Brightness(im).enhance(1.41)),
    "exposure -0.5 EV": lambda im: _jpeg(ImageEnhance.Brightness(im).enhance(0.71)),
    "colour and contrast": lambda im: _jpeg(
        ImageEnhance.Contrast(ImageEnhance.Color(im).enhance(1.5)).enhance(1.2)
    ),
    "black and white": lambda im: _jpeg(ImageOps.grayscale(im)),
    "rotate 90°": lambda im: _jpeg(im.transpose(Image.Transpose.ROTATE_90)),
    "straighten 2°": lambda im: _jpeg(_crop(im.rotate(2, Image.Resampling.BICUBIC), 0.04)),
}


def _pans(image: Image.Image) -> tuple[Image.Image, Image.Image]:
    """Two frames of one scene, a third of the width apart (the camera moved)."""
    w, h = image.size
    return image.crop((0, 0, w * 2 // 3, h)), image.crop((w // 3, 0, w, h))


def photos(folder: Path) -> dict[str, Image.Image]:
    found = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.parent.name in ("broken", "invalid"):
            continue
        try:
            with Image.open(path) as image:
                image.draft("RGB", (320, 320))
                upright = ImageOps.exif_transpose(image).convert("RGB")
        except Exception as error:  # not an image Pillow reads (HEIF without a plugin)
            print(f"  left out {path.name}: {type(error).__name__}")
            continue
        if min(upright.size) >= 32:
            found[str(path.relative_to(folder))] = upright
    return found


def _worst(recorded: str, candidate: PicturePrints) -> tuple[int, int]:
    """The distances of the closest pair of prints (what `matches` decides on)."""
    kept = [recorded[i : i + 32] for i in range(0, len(recorded), 32)]
    return min(
        (distances(old, new) for old in kept for new in (candidate.upright, *candidate.turns)),
        key=lambda pair: (pair[0] > MAX_DCT_BITS or pair[1] > MAX_DIFFERENCE_BITS, sum(pair)),
    )


def measure(folder: Path) -> dict[str, object]:
    images = photos(folder)
    prints = {name: prints_of(image) for name, image in images.items()}
    genuine: list[tuple[str, str, tuple[int, int], bool]] = []
    for name, image in images.items():
        for edit, apply in EDITS.items():
            edited = prints_of(apply(image))
            genuine.append(
                (
                    name,
                    edit,
                    _worst(prints[name].recorded, edited),
                    edited.matches(prints[name].recorded),
                )
            )
    impostor: list[tuple[str, str, tuple[int, int], bool]] = []
    for a, b in itertools.permutations(images, 2):
        impostor.append(
            (a, b, _worst(prints[a].recorded, prints[b]), prints[b].matches(prints[a].recorded))
        )
    for name, image in images.items():
        left, right = (prints_of(frame) for frame in _pans(image))
        impostor.append(
            (name, "pan by a third", _worst(left.recorded, right), right.matches(left.recorded))
        )
    false_rejects = [g for g in genuine if not g[3]]
    false_accepts = [i for i in impostor if i[3]]
    return {
        "photos": len(images),
        "genuine": genuine,
        "impostor": impostor,
        "false_reject_rate": len(false_rejects) / len(genuine),
        "false_accept_rate": len(false_accepts) / len(impostor),
        "false_rejects": false_rejects,
        "false_accepts": false_accepts,
    }


def main() -> int:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else SAMPLES
    if not folder.is_dir():
        print(f"no photos at {folder}")
        return 1
    result = measure(folder)
    genuine, impostor = result["genuine"], result["impostor"]
    print(
        f"{result['photos']} photos; thresholds: DCT <= {MAX_DCT_BITS},"
        f" difference <= {MAX_DIFFERENCE_BITS} bits"
    )
    for edit in EDITS:
        rows = [g for g in genuine if g[1] == edit]  # type: ignore[union-attr]
        worst = max(r[2][0] for r in rows), max(r[2][1] for r in rows)
        rejected = sum(1 for r in rows if not r[3])
        print(f"  genuine  {edit:28} worst (DCT, diff) {worst}  rejected {rejected}/{len(rows)}")
    pairs = [i for i in impostor if i[1] != "pan by a third"]  # type: ignore[union-attr]
    pans = [i for i in impostor if i[1] == "pan by a third"]  # type: ignore[union-attr]
    for label, rows in (("other photos", pairs), ("pans (same scene)", pans)):
        closest = min(r[2][0] for r in rows), min(r[2][1] for r in rows)
        accepted = sum(1 for r in rows if r[3])
        print(
            f"  impostor {label:28} closest (DCT, diff) {closest}  accepted {accepted}/{len(rows)}"
        )
    print(f"false reject rate {result['false_reject_rate']:.1%} of {len(genuine)} edits")
    print(f"false accept rate {result['false_accept_rate']:.2%} of {len(impostor)} pairs")
    for row in result["false_rejects"]:  # type: ignore[union-attr]
        print("  rejected:", row[0], row[1], row[2])
    for row in result["false_accepts"]:  # type: ignore[union-attr]
        print("  accepted:", row[0], row[1], row[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
