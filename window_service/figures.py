"""Where the star ratings and the visit plan get the figures other areas keep.

The cases area computes time-limit compliance, 一次性告知 and first-responder breaches and
wait-target compliance (``cases.figures.compliance``); the openness area counts fee breaches
(乱收费, ``openness.fees.fee_breaches``), which are breaches of conduct like the others. This hook is the only place that reads
them, so a hall without the cases module (or an older one) still rates on the other components:
``case_figures`` then returns no figures and those components count as "no data".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class CaseFigures:
    """The figures of one window, staff member or department in a period."""

    cases: int = 0
    on_time: int = 0
    overdue: int = 0
    open_overdue: int = 0
    #: 一次性告知 breaches, first-responder failures (首问负责制) and fee breaches (乱收费).
    breaches: int = 0
    tickets: int = 0
    wait_breaches: int = 0


async def case_figures(
    session: AsyncSession, hall_id: int, first: date, last: date, by: str, now: datetime
) -> dict[str, CaseFigures]:
    """Figures of ``[first, last]`` (hall days, inclusive) keyed like the ratings (as text)."""
    try:
        from .cases.figures import compliance
    except ImportError:  # pragma: no cover - the cases area is part of this repository
        return {}
    from .openness.fees import fee_breaches

    figures = await compliance(session, hall_id, first, last, by, now=now)
    fees = (await fee_breaches(session, hall_id, first, last)).by_subject(by)
    out = {
        str(key): CaseFigures(
            cases=f.cases,
            on_time=f.on_time,
            overdue=f.overdue,
            open_overdue=f.open_overdue,
            breaches=f.breaches + f.first_responder_failures + fees.get(str(key), 0),
            tickets=f.tickets,
            wait_breaches=f.wait_breaches,
        )
        for key, f in figures.items()
    }
    for key, count in fees.items():
        out.setdefault(key, CaseFigures(breaches=count))
    return out
