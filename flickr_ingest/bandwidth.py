"""A cap on upload bytes per second, with rclone's `--bwlimit` timetable.

A migration that takes weeks shares a home uplink with a household: `--concurrency` is
no bound on bytes, nor is an uploads-per-hour cap. The cap is a rate in bytes per second
(`10M`, `512k`; a bare number is KiB/s, as in rclone; `off` is none), optionally by time
of day: `"08:00,2M 23:00,off"` caps at 2 MiB/s from 08:00 and not at all from 23:00 until
08:00 the next day; `Mon-08:00,512k` names a day of the week (rclone's form, spaces or
semicolons between entries).

`ByteBudget` is the bucket every upload lane of a process draws from as it sends; the
Prefect shell shares the rate between workers of one key.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flickr_ingest.errors import ConfigurationError

_UNITS = {"": 1024, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
_RATE = re.compile(r"(?P<number>[0-9]{1,9}(?:\.[0-9]{1,6})?)(?P<unit>[bkmg]?)(?:i?b?)?", re.I)
_SLOT = re.compile(
    r"(?:(?P<day>mon|tue|wed|thu|fri|sat|sun)-)?(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}),(?P<rate>.+)",
    re.I,
)
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: What the bucket may hand out at once: a quarter of a second at the rate, so the
#: average over any minute stays within a fraction of a percent of it.
BURST_SECONDS = 0.25


def parse_rate(text: str) -> float | None:
    """Bytes per second from '10M', '512k', '1.5M', '800' (KiB/s) or 'off' (None)."""
    value = text.strip()
    if value.lower() in ("off", "0", ""):
        return None
    match = _RATE.fullmatch(value)
    if match is None:
        raise ConfigurationError(
            f"{text!r} is not a rate: e.g. 2M (MiB/s), 512k (KiB/s), 800 (KiB/s) or off"
        )
    return float(match["number"]) * _UNITS[match["unit"].lower()]


@dataclass(frozen=True)
class Slot:
    day: int | None  # 0 = Monday; None = every day
    minute_of_day: int
    rate: float | None  # bytes per second; None = no cap


@dataclass(frozen=True)
class Timetable:
    """The cap at each moment: a fixed rate, or rclone's timetable of slots."""

    slots: tuple[Slot, ...]

    @classmethod
    def parse(cls, text: str) -> Timetable:
        entries = [entry for entry in re.split(r"[\s;]+", text.strip()) if entry]
        if not entries:
            return cls(())
        if len(entries) == 1 and "," not in entries[0]:
            return cls((Slot(None, 0, parse_rate(entries[0])),))
        slots = []
        for entry in entries:
            match = _SLOT.fullmatch(entry)
            if match is None or int(match["hour"]) > 23 or int(match["minute"]) > 59:
                raise ConfigurationError(
                    f"bandwidth timetable entry {entry!r} is not [Day-]HH:MM,RATE,"
                    " e.g. 08:00,2M or Mon-23:00,off"
                )
            day = _DAYS.index(match["day"].lower()) if match["day"] else None
            minute = int(match["hour"]) * 60 + int(match["minute"])
            slots.append(Slot(day, minute, parse_rate(match["rate"])))
        return cls(tuple(slots))

    def rate_at(self, moment: datetime) -> float | None:
        """The cap in force at `moment` (local time): the latest slot that has started,
        going back to the previous day (and week) past midnight."""
        if not self.slots:
            return None
        now = moment.weekday() * 1440 + moment.hour * 60 + moment.minute
        week = 7 * 1440

        def minutes_since(slot: Slot) -> int:
            days = [slot.day] if slot.day is not None else range(7)
            return min((now - (day * 1440 + slot.minute_of_day)) % week for day in days)

        return min(self.slots, key=minutes_since).rate


class ByteBudget:
    """Bytes per second for every upload lane of a process: `take(n)` returns once `n`
    bytes may go, at the rate the timetable names now (re-read as time passes)."""

    def __init__(
        self,
        timetable: Timetable,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = datetime.now,
    ) -> None:
        self.timetable = timetable
        self._clock, self._sleep, self._now = clock, sleep, now
        self._lock = threading.Lock()
        self._tokens = 0.0
        self._last = clock()

    def rate(self) -> float | None:
        return self.timetable.rate_at(self._now())

    def slowest(self) -> float | None:
        """The lowest cap the timetable ever sets (None: it sets none)."""
        rates = [slot.rate for slot in self.timetable.slots if slot.rate is not None]
        return min(rates) if rates else None

    def take(self, size: int) -> None:
        while size > 0:
            rate = self.rate()
            if rate is None:
                return
            burst = max(rate * BURST_SECONDS, 1.0)
            with self._lock:
                now = self._clock()
                self._tokens = min(burst, self._tokens + (now - self._last) * rate)
                self._last = now
                granted = min(size, int(self._tokens)) if self._tokens >= 1 else 0
                self._tokens -= granted
                wait = 0.0 if granted else (min(size, burst) - self._tokens) / rate
            size -= granted
            if wait:
                self._sleep(min(wait, 1.0))  # at most a second: the timetable may change
