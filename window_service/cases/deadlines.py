"""A case's deadlines and warnings (限时办结): pure arithmetic over a ``WorkCalendar``.

- Legal (法定) and promised (承诺) deadlines are ``legal_days`` / ``promised_days`` working
  days after the day of acceptance, plus the working days the clock stood still for corrections
  (补正) and the working days of approved extensions (延期).
- ``promised_days = 0`` is an immediate case (即办件): due by the hall's closing time on the
  due day; accepted after closing time (延时服务) it is due by the end of that day.
- While a correction stops the clock, the deadlines shown are those that would hold if the
  materials arrived today.
- Warnings come from the hall clock at read time: red (红牌) once the promised deadline has
  passed; yellow (黄牌) with ``yellow_days`` working days or fewer left (immediate cases:
  ``immediate_yellow_minutes`` before the due time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from ..halls.lookup import business_day, hall_zone
from ..halls.models import Hall
from .calendar import WorkCalendar
from .models import Case

ACCEPTED = "accepted"
CORRECTION = "correction"
COMPLETED = "completed"
REJECTED = "rejected"
OPEN_STATUSES = (ACCEPTED, CORRECTION)
DECIDED_STATUSES = (COMPLETED, REJECTED)
STATUS_LABELS = {
    ACCEPTED: "办理中",
    CORRECTION: "补正中（暂停计时）",
    COMPLETED: "已办结",
    REJECTED: "不予受理",
}
YELLOW = "yellow"
RED = "red"
WARNING_LABELS = {YELLOW: "黄牌预警", RED: "红牌（已超期）"}


def check_time_limits(legal_days: int, promised_days: int) -> str | None:
    """Why a service's time limits are invalid (承诺时限 ≤ 法定时限), or None."""
    if legal_days < 0 or promised_days < 0:
        return "时限不能为负数 (time limits must not be negative)"
    if promised_days > legal_days:
        return (
            f"承诺时限（{promised_days} 个工作日）不得超过法定时限（{legal_days} 个工作日） "
            "(the promised limit must not exceed the legal limit)"
        )
    return None


@dataclass(frozen=True)
class Dues:
    promised_due: date
    legal_due: date
    promised_due_at: datetime | None
    legal_due_at: datetime | None
    provisional: bool


def closing_at(hall: Hall, day: date) -> datetime:
    """The hall's closing time on ``day``, as an aware UTC datetime."""
    return datetime.combine(day, hall.closing_time, tzinfo=hall_zone(hall)).astimezone(UTC)


def _day_end(hall: Hall, day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=hall_zone(hall)).astimezone(
        UTC
    )


def _immediate_due(hall: Hall, day: date, accepted_at: datetime) -> datetime:
    due = closing_at(hall, day)
    if due <= accepted_at:
        return _day_end(hall, day)
    return due


def compute_dues(
    cal: WorkCalendar,
    hall: Hall,
    *,
    accepted_day: date,
    accepted_at: datetime,
    legal_days: int,
    promised_days: int,
    shift: int,
) -> Dues:
    """Deadlines of a case accepted on ``accepted_day``, moved by ``shift`` working days."""
    promised = cal.deadline(accepted_day, promised_days + shift)
    legal = cal.deadline(accepted_day, max(legal_days, promised_days) + shift)
    return Dues(
        promised_due=promised.day,
        legal_due=legal.day,
        promised_due_at=(
            _immediate_due(hall, promised.day, accepted_at) if promised_days == 0 else None
        ),
        legal_due_at=_immediate_due(hall, legal.day, accepted_at) if legal_days == 0 else None,
        provisional=promised.provisional or legal.provisional,
    )


def ongoing_stop(cal: WorkCalendar, case: Case, today: date) -> int:
    """Working days the clock has stood still so far in the current correction."""
    if case.status != CORRECTION or case.stopped_since is None:
        return 0
    return max(0, cal.working_days_between(case.stopped_since, today))


def stored_dues(cal: WorkCalendar, hall: Hall, case: Case) -> Dues:
    """The deadlines stored on the case: resumed stops and extensions, not a running stop."""
    return compute_dues(
        cal,
        hall,
        accepted_day=case.accepted_day,
        accepted_at=case.accepted_at,
        legal_days=case.legal_days,
        promised_days=case.promised_days,
        shift=case.stopped_days + case.extension_days,
    )


def dues_of(cal: WorkCalendar, hall: Hall, case: Case, today: date) -> Dues:
    """The case's deadlines as of ``today`` (a running correction counts as if resumed today)."""
    return compute_dues(
        cal,
        hall,
        accepted_day=case.accepted_day,
        accepted_at=case.accepted_at,
        legal_days=case.legal_days,
        promised_days=case.promised_days,
        shift=case.stopped_days + case.extension_days + ongoing_stop(cal, case, today),
    )


def apply_dues(case: Case, dues: Dues) -> bool:
    """Store ``dues`` on the case; True when anything changed."""
    changed = (
        case.promised_due != dues.promised_due
        or case.legal_due != dues.legal_due
        or case.promised_due_at != dues.promised_due_at
        or case.legal_due_at != dues.legal_due_at
        or case.provisional != dues.provisional
    )
    case.promised_due = dues.promised_due
    case.legal_due = dues.legal_due
    case.promised_due_at = dues.promised_due_at
    case.legal_due_at = dues.legal_due_at
    case.provisional = dues.provisional
    return changed


@dataclass(frozen=True)
class WarningPolicy:
    yellow_days: int = 1
    immediate_yellow_minutes: int = 60


def warning_of(
    cal: WorkCalendar, hall: Hall, case: Case, now: datetime, policy: WarningPolicy
) -> str | None:
    """The case's warning at ``now``: None, "yellow" or "red". Only running clocks warn."""
    if case.status != ACCEPTED:
        return None
    if case.promised_due_at is not None:
        if now > case.promised_due_at:
            return RED
        if now >= case.promised_due_at - timedelta(minutes=policy.immediate_yellow_minutes):
            return YELLOW
        return None
    today = business_day(hall, now)
    if today > case.promised_due:
        return RED
    if cal.working_days_between(today, case.promised_due) <= policy.yellow_days:
        return YELLOW
    return None


def warning_horizon(cal: WorkCalendar, today: date, policy: WarningPolicy) -> date:
    """Open cases due before this day may warn today; later ones cannot (a cheap SQL filter)."""
    return cal.add_working_days(today, policy.yellow_days + 1)


def working_days_left(cal: WorkCalendar, hall: Hall, case: Case, now: datetime) -> int | None:
    """Working days left before the promised deadline (negative: overdue), for open cases."""
    if case.status not in OPEN_STATUSES:
        return None
    return cal.working_days_between(business_day(hall, now), case.promised_due)


def decided_on_time(case: Case) -> bool | None:
    """Whether a decided case was decided by its promised deadline (None while open)."""
    if case.decided_at is None or case.decided_day is None:
        return None
    if case.promised_due_at is not None:
        return case.decided_at <= case.promised_due_at
    return case.decided_day <= case.promised_due


def decided_early(case: Case) -> bool:
    """提前办结: completed on a day before the promised deadline's day."""
    return case.decided_day is not None and case.decided_day < case.promised_due


def working_days_used(cal: WorkCalendar, case: Case, until: date) -> int:
    """Working days the case has taken, the clock's stops not counted."""
    used = cal.working_days_between(case.accepted_day, until) - case.stopped_days
    if case.status == CORRECTION and case.stopped_since is not None:
        used -= max(0, cal.working_days_between(case.stopped_since, until))
    return max(0, used)
