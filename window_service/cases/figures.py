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
from .commitments import times_for
from .models import Case, CorrectionNotice
from .responsibility import first_responder_figures

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
) -> dict[str | int, Figures]:
    """Figures of ``[start, end]`` grouped ``by`` window · staff · department · service."""
    if by not in BY_VALUES:
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
            await session.execute(select(Department).where(Department.hall_id == hall_id))  # type: ignore[arg-type]
        ).scalars()
    }
    windows = {
        w.id: w
        for w in (await session.execute(select(Window).where(Window.hall_id == hall_id))).scalars()  # type: ignore[arg-type]
    }
    users = {
        u.id: u
        for u in (await session.execute(select(User).where(User.hall_id == hall_id))).scalars()  # type: ignore[arg-type]
    }

    def allowed(service_id: int) -> bool:
        return department_ids is None or services[service_id].department_id in department_ids

    def key_of(
        service_id: int, window_id: int | None, staff_id: int | None
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

    out: dict[str | int, Figures] = {}

    def row(key: tuple[str | int, str] | None) -> Figures | None:
        if key is None:
            return None
        if key[0] not in out:
            out[key[0]] = Figures(key[0], key[1])
        return out[key[0]]

    cases = (
        await session.execute(
            select(Case).where(
                Case.hall_id == hall_id,  # type: ignore[arg-type]
                or_(
                    (col(Case.decided_day) >= start) & (col(Case.decided_day) <= end),
                    col(Case.status).in_(dl.OPEN_STATUSES)
                    & (col(Case.promised_due) >= start)
                    & (col(Case.promised_due) <= end),
                ),
            )
        )
    ).scalars()
    for case in cases:
        if not allowed(case.service_id):
            continue
        fig = row(key_of(case.service_id, case.window_id, case.accepted_by_id))
        if fig is None:
            continue
        if case.status in dl.DECIDED_STATUSES:
            assert case.decided_day is not None
            fig.cases += 1
            fig.decided += 1
            if dl.decided_on_time(case):
                fig.on_time += 1
                if dl.decided_early(case):
                    fig.early += 1
            else:
                fig.overdue += 1
            fig.working_days_used_total += dl.working_days_used(cal, case, case.decided_day)
        else:
            passed = (
                now > case.promised_due_at
                if case.promised_due_at is not None
                else case.promised_due < today
            )
            if case.status == dl.ACCEPTED and passed:
                fig.cases += 1
                fig.overdue += 1
                fig.open_overdue += 1

    notices = (
        await session.execute(
            select(CorrectionNotice, Case)
            .join(Case, Case.id == CorrectionNotice.case_id)  # type: ignore[arg-type]
            .where(
                CorrectionNotice.hall_id == hall_id,  # type: ignore[arg-type]
                CorrectionNotice.breach.is_(True),  # type: ignore[attr-defined]
                CorrectionNotice.issued_day >= start,  # type: ignore[arg-type]
                CorrectionNotice.issued_day <= end,  # type: ignore[arg-type]
            )
        )
    ).all()
    for notice, case in notices:
        if allowed(case.service_id):
            fig = row(key_of(case.service_id, notice.window_id, notice.issued_by_id))
            if fig is not None:
                fig.breaches += 1

    for times in await times_for(session, hall, start, end, now):
        t = times.ticket
        if not allowed(t.original_service_id):
            continue
        fig = row(key_of(t.original_service_id, t.window_id, t.staff_id))
        if fig is None:
            continue
        fig.tickets += 1
        fig.wait_breaches += 1 if times.wait_breach else 0
        if times.served_minutes is not None:
            fig.served += 1
            fig.service_breaches += 1 if times.service_breach else 0

    responders = await first_responder_figures(
        session, hall, start, end, today, department_ids=department_ids
    )
    by_username = {u.username: u for u in users.values()}
    for username, rf in responders.items():
        user = by_username.get(username)
        if user is None or not rf.unresolved:
            continue
        for item in rf.unresolved:
            svc_id = next((sid for sid, s in services.items() if s.code == item.service), None)
            if svc_id is None:
                continue
            fig = row(key_of(svc_id, user.window_id, user.id))
            if fig is not None:
                fig.first_responder_failures += 1
    return out
