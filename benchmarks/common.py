"""Shared helpers for the benchmarks: moto's S3 server, realistic photos, result files."""

from __future__ import annotations

import io
import json
import logging
import os
import platform
import random
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PIL import Image

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "system": platform.platform(),
    }


@contextmanager
def moto_s3() -> Iterator[Any]:
    """A boto3 S3 client talking to moto's server on a free loopback port."""
    from moto.server import ThreadedMotoServer

    from flickr_ingest.sources.s3 import make_client

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield make_client(f"http://127.0.0.1:{port}")
    finally:
        server.stop()


def camera_jpeg(seed: int, size_bytes: int) -> bytes:
    """A JPEG shaped like a camera's: EXIF with a thumbnail-sized block and XMP up front,
    then image data, `size_bytes` long in all."""
    rng = random.Random(seed)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", "Canon EOS R5"
    exif[0x0132] = f"2024:0{rng.randrange(1, 10)}:1{rng.randrange(0, 10)} 10:00:00"
    exif[0x010E] = f"Photo {seed}"
    exif.get_ifd(0x8769)[0x9003] = exif[0x0132]
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (rng.randrange(256), 80, 120)).save(
        out, "JPEG", exif=exif, quality=90
    )
    small = out.getvalue()
    padding = bytes(rng.getrandbits(8) for _ in range(4096)) * (size_bytes // 4096 + 1)
    body = small[:-2] + padding.replace(b"\xff", b"\xfe")  # no stray markers in the "scan"
    return body[: size_bytes - 2] + b"\xff\xd9"


def write_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(
        json.dumps(
            {"machine": machine(), "when": time.strftime("%Y-%m-%d %H:%M"), **data}, indent=2
        ),
        encoding="utf-8",
    )
    return path
