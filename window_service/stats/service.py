"""Statistics for the efficiency office (效能统计): a day, month or quarter of one hall.

``hall_stats(session, hall, period, by, now=..., department_ids=...)`` groups the period's
tickets by hall · department · service · window · staff member and gives, per group:
tickets, served, no-shows, cancelled/expired, holds (挂起), waiting time (from the start of the
wait — the queue time, or a remote ticket's check-in — to the first call) and
service time (start → finish) as mean, median and 90th percentile in minutes, green-channel
share, ratings with satisfaction and 差评 rate, and the case figures (on-time rate, overdue,
一次性告知 and first-responder breaches). It also gives the period by hour of day and by day.

Where the figures come from: tickets with their first call (queue, read by ``tickets.py``),
ratings (feedback, not voided, rated in the period), case figures
(``cases.figures.compliance``). The last two are imported lazily, so the ticket figures stand on their own. Grouped by staff member or
department, each row also counts the issued efficiency warnings (效能告诫,
``stats/warning_counts.py``) of the quarters the period falls in: a warning is given for a
quarter, so a day or a month shows those of its quarter.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.errors import invalid
from ..auth.models import User
from ..db import QUARTER_HOUR
from ..halls.lookup import hall_zone
from ..halls.models import Department, Hall, Service, Window
from . import tickets
from .figures import POINTS, Group, Stats
from .period import Period
from .warning_counts import add_warnings

BY_VALUES = ("hall", "department", "service", "window", "staff")
#: The groupings whose rows count efficiency warnings (效能告诫 are given to people and
#: departments, not to services or windows).
WARNED = ("department", "staff")
BY_LABELS = {
    "hall": "全厅",
    "department": "部门",
    "service": "事项",
    "window": "窗口",
    "staff": "工作人员",
}


class _Names:
    """Keys and labels of the groups: department code, service code, window number, 工号."""

    def __init__(
        self,
        services: dict[int, Service],
        departments: dict[int, Department],
        windows: dict[int, Window],
        users: dict[int, User],
    ) -> None:
        self.services = services
        self.departments = departments
        self.windows = windows
        self.users = users

    def subject(self, by: str, subject_id: int) -> tuple[str, str] | None:
        """The group of a warning's subject: a department (by id) or a staff member."""
        if by == "department":
            dept = self.departments.get(subject_id)
            return (dept.code, dept.name) if dept else None
        return self.key("staff", None, None, subject_id)

    def key(
        self, by: str, service_id: int | None, window_id: int | None, staff_id: int | None
    ) -> tuple[str, str] | None:
        if by == "hall":
            return "hall", "全厅合计"
        if by in ("service", "department"):
            svc = self.services.get(service_id or 0)
            if svc is None:
                return None
            if by == "service":
                return svc.code, f"{svc.prefix} {svc.name}"
            dept = self.departments.get(svc.department_id)
            return (dept.code, dept.name) if dept else None
        if by == "window":
            window = self.windows.get(window_id or 0)
            if window is None:
                return None
            return str(window.number), f"{window.number}号窗口" + (
                f" {window.name}" if window.name else ""
            )
        user = self.users.get(staff_id or 0)
        if user is None:
            return None
        return (
            user.username,
            f"{user.display_name or user.username} ({user.staff_no or user.username})",
        )


class _LocalHours:
    """The hall's local hour of a quarter-hour since the epoch (``db.quarter_hours``), each
    worked out once: a month has at most about 3,000 of them and tens of thousands of tickets."""

    def __init__(self, zone: tzinfo) -> None:
        self.zone = zone
        self.known: dict[int, int] = {}

    def __call__(self, quarter: int) -> int:
        hour = self.known.get(quarter)
        if hour is None:
            moment = datetime.fromtimestamp(quarter * QUARTER_HOUR, self.zone)
            hour = self.known[quarter] = moment.hour
        return hour


async def hall_stats(
    session: AsyncSession,
    hall: Hall,
    period: Period,
    by: str = "hall",
    *,
    now: datetime,
    department_ids: frozenset[int] | None = None,
) -> Stats:
    """The period's figures grouped ``by``; ``department_ids`` limits them (a head's view)."""
    if by not in BY_VALUES:
        raise invalid("invalid_by", "分组方式无效 (by: hall, department, service, window, staff)")
    assert hall.id is not None
    services = {
        s.id: s
        for s in (
            await session.execute(select(Service).where(Service.hall_id == hall.id))  # type: ignore[arg-type]
        ).scalars()
        if s.id is not None
    }
    departments = {
        d.id: d
        for d in (
            await session.execute(select(Department).where(Department.hall_id == hall.id))  # type: ignore[arg-type]
        ).scalars()
        if d.id is not None
    }
    windows = {
        w.id: w
        for w in (await session.execute(select(Window).where(Window.hall_id == hall.id))).scalars()  # type: ignore[arg-type]
        if w.id is not None
    }
    users = {
        u.id: u
        for u in (await session.execute(select(User).where(User.hall_id == hall.id))).scalars()  # type: ignore[arg-type]
        if u.id is not None
    }
    names = _Names(services, departments, windows, users)

    def allowed(service_id: int | None) -> bool:
        if department_ids is None:
            return True
        svc = services.get(service_id or 0)
        return svc is not None and svc.department_id in department_ids

    groups: dict[str, Group] = {}
    total = Group("total", "合计")

    def group(service_id: int | None, window_id: int | None, staff_id: int | None) -> Group | None:
        key = names.key(by, service_id, window_id, staff_id)
        if key is None:
            return None
        if key[0] not in groups:
            groups[key[0]] = Group(*key)
        return groups[key[0]]

    # What a ticket counts for, looked up once per service · window · staff member (a
    # hall-month holds tens of thousands of tickets): the groups and the wait target.
    counts_for: dict[tuple[int | None, int | None, int | None], tuple[list[Group], int]] = {}

    def targets_of(
        service_id: int | None, window_id: int | None, staff_id: int | None
    ) -> tuple[list[Group], int]:
        found = counts_for.get((service_id, window_id, staff_id))
        if found is None:
            g = group(service_id, window_id, staff_id)
            found = counts_for[service_id, window_id, staff_id] = (
                [total] if g is None else [total, g],
                services[service_id].wait_target_minutes if service_id in services else 20,
            )
        return found

    scope = (
        None
        if department_ids is None
        else frozenset(sid for sid, svc in services.items() if svc.department_id in department_ids)
    )
    read = await tickets.read(session, hall.id, period, scope)
    for key, tally in read.tallies.items():
        targets, target = targets_of(*key)
        for g in targets:
            g.add_tickets(tally, target)
    hour_of = _LocalHours(hall_zone(hall))
    hours = {h: tickets.Counted() for h in range(24)}
    for quarter, counted in read.quarters.items():
        hour = hours[hour_of(quarter)]
        hour.tickets += counted.tickets
        hour.waited += counted.waited
        hour.wait_total += counted.wait_total
    days = read.days

    notes: list[str] = []
    await _add_ratings(session, hall, period, by, names, allowed, group, total, notes)
    await _add_cases(session, hall, period, by, now, department_ids, groups, total, notes)
    if by in WARNED:
        await add_warnings(session, hall, period, by, names.subject, department_ids, groups, total)

    ordered = sorted(groups.values(), key=lambda g: _sort_key(by, g.key))
    hour_rows = [
        {"hour": h, "tickets": c.tickets, "mean_wait": _mean(c.wait_total, c.waited)}
        for h, c in hours.items()
    ]
    day_rows = []
    for day in period.days():
        c = days.get(day)
        day_rows.append(
            {
                "day": day.isoformat(),
                "tickets": c.tickets if c else 0,
                "served": c.served if c else 0,
                "no_shows": c.no_shows if c else 0,
                "mean_wait": _mean(c.wait_total, c.waited) if c else None,
            }
        )
    return Stats(hall.code, period, by, ordered, total, hour_rows, day_rows, notes)


def _mean(total: float, n: float) -> float | None:
    return round(total / n, 1) if n else None


def _sort_key(by: str, key: str) -> tuple[int, str]:
    if by == "window" and key.isdigit():
        return int(key), ""
    return 0, key


async def _add_ratings(
    session: AsyncSession,
    hall: Hall,
    period: Period,
    by: str,
    names: _Names,
    allowed: Any,
    group: Any,
    total: Group,
    notes: list[str],
) -> None:
    try:
        from ..feedback.models import Feedback, counted
    except ImportError:  # pragma: no cover - feedback not installed
        notes.append("评价数据不可用 (ratings unavailable)")
        return
    start, end = period.bounds(hall)
    rows = await session.execute(
        select(Feedback.service_id, Feedback.window_id, Feedback.staff_id, Feedback.rating).where(  # type: ignore[call-overload]
            Feedback.hall_id == hall.id,
            counted(),  # voided and held (flagged, not yet reviewed) ratings count nowhere
            Feedback.created_at >= start,
            Feedback.created_at < end,
        )
    )
    for service_id, window_id, staff_id, rating in rows.all():
        if not allowed(service_id) or rating not in POINTS:
            continue
        total.ratings.append(int(rating))
        g = group(service_id, window_id, staff_id)
        if g is not None:
            g.ratings.append(int(rating))


async def _add_cases(
    session: AsyncSession,
    hall: Hall,
    period: Period,
    by: str,
    now: datetime,
    department_ids: frozenset[int] | None,
    groups: dict[str, Group],
    total: Group,
    notes: list[str],
) -> None:
    try:
        from ..cases.figures import compliance
    except ImportError:  # pragma: no cover - cases not installed
        notes.append("办件数据不可用 (case figures unavailable)")
        return
    assert hall.id is not None
    figures = await compliance(
        session,
        hall.id,
        period.first,
        period.last,
        "department" if by == "hall" else by,
        now=now,
        department_ids=department_ids,
        tickets=False,  # the statistics count the tickets themselves
    )
    for key, fig in figures.items():
        targets = [total]
        if by != "hall":
            g = groups.get(str(key))
            if g is None:
                g = groups[str(key)] = Group(str(key), fig.label or str(key))
                if by == "window":
                    g.label = f"{key}号窗口"
            targets.append(g)
        elif "hall" in groups:
            targets.append(groups["hall"])
        for t in targets:
            t.cases += fig.cases
            t.cases_on_time += fig.on_time
            t.cases_overdue += fig.overdue
            t.notice_breaches += fig.breaches
            t.responder_breaches += fig.first_responder_failures
    if by == "hall" and "hall" not in groups and total.cases:
        g = groups["hall"] = Group("hall", "全厅合计")
        g.cases, g.cases_on_time, g.cases_overdue = (
            total.cases,
            total.cases_on_time,
            total.cases_overdue,
        )
        g.notice_breaches, g.responder_breaches = total.notice_breaches, total.responder_breaches
