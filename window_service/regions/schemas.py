"""Queries of the region endpoints."""

from __future__ import annotations

from typing import Literal

from ..api.dates import MonthOrQuarter, StatsPeriod
from ..api.schemas import Query


class ComparisonQuery(Query):
    #: ``YYYY-MM`` or ``YYYY-Qn``; default: this month.
    period: MonthOrQuarter | None = None


class HallStatsQuery(Query):
    #: ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY-Qn``; default: this month.
    period: StatsPeriod | None = None
    by: Literal["hall", "department", "service", "window", "staff"] = "hall"
