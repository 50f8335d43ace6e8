"""What a statistic holds: per group (hall, department, service, window, staff member) tickets,
waits and service times (mean, median, 90th percentile), ratings with satisfaction and 差评
rate, case figures and efficiency warnings (效能告诫); ``Stats`` is a period's groups with
their total, hours and days."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .period import Period
from .tickets import Tally

#: Points of a rating 5 … 1 (潮州细则 default): satisfaction is their mean on 0–100.
POINTS = {5: 10.0, 4: 8.0, 3: 6.0, 2: 3.0, 1: 0.0}


def quantile(values: list[float], q: float) -> float | None:
    """The q-quantile with linear interpolation (q = 0.5: the median)."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def summary(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"mean": None, "median": None, "p90": None}
    return {
        "mean": round(sum(values) / len(values), 1),
        "median": round(quantile(values, 0.5) or 0.0, 1),
        "p90": round(quantile(values, 0.9) or 0.0, 1),
    }


@dataclass
class Group:
    key: str
    label: str
    tickets: int = 0
    served: int = 0
    no_shows: int = 0
    cancelled: int = 0
    expired: int = 0
    green: int = 0
    waits: list[float] = field(default_factory=list)
    services: list[float] = field(default_factory=list)
    ratings: list[int] = field(default_factory=list)
    cases: int = 0
    cases_on_time: int = 0
    cases_overdue: int = 0
    notice_breaches: int = 0
    responder_breaches: int = 0
    wait_breaches: int = 0
    #: 挂起: how often tickets were held (set aside at the window, queue/hold.py)
    holds: int = 0
    #: 效能告诫 issued (staff and department rows only; None where they do not apply)
    warnings: int | None = None

    def add_tickets(self, tally: Tally, wait_target: int) -> None:
        """Count one service · window · staff member's tickets (``tickets.tallies``)."""
        self.tickets += tally.tickets
        self.served += tally.served
        self.no_shows += tally.no_shows
        self.cancelled += tally.cancelled
        self.expired += tally.expired
        self.green += tally.green
        self.holds += tally.holds
        self.waits.extend(tally.waits)
        self.wait_breaches += sum(1 for wait in tally.waits if wait > wait_target)
        self.services.extend(tally.services)

    def as_dict(self) -> dict[str, Any]:
        rated = len(self.ratings)
        bad = sum(1 for r in self.ratings if r <= 2)
        return {
            "key": self.key,
            "label": self.label,
            "tickets": self.tickets,
            "served": self.served,
            "no_shows": self.no_shows,
            "cancelled": self.cancelled,
            "expired": self.expired,
            "no_show_rate": round(self.no_shows / self.tickets, 4) if self.tickets else None,
            "green_share": round(self.green / self.tickets, 4) if self.tickets else None,
            "wait_minutes": summary(self.waits),
            "service_minutes": summary(self.services),
            "wait_breaches": self.wait_breaches,
            "holds": self.holds,
            "ratings": rated,
            "satisfaction": (
                round(sum(POINTS[r] for r in self.ratings) / rated * 10, 1) if rated else None
            ),
            "bad_ratings": bad,
            "bad_rate": round(bad / rated, 4) if rated else None,
            "cases": self.cases,
            "cases_on_time": self.cases_on_time,
            "cases_overdue": self.cases_overdue,
            "case_on_time_rate": (
                round(self.cases_on_time / self.cases, 4) if self.cases else None
            ),
            "notice_breaches": self.notice_breaches,
            "responder_breaches": self.responder_breaches,
            "breaches": self.notice_breaches + self.responder_breaches,
            "warnings": self.warnings,
        }


@dataclass
class Stats:
    hall: str
    period: Period
    by: str
    groups: list[Group]
    total: Group
    hours: list[dict[str, Any]]
    days: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "hall": self.hall,
            "period": self.period.code,
            "period_label": self.period.label,
            "kind": self.period.kind,
            "start": self.period.first.isoformat(),
            "end": self.period.last.isoformat(),
            "by": self.by,
            "rows": [g.as_dict() for g in self.groups],
            "total": self.total.as_dict(),
            "hours": self.hours,
            "days": self.days,
            "notes": self.notes,
        }
