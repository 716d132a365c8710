"""Shared helpers for the benchmarks: moto's S3 server, realistic photos, result files."""

from __future__ import annotations

import io
import json
import os
import platform
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
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
    """A boto3 S3 client talking to moto's server, run in its own process on a free
    loopback port (S3 is another machine: its work must not share this process's CPU)."""
    from flickr_ingest.sources.s3 import make_client

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    server = subprocess.Popen(  # noqa: S603  (moto's own server, fixed arguments)
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{url}/moto-api/", timeout=2)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield make_client(url)
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextmanager
def sandbox_process(*options: str) -> Iterator[dict[str, Any]]:
    """`flickr-ingest sandbox` in its own process (so this process's CPU is the client's
    alone); yields its account line (url, api_key, …)."""
    process = subprocess.Popen(  # noqa: S603  (our own command, fixed arguments)
        [sys.executable, "-m", "flows.cli", "sandbox", *options],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield json.loads(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(timeout=30)


def admin(account: dict[str, Any]) -> dict[str, str]:
    """The header the sandbox's control endpoints (`/sandbox/…`) want: the admin token of
    its JSON line."""
    return {"Authorization": f"Bearer {account['admin_token']}"}


def shape(account: dict[str, Any], **settings: Any) -> None:
    """Change the sandbox's network and behaviour (latency, bandwidth, delays, …)."""
    requests.post(
        f"{account['url']}/sandbox/faults", headers=admin(account), json=settings, timeout=30
    ).raise_for_status()


def reset(account: dict[str, Any]) -> None:
    requests.post(
        f"{account['url']}/sandbox/reset", headers=admin(account), timeout=60
    ).raise_for_status()


def point_pipeline_at(account: dict[str, Any], work: Path) -> None:
    """Environment for the pipeline: the sandbox as Flickr, state and reports in `work`,
    quiet Prefect. Every other setting is the default a user gets (the REST budget of
    3,600 calls an hour included)."""
    os.environ.update(
        FLICKR_BASE_URL=account["url"],
        FLICKR_API_KEY=account["api_key"],
        FLICKR_API_SECRET=account["api_secret"],
        FLICKR_OAUTH_TOKEN=account["oauth_token"],
        FLICKR_OAUTH_TOKEN_SECRET=account["oauth_token_secret"],
        FLICKR_INGEST_STATE_DIR=str(work / "state"),
        FLICKR_INGEST_REPORT_DIR=str(work / "reports"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_LEVEL="WARNING",
    )


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
