"""Rating periods: a month ``YYYY-MM`` or a quarter ``YYYY-Qn``, in the hall's time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

from ..api.errors import invalid
from ..halls.lookup import business_day, hall_zone
from ..halls.models import Hall

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


@dataclass(frozen=True)
class Period:
    code: str
    first: date
    #: The day after the period (exclusive end).
    after: date

    @property
    def label(self) -> str:
        if "Q" in self.code:
            return f"{self.first.year}年第{self.code[-1]}季度"
        return f"{self.first.year}年{self.first.month}月"

    def bounds(self, hall: Hall) -> tuple[datetime, datetime]:
        """The period as aware datetimes [start, end) at the hall's midnight."""
        zone = hall_zone(hall)
        return (
            datetime.combine(self.first, time(0), tzinfo=zone),
            datetime.combine(self.after, time(0), tzinfo=zone),
        )


def _next_month(year: int, month: int) -> date:
    return date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)


def parse_period(code: str) -> Period:
    code = code.strip()
    m = _MONTH.match(code)
    if m:
        year, month = int(m.group(1)), int(m.group(2))
        return Period(code, date(year, month, 1), _next_month(year, month))
    q = _QUARTER.match(code)
    if q:
        year, quarter = int(q.group(1)), int(q.group(2))
        first_month = 3 * (quarter - 1) + 1
        return Period(code, date(year, first_month, 1), _next_month(year, first_month + 2))
    raise invalid(
        "invalid_period", "期间格式应为 YYYY-MM 或 YYYY-Qn (period must be YYYY-MM or YYYY-Qn)"
    )


def current_month(hall: Hall, now: datetime) -> Period:
    day = business_day(hall, now)
    return parse_period(f"{day.year:04d}-{day.month:02d}")
