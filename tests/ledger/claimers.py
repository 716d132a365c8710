"""Claimers in processes of their own, for the ledger's concurrency test. Each opens its
own ledger (its own SQLite connection, or its own S3 client), as separate runs and
workers do, so nothing in this process (no lock, no shared connection) keeps two
claims apart: only the ledger's own transaction or conditional write can.

A module of its own, light to import, because each claimer is a spawned interpreter
that imports it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flickr_ingest.ledger import Ledger, SqliteLedger

#: How long a claimer waits for the others at a barrier before giving up (a sibling that
#: died would otherwise keep the rest waiting until the test's timeout).
BARRIER_SECONDS = 60.0


@dataclass(frozen=True)
class LedgerOpening:
    """How a process opens the ledger under test: a SQLite file, or an S3 location and
    the endpoint of the server that holds it (credentials come from the environment)."""

    location: str
    s3_endpoint: str | None = None

    def open(self) -> Ledger:
        if self.s3_endpoint is None:
            return SqliteLedger(self.location)
        from flickr_ingest.ledger.s3 import S3Ledger
        from flickr_ingest.sources.s3 import make_client

        return S3Ledger(self.location, make_client(self.s3_endpoint))


def claim_in_step(
    number: int, opening: LedgerOpening, keys: list[str], in_step: Any, answers: Any
) -> None:
    """Claim each of `keys` as task `number`, all claimers together: every claimer waits
    at the barrier `in_step` before each key, so all of them ask for it at once. Puts
    (number, [answer per key]) or (number, the error) on the queue `answers`. Waits for
    the others once more before leaving: a claim whose process is gone may be taken
    over, so no claimer may end before every claimer has asked."""
    try:
        ledger = opening.open()
        try:
            mine = []
            for key in keys:
                in_step.wait(BARRIER_SECONDS)
                mine.append(ledger.claim("me", key, f"task{number}"))
            in_step.wait(BARRIER_SECONDS)
        finally:
            ledger.close()
    except BaseException as error:  # reported by the test, with the claimer's number
        in_step.abort()  # the others stop waiting for this one
        answers.put((number, f"{type(error).__name__}: {error}"))
        raise
    answers.put((number, mine))


def opening_of(ledger: Ledger) -> LedgerOpening:
    """How another process opens the same ledger as `ledger`."""
    if isinstance(ledger, SqliteLedger):
        return LedgerOpening(str(Path(ledger.path)))
    from flickr_ingest.ledger.s3 import S3Ledger

    assert isinstance(ledger, S3Ledger)
    return LedgerOpening(
        f"s3://{ledger.bucket}/{ledger.prefix}", s3_endpoint=ledger.client.meta.endpoint_url
    )
