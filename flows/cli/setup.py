"""`flickr-ingest setup`: prepare a Prefect server for ingest runs on workers."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from flickr_ingest.settings import IngestSettings
from flows.cli.prefect_server import prefect_defaults, use_prefect_server

if TYPE_CHECKING:
    from flickr_ingest.cli import Commands


def _setup(args: argparse.Namespace) -> int:
    settings = IngestSettings.from_environment(api_calls_per_hour=args.calls_per_hour)
    prefect_defaults()
    # Without a Prefect API of the user's, the local server the runs use (not a temporary
    # server on its database, which stays locked while the local server runs).
    use_prefect_server()
    from flows.setup import setup  # Prefect is imported only when needed

    for line in setup(args.pool, settings.api_calls_per_hour):
        print(line)
    if args.reports:
        from flows.deploy_steps import keep_reports_in

        print(keep_reports_in(args.reports))
    if args.notify:
        from flows.notifications import notify_through

        print(notify_through(args.notify))
    return 0


def add_parser(commands: Commands) -> None:
    parser = commands.add_parser(
        "setup",
        help="create the work pool and the shared Flickr REST budget on the Prefect server",
        description="Idempotent: creates the process work pool if missing and sets the "
        "global concurrency limit 'flickr-api' that every worker's REST calls to Flickr "
        "go through (uploads are paced by Flickr's own signals).",
    )
    parser.add_argument("--pool", default="flickr-ingest", help="work pool name")
    parser.add_argument(
        "--calls-per-hour",
        type=int,
        help="the API key's REST budget (default FLICKR_INGEST_API_CALLS_PER_HOUR or 3600)",
    )
    parser.add_argument(
        "--reports",
        metavar="LOCATION",
        help="where the deployments' runs keep their reports: an absolute folder on the"
        " workers or an s3:// prefix (sets the Prefect Variable flickr_ingest_reports; the"
        " ledger stays in each worker's state folder, or FLICKR_INGEST_LEDGER=s3://…)",
    )
    parser.add_argument(
        "--notify",
        metavar="BLOCK",
        help="send word through this Prefect notification block (Slack, e-mail, a webhook)"
        " whenever an ingest run fails or stops early (quota used up, token revoked)",
    )
    parser.set_defaults(handler=_setup)
