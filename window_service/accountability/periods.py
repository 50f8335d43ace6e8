"""Rating periods: a month ``YYYY-MM`` or a quarter ``YYYY-Qn``, in the hall's time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from ..api import dates
from ..halls.lookup import business_day, hall_zone
from ..halls.models import Hall


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


def parse_period(code: str, *, today: date | None = None) -> Period:
    """A month or quarter in the hall's life (``api.dates``), else 422 ``invalid_period``."""
    span = dates.parse_period(code, today=today, kinds=dates.MONTH_OR_QUARTER)
    return Period(span.code, span.first, span.after)


def current_month(hall: Hall, now: datetime) -> Period:
    day = business_day(hall, now)
    return parse_period(f"{day.year:04d}-{day.month:02d}")
