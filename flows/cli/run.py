"""`flickr-ingest run` and `flickr-ingest demo`: run the ingest flow from a terminal, with
a progress display (`progress.py`) and a summary at the end.

Imports of the run's machinery wait until a run starts, so that the other commands (and
`--help`) start quickly."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flickr_ingest.errors import FlickrIngestError
from flickr_ingest.report.escaping import terminal_text
from flickr_ingest.settings import (
    LIVE_PHOTO_VIDEO_CHOICES,
    ON_CHANGE_CHOICES,
    ON_DAMAGED_CHOICES,
    RAW_CHOICES,
    IngestSettings,
)
from flows.cli.prefect_server import (
    prefect_defaults,
    still_running_line,
    use_prefect_server,
)

#: Exit status when the run finished but some files failed (1 is for errors).
EXIT_SOME_FAILED = 2
#: Organize links printed at the end (each holds 100 photos); the report lists them all.
_ORGANIZE_LINKS_SHOWN = 1


def _settings_from(args: argparse.Namespace) -> dict[str, Any]:
    """Options given on the command line, as settings (None = not given)."""
    return {
        "report_dir": args.report_dir,
        "state_dir": args.state_dir,
        "concurrency": args.concurrency,
        "title_template": args.title_template,
        "description_template": args.description_template,
        "is_public": args.public,
        "path_tags": args.path_tags or None,
        "camera_tags": False if args.no_camera_tags else None,
        "extra_tags": tuple(args.tag) if args.tag else None,
        "s3_endpoint_url": args.s3_endpoint_url,
        "sandbox": args.sandbox or None,
        "album": args.album,
        "album_separator": args.album_separator,
        "follow_links": args.follow_links or None,
        "on_change": args.on_change,
        "bwlimit": args.bwlimit,
        "on_damaged": args.on_damaged,
        "raw": args.raw,
        "live_photo_videos": args.live_photo_videos,
        "update_metadata": args.update_metadata or None,
    }


def _run(args: argparse.Namespace) -> int:
    prefect_defaults()  # before anything imports Prefect
    from flickr_ingest.cli.progress import ProgressDisplay
    from flickr_ingest.flickr.credentials import resolve as resolve_credentials
    from flickr_ingest.report.model import SANDBOX_NOTICE
    from flickr_ingest.runs import check_folders

    settings = IngestSettings.from_environment(  # fail fast
        option_name=_option_name,
        source=args.source,
        keys=tuple(args.keys) if args.keys is not None else None,
        dry_run=args.dry_run or None,
        include=tuple(args.include) if args.include else None,
        exclude=tuple(args.exclude) if args.exclude else None,
        **_settings_from(args),
    )
    _check_source_exists(settings.source)
    check_folders(settings)
    # Without a configured Prefect API, Prefect would start (and stop) a temporary server
    # in this process; the local server is started once and reused by later runs.
    local_server = use_prefect_server(_import_the_flow, temporary=args.temporary_server)
    sandbox = settings.sandbox or (
        resolve_credentials() is None and not _secret_block_exists(settings)
    )
    if sandbox:
        print(f"No Flickr credentials: uploading to the embedded sandbox ({SANDBOX_NOTICE}).")
    from flows.ingest import ingest_in_this_process

    _quiet_prefect_on_the_terminal(verbose=args.verbose, debug=args.debug)
    progress = ProgressDisplay(sys.stderr)
    try:
        # The settings whole, as the flow run's parameters: the dashboard shows them all.
        summary = ingest_in_this_process(progress, settings=settings.as_parameters())
    finally:
        progress.close()
    _print_summary(summary, settings)
    if local_server is not None:
        print(still_running_line(local_server))
    return 0 if summary["ok"] else EXIT_SOME_FAILED


def _option_name(setting: str) -> str:
    """The command-line option of a setting, for errors (is_public is --public/--private)."""
    return {"is_public": "--public/--private"}.get(setting, "--" + setting.replace("_", "-"))


def _check_source_exists(source: str) -> None:
    """A local source that is not there is said at once, before Prefect is started."""
    if not source.startswith("s3://") and not Path(source).expanduser().exists():
        raise FlickrIngestError(f"no such file or folder: {source!r}")


def _quiet_prefect_on_the_terminal(*, verbose: bool, debug: bool) -> None:
    """Prefect prints a line per flow and task run event; the progress display and the
    summary say the same in fewer lines. Those lines still reach the Prefect API and the
    dashboard: only the terminal's handler leaves them out (all of them with --verbose)."""
    # Prefect's logging.yml puts its console handler on the root logger.
    for handler in logging.getLogger().handlers + logging.getLogger("prefect").handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.addFilter(_TerminalFilter(verbose=verbose, debug=debug))


class _TerminalFilter(logging.Filter):
    """What the terminal shows of Prefect's logging during a CLI run: with --verbose,
    everything; else no flow or task run lines, and Prefect's other warnings. Our errors
    end the run in one `Error: …` line: their tracebacks only with --debug (the API's
    log keeps them: its handler sees a record first)."""

    def __init__(self, *, verbose: bool, debug: bool) -> None:
        super().__init__()
        self.verbose, self.debug = verbose, debug

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.verbose and (
            record.name.startswith(("prefect.flow_runs", "prefect.task_runs"))
            or record.levelno < logging.WARNING
        ):
            return False
        if not self.debug and record.exc_info and isinstance(record.exc_info[1], FlickrIngestError):
            record.exc_info = record.exc_text = None
        return True


def _import_the_flow() -> None:
    """Import the flow (and with it Prefect's client side, ~2 s), e.g. while the local
    server starts. Prefect is imported only when a run starts."""
    import flows.ingest  # noqa: F401


def _secret_block_exists(settings: IngestSettings) -> bool:
    from flows.credentials import load_secret_credentials

    return load_secret_credentials(settings.secret_block) is not None


def _print_summary(summary: dict[str, Any], settings: IngestSettings) -> None:
    from flickr_ingest.report.model import SANDBOX_NOTICE

    totals = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in summary["totals"].items() if n)
    print(f"Run {summary['run_id']}: {totals or 'nothing to do'}")
    organize = summary["organize_urls"]  # 100 photos each: the report has every one
    for url in organize[:_ORGANIZE_LINKS_SHOWN]:
        print(f"Organize on Flickr: {terminal_text(url)}")  # photo ids a server gave
    if len(organize) > _ORGANIZE_LINKS_SHOWN:
        print(f"... and {len(organize) - _ORGANIZE_LINKS_SHOWN} more organize links in the report")
    for album in sorted(summary.get("albums", []), key=lambda album: album["title"].casefold()):
        title, url = terminal_text(repr(album["title"])), terminal_text(album["url"])
        print(f"Album {title}: {album['photo_count']} photo(s), {url}")
    print(f"Report: {summary['report']['html']}")
    if summary["sandbox"]:
        state = settings.state_path / "sandbox"
        print(f"{SANDBOX_NOTICE[0].upper()}{SANDBOX_NOTICE[1:]}.")
        port = urlsplit(summary["organize_urls"][0]).port if summary["organize_urls"] else None
        print(
            f"To look at the uploaded photos again: flickr-ingest sandbox --state {state}"
            f" --port {port or settings.sandbox_port}"
        )
    if not summary["ok"]:
        print("Some files failed: see the report for each reason.", file=sys.stderr)


def _demo(args: argparse.Namespace) -> int:
    from flickr_ingest.demo import make_demo_photos

    folder = Path(args.folder)
    if not folder.exists() or not any(folder.iterdir()):
        made = make_demo_photos(folder)
        print(f"Made {len(made)} demo files with EXIF and XMP in {folder}/")
    args.source, args.sandbox = str(folder), True
    args.keys = args.s3_endpoint_url = None
    args.album = args.album or "folder"  # the demo's folders are its albums
    return _run(args)


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="plan only: upload nothing")
    parser.add_argument("--report-dir", help="where reports go (default ./flickr-ingest-reports)")
    parser.add_argument(
        "--state-dir",
        help="the upload ledger's folder (default: the per-user state folder,"
        " ~/.local/state/flickr-ingest)",
    )
    parser.add_argument("--concurrency", type=int, help="uploads at once (default 8)")
    parser.add_argument(
        "--include", action="append", help="only files matching this glob (repeatable)"
    )
    parser.add_argument("--exclude", action="append", help="leave out files matching this glob")
    parser.add_argument("--title-template", help="e.g. '{year} {folder}: {stem}'")
    parser.add_argument("--description-template", help="e.g. '{caption} ({model})'")
    visibility = parser.add_mutually_exclusive_group()
    visibility.add_argument(
        "--public", dest="public", action="store_true", default=None, help="make uploads public"
    )
    visibility.add_argument(
        "--private", dest="public", action="store_false", help="make uploads private"
    )
    parser.add_argument(
        "--path-tags", action="store_true", help="tag photos with their folder names"
    )
    parser.add_argument("--no-camera-tags", action="store_true", help="no camera:make/model tags")
    parser.add_argument("--tag", action="append", help="add this tag to every upload (repeatable)")
    parser.add_argument(
        "--album",
        help="file uploads into albums: 'folder' (by folder name), 'path' (by folder path), "
        "or a fixed album name (default: none)",
    )
    parser.add_argument(
        "--album-separator", help="joins folder names for --album path (default ' / ')"
    )
    parser.add_argument(
        "--on-change",
        choices=ON_CHANGE_CHOICES,
        help="a file edited since it was sent: replace its photo, keeping its id, albums,"
        " comments and faves (default; Flickr Pro only), upload it as a new photo, or skip it",
    )
    parser.add_argument(
        "--on-damaged",
        choices=ON_DAMAGED_CHOICES,
        help="a photo whose image data is damaged (a truncated JPEG): upload it all the same"
        " (default: it may be the only copy; it is listed as damaged) or skip it",
    )
    parser.add_argument(
        "--raw",
        choices=RAW_CHOICES,
        help="a camera RAW without a JPEG beside it: send its embedded full-size JPEG preview"
        " with the RAW's EXIF (default) or skip it (Flickr takes no RAW files)",
    )
    parser.add_argument(
        "--live-photo-videos",
        choices=LIVE_PHOTO_VIDEO_CHOICES,
        help="a Live Photo's video (same name as a photo beside it, 3 s or less):"
        " skip it (default) or upload it as a video of its own",
    )
    parser.add_argument(
        "--update-metadata",
        action="store_true",
        help="when replacing, also set the photo's title, description and tags from the file"
        " (by default they are kept: they may have been edited on Flickr)",
    )
    parser.add_argument(
        "--follow-links",
        action="store_true",
        help="follow symbolic links that lead outside a local source (skipped by default)",
    )
    parser.add_argument(
        "--bwlimit",
        metavar="RATE",
        help="cap upload bytes a second: 2M, 512k (KiB/s), or rclone's timetable"
        " '08:00,2M 23:00,off' (default: none)",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="also print Prefect's line per task run (they always go to the Prefect API)",
    )
    parser.add_argument(
        "--temporary-server",
        action="store_true",
        help="without PREFECT_API_URL, let Prefect start a temporary server for this run "
        "instead of using the local server (slower; nothing is left running; not while the "
        "local server runs)",
    )


def _add_source_options(parser: argparse.ArgumentParser) -> None:
    """What only `run` takes: the demo's source is its own folder on the sandbox."""
    parser.add_argument(
        "--keys",
        "--key",
        dest="keys",
        action="append",
        metavar="KEY",
        help="only this object key of an s3:// source (repeatable: --keys a.jpg --keys b.jpg)",
    )
    parser.add_argument("--s3-endpoint-url", help="S3-compatible endpoint (MinIO, R2, moto)")
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="upload to the embedded sandbox even when credentials are set",
    )


def add_parsers(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser(
        "run",
        help="upload a folder or s3://bucket/prefix to Flickr",
        description="Upload every photo and video of SOURCE exactly once and write an audit "
        "report. Without Flickr credentials it uses the embedded sandbox. Exit status: 0 when "
        "no file failed, 2 when some did, 1 on an error.",
    )
    run.add_argument("source", help="a folder, or s3://bucket/prefix")
    _add_run_options(run)
    _add_source_options(run)
    run.set_defaults(handler=_run)
    demo = commands.add_parser(
        "demo",
        help="make demo photos and upload them to the embedded sandbox",
        description="Generate a folder of photos with real EXIF/XMP (once) and run on it "
        "against the embedded Flickr sandbox. Nothing is sent to flickr.com.",
    )
    demo.add_argument("--folder", default="flickr-ingest-demo", help="where the demo photos go")
    _add_run_options(demo)
    demo.set_defaults(handler=_demo)
