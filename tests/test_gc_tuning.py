"""The nightly full garbage collection runs at 03:00 hall time (window_service.gc_tuning)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from window_service.gc_tuning import NIGHTLY_HOUR, seconds_until

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_the_night_collection_is_at_three_hall_time() -> None:
    assert NIGHTLY_HOUR == 3
    evening = datetime(2026, 11, 26, 22, 30, tzinfo=SHANGHAI)
    assert seconds_until(evening, 3) == 4.5 * 3600
    early = datetime(2026, 11, 27, 1, 0, tzinfo=SHANGHAI)
    assert seconds_until(early, 3) == 2 * 3600


def test_just_after_three_waits_for_the_next_night() -> None:
    at_three = datetime(2026, 11, 27, 3, 0, tzinfo=SHANGHAI)
    assert seconds_until(at_three, 3) == 24 * 3600
    after = datetime(2026, 11, 27, 3, 0, 1, tzinfo=SHANGHAI)
    assert seconds_until(after, 3) == 24 * 3600 - 1
