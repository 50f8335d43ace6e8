"""How good the wait estimates were (预计等候准确度): the estimate printed on each ticket vs
the wait it had, per service and day, published on the office statistics.

A ticket counts when it had an estimate (a staffed window served it when it was issued;
``queue/estimate.py``) and was called (its wait: queue time → first call, as the statistics
measure it). The estimate compared is the one printed: whole minutes, rounded up. Per group:
the tickets compared, the mean estimate and the mean actual wait, the mean absolute error
(MAE), the mean error (bias: positive when the hall said longer than it took) and the share
within ±5 minutes; and the tickets issued with no estimate (「暂无窗口办理」).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..halls.models import Hall, Service
from ..queue.estimate import printed_minutes
from ..queue.models import Ticket
from .period import Period

#: An estimate within this many minutes of the actual wait counts as on the mark.
WITHIN_MINUTES = 5.0


@dataclass
class Accuracy:
    key: str
    label: str
    estimates: list[float] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)
    unknown: int = 0

    def add(self, estimate: float | None, wait: float) -> None:
        if estimate is None:
            self.unknown += 1
        else:
            self.estimates.append(estimate)
            self.waits.append(wait)

    def as_dict(self) -> dict[str, Any]:
        n = len(self.estimates)
        errors = [e - w for e, w in zip(self.estimates, self.waits, strict=True)]
        return {
            "key": self.key,
            "label": self.label,
            "tickets": n,
            "no_estimate": self.unknown,
            "mean_estimate": _round(sum(self.estimates) / n) if n else None,
            "mean_wait": _round(sum(self.waits) / n) if n else None,
            "mae_minutes": _round(sum(abs(e) for e in errors) / n) if n else None,
            "bias_minutes": _round(sum(errors) / n) if n else None,
            "within_5_share": (
                round(sum(1 for e in errors if abs(e) <= WITHIN_MINUTES) / n, 4) if n else None
            ),
        }


def _round(value: float) -> float:
    return round(value, 1)


async def estimate_accuracy(
    session: AsyncSession,
    hall: Hall,
    period: Period,
    *,
    department_ids: frozenset[int] | None = None,
) -> dict[str, Any]:
    """The period's estimate accuracy per service and day, per service, and for the hall."""
    assert hall.id is not None
    services = {
        s.id: s
        for s in (
            await session.execute(select(Service).where(Service.hall_id == hall.id))  # type: ignore[arg-type]
        ).scalars()
        if s.id is not None and (department_ids is None or s.department_id in department_ids)
    }
    rows = await session.execute(
        select(  # type: ignore[call-overload]
            Ticket.original_service_id,
            Ticket.business_day,
            Ticket.queued_at,
            Ticket.estimated_wait_seconds,
            Ticket.first_called_at,
        ).where(
            Ticket.hall_id == hall.id,
            Ticket.business_day >= period.first,
            Ticket.business_day <= period.last,
        )
    )
    by_day: dict[tuple[int, date], Accuracy] = {}
    by_service: dict[int, Accuracy] = {}
    total = Accuracy("total", "合计")
    for service_id, day, queued, estimate, called in rows.all():
        svc = services.get(service_id)
        if svc is None or called is None:
            continue  # another department's, or never called: no wait to compare with
        wait = max(0.0, (called - queued).total_seconds() / 60)
        shown = None if estimate is None else float(printed_minutes(float(estimate)) or 0)
        label = f"{svc.prefix} {svc.name}"
        groups = (
            by_day.setdefault((service_id, day), Accuracy(svc.code, label)),
            by_service.setdefault(service_id, Accuracy(svc.code, label)),
            total,
        )
        for group in groups:
            group.add(shown, wait)

    def order(service_id: int) -> tuple[int, str]:
        svc = services[service_id]
        return svc.sort_order, svc.prefix

    days = [
        {**acc.as_dict(), "day": day.isoformat()}
        for (service_id, day), acc in sorted(
            by_day.items(), key=lambda item: (item[0][1], order(item[0][0]))
        )
    ]
    return {
        "hall": hall.code,
        "period": period.code,
        "within_minutes": WITHIN_MINUTES,
        "services": [by_service[s].as_dict() for s in sorted(by_service, key=order)],
        "days": days,
        "total": total.as_dict(),
    }
