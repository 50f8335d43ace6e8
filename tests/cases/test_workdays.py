"""Working-day arithmetic (工作日计算) over the official calendar and entered years."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from window_service.cases.calendar import (
    OFFICIAL,
    EnteredYear,
    WorkCalendar,
    add_working_days,
    build_calendar,
    is_working_day,
    working_days_between,
)
from window_service.cases.deadlines import WarningPolicy, compute_dues, warning_of
from window_service.cases.models import Case
from window_service.halls.models import Hall

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_spring_festival_2026_holidays_and_make_up_days() -> None:
    # 春节 2026: 15–23 February off; Saturdays 14 and 28 February are working days (调休).
    assert is_working_day(date(2026, 2, 13))  # Friday
    assert is_working_day(date(2026, 2, 14))  # Saturday, make-up day
    for day in range(15, 24):
        assert not is_working_day(date(2026, 2, day)), day
    assert is_working_day(date(2026, 2, 24))
    assert is_working_day(date(2026, 2, 28))  # Saturday, make-up day
    assert not is_working_day(date(2026, 3, 1))  # Sunday


def test_national_day_2026_as_the_package_publishes_it() -> None:
    # chinesecalendar 1.11: 国庆 1–7 October 2026 off, 8 October a working day again;
    # make-up days Sunday 20 September and Saturday 10 October.
    assert is_working_day(date(2026, 9, 20))
    assert not is_working_day(date(2026, 9, 19))
    for day in range(1, 8):
        assert not is_working_day(date(2026, 10, day)), day
    assert is_working_day(date(2026, 10, 8))
    assert is_working_day(date(2026, 10, 10))
    assert not is_working_day(date(2026, 10, 11))


def test_counting_starts_the_next_working_day() -> None:
    # Accepted Thursday 26 November 2026, 5 working days: Fri, Mon, Tue, Wed, Thu.
    assert add_working_days(date(2026, 11, 26), 5) == date(2026, 12, 3)
    assert add_working_days(date(2026, 11, 26), 1) == date(2026, 11, 27)
    # Accepted on a Saturday: Monday is the first day.
    assert add_working_days(date(2026, 11, 28), 1) == date(2026, 11, 30)
    assert add_working_days(date(2026, 11, 26), 0) == date(2026, 11, 26)


def test_deadlines_across_national_day() -> None:
    # Accepted Friday 25 September 2026: 28, 29, 30 Sep, then 8, 9, 10 (Sat, make-up) Oct.
    assert add_working_days(date(2026, 9, 25), 5) == date(2026, 10, 9)
    assert add_working_days(date(2026, 9, 25), 6) == date(2026, 10, 10)
    assert add_working_days(date(2026, 9, 25), 7) == date(2026, 10, 12)
    # Accepted Saturday 19 September: Sunday 20 is a make-up working day and counts first.
    assert add_working_days(date(2026, 9, 19), 1) == date(2026, 9, 20)


def test_deadlines_across_spring_festival() -> None:
    # Accepted Thursday 12 February 2026: 13 (Fri), 14 (Sat, make-up), then 24, 25 February.
    assert add_working_days(date(2026, 2, 12), 2) == date(2026, 2, 14)
    assert add_working_days(date(2026, 2, 12), 4) == date(2026, 2, 25)
    assert working_days_between(date(2026, 2, 12), date(2026, 2, 25)) == 4


def test_working_days_between_is_the_inverse() -> None:
    start = date(2026, 9, 1)
    for n in range(0, 40):
        due = add_working_days(start, n)
        assert working_days_between(start, due) == n
    assert working_days_between(date(2026, 10, 1), date(2026, 10, 7)) == 0
    assert working_days_between(date(2026, 12, 3), date(2026, 11, 26)) == -5


def test_unknown_year_counts_weekdays_and_is_provisional() -> None:
    cal = WorkCalendar()
    assert not cal.knows(2027)
    # 2027-01-01 is a Friday; without an entered year it counts as a working day.
    deadline = cal.deadline(date(2026, 12, 30), 3)
    assert deadline == (date(2027, 1, 4), True)
    # Within a known year nothing is provisional.
    assert cal.deadline(date(2026, 11, 26), 5).provisional is False


def test_entered_year_wins_and_removes_the_provisional_mark() -> None:
    holidays = {date(2027, 1, 1): False, date(2027, 1, 2): False, date(2027, 1, 3): False}
    cal = build_calendar([EnteredYear(2027, holidays, {d: "元旦" for d in holidays})])
    assert cal.knows(2027)
    assert cal.deadline(date(2026, 12, 30), 3) == (date(2027, 1, 5), False)
    assert cal.day_name(date(2027, 1, 1)) == "元旦"
    # An entered make-up Saturday is a working day.
    cal2 = build_calendar([EnteredYear(2027, {date(2027, 1, 9): True})])
    assert cal2.is_working_day(date(2027, 1, 9))


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        add_working_days(date(2026, 1, 5), -1)


def test_promised_limits_never_exceed_legal_limits() -> None:
    from window_service.cases.deadlines import check_time_limits
    from window_service.seed import SERVICES

    for _prefix, code, _name, _dept, legal, promised, *_ in SERVICES:
        assert check_time_limits(legal, promised) is None, code
    assert check_time_limits(5, 10) is not None
    assert check_time_limits(0, 0) is None


def _hall() -> Hall:
    return Hall(code="demo", name="示范", timezone="Asia/Shanghai", closing_time=time(17, 30))


def test_immediate_case_deadlines() -> None:
    hall = _hall()
    accepted = datetime(2026, 11, 26, 15, 0, tzinfo=SHANGHAI)
    dues = compute_dues(
        OFFICIAL,
        hall,
        accepted_day=accepted.date(),
        accepted_at=accepted,
        legal_days=0,
        promised_days=0,
        shift=0,
    )
    assert dues.promised_due_at == datetime(2026, 11, 26, 17, 30, tzinfo=SHANGHAI)
    # Accepted during late-hours service (延时服务), after closing: due by the end of the day.
    late = datetime(2026, 11, 26, 18, 10, tzinfo=SHANGHAI)
    dues = compute_dues(
        OFFICIAL,
        hall,
        accepted_day=late.date(),
        accepted_at=late,
        legal_days=0,
        promised_days=0,
        shift=0,
    )
    assert dues.promised_due_at == datetime(2026, 11, 27, 0, 0, tzinfo=SHANGHAI)
    # A stopped clock moves an immediate case to a later working day's closing time.
    dues = compute_dues(
        OFFICIAL,
        hall,
        accepted_day=accepted.date(),
        accepted_at=accepted,
        legal_days=0,
        promised_days=0,
        shift=1,
    )
    assert dues.promised_due_at == datetime(2026, 11, 27, 17, 30, tzinfo=SHANGHAI)


def test_warnings_at_chosen_times() -> None:
    hall = _hall()
    accepted = datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)
    dues = compute_dues(
        OFFICIAL,
        hall,
        accepted_day=accepted.date(),
        accepted_at=accepted,
        legal_days=20,
        promised_days=5,
        shift=0,
    )
    case = Case(
        hall_id=1,
        receipt_no="X",
        check_code="1",
        service_id=1,
        department_id=1,
        applicant_name="a",
        applicant_phone="1",
        accepted_at=accepted,
        accepted_day=accepted.date(),
        legal_days=20,
        promised_days=5,
        promised_due=dues.promised_due,
        legal_due=dues.legal_due,
        status="accepted",
    )
    policy = WarningPolicy(yellow_days=1)

    def at(d: int, m: int = 12) -> datetime:
        return datetime(2026, m, d, 9, 0, tzinfo=SHANGHAI)

    assert warning_of(OFFICIAL, hall, case, at(1), policy) is None  # 2 days left
    assert warning_of(OFFICIAL, hall, case, at(2), policy) == "yellow"  # 1 day left
    assert warning_of(OFFICIAL, hall, case, at(3), policy) == "yellow"  # due today
    assert warning_of(OFFICIAL, hall, case, at(4), policy) == "red"
    assert warning_of(OFFICIAL, hall, case, at(1), WarningPolicy(yellow_days=2)) == "yellow"
    case.status = "correction"
    assert warning_of(OFFICIAL, hall, case, at(4), policy) is None  # the clock is stopped
