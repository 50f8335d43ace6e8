"""The wait estimate's model (Outlook.wait_minutes) without a database: windows call by queue
time across their services, so a service is held up by the queues of its windows only."""

from __future__ import annotations

import pytest

from window_service.queue.outlook import Outlook, ServiceTimes, Staffing

HUKOU, BUDONGCHAN, QIYE = 1, 2, 3


def outlook(staffed: dict[int, set[int]], busy: frozenset[int] = frozenset()) -> Outlook:
    served = {w: frozenset(s) for w, s in staffed.items()}
    times = ServiceTimes({}, {HUKOU: 4.0, BUDONGCHAN: 10.0, QIYE: 6.0})
    return Outlook(Staffing(served, served, busy), times)


def test_a_window_of_its_own_is_not_held_up_by_the_general_windows_other_queues() -> None:
    # window 1: hukou only; window 8 (综合窗口): all three; a long budongchan queue.
    hall = outlook({1: {HUKOU}, 8: {HUKOU, BUDONGCHAN, QIYE}}, busy=frozenset({1, 8}))
    ahead = {HUKOU: 2, BUDONGCHAN: 20}
    minutes = hall.wait_minutes(HUKOU, ahead)
    assert minutes is not None
    # window 1 alone would take 2 × 4 + 0.6 × 4 = 10.4; window 8 only helps a little
    assert 6.0 < minutes < 10.4
    # qiye has window 8 only, which calls the older budongchan and hukou tickets first
    qiye = hall.wait_minutes(QIYE, ahead)
    assert qiye == pytest.approx(2 * 4 / 2 + 20 * 10 + 0.6 * 6)


def test_a_free_window_with_nobody_ahead_calls_at_once_and_nobody_on_duty_is_unknown() -> None:
    hall = outlook({1: {HUKOU}, 8: {HUKOU, BUDONGCHAN}}, busy=frozenset({8}))
    assert hall.wait_minutes(HUKOU, {BUDONGCHAN: 3}) == 0.0
    assert hall.wait_minutes(QIYE, {}) is None
