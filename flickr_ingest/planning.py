"""Planning: decide, before anything is sent, what happens to every file. Pure code.

Each file is uploaded (planned: its upload says what became of it), skipped (it can
never go: empty, not a photo or video, too large), deferred (it does not fit this
month's quota; a later run picks it up) or already uploaded (the ledger knows its bytes).
A decision's action is one of those statuses (`outcomes.PlanAction`).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote, unquote_to_bytes, urlsplit

from flickr_ingest.filetypes import (
    CONVERTIBLE_FORMATS,
    RAW_FORMATS,
    UNSUPPORTED,
    VIDEO,
    video_refusal,
)
from flickr_ingest.flickr.responses import UploadStatus
from flickr_ingest.outcomes import PlanAction, Status

#: The plan's "send it": planned, until its upload says what became of the file.
UPLOAD: Final = Status.PLANNED

#: Flickr's free accounts hold at most this many items (photos and videos).
FREE_ACCOUNT_ITEMS = 1000


@dataclass(frozen=True, slots=True)
class Candidate:
    """What discovery learned about one file, without reading more than its first bytes."""

    uri: str
    relative_path: str
    size: int
    version: str
    kind: str  # photo, video or unsupported
    format: str
    problem: str | None = None  # why it cannot even be read
    sha256: str | None = None  # known from an earlier run of the same version
    photo_id: str | None = None  # the ledger's photo for those bytes
    #: Files with the same key may be copies of each other (same size, same samples):
    #: they go up in one group, in `copy_order` (discovery.py)
    copies_key: str | None = None
    #: A QuickTime/MP4 video's length in seconds, read where it may be a Live Photo's
    #: (a still of the same stem beside it; discovery.py)
    duration: float | None = None


def copy_order(candidate: Candidate) -> tuple[int, str]:
    """Among copies of the same bytes in one run, the one that becomes the photo is the
    first in this order: the shallowest relative path, then path order (the others are
    its duplicates). The same on every source, whatever the timing."""
    return candidate.relative_path.count("/"), candidate.relative_path


@dataclass(frozen=True, slots=True)
class Decision:
    candidate: Candidate
    action: PlanAction
    reason: str | None = None
    #: Skipped for the JPEG (or still) beside it, of this URI: its photo id completes
    #: the reason once its record exists (`twin_reason`)
    twin: str | None = None


@dataclass(frozen=True, slots=True)
class Quota:
    """What the account can still take this month. None = no limit."""

    max_photo_bytes: int | None
    max_video_bytes: int | None
    bandwidth_remaining: int | None
    items_remaining: int | None
    videos_remaining: int | None
    item_limit: int = FREE_ACCOUNT_ITEMS  # for the reason given when items run out

    @classmethod
    def from_status(cls, status: UploadStatus) -> Quota:
        items, limit = None, status.item_limit or FREE_ACCOUNT_ITEMS
        # Flickr states the limit (`upload_limit`) since about 2021; before, free meant 1,000.
        if status.items_uploaded is not None and (status.item_limit or not status.is_pro):
            items = max(limit - status.items_uploaded, 0)
        return cls(
            max_photo_bytes=status.max_photo_bytes,
            max_video_bytes=status.max_video_bytes,
            bandwidth_remaining=None
            if status.bandwidth_unlimited
            else status.bandwidth_remaining_bytes,
            items_remaining=items,
            videos_remaining=status.videos_remaining,
            item_limit=limit,
        )


def _mb(size: int) -> str:
    return f"{size / 1_048_576:,.1f} MB"


#: `raw` settings: send a lone RAW as its embedded full-size JPEG preview, or skip it.
RAW_UPLOAD_PREVIEW = "upload-preview"
RAW_SKIP = "skip"
RAW_CHOICES = (RAW_UPLOAD_PREVIEW, RAW_SKIP)
RAW_SKIPPED = "RAW: Flickr does not take RAW files (--raw skip; --raw upload-preview sends"
RAW_SKIPPED += " its embedded JPEG preview)"
#: `live_photo_videos` settings.
LIVE_PHOTO_CHOICES = ("skip", "upload")
#: A video of the same stem as a still, this long or shorter, is a Live Photo's motion.
LIVE_PHOTO_SECONDS = 3.0
_STILLS = ("jpg", "jpeg", "heic", "heif")


def plan(
    candidates: Iterable[Candidate],
    quota: Quota,
    *,
    raw: str = RAW_UPLOAD_PREVIEW,
    live_photo_videos: str = "skip",
) -> list[Decision]:
    """A decision for every candidate, in order. Quota is handed out first come, first
    served; a file that does not fit does not stop smaller ones behind it. A RAW, HEIC or
    WebP with a JPEG twin (same stem, same folder, any case) is skipped for it, as is a
    Live Photo's short video beside its still (unless `live_photo_videos` is "upload")."""
    candidates = list(candidates)
    twins = _twins(candidates, live_photo_videos)
    allowance = _Allowance(
        quota.bandwidth_remaining, quota.items_remaining, quota.videos_remaining, quota.item_limit
    )
    decisions = []
    for candidate in candidates:
        decision = _fixed_decision(candidate, quota)
        if decision is None and candidate.uri in twins:
            decision = twins[candidate.uri]
        if decision is None and candidate.format in RAW_FORMATS and raw == RAW_SKIP:
            decision = Decision(candidate, Status.SKIPPED, RAW_SKIPPED)
        if decision is None:
            reason = allowance.refusal(candidate)
            if reason is None:
                allowance.take(candidate)
                decision = Decision(candidate, UPLOAD)
            else:
                decision = Decision(candidate, Status.DEFERRED, reason)
        decisions.append(decision)
    return decisions


def _stem_key(relative_path: str) -> tuple[str, str, str]:
    """(folder, stem in lower case, extension in lower case) of a relative path."""
    folder, _, name = relative_path.rpartition("/")
    stem, dot, extension = name.rpartition(".")
    return (folder, stem.lower(), extension.lower()) if dot else (folder, name.lower(), "")


def _name(candidate: Candidate) -> str:
    return candidate.relative_path.rpartition("/")[2]


def _twins(candidates: list[Candidate], live_photo_videos: str) -> dict[str, Decision]:
    """Skip decisions, by URI, for files whose picture goes as another file beside them."""
    jpegs: dict[tuple[str, str], Candidate] = {}
    stills: dict[tuple[str, str], Candidate] = {}
    for candidate in candidates:
        folder, stem, extension = _stem_key(candidate.relative_path)
        if candidate.problem or extension not in _STILLS:
            continue
        if candidate.format in ("jpeg", "known") and extension in ("jpg", "jpeg"):
            jpegs.setdefault((folder, stem), candidate)
        if candidate.format in ("jpeg", "heic", "known"):
            stills.setdefault((folder, stem), candidate)
    decisions: dict[str, Decision] = {}
    for candidate in candidates:
        folder, stem, _ = _stem_key(candidate.relative_path)
        if candidate.format in RAW_FORMATS or candidate.format in CONVERTIBLE_FORMATS:
            twin = jpegs.get((folder, stem))
            label = "RAW" if candidate.format in RAW_FORMATS else candidate.format.upper()
        elif candidate.format in ("mov", "mp4") and live_photo_videos != "upload":
            twin = jpegs.get((folder, stem)) or stills.get((folder, stem))  # what goes
            if candidate.duration is None or candidate.duration > LIVE_PHOTO_SECONDS:
                twin = None
            label = "Live Photo video"
        else:
            continue
        if twin is not None and twin is not candidate:
            reason = f"{label}; its {_still_word(twin)} {_name(twin)} goes instead"
            decisions[candidate.uri] = Decision(candidate, Status.SKIPPED, reason, twin=twin.uri)
    return decisions


def _still_word(twin: Candidate) -> str:
    return "still" if _stem_key(twin.relative_path)[2] in ("heic", "heif") else "JPEG"


def twin_reason(decision: Decision, twin_status: Status | None, photo_id: str | None) -> str:
    """The reason of a file skipped for its twin, once the twin's record exists."""
    base = (decision.reason or "").removesuffix(" goes instead")
    if photo_id:
        done = f"{base} was uploaded as photo {photo_id}"
    else:
        done = f"{base} goes instead ({twin_status or 'not sent'})"
    if decision.candidate.kind == VIDEO:
        done += (
            f" ({LIVE_PHOTO_SECONDS:g} s or less: the motion of a Live Photo;"
            " --live-photo-videos upload sends it)"
        )
    return done


@dataclass
class _Allowance:
    """What is left of the month's quota while the plan hands it out."""

    bandwidth: int | None
    items: int | None
    videos: int | None
    item_limit: int

    def refusal(self, candidate: Candidate) -> str | None:
        if self.items is not None and self.items <= 0:
            return f"the account's {self.item_limit:,}-item limit is reached"
        if candidate.kind == VIDEO and self.videos is not None and self.videos <= 0:
            return "the account's video limit is reached"
        if self.bandwidth is not None and candidate.size > self.bandwidth:
            needed, left = _mb(candidate.size), _mb(self.bandwidth)
            return f"does not fit this month's upload bandwidth ({needed} needed, {left} left)"
        return None

    def take(self, candidate: Candidate) -> None:
        if self.bandwidth is not None:
            self.bandwidth -= candidate.size
        if self.items is not None:
            self.items -= 1
        if candidate.kind == VIDEO and self.videos is not None:
            self.videos -= 1


def _fixed_decision(candidate: Candidate, quota: Quota) -> Decision | None:
    """Decisions that do not depend on what is left of the quota."""
    if candidate.problem:
        return Decision(candidate, Status.SKIPPED, candidate.problem)
    if candidate.photo_id:
        return Decision(
            candidate, Status.ALREADY_UPLOADED, f"already on Flickr as photo {candidate.photo_id}"
        )
    if candidate.size == 0:
        return Decision(candidate, Status.SKIPPED, "empty file (0 bytes)")
    if candidate.kind == UNSUPPORTED:
        return Decision(
            candidate,
            Status.SKIPPED,
            "not a photo or video Flickr accepts (checked by content, not by name)",
        )
    refusal = video_refusal(candidate.format) if candidate.kind == VIDEO else None
    if refusal is not None:
        return Decision(candidate, Status.SKIPPED, refusal)
    cap = quota.max_video_bytes if candidate.kind == VIDEO else quota.max_photo_bytes
    if cap is not None and candidate.size > cap:
        sizes = f"{_mb(candidate.size)} > {_mb(cap)}"
        return Decision(
            candidate, Status.SKIPPED, f"larger than the account's {candidate.kind} limit ({sizes})"
        )
    return None


def source_key(candidate: Candidate) -> str:
    """How a source names this file when asked for it alone (`keys`): the object key of
    an S3 object, the path below the folder of a local file (its URI when the name is not
    UTF-8: the relative path shows it escaped, and keys travel as JSON)."""
    if candidate.uri.startswith("s3://"):
        return unquote(candidate.uri.removeprefix("s3://").split("/", 1)[1])
    try:
        unquote_to_bytes(urlsplit(candidate.uri).path).decode("utf-8")
    except UnicodeDecodeError:
        return candidate.uri
    return candidate.relative_path


def chunks(decisions: list[Decision], size: int) -> list[list[Decision]]:
    """The uploads of a plan in groups of at most `size`, in plan order; possible copies
    of one another (`copies_key`) stay together, in `copy_order`, in the chunk of the
    first of them (so a chunk may hold a few more)."""
    result: list[list[Decision]] = []
    for unit in _units([d for d in decisions if d.action == UPLOAD]):
        if not result or len(result[-1]) >= size:
            result.append([])
        result[-1] += unit
    return result


def _units(uploads: list[Decision]) -> list[list[Decision]]:
    """The uploads in plan order, each possible copy set as one unit in `copy_order`."""
    sets: dict[str, list[Decision]] = {}
    units: list[list[Decision]] = []
    for decision in uploads:
        key = decision.candidate.copies_key
        if key is None:
            units.append([decision])
        elif key in sets:
            sets[key].append(decision)
        else:
            sets[key] = [decision]
            units.append(sets[key])
    for copies in sets.values():
        copies.sort(key=lambda d: copy_order(d.candidate))
    return units


#: A group's limits; a file of GROUP_BYTES or more gets a task run of its own. Prefect's
#: cost of a task run is its events, which keep the Prefect server busy for ~0.1 s each:
#: B1's 100 photos of 1-5 MB took 9 s of server CPU as 100 task runs, 5 s as 48 groups.
GROUP_FILES = 25
GROUP_BYTES = 8 * 1024 * 1024
#: Groups per lane of uploads (`concurrency`), at least: enough that a slow group at the
#: end leaves the other lanes busy, few enough that task runs stay few.
GROUPS_PER_LANE = 2


def upload_groups(decisions: list[Decision], lanes: int) -> list[list[int]]:
    """The plan's uploads as groups of indexes into `decisions`, one task run each,
    biggest first (the link stays full to the end instead of waiting on one large file
    started last). Small files are dealt out to the groups largest first, each to the
    group with the fewest bytes, so that the groups take about as long as each other;
    their number is a multiple of `lanes`, so the last round of groups fills every lane.
    Possible copies of one another go in one group, in `copy_order`: the first of them
    is sent, the others find it in the ledger and are its duplicates."""
    index_of = {id(decision): i for i, decision in enumerate(decisions)}
    units = [
        [index_of[id(d)] for d in unit]
        for unit in _units([d for d in decisions if d.action == UPLOAD])
    ]

    def size(unit: list[int]) -> int:
        return decisions[unit[0]].candidate.size

    groups = [list(unit) for unit in units if size(unit) >= GROUP_BYTES]
    small = sorted((u for u in units if size(u) < GROUP_BYTES), key=size, reverse=True)
    files = sum(map(len, small))
    count = max(
        math.ceil(files / GROUP_FILES),
        math.ceil(sum(size(u) * len(u) for u in small) / GROUP_BYTES),
        GROUPS_PER_LANE * lanes,
    )
    count = min(len(small), math.ceil(count / lanes) * lanes)
    lightest = [(0, number) for number in range(count)]  # (bytes, group): a heap
    dealt: list[list[int]] = [[] for _ in range(count)]
    for unit in small:
        total, number = heapq.heappop(lightest)
        dealt[number] += unit
        if len(dealt[number]) < GROUP_FILES:  # a full group takes no more
            heapq.heappush(lightest, (total + size(unit) * len(unit), number))
    groups += [group for group in dealt if group]
    return sorted(groups, key=lambda group: -sum(decisions[i].candidate.size for i in group))
