"""The `ingest` flow: discover → plan against quota → upload each file → report.

Reads like a table of contents; every step is `flickr_ingest` code. One task run per
group of files (a few per lane of uploads, `planning.upload_groups`), at most
`concurrency` in flight; a quota or auth failure stops new uploads.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any

from prefect import flow, get_run_logger
from prefect.futures import PrefectFuture, as_completed
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from flickr_ingest.claims import RunIdInUse
from flickr_ingest.flickr.errors import TransportError
from flickr_ingest.paths import check_run_id
from flickr_ingest.planning import UPLOAD, Decision, plan, twin_reason, upload_groups
from flickr_ingest.progress import account_for, announce, announce_plan
from flickr_ingest.report.model import DEFERRED, PLANNED, AlbumRecord, FileRecord, RunReport
from flickr_ingest.report.records import RecordLog
from flickr_ingest.report.writers import summary_line
from flickr_ingest.runs import (
    Run,
    close_run,
    get_run,
    new_run_id,
    open_run,
    save_report,
    unopened_report,
)
from flickr_ingest.settings import IngestSettings
from flickr_ingest.sources.base import ignored_line
from flickr_ingest.syncing import missing_records, would_replace
from flickr_ingest.uploading import failed_record, record_for
from flows.artifacts import Progress, publish
from flows.chunks import upload_in_chunks
from flows.confinement import confine_deployment_run
from flows.credentials import load_secret_credentials, s3_client_from_block
from flows.notifications import say_stopped_early
from flows.pacing import use_shared_pacing
from flows.run_states import cancelled_if_interrupted
from tasks.ingest import (
    UNREACHABLE_TRIES,
    arrange_albums,
    connect,
    discover_files,
    upload_files,
    with_retries,
)

#: Threads available to the flow; `concurrency` decides how many are used.
MAX_CONCURRENCY = 64


@flow(name="ingest", task_runner=ThreadPoolTaskRunner(max_workers=MAX_CONCURRENCY))
def ingest(
    source: str,
    keys: list[str] | None = None,
    dry_run: bool = False,
    concurrency: int | None = None,
    report_dir: str | None = None,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    album: str | None = None,
    chunk_size: int | None = None,
    run_id: str | None = None,
) -> dict[str, Any]:
    """Upload every photo and video of `source` (a folder or s3://bucket/prefix, or just
    `keys` of it) to Flickr exactly once, file them into albums (`album`: "folder",
    "path" or a fixed name), and write an audit report. Above `chunk_size` files to
    upload, chunks of them run as flow runs of their own on the work pool's workers.
    `run_id` names the report (chunk runs get theirs from the run that started them)."""
    run_id = check_run_id(run_id) if run_id is not None else new_run_id()  # names folders
    settings = IngestSettings.from_environment(
        source=source,
        keys=tuple(keys) if keys is not None else None,
        dry_run=dry_run,
        concurrency=concurrency,
        report_dir=report_dir,
        include=tuple(include) if include else None,
        exclude=tuple(exclude) if exclude else None,
        album=album,
        chunk_size=chunk_size,
    )
    confine_deployment_run(settings)  # a deployment's run: before anything is touched
    try:
        run = open_run(
            settings,
            run_id=run_id,
            stored_credentials=load_secret_credentials(settings.secret_block),
            s3_client=s3_client_from_block(settings.aws_credentials_block),
        )
    except RunIdInUse:  # that id's report folder is the other run's: nothing written
        raise
    except Exception as error:  # no connection, bad credentials: say so, in a report too
        try:
            save_report(unopened_report(settings, run_id, error), settings)
        except Exception:  # e.g. the report folder is what is wrong: the error says so
            get_run_logger().warning("The report of a run that could not start was not written")
        raise
    try:
        return _ingest(run, settings)
    finally:  # whatever happened: the run's id, sandbox, ledger and folders are let go
        close_run(run_id)


def _ingest(run: Run, settings: IngestSettings) -> dict[str, Any]:
    """The flow's work on an open run: connect, discover and plan, upload, albums; and
    the report, written whatever happens."""
    logger = get_run_logger()
    run_id = run.run_id
    decisions: list[Decision] = []
    records = run.record_log()  # every file's record, on disk as it is made
    planned_done = False  # every planned file has its record (uploaded, failed, deferred…)
    albums: list[AlbumRecord] = []
    notes: list[str] = []
    chunk_calls: dict[str, int] = {}
    settle_budget: Callable[[], None] = _nothing
    try:
        if run.uses_sandbox:
            logger.warning(
                "No Flickr credentials: using the embedded sandbox; nothing is sent to flickr.com"
            )
        settle_budget = use_shared_pacing(run.client, settings)
        started = time.monotonic()
        try:
            quota = with_retries(connect, settings)(run_id, settings)
        except Exception as error:
            reported = _with_tries(error, settings, time.monotonic() - started)
            notes += [
                f"The run could not start: {reported}",
                "Nothing was uploaded or marked done.",
            ]
            if reported is error:
                raise
            raise reported from error
        for line in (*run.opening_notes, run.destination):  # before anything is sent
            logger.info("%s", line)
            announce(line)
        notes.extend(run.opening_notes)
        candidates = discover_files(run_id, settings)
        ignored = ignored_line(run.context.source.ignored)
        if ignored:
            notes.append(ignored)
        decisions = plan(
            candidates,
            quota,
            raw=settings.raw,
            live_photo_videos=settings.live_photo_videos,
        )
        announce_plan(decisions)
        for d in decisions:  # skipped, deferred, already uploaded: known from the plan
            if d.action != UPLOAD and d.twin is None:  # a twin's once its twin is done
                account_for(records, record_for(d, d.action, reason=d.reason))
        if settings.dry_run:
            for d in decisions:
                if d.action == UPLOAD:
                    reason = _would_replace(run, settings, d)
                    account_for(records, record_for(d, PLANNED, reason=reason))
        elif settings.chunk_size and _uploads(decisions) > settings.chunk_size:
            chunk_calls = upload_in_chunks(
                decisions, run_id, settings, records, s3_client=run.s3_client
            )
            notes.append(f"Uploaded in chunk runs of up to {settings.chunk_size} files.")
        else:
            _upload_all(decisions, run_id, settings, records)
        _account_for_twins(decisions, records)
        planned_done = True
        if run.albums is not None and not settings.dry_run:
            albums = _arrange_albums(run_id, settings, run.album_members(records), notes)
        for record in _missing(run, settings, decisions, notes):
            records.add(record)
        stopped = run.stop_reason()
        if stopped:
            notes.append(f"Uploading stopped early: {stopped}")
            say_stopped_early(run_id, stopped)  # for whoever asked to be told
    except BaseException as error:
        if not notes:
            notes.append(f"The run failed: {type(error).__name__}: {error}")
        if decisions and not planned_done:  # stopped mid-upload: account for every file
            _so_far(decisions, run, records)
        raise
    finally:
        try:
            records = run.with_albums(records, albums)
            report = run.report(
                records,
                notes=notes,
                dry_run=settings.dry_run,
                albums=albums,
                more_calls=chunk_calls,
            )
            paths = run.save(report)
            publish(report, paths)
            logger.info("%s; report: %s", summary_line(report), paths["html"])
        finally:
            settle_budget()  # the REST budget's credit is paid before this process may end
    return _summary(report, paths)


def _account_for_twins(decisions: list[Decision], records: RecordLog) -> None:
    """The records of files skipped for a twin beside them (a RAW's or a HEIC's JPEG, a
    Live Photo's still), which name the photo their twin became."""
    waiting = [d for d in decisions if d.twin is not None]
    if not waiting:
        return
    twins = {d.twin for d in waiting}
    done = {r.source: r for r in records if r.source in twins}
    for d in waiting:
        twin = done.get(d.twin or "")
        reason = twin_reason(d, twin.status if twin else None, twin.photo_id if twin else None)
        account_for(records, record_for(d, d.action, reason=reason))


def _would_replace(run: Run, settings: IngestSettings, decision: Decision) -> str | None:
    """A dry run's word on a planned file whose path was sent before (a dry run reads no
    bytes: its version changed, so its bytes may have)."""
    return would_replace(
        run.context.ledger, run.ledger_account, decision.candidate.uri, settings.on_change
    )


def _missing(
    run: Run, settings: IngestSettings, decisions: list[Decision], notes: list[str]
) -> list[FileRecord]:
    """Files sent from this source before and no longer in it; only a run that listed the
    whole source (no keys, no filters) can tell. The uploads stand if this step fails."""
    if settings.keys is not None or settings.include or settings.exclude:
        return []
    listed = {d.candidate.uri: d.candidate.photo_id for d in decisions}
    try:
        return missing_records(run.context.ledger, run.ledger_account, run.context.source, listed)
    except Exception as error:  # a ledger that cannot be listed: say so, keep the run
        notes.append(f"Files gone from the source were not looked for: {error}")
        return []


def _with_tries(error: Exception, settings: IngestSettings, seconds: float) -> Exception:
    """A Flickr nobody could connect to, said with how hard we tried; other errors as
    they are."""
    if not (isinstance(error, TransportError) and error.unreachable):
        return error
    tries = min(UNREACHABLE_TRIES, settings.retries + 1)
    return TransportError(f"{error} ({tries} tries over {seconds:.0f} s)", unreachable=True)


def _nothing() -> None:
    pass


def ingest_in_this_process(**parameters: Any) -> dict[str, Any]:
    """The ingest flow run here, as `flickr-ingest run` starts it: without flow-run
    heartbeats. They serve automations that mark runs whose process vanished; a run in a
    terminal has its person watching, and Prefect ends every run with heartbeats by
    waiting out its heartbeat thread's one-second sleep (up to 1 s a run). A run its
    person stops with Ctrl-C ends Cancelled, not Crashed."""
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        return ingest.with_options(on_crashed=[cancelled_if_interrupted])(**parameters)


def _so_far(decisions: list[Decision], run: Run, records: RecordLog) -> None:
    """Every file of a run that stopped mid-upload gets its record: what finished inside
    groups still at work, and the rest, which the next run completes (a file sent just
    before the stop is found there by its checksum)."""
    why = "not finished: the run stopped before this file was done; the next run completes it"
    accounted = {record.source for record in records}  # read back from disk, once
    for decision in decisions:
        if decision.candidate.uri not in accounted:
            account_for(  # the display hears too: its counts end equal to the report's
                records,
                run.finished_in_a_group(decision.candidate.uri)
                or record_for(decision, DEFERRED, reason=why),
            )


def _upload_all(
    decisions: list[Decision], run_id: str, settings: IngestSettings, records: RecordLog
) -> None:
    """Upload tasks, one per group of the plan's uploads, at most `concurrency` at once;
    each file's record goes into `records` as it is accounted for."""
    pending = deque(upload_groups(decisions, settings.concurrency))
    progress = Progress(sum(len(group) for group in pending))
    try:
        upload = with_retries(upload_files, settings)
        in_flight: dict[PrefectFuture, list[int]] = {}
        run = get_run(run_id)
        while pending or in_flight:
            stopped = run.stop_reason() if run else None
            while pending and len(in_flight) < settings.concurrency and not stopped:
                group = pending.popleft()
                # quote: Prefect would otherwise walk every decision looking for futures.
                group_decisions = quote([decisions[i] for i in group])
                in_flight[upload.submit(group_decisions, run_id, settings)] = group
            if stopped and pending:  # a quota or auth failure: no new uploads
                for index in (i for group in pending for i in group):
                    why = f"not attempted: {stopped}"
                    account_for(records, record_for(decisions[index], DEFERRED, reason=why))
                pending.clear()
            if not in_flight:
                break
            future = next(as_completed(list(in_flight)))
            group = in_flight.pop(future)
            for record in _records(future, [decisions[i] for i in group], run):
                account_for(records, record)
                progress.advance()
    finally:
        progress.close()


def _records(future: PrefectFuture, decisions: list[Decision], run: Run | None) -> list[FileRecord]:
    try:
        return future.result()
    except Exception as error:  # retries spent, or a bug: these files failed, the run goes on
        if run is None:
            return [failed_record(d, error, attempts=0) for d in decisions]
        return run.group_gave_up(decisions, error)


def _uploads(decisions: list[Decision]) -> int:
    return sum(1 for decision in decisions if decision.action == UPLOAD)


def _arrange_albums(
    run_id: str, settings: IngestSettings, members: dict[str, list[str]], notes: list[str]
) -> list[AlbumRecord]:
    """Complete and order the albums; if Flickr refuses, the uploads still stand."""
    try:
        return with_retries(arrange_albums, settings)(run_id, settings, members)
    except Exception as error:
        notes.append(f"Albums were not completed ({error}); the next run completes them.")
        return []


def _summary(report: RunReport, paths: dict) -> dict[str, Any]:
    return {
        "run_id": report.run_id,
        "ok": report.ok,
        "totals": report.totals,
        "sandbox": report.sandbox,
        "organize_urls": list(report.organize_urls),
        "albums": [album.to_json() for album in report.albums],
        "api_calls": report.api_calls,
        "report": {kind: str(path) for kind, path in paths.items()},
    }
