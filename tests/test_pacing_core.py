"""The pacing core without Prefect: which answers are throttle signals, and how the
upload gate slows down and recovers (the two-process test in tests/flows/test_pacing.py
shows one worker's signal reaching the other)."""

from __future__ import annotations

import pytest

from flickr_ingest.flickr import errors
from flickr_ingest.pacing import DEFAULT_THROTTLE_SECONDS, Throttle, UploadGate, throttle_wait


@pytest.mark.parametrize(
    ("error", "wait"),
    [
        (errors.TransientError("Server at capacity", code=14, retry_after=7.0), 7.0),
        (errors.TransientError("Server at capacity", code=14), DEFAULT_THROTTLE_SECONDS),
        (errors.TransportError("HTTP 429", retry_after=3.0, status=429), 3.0),
        (errors.TransportError("HTTP 503", status=503), DEFAULT_THROTTLE_SECONDS),
        (errors.TransportError("HTTP 502", status=502), None),  # a fault, not "slow down"
        (errors.TransientError("Service currently unavailable", code=105), None),
        (errors.PermanentFileError("Filesize was zero", code=4), None),
    ],
)
def test_which_answers_are_throttle_signals(error: Exception, wait: float | None) -> None:
    assert throttle_wait(error) == wait


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_signal_stops_uploads_for_the_wait_then_halves_them_and_they_recover() -> None:
    clock = _Clock()
    gate = UploadGate(8, recovery_seconds=60, clock=clock)
    assert gate.allowed_now() == (8, 0.0)
    with pytest.raises(errors.TransientError), gate.slot():
        raise errors.TransientError("Server at capacity", code=14, retry_after=5.0)
    assert gate.signals == 1
    assert gate.allowed_now() == (4, 5.0)  # nothing starts for 5 s, then half
    clock.now += 5
    assert gate.allowed_now() == (4, 0.0)
    clock.now += 30  # half-way through the recovery
    assert gate.allowed_now() == (6, 0.0)
    clock.now += 30
    assert gate.allowed_now() == (8, 0.0)


def test_signals_inside_a_wait_extend_it_without_halving_again() -> None:
    first = Throttle().after_signal(now=0.0, wait=5.0, recovery_seconds=60)
    assert (first.until, first.level) == (5.0, 0.5)
    # Every upload in flight hears the same "slow down": one episode, not eight.
    again = first.after_signal(now=1.0, wait=5.0, recovery_seconds=60)
    assert (again.until, again.level) == (6.0, 0.5)
    later = again.after_signal(now=6.0, wait=2.0, recovery_seconds=60)
    assert (later.until, later.level) == (8.0, 0.25)  # a new episode halves again


def test_a_stored_episode_past_the_wait_cap_is_not_waited() -> None:
    """A board anyone can write (a Prefect Variable) says "wait 30 years": no upload
    waits; each fails at once with WaitTooLong, which the run turns into a deferral."""
    from flickr_ingest.pacing import LocalThrottleBoard, throttle_from

    board = LocalThrottleBoard()
    board.write(lambda _: throttle_from({"until": 10**9 * 3, "level": 1}))
    gate = UploadGate(4, board=board)
    too_long = pytest.raises(errors.WaitTooLong, match="the shared upload throttle; asked to wait")
    with too_long, gate.slot():
        pass
    board.write(lambda _: Throttle())
    with gate.slot():  # a readable, finished episode lets uploads through
        pass


@pytest.mark.parametrize(
    "stored",
    [
        {"until": "²", "level": 1},
        {"until": float("inf"), "level": 1},
        {"until": float("nan"), "level": 1},
        {"until": True, "level": 1},
        {"until": "1e400", "level": 1},
        {"until": -5, "level": 1},
        {"until": 5},
        ["until", 5],
        None,
    ],
)
def test_an_unreadable_stored_episode_is_no_episode(stored: object) -> None:
    from flickr_ingest.pacing import throttle_from

    assert throttle_from(stored) == Throttle()


def test_a_stored_level_is_kept_in_range() -> None:
    from flickr_ingest.pacing import throttle_from

    assert throttle_from({"until": "12.5", "level": 7}) == Throttle(12.5, 1.0)
    assert throttle_from({"until": 12, "level": 0}).level > 0
