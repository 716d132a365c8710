"""Issue #29: among files with the same bytes in one run, the plan decides which one
becomes the photo, not timing: the first in `copy_order` (the shallowest path, then path
order). The report's duplicates point to it; a local folder and an S3 bucket holding the
same tree agree."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import requests

from flickr_ingest.planning import UPLOAD, Candidate, Decision, chunks, upload_groups
from flows.ingest import ingest
from tests.photos import jpeg_bytes

#: Copies of the same bytes (by number), and which of each set is the photo; set 5 has
#: the size of set 4 and other bytes.
TREE = {
    "2019/Trip/Nikon_D70.jpg": 1,
    "2020/Family/Copy of Nikon_D70.jpg": 1,
    "2018/a/b/c/deep.jpg": 2,
    "zz.jpg": 2,
    "2021/x.jpg": 3,
    "2021/w.jpg": 3,
    "2021/y.jpg": 3,
    "alone.jpg": 4,
    "same-size-other.jpg": 5,
}
FIRST = {1: "2019/Trip/Nikon_D70.jpg", 2: "zz.jpg", 3: "2021/w.jpg"}
# More sets, the first in copy order listed first, in the middle or last: timing alone
# would get some of them wrong.
for _set in range(10, 22):
    _paths = [f"s{_set}/a/deep/copy.jpg", f"s{_set}/b.jpg", f"s{_set}/c/copy.jpg"]
    TREE.update(dict.fromkeys(_paths, _set))
    FIRST[_set] = _paths[1]


def _decision(path: str, size: int, key: str | None) -> Decision:
    return Decision(
        Candidate(f"file:///{path}", path, size, "1", "photo", "jpeg", copies_key=key), UPLOAD
    )


def test_possible_copies_go_in_one_group_and_one_chunk_first_in_copy_order() -> None:
    decisions = [_decision(f"f{n}.jpg", 1000 + n, None) for n in range(40)]
    decisions[5] = _decision("b/deeper.jpg", 5000, "k")
    decisions[30] = _decision("a.jpg", 5000, "k")
    decisions[17] = _decision("a/b.jpg", 5000, "k")
    groups = upload_groups(decisions, lanes=8)
    [group] = [g for g in groups if 5 in g]
    assert [decisions[i].candidate.relative_path for i in group if i in (5, 17, 30)] == [
        "a.jpg",
        "a/b.jpg",
        "b/deeper.jpg",
    ]
    assert sorted(i for g in groups for i in g) == list(range(40))
    split = chunks(decisions, 10)
    [chunk] = [c for c in split if decisions[5] in c]
    assert [d for d in chunk if d.candidate.copies_key] == [
        decisions[30],
        decisions[17],
        decisions[5],
    ]
    assert sum(map(len, split)) == 40


def _bytes(number: int) -> bytes:
    if number == 5:  # the same size as set 4, other bytes: not a copy
        data = bytearray(jpeg_bytes(4, size=(80, 60)))
        data[-3] ^= 0xFF
        return bytes(data)
    return jpeg_bytes(number, size=(80, 60))


def _check(report: dict) -> None:
    files = {f["relative_path"]: f for f in report["files"]}
    photo_of = {}
    for number, first in FIRST.items():
        assert files[first]["status"] == "uploaded", files[first]
        photo_of[number] = files[first]["photo_id"]
    for path, number in TREE.items():
        if path in FIRST.values() or number not in FIRST:
            assert files[path]["status"] == "uploaded", files[path]
            continue
        assert files[path]["status"] == "duplicate", files[path]
        assert files[path]["duplicate_of"] == photo_of[number]
        assert FIRST[number] in files[path]["reason"]


def _stored(sandbox) -> int:
    photos = requests.get(
        f"{sandbox.url}/sandbox/photos", headers=sandbox.admin_headers, timeout=10
    ).json()["photos"]
    return len([p for p in photos if p["status"] == "active"])


def test_local_and_s3_sources_pick_the_same_copy(
    flow_env: Path, sandbox, moto_server: str, s3, bucket: str, monkeypatch
) -> None:
    folder = flow_env / "tree"
    for path, number in TREE.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(_bytes(number))
        s3.put_object(Bucket=bucket, Key=f"tree/{path}", Body=_bytes(number))
    local = ingest({"source": str(folder), "concurrency": 8})
    _check(json.loads(Path(local["report"]["json"]).read_text()))
    expected = len(FIRST) + 2
    assert _stored(sandbox) == expected
    sandbox.state.reset()
    monkeypatch.setenv("FLICKR_INGEST_S3_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("FLICKR_INGEST_STATE_DIR", str(flow_env / f"state-{uuid.uuid4().hex}"))
    remote = ingest({"source": f"s3://{bucket}/tree/", "concurrency": 8})
    _check(json.loads(Path(remote["report"]["json"]).read_text()))
    assert _stored(sandbox) == expected
