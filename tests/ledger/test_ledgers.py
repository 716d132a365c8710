"""Both ledgers (SQLite, and S3 on moto's server) keep the same promises."""

from __future__ import annotations

import json
import multiprocessing
import socket
import time
from pathlib import Path

import pytest

from flickr_ingest.ledger import BUSY, CLAIMED, RECLAIMED, SqliteLedger, open_ledger
from flickr_ingest.ledger.base import album_claim_key
from flickr_ingest.ledger.s3 import S3Ledger
from tests.ledger.claimers import claim_in_step, opening_of


@pytest.fixture(params=["sqlite", "s3"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "sqlite":
        made = SqliteLedger(tmp_path / "ledger.sqlite3")
    else:
        s3 = request.getfixturevalue("s3")
        bucket = request.getfixturevalue("bucket")
        made = open_ledger(f"s3://{bucket}/ledger", state_dir=tmp_path, s3_client=s3)
        assert isinstance(made, S3Ledger)
    yield made
    made.close()


def test_the_first_record_wins(ledger) -> None:
    assert ledger.upload_for("me", "aa") is None
    first = ledger.record_upload("me", "aa", "111", "file:///a.jpg")
    second = ledger.record_upload("me", "aa", "222", "file:///copy.jpg")
    assert first.photo_id == second.photo_id == "111" and second.source == "file:///a.jpg"
    assert ledger.upload_for("me", "aa").photo_id == "111"
    assert ledger.upload_for("someone-else", "aa") is None


def test_paths_follow_uploads_replaces_and_moves(ledger) -> None:
    from flickr_ingest.ledger.base import PathRecord

    hostile = "file:///photos/" + "x" * 1100 + "/%2e%2e/ü.jpg"  # too long for an S3 key
    for uri in ("file:///photos/2019/a.jpg", hostile):
        assert ledger.photo_at("me", uri) is None
        ledger.record_upload("me", f"aa{len(uri)}", "111", uri)
        assert ledger.photo_at("me", uri) == PathRecord(uri, "111", f"aa{len(uri)}")
    uri = "file:///photos/2019/a.jpg"
    # A replace under way, then done: the new bytes are the photo's; the old ones are not.
    ledger.begin_replace("me", uri, "bb", "secret-before")
    assert ledger.photo_at("me", uri) == PathRecord(uri, "111", "aa25", "bb", "secret-before")
    ledger.record_upload("me", "bb", "111", uri)
    ledger.forget_upload("me", "aa25", "111")
    assert ledger.photo_at("me", uri) == PathRecord(uri, "111", "bb")
    assert ledger.upload_for("me", "aa25") is None and ledger.known_photo_id("me", "aa25") is None
    ledger.forget_upload("me", "bb", "999")  # not that photo's bytes: kept
    assert ledger.upload_for("me", "bb").photo_id == "111"
    # A move: the new path learns the photo, the old one is forgotten.
    ledger.record_path("me", "file:///photos/2019/sub/a.jpg", "111", "bb", "2019:05:01 10:00:00")
    assert ledger.photo_at("me", "file:///photos/2019/sub/a.jpg").taken == "2019:05:01 10:00:00"
    ledger.forget_path("me", uri)
    assert ledger.photo_at("me", uri) is None
    assert ledger.uris_under("me", "file:///photos/2019/") == ["file:///photos/2019/sub/a.jpg"]
    assert ledger.uris_under("someone-else", "file:///photos/") == []


def test_known_hashes_by_source_version(ledger) -> None:
    ledger.remember_hash("file:///a.jpg", "v1", "aa")
    assert ledger.known_hash("file:///a.jpg", "v1") == "aa"
    assert ledger.known_hash("file:///a.jpg", "v2") is None
    assert ledger.known_hash("file:///a.jpg", "") is None


def test_claims(ledger) -> None:
    assert ledger.claim("me", "bb", "run1:a") == CLAIMED
    assert ledger.claim("me", "bb", "run1:copy") == BUSY  # a live holder
    assert ledger.claim("me", "bb", "run1:a") == RECLAIMED  # the same task, another attempt
    ledger.release("me", "bb", "run1:a")
    assert ledger.claim("me", "bb", "run1:copy") == CLAIMED
    ledger.record_upload("me", "bb", "333", "file:///copy.jpg")  # also ends the claim
    assert ledger.claim("me", "bb", "run2:x") == CLAIMED


def test_a_claim_of_a_dead_process_or_an_old_one_is_taken_over(ledger, monkeypatch) -> None:
    import flickr_ingest.ledger.base as base

    dead = f"{socket.gethostname()}|999999999|crashed-run:a"
    monkeypatch.setattr(base, "holder_id", lambda key: dead)
    import flickr_ingest.ledger.s3 as s3_module
    import flickr_ingest.ledger.sqlite as sqlite_module

    monkeypatch.setattr(s3_module, "holder_id", lambda key: dead)
    monkeypatch.setattr(sqlite_module, "holder_id", lambda key: dead)
    assert ledger.claim("me", "cc", "crashed-run:a") == CLAIMED
    monkeypatch.undo()
    assert ledger.claim("me", "cc", "new-run:a") == RECLAIMED  # pid 999999999 does not run
    ledger.claim_timeout = 0.2
    assert ledger.claim("me", "dd", "other-host-task") == CLAIMED
    time.sleep(0.3)
    assert ledger.claim("me", "dd", "late-task") == RECLAIMED


@pytest.mark.integration  # claimers in processes of their own
def test_only_one_of_many_concurrent_claimers_wins(ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    """8 processes, each with its own ledger connection, ask for the same key at the same
    moment (a barrier before each key), key after key: each key is won by exactly one.
    Threads would share the ledger object's lock and prove nothing about the ledger's
    transaction (SQLite's BEGIN IMMEDIATE) or conditional write (S3's If-None-Match)."""
    if isinstance(ledger, S3Ledger):
        _make_moto_conditional_writes_atomic(monkeypatch)
    # SQLite claims take microseconds, so many rounds give collisions many chances;
    # each S3 claim is two HTTP requests to moto.
    rounds = 12 if isinstance(ledger, S3Ledger) else 100
    claimers, keys = 8, [f"ee{n:03d}" for n in range(rounds)]
    spawn = multiprocessing.get_context("spawn")  # fresh interpreters: nothing inherited
    in_step, answers = spawn.Barrier(claimers), spawn.Queue()
    processes = [
        spawn.Process(target=claim_in_step, args=(n, opening_of(ledger), keys, in_step, answers))
        for n in range(claimers)
    ]
    for process in processes:
        process.start()
    try:
        by_claimer = dict(answers.get(timeout=120) for _ in processes)
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    failed = {n: got for n, got in by_claimer.items() if isinstance(got, str)}
    causes = {n: got for n, got in failed.items() if not got.startswith("BrokenBarrier")}
    assert not failed, causes or failed  # what went wrong, not who stopped waiting for it
    for k, key in enumerate(keys):
        asked = [by_claimer[n][k] for n in range(claimers)]
        assert asked.count(CLAIMED) == 1 and asked.count(BUSY) == claimers - 1, (key, asked)


def _make_moto_conditional_writes_atomic(monkeypatch: pytest.MonkeyPatch) -> None:
    """S3 applies a PUT's If-None-Match / If-Match atomically; moto (5.x) looks for the
    object, then writes it, with no lock between, so two concurrent conditional PUTs can
    both succeed there. Its PUTs are made atomic here, as S3's are, so that what the test
    judges is the S3 ledger's use of conditional writes, not moto's."""
    import threading

    from moto.s3.responses import S3Response

    put_object, one_at_a_time = S3Response.put_object, threading.Lock()

    def atomic_put_object(self: S3Response):
        with one_at_a_time:
            return put_object(self)

    monkeypatch.setattr(S3Response, "put_object", atomic_put_object)


def test_album_records_first_wins_and_forget_only_the_named_album(ledger) -> None:
    assert ledger.album_id("me", "Trip / 2019") is None
    assert ledger.record_album("me", "Trip / 2019", "72157000000000001") == "72157000000000001"
    assert ledger.record_album("me", "Trip / 2019", "72157000000000002") == "72157000000000001"
    assert ledger.album_id("someone-else", "Trip / 2019") is None
    ledger.forget_album("me", "Trip / 2019", "72157000000000002")  # not the recorded one
    assert ledger.album_id("me", "Trip / 2019") == "72157000000000001"
    ledger.forget_album("me", "Trip / 2019", "72157000000000001")
    assert ledger.album_id("me", "Trip / 2019") is None
    # Album claims share the claim machinery under their own keys.
    key = album_claim_key("Trip / 2019")
    assert ledger.claim("me", key, "run1:album") == CLAIMED
    assert ledger.claim("me", key, "run2:album") == BUSY


def test_s3_ledger_reads_listings_not_one_object_per_file(s3, bucket: str, tmp_path: Path) -> None:
    ledger = open_ledger(f"s3://{bucket}/l", state_dir=tmp_path, s3_client=s3)
    for n in range(30):
        ledger.remember_hash(f"file:///{n}.jpg", "v", f"{n:064x}")
        ledger.record_upload("me", f"{n:064x}", str(1000 + n), f"file:///{n}.jpg")
    fresh = open_ledger(f"s3://{bucket}/l", state_dir=tmp_path, s3_client=s3)
    calls = []
    s3.meta.events.register("before-call.s3", lambda **kw: calls.append(kw["model"].name))
    found = [
        fresh.known_photo_id("me", fresh.known_hash(f"file:///{n}.jpg", "v")) for n in range(30)
    ]
    assert found == [str(1000 + n) for n in range(30)]
    assert calls.count("ListObjectsV2") == 2 and "GetObject" not in calls
    record = json.loads(s3.get_object(Bucket=bucket, Key=f"l/uploads/me/{0:064x}")["Body"].read())
    assert record["photo_id"] == "1000"


def test_paths_keep_the_picture_they_showed(ledger) -> None:
    """Issue #29: each path's record keeps its picture's prints, through uploads, path
    records and replaces; a record without them says None."""
    picture = "0123456789abcdef" * 16
    ledger.record_upload("me", "p1", "501", "file:///a.jpg", "2020:01:01 00:00:00", picture)
    assert ledger.photo_at("me", "file:///a.jpg").picture == picture
    ledger.begin_replace("me", "file:///a.jpg", "p2", "secret")
    assert ledger.photo_at("me", "file:///a.jpg").picture == picture  # until the record
    ledger.record_upload("me", "p2", "501", "file:///a.jpg", None, "f" * 256)
    assert ledger.photo_at("me", "file:///a.jpg").picture == "f" * 256
    ledger.record_path("me", "file:///b.jpg", "502", "p3")
    assert ledger.photo_at("me", "file:///b.jpg").picture is None


def test_a_ledger_from_before_prints_keeps_its_rows(tmp_path: Path) -> None:
    """The SQLite ledger of the version before: its paths table has no picture column."""
    import sqlite3

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE paths (account TEXT NOT NULL, uri TEXT NOT NULL, photo_id TEXT NOT"
            " NULL, sha256 TEXT NOT NULL, replacing_sha256 TEXT, replacing_secret TEXT, taken"
            " TEXT, PRIMARY KEY (account, uri))"
        )
        db.execute(
            "INSERT INTO paths VALUES ('me', 'file:///a.jpg', '77', 'aa', NULL, NULL, 'then')"
        )
    ledger = SqliteLedger(path)
    try:
        old = ledger.photo_at("me", "file:///a.jpg")
        assert (old.photo_id, old.sha256, old.taken, old.picture) == ("77", "aa", "then", None)
        ledger.record_path("me", "file:///b.jpg", "78", "bb", None, "e" * 256)
        assert ledger.photo_at("me", "file:///b.jpg").picture == "e" * 256
    finally:
        ledger.close()
    SqliteLedger(path).close()  # opened again: already migrated


@pytest.mark.parametrize(
    "planted",
    [
        b'{"holder": "host|\xc2\xb2|x", "claimed": "\xc2\xb2"}',  # '²'.isdigit() is True
        b'{"holder": 7, "claimed": 1e400}',
        b'{"claimed": 99999999999}',  # far ahead: it would hold the file for ever
        b"[" * 100_000,  # deeper than the parser can go
        b"not json",
    ],
)
def test_a_planted_claim_in_a_shared_ledger_is_taken_over(
    s3, bucket: str, tmp_path: Path, planted: bytes
) -> None:
    """Anyone who may write the ledger's bucket may plant a claim: none crashes a run
    or holds its file for ever."""
    ledger = open_ledger(f"s3://{bucket}/ledger", state_dir=tmp_path, s3_client=s3)
    assert ledger.claim("me", "ee", "first-task") == CLAIMED
    [key] = [
        entry["Key"]
        for entry in s3.list_objects_v2(Bucket=bucket, Prefix="ledger/claims/")["Contents"]
    ]
    s3.put_object(Bucket=bucket, Key=key, Body=planted)
    assert ledger.claim("me", "ee", "next-task") == RECLAIMED
    ledger.close()
