"""Efficiency warnings as the office's pages and the API show them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accountability import config
from ..accountability.periods import parse_period
from ..auth.models import User
from ..halls.lookup import local_time
from ..halls.models import Department, Hall
from .models import EfficiencyWarning
from .schemas import WarningOut
from .service import thresholds


def _iso(hall: Hall, value: object) -> str | None:
    return local_time(hall, value).isoformat() if value is not None else None  # type: ignore[arg-type]


async def warnings_out(
    session: AsyncSession, hall: Hall, rows: list[EfficiencyWarning]
) -> list[WarningOut]:
    assert hall.id is not None
    settings, _ = await config.current(session, hall.id)
    limits = thresholds(settings)
    users = {
        u.id: u
        for u in (await session.execute(select(User).where(User.hall_id == hall.id))).scalars()  # type: ignore[arg-type]
    }
    depts = {
        d.id: d
        for d in (
            await session.execute(select(Department).where(Department.hall_id == hall.id))  # type: ignore[arg-type]
        ).scalars()
    }
    out = []
    for w in rows:
        assert w.id is not None
        if w.subject == "staff":
            user = users.get(w.subject_id)
            key, name = (user.username, user.display_name or user.username) if user else ("", "")
        else:
            dept = depts.get(w.subject_id)
            key, name = (dept.code, dept.name) if dept else ("", "")
        decider = users.get(w.decided_by_id) if w.decided_by_id else None
        out.append(
            WarningOut(
                id=w.id,
                period=w.period,
                period_label=parse_period(w.period).label,
                subject=w.subject,
                key=key,
                name=name,
                grounds={k: int(v) for k, v in w.grounds.items()},
                thresholds=limits,
                status=w.status,
                reason=w.reason,
                serial=w.serial,
                proposed_at=_iso(hall, w.proposed_at) or "",
                decided_at=_iso(hall, w.decided_at),
                decided_by=(decider.display_name or decider.username) if decider else None,
            )
        )
    return out
