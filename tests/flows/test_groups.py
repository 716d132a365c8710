"""Small files go up in groups, one task run each: still each file once, one record per
file, and a retry sends only what had not finished — with faults on a quarter of the
requests."""

from __future__ import annotations

import json
from pathlib import Path

import requests
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

from flickr_ingest.planning import (
    GROUP_BYTES,
    GROUP_FILES,
    GROUPS_PER_LANE,
    UPLOAD,
    Candidate,
    Decision,
    upload_groups,
)
from flows.ingest import ingest
from tests.photos import jpeg_bytes


def _decision(number: int, size: int, action: str = UPLOAD) -> Decision:
    candidate = Candidate(f"file:///p{number}", f"p{number}", size, "1", "photo", "jpeg")
    return Decision(candidate, action)


def _sizes(decisions: list[Decision], groups: list[list[int]]) -> list[int]:
    return [sum(decisions[i].candidate.size for i in group) for group in groups]


def test_groups_keep_every_lane_busy_and_take_about_as_long() -> None:
    mixed = [_decision(n, 100_000 + 37_000 * (n % 11)) for n in range(40)]
    mixed.append(_decision(40, 10, "skipped"))
    groups = upload_groups(mixed, lanes=8)
    assert sorted(i for g in groups for i in g) == list(range(40))  # every upload, once
    assert len(groups) == GROUPS_PER_LANE * 8  # two per lane: the last ones do not idle
    sizes = _sizes(mixed, groups)
    assert sizes == sorted(sizes, reverse=True)  # biggest first
    assert max(sizes) - min(sizes) <= max(d.candidate.size for d in mixed)  # dealt evenly
    assert upload_groups(mixed[:3], lanes=8) == [[2], [1], [0]]  # few files: one each


def test_groups_have_limits_and_big_files_go_alone() -> None:
    many = [_decision(n, 1000) for n in range(1000)]
    groups = upload_groups(many, lanes=8)
    assert sorted(i for g in groups for i in g) == list(range(1000))
    assert len(groups) == 1000 // GROUP_FILES and all(len(g) == GROUP_FILES for g in groups)
    heavy = [_decision(n, 900 * 1024) for n in range(40)]  # 36 MB: 5 groups of 8 at most
    heavy_groups = upload_groups(heavy, lanes=1)
    assert len(heavy_groups) == 5 and max(_sizes(heavy, heavy_groups)) <= GROUP_BYTES
    big = [_decision(n, GROUP_BYTES + n) for n in range(5)] + [_decision(5, 1000)]
    assert upload_groups(big, lanes=1) == [[4], [3], [2], [1], [0], [5]]  # big files alone
    # The groups fill whole rounds of lanes: 20 small files, 8 lanes, 16 groups, not 20.
    assert len(upload_groups([_decision(n, 1000) for n in range(20)], lanes=8)) == 16


def test_a_grouped_run_with_faults_uploads_each_file_once(flow_env: Path, sandbox) -> None:
    folder = flow_env / "many"
    folder.mkdir()
    count = 130  # 16 groups of 8 or 9 at 8 lanes
    for number in range(count):
        (folder / f"img{number:03d}.jpg").write_bytes(jpeg_bytes(40_000 + number))
    requests.post(
        f"{sandbox.url}/sandbox/faults",
        headers=sandbox.admin_headers,
        # 502, not 503: a 503 is a throttle signal that slows every upload (test_pacing);
        # here the faults are to be retried, not obeyed.
        json={"faults": "lost=0.1,502=0.1,105=0.05"},
        timeout=5,
    ).raise_for_status()
    try:
        state = ingest({"source": str(folder), "concurrency": 8}, return_state=True)
    finally:
        requests.post(
            f"{sandbox.url}/sandbox/faults",
            headers=sandbox.admin_headers,
            json={"faults": ""},
            timeout=5,
        )
    summary = state.result()
    report = json.loads(Path(summary["report"]["json"]).read_text(encoding="utf-8"))
    assert summary["ok"] and summary["totals"]["uploaded"] == count
    assert len(report["files"]) == count
    assert len({f["photo_id"] for f in report["files"]}) == count
    assert any(f["attempts"] > 1 for f in report["files"])  # some groups were retried
    photos = requests.get(
        f"{sandbox.url}/sandbox/photos", headers=sandbox.admin_headers, timeout=10
    ).json()["photos"]
    active = [p for p in photos if p["status"] == "active"]
    assert len(active) == count and len({p["sha256"] for p in active}) == count
    # One task run per group, not per file.
    with get_client(sync_client=True) as client:
        task_runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(
                id=FlowRunFilterId(any_=[state.state_details.flow_run_id])
            )
        )
    uploads = [t for t in task_runs if t.name.startswith("upload ")]
    assert uploads and len(uploads) < count // 5
