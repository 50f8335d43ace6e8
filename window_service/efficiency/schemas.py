"""Requests and answers of efficiency warnings (效能告诫)."""

from __future__ import annotations

from pydantic import Field

from ..api.dates import MonthOrQuarter
from ..api.schemas import Input, Output, Query


class ProposeIn(Input):
    """The quarter whose figures are to be read for proposals, ``YYYY-Qn``."""

    period: MonthOrQuarter


class DecisionIn(Input):
    """Why the office issues or declines the warning (kept with it and in the audit record)."""

    reason: str = Field(min_length=1, max_length=500)


class WarningsQuery(Query):
    period: MonthOrQuarter | None = None
    status: str | None = Field(default=None, pattern="^(proposed|issued|declined)$")


class WarningOut(Output):
    id: int
    period: str
    period_label: str
    subject: str
    #: The staff member's username or the department's code.
    key: str
    name: str
    #: The counts that reached a threshold, and the thresholds in force.
    grounds: dict[str, int]
    thresholds: dict[str, int]
    status: str
    reason: str
    serial: str | None
    proposed_at: str
    decided_at: str | None
    decided_by: str | None
