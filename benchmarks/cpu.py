"""CPU per photo: camera-sized JPEGs (1–4 MB of real image data, camera-style EXIF) go
up through the `ingest` flow with default settings (8 at once, thumbnails on) against
an unshaped sandbox, and the CPU (user + sys) of the process doing the run is counted.

    python3 -m benchmarks.cpu [--photos 120]

Every measurement is a fresh process that reads its own CPU (all its threads) before
and after the run; the sandbox and Prefect's server run in processes of their own, so
their CPU is not counted. A run of nothing is measured the same way and taken off (the
flow run's fixed cost): what is left is the cost of the photos. Each is measured twice
and the lesser counts (other work on the machine only ever adds). The process's whole
CPU, startup and exit included, is in the results too. Rows:

- the flow, on JPEGs with the 160x120 EXIF thumbnail cameras and phones write;
- the flow, on the same JPEGs without one (the thumbnail is decoded from the image);
- python-flickrapi 2.4.0 in a sequential loop over the same files (a plain uploader).

Target (issue 14): at most 30 ms of CPU a photo, thumbnails included.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops

from benchmarks.common import point_pipeline_at, reset, sandbox_process, write_result

TARGET_MS = 30.0
#: Pixel templates: a phone's 4:3 and a camera's 3:2, each at noise levels that make
#: files of about 1 to 4 MB at quality 90. Files are templates with their own EXIF.
_SHAPES = ((4032, 3024), (4000, 2667))
_GRAIN = (1.5, 2.5, 3.5, 5.0, 6.5, 7.5)


# -- camera-like JPEGs -------------------------------------------------------------------


def _picture(size: tuple[int, int], grain: float, seed: int) -> Image.Image:
    """Smooth colour fields plus sensor-like grain (how much decides the file size)."""
    rng = random.Random(seed)
    width, height = size
    fields = Image.frombytes("RGB", (16, 12), rng.randbytes(16 * 12 * 3))
    spread = grain / 73.9  # uniform bytes have a standard deviation of 73.9
    table = [max(0, min(255, round(128 + (value - 128) * spread))) for value in range(256)]
    noise = Image.frombytes("L", size, rng.randbytes(width * height)).point(table)
    smooth = fields.resize(size, Image.Resampling.BICUBIC)
    return ImageChops.add(smooth, noise.convert("RGB"), offset=-128)


def _camera_thumbnail(picture: Image.Image) -> bytes:
    """The 160x120 EXIF thumbnail a camera writes: the picture, letterboxed if not 4:3."""
    small = picture.copy()
    small.thumbnail((160, 120))
    boxed = Image.new("RGB", (160, 120))
    boxed.paste(small, ((160 - small.width) // 2, (120 - small.height) // 2))
    out = io.BytesIO()
    boxed.save(out, "JPEG", quality=90)
    return out.getvalue()


_ASCII, _SHORT, _LONG, _RATIONAL, _UNDEFINED = 2, 3, 4, 5, 7
_Entry = tuple[int, int, int, bytes]  # tag, type, count, value (big-endian)


def _ascii(tag: int, text: str) -> _Entry:
    data = text.encode() + b"\0"
    return tag, _ASCII, len(data), data


def _short(tag: int, value: int) -> _Entry:
    return tag, _SHORT, 1, struct.pack(">H", value)


def _long(tag: int, value: int) -> _Entry:
    return tag, _LONG, 1, struct.pack(">I", value)


def _rationals(tag: int, *values: tuple[int, int]) -> _Entry:
    return tag, _RATIONAL, len(values), b"".join(struct.pack(">II", *v) for v in values)


def _tiff(ifds: list[list[_Entry]], pointers: dict[tuple[int, int], int], tail: bytes) -> bytes:
    """A big-endian TIFF (as Canon and Nikon write EXIF) of `ifds` in this order, then
    `tail`. `pointers` maps (ifd index, tag) to the index of the IFD it points at, tag -1
    being the next-IFD link; tag 0x0201 (the thumbnail's offset) points at `tail`."""
    sizes = [2 + 12 * len(ifd) + 4 + sum(len(e[3]) for e in ifd if len(e[3]) > 4) for ifd in ifds]
    starts = [8 + sum(sizes[:n]) for n in range(len(ifds))]
    tail_at = 8 + sum(sizes)
    out = bytearray(b"MM\x00\x2a" + struct.pack(">I", 8))
    for number, ifd in enumerate(ifds):
        entries = sorted(ifd)
        data_at = starts[number] + 2 + 12 * len(entries) + 4
        table, data = bytearray(struct.pack(">H", len(entries))), bytearray()
        for tag, kind, count, value in entries:
            if (number, tag) in pointers:
                value = struct.pack(">I", starts[pointers[number, tag]])
            elif tag == 0x0201:
                value = struct.pack(">I", tail_at)
            if len(value) > 4:
                table += struct.pack(">HHII", tag, kind, count, data_at + len(data))
                data += value
            else:
                table += struct.pack(">HHI", tag, kind, count) + value.ljust(4, b"\0")
        following = starts[pointers[number, -1]] if (number, -1) in pointers else 0
        out += table + struct.pack(">I", following) + data
    return bytes(out + tail)


def camera_exif(seed: int, size: tuple[int, int], thumbnail: bytes | None) -> bytes:
    """An APP1 EXIF segment as a camera writes it: IFD0, the Exif IFD with a maker note,
    GPS, and (if given) IFD1 holding the JPEG thumbnail."""
    rng = random.Random(seed)
    day = f"2024:{rng.randrange(1, 13):02d}:{rng.randrange(1, 29):02d}"
    taken = f"{day} {rng.randrange(8, 20):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}"
    ifd0 = [
        _ascii(0x010F, "Canon"),
        _ascii(0x0110, "Canon EOS R6"),
        _short(0x0112, 1),
        _rationals(0x011A, (72, 1)),
        _rationals(0x011B, (72, 1)),
        _short(0x0128, 2),
        _ascii(0x0131, "Firmware Version 1.8.1"),
        _ascii(0x0132, taken),
        _ascii(0x013B, "Photographer"),
        _short(0x0213, 2),
        _long(0x8769, 0),  # the Exif IFD
        _long(0x8825, 0),  # GPS
    ]
    exif_ifd = [
        _rationals(0x829A, (1, rng.choice((60, 125, 250, 500)))),
        _rationals(0x829D, (rng.choice((28, 40, 56, 80)), 10)),
        _short(0x8827, rng.choice((100, 200, 400, 800))),
        (0x9000, _UNDEFINED, 4, b"0231"),
        _ascii(0x9003, taken),
        _ascii(0x9004, taken),
        _rationals(0x920A, (rng.randrange(24, 105), 1)),
        (0x927C, _UNDEFINED, 24_000, random.Random(seed).randbytes(24_000)),  # maker note
        _long(0xA002, size[0]),
        _long(0xA003, size[1]),
        _ascii(0xA434, "RF24-105mm F4 L IS USM"),
    ]
    gps = [
        (0x0000, 1, 4, b"\x02\x03\x00\x00"),
        _ascii(0x0001, "N"),
        _rationals(0x0002, (52, 1), (rng.randrange(60), 1), (rng.randrange(6000), 100)),
        _ascii(0x0003, "E"),
        _rationals(0x0004, (4, 1), (rng.randrange(60), 1), (rng.randrange(6000), 100)),
    ]
    ifds, pointers = [ifd0, exif_ifd, gps], {(0, 0x8769): 1, (0, 0x8825): 2}
    tail = b""
    if thumbnail is not None:
        ifd1 = [
            _short(0x0103, 6),  # JPEG
            _rationals(0x011A, (72, 1)),
            _rationals(0x011B, (72, 1)),
            _short(0x0128, 2),
            _long(0x0201, 0),
            _long(0x0202, len(thumbnail)),
        ]
        ifds.append(ifd1)
        pointers[0, -1] = 3  # IFD0's next IFD
        tail = thumbnail
    payload = b"Exif\x00\x00" + _tiff(ifds, pointers, tail)
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def make_photos(work: Path, count: int) -> dict[str, Path]:
    """`count` JPEGs in each of two folders, "thumbnail" (with the EXIF thumbnail) and
    "plain" (without; otherwise the same bytes): pixel templates (12, or fewer for a
    small count), each written with several EXIF blocks so that every file is unique."""
    folders = {"thumbnail": work / "thumbnail", "plain": work / "plain"}
    for folder in folders.values():
        folder.mkdir(parents=True)
    every = [(_SHAPES[(g + k) % 2], grain) for g, grain in enumerate(_GRAIN) for k in (0, 1)]
    wanted = min(len(every), max(1, count // 5))  # fewer: spread over sizes and shapes
    templates = [every[n * len(every) // wanted] for n in range(wanted)]
    for number, (shape, grain) in enumerate(templates):
        picture = _picture(shape, grain, seed=number)
        encoded = io.BytesIO()
        picture.save(encoded, "JPEG", quality=90)  # JFIF, no EXIF: ours goes after SOI
        data = encoded.getvalue()
        image_data = data[4 + struct.unpack(">H", data[4:6])[0] :]
        thumbnail = _camera_thumbnail(picture)
        for copy in range(number, count, len(templates)):
            name = f"IMG_{copy:04d}.JPG"
            for key, embedded in (("thumbnail", thumbnail), ("plain", None)):
                exif = camera_exif(copy, shape, embedded)
                (folders[key] / name).write_bytes(data[:2] + exif + image_data)
    return folders


# -- the measured processes ---------------------------------------------------------------


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def flow_here(folder: Path) -> dict[str, float]:
    """The `ingest` flow over `folder`, in this fresh process (Prefect's server is the
    one PREFECT_API_URL names)."""
    from flows.ingest import ingest

    before = _cpu_seconds()
    summary = ingest({"source": str(folder), "concurrency": 8})
    assert summary["totals"]["uploaded"] == len(list(folder.iterdir())), summary["totals"]
    return {"call": _cpu_seconds() - before}


def flickrapi_here(folder: Path, account: dict[str, Any]) -> dict[str, float]:
    """python-flickrapi's upload, one file after another, as its users write it."""
    from benchmarks.throughput import _flickrapi

    api = _flickrapi(account)
    before = _cpu_seconds()
    for path in sorted(folder.iterdir()):
        api.upload(str(path), title=path.stem, format="etree")
    return {"call": _cpu_seconds() - before}


def measure(
    variant: str, folder: Path, account: dict[str, Any], work: Path, profile: Path | None = None
) -> dict[str, float]:
    """One measurement in a fresh process, the sandbox reset and a ledger of its own:
    CPU seconds (user + sys) of the run itself ("call", read by the process) and of the
    whole process ("process", from wait4 at its exit). With `profile`, py-spy samples
    that process into this file (its "process" then includes py-spy's)."""
    reset(account)
    point_pipeline_at(account, work)
    command = [sys.executable, "-m", "benchmarks.cpu", "--one", variant, "--folder", str(folder)]
    command += ["--account", json.dumps(account)]
    if profile is not None:
        spy = ["py-spy", "record", "--format", "raw", "-r", "200", "-o", str(profile), "--"]
        command = spy + command
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(command, stdout=out, stderr=err)  # noqa: S603
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if child.returncode != 0:
        raise RuntimeError(f"{variant} run failed:\n{stdout[-3000:]}\n{stderr[-3000:]}")
    answer = [line for line in stdout.splitlines() if line.startswith("{")][-1]
    return {
        **json.loads(answer),
        "process": usage.ru_utime + usage.ru_stime,
        "wall": time.perf_counter() - started,
    }


def run(photos: int, repeats: int = 2, profile_dir: Path | None = None) -> dict[str, Any]:
    """Each measurement `repeats` times, interleaved; the least CPU of each counts."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    work = Path(tempfile.mkdtemp(prefix="bench-cpu-"))
    folders = make_photos(work, photos)
    empty = work / "empty"
    empty.mkdir()
    sizes = [path.stat().st_size for path in folders["thumbnail"].iterdir()]
    plan = [
        ("flow", "flow_empty", empty),
        ("flow", "flow_exif_thumbnail", folders["thumbnail"]),
        ("flow", "flow_no_exif_thumbnail", folders["plain"]),
        ("flickrapi", "flickrapi_loop", folders["thumbnail"]),
    ]
    raw: dict[str, list[dict[str, float]]] = {name: [] for _, name, _ in plan}
    os.environ.update(PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_LOGGING_LEVEL="WARNING")
    with sandbox_process() as account, prefect_test_harness(server_startup_timeout=180):
        os.environ["PREFECT_API_URL"] = PREFECT_API_URL.value()  # for the measured processes
        try:
            for repeat in range(repeats):
                for variant, name, folder in plan:
                    spy = profile_dir and folder != empty and repeat == 0
                    profile = profile_dir / f"{name}.txt" if spy else None
                    state = work / f"state-{name}-{repeat}"
                    raw[name].append(measure(variant, folder, account, state, profile))
                    print(f"  cpu {name}: {raw[name][-1]}", file=sys.stderr)
        finally:
            del os.environ["PREFECT_API_URL"]
    least = {name: min(m["call"] for m in runs) for name, runs in raw.items()}

    def per_photo(name: str) -> float:  # less the run of nothing
        return round(1000 * (least[name] - least["flow_empty"]) / photos, 1)

    return {
        "photos": photos,
        "megabytes": round(sum(sizes) / 1e6, 1),
        "file_mb": [round(min(sizes) / 1e6, 2), round(max(sizes) / 1e6, 2)],
        "concurrency": 8,
        "repeats": repeats,
        "cpu_ms_per_photo": {
            "ingest_exif_thumbnail": per_photo("flow_exif_thumbnail"),
            "ingest_no_exif_thumbnail": per_photo("flow_no_exif_thumbnail"),
            "flickrapi_loop": round(1000 * least["flickrapi_loop"] / photos, 1),  # the loop alone
        },
        "empty_run_cpu_seconds": round(least["flow_empty"], 2),
        "measurements": {
            name: [{key: round(value, 3) for key, value in m.items()} for m in runs]
            for name, runs in raw.items()
        },
    }


def table(result: dict[str, Any]) -> list[str]:
    ms = result["cpu_ms_per_photo"]
    low, high = result["file_mb"]
    return [
        f"| CPU: {result['photos']} camera JPEGs of {low}–{high} MB ({result['megabytes']} MB) "
        "| CPU ms/photo | target |",
        "|---|---|---|",
        f"| ingest flow, {result['concurrency']} at once, EXIF thumbnail in the files "
        f"| **{ms['ingest_exif_thumbnail']}** | ≤ {TARGET_MS:g} |",
        f"| ingest flow, same pixels, no EXIF thumbnail | {ms['ingest_no_exif_thumbnail']} | |",
        f"| python-flickrapi 2.4.0, sequential loop | {ms['flickrapi_loop']} | |",
        f"| (taken off the flow's rows: a run of nothing, {result['empty_run_cpu_seconds']} s) "
        "| | |",
    ]


def targets_met(result: dict[str, Any]) -> bool:
    return result["cpu_ms_per_photo"]["ingest_exif_thumbnail"] <= TARGET_MS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photos", type=int, default=120)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--profile-dir",
        type=Path,
        help="py-spy each measured run into this folder (collapsed stacks)",
    )
    parser.add_argument("--one", choices=["flow", "flickrapi"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--account", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one == "flow":  # a measured process
        print(json.dumps(flow_here(args.folder)))
        return 0
    if args.one == "flickrapi":
        print(json.dumps(flickrapi_here(args.folder, json.loads(args.account))))
        return 0
    if args.profile_dir:
        args.profile_dir.mkdir(parents=True, exist_ok=True)
    result = run(args.photos, args.repeats, args.profile_dir)
    path = write_result("cpu", result)
    print("\n".join(table(result)))
    print(f"results: {path}")
    return 0 if targets_met(result) else 1


if __name__ == "__main__":
    sys.exit(main())
