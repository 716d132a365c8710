"""Big runs in chunks: each chunk of files is a flow run of the `ingest/batch` deployment
that any worker of its pool picks up. The run that split them waits for them and gathers
their reports into its own, so one report still accounts for every file.

Chunk runs share what makes them safe together: the upload ledger (S3, for workers on
several machines) and the Flickr REST budget and upload signals (see flows/pacing.py).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from prefect import get_run_logger
from prefect.client.orchestration import get_client
from prefect.deployments import run_deployment

from flickr_ingest.file_records import record_for
from flickr_ingest.outcomes import Status
from flickr_ingest.paths import chunk_run_id
from flickr_ingest.planning import Decision, chunks, source_key
from flickr_ingest.report.model import FileRecord, files_and_albums
from flickr_ingest.report.publish import load_report_json
from flickr_ingest.settings import IngestSettings

_POLL_SECONDS = 2.0


def upload_in_chunks(
    decisions: list[Decision],
    run_id: str,
    settings: IngestSettings,
    account: Callable[[FileRecord], None],
    *,
    s3_client: object,
) -> Counter[str]:
    """Start one flow run per chunk of the plan's uploads, wait for all of them; each
    uploaded file's record goes to `account`. Returns the chunk runs' Flickr requests by
    method."""
    logger = get_run_logger()
    started: list[tuple[str, list[Decision], object]] = []
    for number, chunk in enumerate(chunks(decisions, settings.chunk_size), start=1):
        chunk_id = chunk_run_id(run_id, number)  # fits, whatever the run id's length
        flow_run = run_deployment(
            settings.chunk_deployment,
            parameters={
                "settings": settings.with_changes(
                    keys=tuple(source_key(d.candidate) for d in chunk),
                    chunk_size=0,  # a chunk never splits again
                ).as_parameters(),  # the run's settings whole, but its files
                "run_id": chunk_id,
            },
            flow_run_name=chunk_id,
            timeout=0,  # start it and go on: the chunks run at once on the pool's workers
            as_subflow=True,
        )
        started.append((chunk_id, chunk, flow_run.id))
    logger.info("Split %d uploads into %d chunk runs", len(decisions), len(started))
    final_states = _wait_for([flow_run_id for _, _, flow_run_id in started])
    calls: Counter[str] = Counter()
    for chunk_id, chunk, flow_run_id in started:
        report = load_report_json(settings.report_dir, chunk_id, s3_client=s3_client)
        if report is None:
            why = (
                f"chunk run {chunk_id} ended {final_states[flow_run_id]} without a report;"
                " the next run picks this file up"
            )
            chunk_records = [record_for(d, Status.FAILED, reason=why) for d in chunk]
        else:
            chunk_records = files_and_albums(report)[0]
            calls.update(report.get("api_calls", {}))
        for record in chunk_records:
            account(record)
    return calls


def _wait_for(flow_run_ids: list[object]) -> dict[object, str]:
    """Wait until every flow run has ended; returns each one's final state name."""
    final: dict[object, str] = {}
    with get_client(sync_client=True) as client:
        while len(final) < len(flow_run_ids):
            for flow_run_id in flow_run_ids:
                if flow_run_id in final:
                    continue
                state = client.read_flow_run(flow_run_id).state
                if state is not None and state.is_final():
                    final[flow_run_id] = state.name
            if len(final) < len(flow_run_ids):
                time.sleep(_POLL_SECONDS)
    return final
