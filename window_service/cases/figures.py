"""Time-limit compliance figures per window, staff member, department or service.

``compliance(session, hall_id, start, end, by=...)`` → ``{key: Figures}``, where ``key`` is the
window number, the staff username, the department code or the service code (as the ratings
contract names them). A period ``[start, end]`` (business days, inclusive) holds:

- cases decided (办结 or 不予受理) in the period: on time when decided by the promised deadline,
  early (提前办结) when decided on a day before it, and the working days they took (clock stops
  not counted);
- open cases whose promised deadline fell in the period and has passed: overdue;
- correction notices issued in the period that broke 一次性告知 (a case's second notice);
- tickets of the period: wait- and service-time target breaches;
- matters first responded to in the period that ended without an outcome (首问负责制).

Cases count for the window and staff member that accepted them; breaches for the window and
staff member that issued the notice; tickets for the window and staff member that served them
(last), and for the service they were taken for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..auth.models import User
from ..clock import SystemClock
from ..halls.lookup import business_day
from ..halls.models import Department, Hall, Service, Window
from . import deadlines as dl
from .calendar import load_calendar
from .commitments import target_counts
from .models import Case, CorrectionNotice
from .responsibility import unresolved_counts

_CASES: Any = Case.__table__  # type: ignore[attr-defined]
#: What the figures read of a case (and ``deadlines.decided_on_time``, ``decided_early`` and
#: ``working_days_used`` of it).
_CASE_FIGURES = (
    "service_id",
    "window_id",
    "accepted_by_id",
    "status",
    "accepted_day",
    "decided_day",
    "decided_at",
    "promised_due",
    "promised_due_at",
    "stopped_days",
    "stopped_since",
)

By = Literal["window", "staff", "department", "service"]
BY_VALUES: tuple[str, ...] = ("window", "staff", "department", "service")


@dataclass
class Figures:
    key: str | int
    label: str = ""
    #: Cases that count for the period: decided in it, plus open ones overdue in it.
    cases: int = 0
    decided: int = 0
    on_time: int = 0
    early: int = 0
    overdue: int = 0
    open_overdue: int = 0
    working_days_used_total: int = 0
    #: 一次性告知 breaches (second correction notices).
    breaches: int = 0
    tickets: int = 0
    wait_breaches: int = 0
    served: int = 0
    service_breaches: int = 0
    #: Matters that ended without an outcome (首问负责制); staff/window/department/service.
    first_responder_failures: int = 0

    @property
    def on_time_rate(self) -> float | None:
        """按时办结率: on-time decisions among the cases that count (None: no cases)."""
        return round(self.on_time / self.cases, 4) if self.cases else None

    @property
    def early_rate(self) -> float | None:
        """提前办结率: early decisions among decided cases."""
        return round(self.early / self.decided, 4) if self.decided else None

    @property
    def average_working_days(self) -> float | None:
        return round(self.working_days_used_total / self.decided, 2) if self.decided else None

    @property
    def wait_compliance_rate(self) -> float | None:
        """Share of tickets called within the wait target."""
        return round(1 - self.wait_breaches / self.tickets, 4) if self.tickets else None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["on_time_rate"] = self.on_time_rate
        out["early_rate"] = self.early_rate
        out["average_working_days"] = self.average_working_days
        out["wait_compliance_rate"] = self.wait_compliance_rate
        return out


async def compliance(
    session: AsyncSession,
    hall_id: int,
    start: date,
    end: date,
    by: str = "window",
    *,
    now: datetime | None = None,
    department_ids: frozenset[int] | None = None,
    tickets: bool = True,
) -> dict[str | int, Figures]:
    """Figures of ``[start, end]`` grouped ``by`` window · staff · department · service;
    ``tickets=False`` leaves out the tickets' target figures (and does not read them)."""
    if by not in BY_VALUES:
        raise ValueError(f"by must be one of {BY_VALUES}")
    grouped = await compliance_by(
        session, hall_id, start, end, (by,), now=now, department_ids=department_ids, tickets=tickets
    )
    return grouped[by]


async def compliance_by(
    session: AsyncSession,
    hall_id: int,
    start: date,
    end: date,
    bys: Sequence[str] = BY_VALUES,
    *,
    now: datetime | None = None,
    department_ids: frozenset[int] | None = None,
    tickets: bool = True,
) -> dict[str, dict[str | int, Figures]]:
    """The same figures grouped several ways at once (the data is read once)."""
    if any(by not in BY_VALUES for by in bys):
        raise ValueError(f"by must be one of {BY_VALUES}")
    hall = await session.get(Hall, hall_id)
    if hall is None:
        raise ValueError("unknown hall")
    now = now or SystemClock().now()
    today = business_day(hall, now)
    cal = await load_calendar(session, hall_id)
    services = {
        s.id: s
        for s in (
            await session.execute(select(Service).where(col(Service.hall_id) == hall_id))
        ).scalars()
    }
    departments = {
        d.id: d
        for d in (
            await session.execute(select(Department).where(col(Department.hall_id) == hall_id))
        ).scalars()
    }
    windows = {
        w.id: w
        for w in (
            await session.execute(select(Window).where(col(Window.hall_id) == hall_id))
        ).scalars()
    }
    users = {
        u.id: u
        for u in (await session.execute(select(User).where(col(User.hall_id) == hall_id))).scalars()
    }

    def allowed(service_id: int) -> bool:
        return department_ids is None or services[service_id].department_id in department_ids

    def key_of(
        by: str, service_id: int, window_id: int | None, staff_id: int | None
    ) -> tuple[str | int, str] | None:
        if by == "service":
            svc = services[service_id]
            return svc.code, svc.name
        if by == "department":
            dept = departments[services[service_id].department_id]
            return dept.code, dept.name
        if by == "window":
            window = windows.get(window_id) if window_id else None
            return (window.number, window.name or f"{window.number}号窗口") if window else None
        user = users.get(staff_id) if staff_id else None
        return (user.username, user.display_name) if user else None

    out: dict[str, dict[str | int, Figures]] = {by: {} for by in bys}

    known: dict[tuple[int, int | None, int | None], list[Figures]] = {}

    def rows(service_id: int, window_id: int | None, staff_id: int | None) -> list[Figures]:
        """The figures rows (one per grouping) that a record counts for (looked up once per
        service · window · staff member: a period has tens of thousands of records)."""
        found = known.get((service_id, window_id, staff_id))
        if found is None:
            found = known[service_id, window_id, staff_id] = _rows(service_id, window_id, staff_id)
        return found

    def _rows(service_id: int, window_id: int | None, staff_id: int | None) -> list[Figures]:
        found = []
        for by in bys:
            key = key_of(by, service_id, window_id, staff_id)
            if key is None:
                continue
            group = out[by]
            if key[0] not in group:
                group[key[0]] = Figures(key[0], key[1])
            found.append(group[key[0]])
        return found

    # The columns the figures read (``deadlines`` reads these of a case), not mapped cases:
    # a hall-quarter holds thousands (bench/province.py).
    cases: Any = (
        await session.execute(
            select(*(_CASES.c[name] for name in _CASE_FIGURES)).where(
                col(Case.hall_id) == hall_id,
                or_(
                    (col(Case.decided_day) >= start) & (col(Case.decided_day) <= end),
                    col(Case.status).in_(dl.OPEN_STATUSES)
                    & (col(Case.promised_due) >= start)
                    & (col(Case.promised_due) <= end),
                ),
            )
        )
    ).all()
    for case in cases:
        if not allowed(case.service_id):
            continue
        if case.status in dl.DECIDED_STATUSES:
            assert case.decided_day is not None
            on_time = bool(dl.decided_on_time(case))
            early = on_time and dl.decided_early(case)
            used = dl.working_days_used(cal, case, case.decided_day)
            for fig in rows(case.service_id, case.window_id, case.accepted_by_id):
                fig.cases += 1
                fig.decided += 1
                fig.on_time += 1 if on_time else 0
                fig.early += 1 if early else 0
                fig.overdue += 0 if on_time else 1
                fig.working_days_used_total += used
            continue
        passed = (
            now > case.promised_due_at
            if case.promised_due_at is not None
            else case.promised_due < today
        )
        if case.status == dl.ACCEPTED and passed:
            for fig in rows(case.service_id, case.window_id, case.accepted_by_id):
                fig.cases += 1
                fig.overdue += 1
                fig.open_overdue += 1

    notices = (
        await session.execute(
            select(CorrectionNotice, Case)
            .join(Case, col(Case.id) == col(CorrectionNotice.case_id))
            .where(
                col(CorrectionNotice.hall_id) == hall_id,
                col(CorrectionNotice.breach).is_(True),
                col(CorrectionNotice.issued_day) >= start,
                col(CorrectionNotice.issued_day) <= end,
            )
        )
    ).all()
    for notice, case in notices:
        if allowed(case.service_id):
            for fig in rows(case.service_id, notice.window_id, notice.issued_by_id):
                fig.breaches += 1

    for counted in await target_counts(session, hall, start, end, now) if tickets else ():
        if not allowed(counted.service_id):
            continue
        for fig in rows(counted.service_id, counted.window_id, counted.staff_id):
            fig.tickets += counted.tickets
            fig.wait_breaches += counted.wait_breaches
            fig.served += counted.served
            fig.service_breaches += counted.service_breaches

    unresolved = await unresolved_counts(
        session, hall, start, end, today, department_ids=department_ids
    )
    for (responder_id, service_id), n in unresolved.items():
        user = users.get(responder_id)
        if user is not None:
            for fig in rows(service_id, user.window_id, user.id):
                fig.first_responder_failures += n
    return out
