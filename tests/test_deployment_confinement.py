"""What a deployment's run may touch (flickr_ingest/confinement.py): pure checks."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from flickr_ingest.confinement import check_confined, check_durable, within
from flickr_ingest.errors import ConfigurationError
from flickr_ingest.settings import IngestSettings

HERE = Path(__file__).resolve().parent


@pytest.mark.parametrize(
    ("location", "root", "inside"),
    [
        ("s3://b/inbox/a.jpg", "s3://b/inbox/", True),
        ("s3://b/inbox/", "s3://b/inbox/", True),
        ("s3://b/inbox-old/", "s3://b/inbox/", False),
        ("s3://b/inbox-old/", "s3://b/inbox", False),
        ("s3://b/inbox/x", "s3://b/inbox", True),
        ("s3://other/inbox/", "s3://b/inbox/", False),
        ("s3://b//inbox/", "s3://b/inbox/", False),  # the key "/inbox/" is another object
        ("s3://b/anything", "s3://b/", True),
        ("s3://b/inbox%2F/", "s3://b/inbox/", True),  # percent-encoded as in event ids
        ("/photos/inbox", "s3://b/inbox/", False),
        ("s3://b/inbox/", "/photos", False),
    ],
)
def test_within_for_s3(location: str, root: str, inside: bool) -> None:
    assert within(location, root) is inside


def test_within_for_folders_resolves_dots_and_links(tmp_path: Path) -> None:
    watched, private = tmp_path / "watched", tmp_path / "private"
    watched.mkdir()
    private.mkdir()
    (watched / "link").symlink_to(private)
    assert within(str(watched / "sub"), str(watched))
    assert not within(str(watched / ".." / "private"), str(watched))
    assert not within(str(watched / "link"), str(watched))  # a link leading out
    assert not within(str(tmp_path / "watched-old"), str(watched))


def _settings(**values: object) -> IngestSettings:
    return IngestSettings(**values)  # type: ignore[arg-type]


def test_a_source_or_report_outside_the_deployment_is_refused(tmp_path: Path) -> None:
    watched, reports = str(tmp_path / "inbox"), str(tmp_path / "reports")
    fine = _settings(source=f"{watched}/2019", report_dir=f"{reports}/x")
    check_confined(fine, sources=[watched], report_root=reports)
    with pytest.raises(ConfigurationError, match="outside what this deployment may read"):
        check_confined(
            _settings(source="/home/me/private", report_dir=reports),
            sources=[watched],
            report_root=reports,
        )
    with pytest.raises(ConfigurationError, match="outside the configured report location"):
        check_confined(
            _settings(source=watched, report_dir="/tmp/open"),
            sources=[watched],
            report_root=reports,
        )
    with pytest.raises(ConfigurationError, match="names no source"):
        check_confined(fine, sources=[], report_root=reports)
    # S3 keys of an event run must lie under the source too.
    keyed = _settings(
        source="s3://b/inbox/", keys=("inbox/a.jpg", "private/b.jpg"), report_dir="s3://b/r/"
    )
    with pytest.raises(ConfigurationError, match=r"'private/b\.jpg' is outside"):
        check_confined(keyed, sources=["s3://b/inbox/"], report_root="s3://b/r/")


def test_state_and_reports_that_would_not_outlive_the_run_are_refused(tmp_path: Path) -> None:
    durable = _settings(source="s3://b/in/", report_dir=str(tmp_path / "r"), state_dir="")
    check_durable(durable, working_dir=HERE)  # a served deployment's folder: not temporary
    with pytest.raises(ConfigurationError, match="FLICKR_INGEST_STATE_DIR"):
        check_durable(
            _settings(state_dir="flickr-ingest-state", report_dir="s3://b/r/"), working_dir=tmp_path
        )
    with pytest.raises(ConfigurationError, match="FLICKR_INGEST_REPORT_DIR"):
        check_durable(_settings(report_dir="flickr-ingest-reports"), working_dir=HERE)
    with pytest.raises(ConfigurationError, match="FLICKR_INGEST_LEDGER"):
        check_durable(
            _settings(report_dir="s3://b/r/", ledger="ledger.sqlite3"), working_dir=tmp_path
        )
    # Absolute, but inside a worker's temporary working folder: deleted after the run.
    work = Path(tempfile.mkdtemp(suffix="prefect"))
    inside = _settings(report_dir=str(work / "reports"))
    with pytest.raises(ConfigurationError, match="temporary working folder"):
        check_durable(inside, working_dir=work)
