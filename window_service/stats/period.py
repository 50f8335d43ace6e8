"""The period of a statistic (统计周期): a day, a month or a quarter of the hall's life."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from ..api import dates
from ..halls.lookup import business_day, hall_zone
from ..halls.models import Hall


@dataclass(frozen=True)
class Period:
    code: str
    kind: str  # day · month · quarter
    first: date
    last: date

    @property
    def label(self) -> str:
        if self.kind == "day":
            return f"{self.first.year}年{self.first.month}月{self.first.day}日"
        if self.kind == "quarter":
            return f"{self.first.year}年第{self.code[-1]}季度"
        return f"{self.first.year}年{self.first.month}月"

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def bounds(self, hall: Hall) -> tuple[datetime, datetime]:
        zone = hall_zone(hall)
        return (
            datetime.combine(self.first, time(0), tzinfo=zone),
            datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=zone),
        )


def parse_period(code: str, *, today: date | None = None) -> Period:
    """``YYYY-MM-DD`` (a day), ``YYYY-MM`` (a month) or ``YYYY-Qn`` (a quarter), in the
    hall's life (``api.dates``); else 422 ``invalid_period``."""
    span = dates.parse_period(code, today=today, kinds=dates.DAY_MONTH_OR_QUARTER)
    return Period(span.code, span.kind, span.first, span.last)


def default_period(hall: Hall, now: datetime) -> Period:
    day = business_day(hall, now)
    return parse_period(f"{day.year:04d}-{day.month:02d}")
