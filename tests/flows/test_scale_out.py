"""Scale-out on real services: a Prefect server on this machine's PostgreSQL and Redis,
two process workers of one pool, moto's S3 (source, shared ledger, reports) and the
sandbox, every Flickr setting at its default. 60 photos in 3 folders, triggered twice at
once with an album per folder, each run split into chunks of 20 that the workers share:
every photo reaches the sandbox exactly once, each album holds its photos once and in
date-taken order, one report per run still accounts for every file, and the REST calls
stay a few per flow run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.photos import jpeg_bytes
from tests.prefect_servers import running_prefect_server
from tests.services import require_listening

pytestmark = pytest.mark.integration  # PostgreSQL, Redis, a Prefect server and workers

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = 60
CHUNK = 20
PG = "postgresql+asyncpg://postgres@127.0.0.1:5432"


def _postgres(sql: str) -> None:
    """One statement on this machine's PostgreSQL (asyncpg is Prefect's own driver)."""
    import asyncio

    import asyncpg

    async def execute() -> None:
        connection = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(execute())


@pytest.fixture
def prefect_on_postgres() -> Iterator[tuple[str, dict[str, str]]]:
    """A Prefect server on a fresh PostgreSQL database, with Redis for messaging, event
    ordering and concurrency leases; yields its API URL and the environment it runs in.
    Skips the test where either service is absent."""
    require_listening(
        "PostgreSQL", 5432, why="the scale-out test's Prefect server keeps its data in it"
    )
    require_listening(
        "Redis", 6379, why="the scale-out test's Prefect server sends its messages through it"
    )
    database = f"flickr_ingest_{uuid.uuid4().hex[:10]}"
    _postgres(f"CREATE DATABASE {database}")
    redis_db = 13
    import redis

    redis.Redis(host="127.0.0.1", port=6379, db=redis_db).flushdb()
    home = Path(tempfile.mkdtemp(prefix="prefect-pg-"))
    settings = {
        "PREFECT_API_DATABASE_CONNECTION_URL": f"{PG}/{database}",
        "PREFECT_MESSAGING_BROKER": "prefect_redis.messaging",
        "PREFECT_MESSAGING_CACHE": "prefect_redis.messaging",
        "PREFECT_SERVER_EVENTS_CAUSAL_ORDERING": "prefect_redis.ordering",
        "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": "prefect_redis.lease_storage",
        "PREFECT_REDIS_MESSAGING_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "PREFECT_LOGGING_LEVEL": "INFO",
    }
    try:
        with running_prefect_server(home, settings) as (api_url, env):
            yield api_url, env
    finally:
        _postgres(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        redis.Redis(host="127.0.0.1", port=6379, db=redis_db).flushdb()
        shutil.rmtree(home, ignore_errors=True)


def _wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def _put_photos(s3, bucket: str) -> dict[str, list[str]]:
    """60 photos in 3 folders, taken on dates that run against their names; returns, per
    folder, the photos' sha256 in date-taken order (their album's expected order)."""
    taken: dict[str, list[tuple[str, str]]] = {}
    for number in range(PHOTOS):
        folder = ("2017", "2018", "2019")[number % 3]
        stamp = f"{folder}:06:{28 - number // 3:02d} 10:00:00"  # later names, earlier days
        body = jpeg_bytes(7000 + number, size=(96, 72), taken=stamp)
        s3.put_object(Bucket=bucket, Key=f"archive/{folder}/img{number:03d}.jpg", Body=body)
        taken.setdefault(folder, []).append((stamp, hashlib.sha256(body).hexdigest()))
    return {folder: [sha for _, sha in sorted(photos)] for folder, photos in taken.items()}


def _start_worker(name: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        # At most 4 flow runs each: 2 runs + their 6 chunks need both workers.
        ["prefect", "worker", "start", "--pool", "flickr-ingest", "--name", name, "--limit", "4"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def test_two_workers_share_chunks_and_the_ledger(
    prefect_on_postgres, sandbox, moto_server: str, s3, bucket: str, tmp_path: Path
) -> None:
    api_url, server_env = prefect_on_postgres
    album_order = _put_photos(s3, bucket)
    account = sandbox.account
    env = {
        **server_env,
        "PREFECT_WORKER_QUERY_SECONDS": "2",
        "FLICKR_BASE_URL": sandbox.url,
        "FLICKR_API_KEY": account.api_key,
        "FLICKR_API_SECRET": account.api_secret,
        "FLICKR_OAUTH_TOKEN": account.oauth_token,
        "FLICKR_OAUTH_TOKEN_SECRET": account.oauth_token_secret,
        "FLICKR_INGEST_LEDGER": f"s3://{bucket}/ledger",
        "FLICKR_INGEST_REPORT_DIR": f"s3://{bucket}/reports",
        "FLICKR_INGEST_STATE_DIR": str(tmp_path / "state"),
        # The batch runs read the archive, not the watched inbox: the worker allows it.
        "FLICKR_INGEST_ALLOWED_SOURCES": f"s3://{bucket}/archive/",
        "FLICKR_INGEST_S3_ENDPOINT_URL": moto_server,
        # moto's test credentials: the server started before this test set them.
        **{name: os.environ[name] for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")},
        "AWS_DEFAULT_REGION": os.environ["AWS_DEFAULT_REGION"],
        "FLICKR_INGEST_RETRY_BACKOFF_SECONDS": "0.2",
        "FLICKR_INGEST_CONCURRENCY": "8",
    }
    for command in (
        [sys.executable, "-m", "flows.cli", "setup"],
        ["prefect", "variable", "set", "flickr_ingest_watch", f"s3://{bucket}/inbox/"],
        ["prefect", "variable", "set", "flickr_ingest_reports", f"s3://{bucket}/reports"],
        ["prefect", "--no-prompt", "deploy", "--all", "--prefect-file", "deployments/prefect.yaml"],
    ):
        done = subprocess.run(
            command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stdout + done.stderr
    workers = {name: _start_worker(name, env) for name in ("worker-a", "worker-b")}
    try:
        from prefect.client.orchestration import get_client
        from prefect.deployments import run_deployment
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings({PREFECT_API_URL: api_url}):
            parents = [
                run_deployment(
                    "ingest/batch",
                    parameters={
                        "settings": {
                            "source": f"s3://{bucket}/archive/",
                            "chunk_size": CHUNK,
                            "album": "folder",
                        },
                        "run_id": run_id,
                    },
                    timeout=0,
                )
                for run_id in ("scale-a", "scale-b")
            ]
            with get_client(sync_client=True) as client:

                def finished() -> bool:
                    states = [client.read_flow_run(p.id).state for p in parents]
                    return all(state is not None and state.is_final() for state in states)

                _wait_for(finished, 600, "both runs")
                parent_states = [client.read_flow_run(p.id).state.name for p in parents]
                runs = client.read_flow_runs()
        chunk_runs = [run for run in runs if "-chunk" in run.name]
    finally:
        outputs = {}
        for name, worker in workers.items():
            worker.terminate()
            try:
                outputs[name] = worker.communicate(timeout=30)[0]
            except subprocess.TimeoutExpired:
                worker.kill()
                outputs[name] = worker.communicate()[0]

    assert parent_states == ["Completed", "Completed"], outputs
    assert len(chunk_runs) >= 3 and all(run.state.name == "Completed" for run in chunk_runs)
    # Both workers took flow runs from the pool.
    for name, output in outputs.items():
        assert f"Worker '{name}' submitting flow run" in output, output[-3000:]

    # Every photo on the sandbox exactly once.
    photos = requests.get(
        f"{sandbox.url}/sandbox/photos", headers=sandbox.admin_headers, timeout=30
    ).json()["photos"]
    active = [p for p in photos if p["status"] == "active"]
    assert len(active) == PHOTOS and len({p["sha256"] for p in active}) == PHOTOS

    # One album per folder, though two runs in several processes filled each at once:
    # each holds its 20 photos, in date-taken order.
    albums = requests.get(
        f"{sandbox.url}/sandbox/albums", headers=sandbox.admin_headers, timeout=30
    ).json()["albums"]
    sha = {p["id"]: p["sha256"] for p in active}
    assert sorted(a["title"] for a in albums) == ["2017", "2018", "2019"], albums
    for album in albums:
        assert [sha[i] for i in album["photo_ids"]] == album_order[album["title"]], album

    # Each run's report accounts for all 300 files; between them, each uploaded once.
    uploaded = 0
    for run_id in ("scale-a", "scale-b"):
        body = s3.get_object(Bucket=bucket, Key=f"reports/{run_id}/report.json")["Body"].read()
        report = json.loads(body)
        assert len(report["files"]) == PHOTOS
        assert {f["status"] for f in report["files"]} <= {"uploaded", "already_uploaded"}
        uploaded += report["totals"]["uploaded"]
    assert uploaded == PHOTOS

    # Uploads are not counted against the REST budget (tests/flows/test_pacing.py shows
    # the budget holding across processes); the REST calls are a few per flow run.
    log = requests.get(
        f"{sandbox.url}/sandbox/requests", headers=sandbox.admin_headers, timeout=30
    ).json()["requests"]
    rest = [entry for entry in log if entry["path"].startswith("/services/rest")]
    processes = len(chunk_runs) + len(parents)
    assert len(rest) <= 6 * processes, Counter(entry["api_method"] for entry in rest)
