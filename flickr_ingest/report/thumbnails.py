"""Small JPEG thumbnails for the HTML report (the only place pixels are decoded)."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

from PIL import Image

logger = logging.getLogger(__name__)

THUMBNAIL_SIZE = (160, 160)
#: Refuse images past this many pixels (a "decompression bomb" declares billions).
MAX_PIXELS = 120_000_000


def make_thumbnail(source: Path, target: Path) -> bool:
    """Write a thumbnail of `source` to `target`; False (and no file) if it cannot be made."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source) as image:
                if image.width * image.height > MAX_PIXELS:
                    return False
                image.draft("RGB", THUMBNAIL_SIZE)  # JPEG: decode at 1/2..1/8 scale, cheaply
                image.thumbnail(THUMBNAIL_SIZE)
                target.parent.mkdir(parents=True, exist_ok=True)
                image.convert("RGB").save(target, "JPEG", quality=80)
        return True
    except Exception as error:  # any undecodable image: the report shows no thumbnail
        logger.debug("no thumbnail for %s: %s", source.name, error)
        target.unlink(missing_ok=True)
        return False
