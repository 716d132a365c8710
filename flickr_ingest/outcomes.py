"""The words for what becomes of a file: its status in the report (the plan's actions
are some of them) and what a run does with a file edited at a path sent before.

The values are the strings report.json, records.jsonl and the settings have always
used; a `StrEnum` member equals its string, so either may be compared with either.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, get_args


class Status(StrEnum):
    """A file's status in a run's report, in the order the report's totals list them."""

    UPLOADED = "uploaded"
    #: Edited at its path: its photo now holds the new bytes, same id.
    REPLACED = "replaced"
    DUPLICATE = "duplicate"  # its bytes are on Flickr as another file's photo
    ALREADY_UPLOADED = "already_uploaded"
    #: Edited at its path and not replaced (the reason says why and what to do).
    CHANGED = "changed"
    #: On Flickr, no longer in the source (nothing is deleted from Flickr).
    MISSING = "missing"
    SKIPPED = "skipped"
    DEFERRED = "deferred"
    FAILED = "failed"
    #: Planned to be sent: a dry run's final word (it would be uploaded, or replace its
    #: photo); in a real run, until the upload says what became of it.
    PLANNED = "planned"


#: What the plan decides for a file: send it (PLANNED), or a status known without
#: sending (`planning.plan`).
PlanAction = Literal[Status.PLANNED, Status.SKIPPED, Status.DEFERRED, Status.ALREADY_UPLOADED]
PLAN_ACTIONS: frozenset[Status] = frozenset(get_args(PlanAction))

#: Statuses that leave nothing for the user to fix (the run exits 0 with only these).
OK_STATUSES: frozenset[Status] = frozenset(Status) - {Status.FAILED}


class OnChange(StrEnum):
    """What a run does with a file edited at a path sent before (`--on-change`)."""

    REPLACE = "replace"  # replace its photo, if it shows the same picture (the default)
    UPLOAD = "upload"  # send it as a new photo; the old one stays as it is
    SKIP = "skip"  # leave it, reported `changed`
