"""A stand-in for one worker process, for tests/flows/test_pacing.py: the project's client
with the pacing every worker of a key shares through the Prefect server.

`python -m tests.flows.pacing_worker uploads FOLDER` uploads every file in FOLDER, 4 at a
time, each until it lands (the retry layer's job in a real run); `... rest SECONDS` makes
REST calls as fast as the shared budget allows for SECONDS. Either prints one JSON line:
what it did and when."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from flickr_ingest.flickr import Credentials, Endpoints, FlickrClient, errors
from flickr_ingest.pacing import Pacing, UploadGate
from flows.pacing import SharedBudget, VariableThrottleBoard, ensure_budget

IN_FLIGHT = 4
RECOVERY_SECONDS = 4.0


def _client() -> FlickrClient:
    credentials = Credentials(
        os.environ["FLICKR_API_KEY"],
        os.environ["FLICKR_API_SECRET"],
        os.environ["FLICKR_OAUTH_TOKEN"],
        os.environ["FLICKR_OAUTH_TOKEN_SECRET"],
    )
    return FlickrClient(credentials, endpoints=Endpoints.at(os.environ["FLICKR_BASE_URL"]))


def uploads(folder: Path) -> dict:
    client = _client()
    sends: list[tuple[float, float]] = []  # (sent, answered) of every attempt

    class RecordingGate(UploadGate):
        @contextmanager
        def slot(self) -> Iterator[None]:
            with super().slot():
                started = time.time()
                try:
                    yield
                finally:
                    sends.append((started, time.time()))

    gate = RecordingGate(
        IN_FLIGHT,
        board=VariableThrottleBoard(client.credentials.api_key),
        recovery_seconds=RECOVERY_SECONDS,
    )
    client.pacing = Pacing(uploads=gate)

    def upload(path: Path) -> None:
        while True:
            try:
                client.upload(path, dedup_check=1)
                return
            except errors.DuplicatePhotoError:
                return
            except errors.TransientError:
                continue  # the gate decides when the next attempt may go

    with ThreadPoolExecutor(IN_FLIGHT * 2) as pool:  # more threads than the gate allows
        list(pool.map(upload, sorted(folder.iterdir())))
    return {"signals": gate.signals, "sends": sends}


def rest(seconds: float, calls_per_hour: int, limit_name: str) -> dict:
    client = _client()
    ensure_budget(calls_per_hour, limit_name)
    client.pacing = Pacing(rest_budget=SharedBudget(calls_per_hour, limit_name).acquire)
    made: list[float] = []

    def call_forever() -> None:
        while True:
            client.call("flickr.test.echo")
            made.append(time.time())

    threading.Thread(target=call_forever, daemon=True).start()
    time.sleep(seconds)
    return {"calls": list(made)}


if __name__ == "__main__":
    if sys.argv[1] == "uploads":
        result = uploads(Path(sys.argv[2]))
    else:
        result = rest(float(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    print(json.dumps(result), flush=True)
    os._exit(0)  # a REST thread may still wait on the budget
