"""Statistics for the efficiency office (效能统计): a day, month or quarter of one hall.

``hall_stats(session, hall, period, by, now=..., department_ids=...)`` groups the period's
tickets by hall · department · service · window · staff member and gives, per group:
tickets, served, no-shows, cancelled/expired, holds (挂起), waiting time (from the start of the
wait — the queue time, or a remote ticket's check-in — to the first call) and
service time (start → finish) as mean, median and 90th percentile in minutes, green-channel
share, ratings with satisfaction and 差评 rate, and the case figures (on-time rate, overdue,
一次性告知 and first-responder breaches). It also gives the period by hour of day and by day.

Where the figures come from: tickets and their call events (queue), ratings (feedback, not
voided, rated in the period), case figures (``cases.figures.compliance``). The last two are
imported lazily, so the ticket figures stand on their own. Grouped by staff member or
department, each row also counts the issued efficiency warnings (效能告诫,
``stats/warning_counts.py``) of the quarters the period falls in: a warning is given for a
quarter, so a day or a month shows those of its quarter.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.errors import invalid
from ..auth.models import User
from ..db import QUARTER_HOUR, minutes_between, quarter_hours
from ..halls.lookup import hall_zone
from ..halls.models import Department, Hall, Service, Window
from ..queue.models import Ticket
from ..queue.rules import CANCELLED, DONE, EXPIRED, NO_SHOW
from .figures import POINTS, Group, Stats
from .period import Period
from .warning_counts import add_warnings

_TICKETS: Any = Ticket.__table__  # type: ignore[attr-defined]
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

    # The minutes and the quarter-hour are worked out in the database: a hall-month holds
    # tens of thousands of tickets, and reading five moments of each cost more than the rest
    # of the statistics (bench/province.py).
    dialect = session.get_bind().dialect.name
    t = _TICKETS.c
    # a remote ticket's wait starts at its check-in (网上取号签到), not on the phone
    waited = minutes_between(
        func.coalesce(t.waiting_since, t.queued_at), t.first_called_at, dialect
    )
    served = case(
        (t.status == DONE, minutes_between(t.started_at, t.finished_at, dialect)), else_=None
    )
    rows = await session.execute(
        select(
            t.service_id,
            t.window_id,
            t.staff_id,
            t.status,
            t.green,
            t.business_day,
            t.holds,
            waited,
            served,
            quarter_hours(t.queued_at, dialect),
        ).where(
            t.hall_id == hall.id,
            t.business_day >= period.first,
            t.business_day <= period.last,
        )
    )
    hour_of = _LocalHours(hall_zone(hall))
    hours: dict[int, dict[str, Any]] = {
        h: {"hour": h, "tickets": 0, "waits": []} for h in range(24)
    }
    days: dict[date, dict[str, Any]] = {
        d: {"day": d.isoformat(), "tickets": 0, "served": 0, "no_shows": 0, "waits": []}
        for d in period.days()
    }
    for (
        service_id,
        window_id,
        staff_id,
        status,
        green,
        day,
        holds,
        wait,
        service_time,
        quarter,
    ) in rows.all():
        if not allowed(service_id):
            continue
        if wait is not None and wait < 0:
            wait = 0.0
        if service_time is not None and service_time < 0:
            service_time = 0.0
        targets, target = targets_of(service_id, window_id, staff_id)
        for g in targets:
            g.tickets += 1
            g.green += 1 if green else 0
            g.served += 1 if status == DONE else 0
            g.no_shows += 1 if status == NO_SHOW else 0
            g.cancelled += 1 if status == CANCELLED else 0
            g.expired += 1 if status == EXPIRED else 0
            g.holds += holds or 0
            if wait is not None:
                g.waits.append(wait)
                g.wait_breaches += 1 if wait > target else 0
            if service_time is not None:
                g.services.append(service_time)
        hour = hours[hour_of(quarter)]
        hour["tickets"] += 1
        if wait is not None:
            hour["waits"].append(wait)
        bucket = days.get(day)
        if bucket is not None:
            bucket["tickets"] += 1
            bucket["served"] += 1 if status == DONE else 0
            bucket["no_shows"] += 1 if status == NO_SHOW else 0
            if wait is not None:
                bucket["waits"].append(wait)

    notes: list[str] = []
    await _add_ratings(session, hall, period, by, names, allowed, group, total, notes)
    await _add_cases(session, hall, period, by, now, department_ids, groups, total, notes)
    if by in WARNED:
        await add_warnings(session, hall, period, by, names.subject, department_ids, groups, total)

    ordered = sorted(groups.values(), key=lambda g: _sort_key(by, g.key))
    hour_rows = [
        {
            "hour": h["hour"],
            "tickets": h["tickets"],
            "mean_wait": round(sum(h["waits"]) / len(h["waits"]), 1) if h["waits"] else None,
        }
        for h in hours.values()
    ]
    day_rows = [
        {
            "day": d["day"],
            "tickets": d["tickets"],
            "served": d["served"],
            "no_shows": d["no_shows"],
            "mean_wait": round(sum(d["waits"]) / len(d["waits"]), 1) if d["waits"] else None,
        }
        for d in days.values()
    ]
    return Stats(hall.code, period, by, ordered, total, hour_rows, day_rows, notes)


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
