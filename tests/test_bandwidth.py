"""The upload bandwidth cap (flickr_ingest/bandwidth.py): rclone's rate and timetable
forms, and a bucket that holds the rate over a minute whatever the sizes drawn."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest

from flickr_ingest.bandwidth import ByteBudget, Timetable, parse_rate
from flickr_ingest.errors import ConfigurationError


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("2M", 2 * 1024**2),
        ("512k", 512 * 1024),
        ("800", 800 * 1024),  # rclone: a bare number is KiB/s
        ("1.5M", 1.5 * 1024**2),
        ("10MiB", 10 * 1024**2),
        ("100b", 100),
        ("off", None),
        ("0", None),
    ],
)
def test_rates(text: str, rate: float | None) -> None:
    assert parse_rate(text) == rate


@pytest.mark.parametrize(
    "text", ["fast", "-1M", "1e9", "2X", "²M", "25:00,1M", "08:00", "Xyz-08:00,1M"]
)
def test_what_is_not_a_rate_or_timetable_is_refused(text: str) -> None:
    with pytest.raises(ConfigurationError):
        Timetable.parse(text)


def test_a_timetable_wraps_past_midnight_and_knows_days() -> None:
    table = Timetable.parse("08:00,2M 23:00,off")
    monday = datetime(2026, 12, 7)  # a Monday
    assert table.rate_at(monday.replace(hour=7, minute=59)) is None  # from 23:00 the day before
    assert table.rate_at(monday.replace(hour=8)) == 2 * 1024**2
    assert table.rate_at(monday.replace(hour=22, minute=59)) == 2 * 1024**2
    assert table.rate_at(monday.replace(hour=23, minute=30)) is None
    weekly = Timetable.parse("Mon-08:00,512k;Sat-00:00,off")
    assert weekly.rate_at(datetime(2026, 12, 9, 12)) == 512 * 1024  # Wednesday
    assert weekly.rate_at(datetime(2026, 12, 13, 12)) is None  # Sunday
    assert weekly.rate_at(datetime(2026, 12, 7, 7)) is None  # Monday before 08:00
    assert Timetable.parse("").rate_at(monday) is None


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def test_the_budget_holds_the_rate_over_a_minute() -> None:
    clock = FakeClock()
    budget = ByteBudget(Timetable.parse("1M"), clock=clock.clock, sleep=clock.sleep)
    sent = 0
    sizes = [8192, 65536, 1_000_000, 17, 300_000]  # what streaming uploads read at a time
    while clock.now < 60:
        size = sizes[sent % len(sizes)]
        budget.take(size)
        sent += size
    rate = sent / clock.now
    assert abs(rate - 1024**2) / 1024**2 < 0.02, rate


def test_no_cap_means_no_wait() -> None:
    clock = FakeClock()
    budget = ByteBudget(Timetable.parse("off"), clock=clock.clock, sleep=clock.sleep)
    budget.take(10**9)
    assert clock.now == 0
