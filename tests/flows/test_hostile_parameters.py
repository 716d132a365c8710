"""Flow parameters are hostile: a `run_id` names folders (and one of them is deleted at
the end of a run), so it must never lead outside the project's folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from flickr_ingest.claims import RunClaim, RunIdInUse
from flickr_ingest.errors import ConfigurationError
from flickr_ingest.paths import check_run_id, child
from flows.ingest import ingest
from tests.photos import jpeg_bytes

HOSTILE_RUN_IDS = ["../../victim", "..", ".", "a/b", "/etc", "a\\..\\b", "", "x" * 101, "a\nb"]


def test_a_run_id_that_climbs_out_deletes_and_writes_nothing_outside(
    flow_env: Path, sandbox
) -> None:
    """The reported attack: with <base>/state/tmp present (as after any S3 run), the run's
    cleanup removed <base>/victim and the report landed in <reports>/../victim."""
    base = flow_env
    victim = base / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep me")
    (base / "state" / "tmp").mkdir(parents=True)
    folder = base / "archive"
    folder.mkdir()
    with pytest.raises(ConfigurationError, match="run_id"):
        ingest({"source": str(folder)}, run_id="../../victim")
    assert (victim / "precious.txt").read_text() == "keep me"
    assert sorted(p.name for p in victim.iterdir()) == ["precious.txt"]
    assert not (base / "reports").exists() or not any((base / "reports").iterdir())


def test_a_run_id_another_run_holds_is_refused_and_that_run_keeps_its_files(
    flow_env: Path, sandbox
) -> None:
    """A fixed run_id on runs that overlap: the second would truncate the first one's
    record journal as it starts and delete its folder as it ends."""
    folder = flow_env / "archive"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(jpeg_bytes(1))
    journal = flow_env / "state" / "tmp" / "nightly" / "records.jsonl"
    journal.parent.mkdir(parents=True)
    journal.write_text('{"relative_path": "the first run\'s record"}\n')
    first_run = RunClaim(flow_env / "state" / "claims", "nightly")  # still going
    try:
        with pytest.raises(RunIdInUse, match="'nightly' is in use by another run"):
            ingest({"source": str(folder)}, run_id="nightly")
        assert journal.read_text() == '{"relative_path": "the first run\'s record"}\n'
        assert not (flow_env / "reports" / "nightly").exists()  # no report in its place
    finally:
        first_run.release()
    summary = ingest({"source": str(folder)}, run_id="nightly")  # the first run is over
    assert summary["totals"]["uploaded"] == 1


def test_a_run_refused_for_a_held_id_writes_no_report_in_that_runs_folder(
    flow_env: Path, sandbox
) -> None:
    """Even when it would have failed anyway (a mistyped source): a "could not start"
    report in <reports>/nightly would stand for the live run's until that one ends."""
    first_run = RunClaim(flow_env / "state" / "claims", "nightly")
    try:
        with pytest.raises(RunIdInUse):
            ingest({"source": str(flow_env / "typo")}, run_id="nightly")
        assert not (flow_env / "reports" / "nightly").exists()
    finally:
        first_run.release()


def test_a_run_that_fails_at_its_end_gives_its_id_back(
    flow_env: Path, sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report could not be saved (a full disk, S3 refusing): the run fails, and the
    next run with that id in the same process is not refused."""
    from flickr_ingest import pipeline

    folder = flow_env / "archive"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(jpeg_bytes(1))
    save = pipeline.save_report
    failures = iter([OSError(28, "No space left on device")])

    def save_once_failing(report, settings, **where):
        for error in failures:
            raise error
        return save(report, settings, **where)

    monkeypatch.setattr(pipeline, "save_report", save_once_failing)
    with pytest.raises(OSError, match="No space left"):
        ingest({"source": str(folder)}, run_id="weekly")
    assert not (flow_env / "state" / "claims" / "weekly").exists()
    summary = ingest({"source": str(folder)}, run_id="weekly")
    assert summary["totals"]["already_uploaded"] + summary["totals"]["uploaded"] == 1


@pytest.mark.parametrize("run_id", HOSTILE_RUN_IDS)
def test_hostile_run_ids_are_refused(run_id: str) -> None:
    with pytest.raises(ConfigurationError, match="not allowed"):
        check_run_id(run_id)


def test_ordinary_and_chunk_run_ids_pass(tmp_path: Path) -> None:
    for run_id in ("20261201-120000-abc123", "20261201-120000-abc123-chunk001", "nightly_1.2"):
        assert child(tmp_path, run_id) == tmp_path / run_id


def test_a_symlinked_run_folder_does_not_lead_outside(tmp_path: Path) -> None:
    (tmp_path / "reports").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "reports" / "run1").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ConfigurationError, match="outside"):
        child(tmp_path / "reports", "run1")
