"""Dates, periods and numbers the API takes: one parser, one range (the hall's life).

Every day (``YYYY-MM-DD``), moment (ISO 8601 datetime) and period (``YYYY-MM``, ``YYYY-Qn``,
and for statistics a day) that a request carries goes through this module, so that none can
reach date arithmetic or the database outside the range the hall can have data for:

- not before :data:`EARLIEST` (2000-01-01; no hall's first business day is earlier; a hall
  that records its opening day would narrow this), and
- not more than :data:`AHEAD_DAYS` after the hall's today (计划、期限 look ahead; nothing
  further).

Anything else is 422 ``invalid_period``. Query and body models use the pydantic types
:data:`Day`, :data:`Moment` and :func:`period_field`; the endpoint wrapper passes the clock's
day as the validation context (``{"today": date}``), so the upper bound holds in every
endpoint without the handler doing anything. Pages call :func:`parse_period` /
:func:`parse_day` with ``today`` themselves.

Digits are ASCII only: Python's ``int()``, ``str.isdigit()`` and ``re``'s ``\\d`` accept
full-width and other Unicode digits (``１２``); :func:`ascii_int` does not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from pydantic import Field, PlainValidator, ValidationInfo, WithJsonSchema
from pydantic_core import PydanticCustomError

from .errors import ApiError

#: No date the API takes is earlier (the hall's first business day cannot be).
EARLIEST = date(2000, 1, 1)
#: How far ahead of the hall's today a date may be.
AHEAD_DAYS = 366
#: The upper bound when no clock is at hand (values validated outside a request).
LATEST_EVER = date(2200, 12, 31)

CODE = "invalid_period"
MESSAGE = (
    "日期或期间超出范围 (date or period outside the hall's life: from 2000-01-01 to a year ahead)"
)

_DAY = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
_MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^([0-9]{4})-Q([1-4])$")
_INT = re.compile(r"^[0-9]{1,18}$")
#: ISO 8601 as pydantic reads it, with ASCII digits only.
_MOMENT = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.,+\-Z]*)?$", re.IGNORECASE)


def ascii_int(text: str | None) -> int | None:
    """``text`` as a non-negative integer when it is 1–18 ASCII digits, else None."""
    if text is None or not _INT.match(text):
        return None
    return int(text)


def invalid_period(message: str = MESSAGE) -> ApiError:
    return ApiError(422, CODE, message)


def latest(today: date | None) -> date:
    """The last day the API takes, seen from ``today`` (the hall's business day)."""
    if today is None:
        return LATEST_EVER
    return min(today + timedelta(days=AHEAD_DAYS), LATEST_EVER)


def in_life(first: date, last: date, today: date | None) -> bool:
    return EARLIEST <= first and last <= latest(today)


def check_in_life(first: date, last: date, today: date | None) -> None:
    """Raise 422 ``invalid_period`` unless ``[first, last]`` lies in the hall's life."""
    if not in_life(first, last, today):
        raise invalid_period()


@dataclass(frozen=True)
class Span:
    """A calendar span ``[first, last]`` (inclusive) named by its code."""

    code: str
    kind: str  # day · month · quarter
    first: date
    last: date

    @property
    def after(self) -> date:
        """The day after the span (exclusive end)."""
        return self.last + timedelta(days=1)


def _month_last(year: int, month: int) -> date:
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return following - timedelta(days=1)


def _span(code: str, kinds: tuple[str, ...]) -> Span | None:
    """The span ``code`` names, or None when it is not one of ``kinds`` or no real date."""
    try:
        if "day" in kinds and (m := _DAY.match(code)):
            day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            return Span(code, "day", day, day)
        if "month" in kinds and (m := _MONTH.match(code)):
            year, month = int(m.group(1)), int(m.group(2))
            if year < 1:
                return None
            return Span(code, "month", date(year, month, 1), _month_last(year, month))
        if "quarter" in kinds and (m := _QUARTER.match(code)):
            year, quarter = int(m.group(1)), int(m.group(2))
            if year < 1:
                return None
            first = 3 * (quarter - 1) + 1
            return Span(code, "quarter", date(year, first, 1), _month_last(year, first + 2))
    except (ValueError, OverflowError):
        return None
    return None


MONTH_OR_QUARTER = ("month", "quarter")
DAY_MONTH_OR_QUARTER = ("day", "month", "quarter")


def _format_message(kinds: tuple[str, ...]) -> str:
    if "day" in kinds:
        return "期间格式应为 YYYY-MM-DD、YYYY-MM 或 YYYY-Qn (period: a day, month or quarter)"
    return "期间格式应为 YYYY-MM 或 YYYY-Qn (period must be YYYY-MM or YYYY-Qn)"


def parse_period(
    code: str, *, today: date | None, kinds: tuple[str, ...] = MONTH_OR_QUARTER
) -> Span:
    """A period code as a span in the hall's life, or 422 ``invalid_period``."""
    span = _span(code.strip(), kinds)
    if span is None:
        raise invalid_period(_format_message(kinds))
    check_in_life(span.first, span.last, today)
    return span


def parse_day(text: str, *, today: date | None) -> date:
    """``YYYY-MM-DD`` (ASCII digits) in the hall's life, or 422 ``invalid_period``."""
    return parse_period(text, today=today, kinds=("day",)).first


# --- pydantic types for Query and Input models -----------------------------------------


def _today(info: ValidationInfo) -> date | None:
    context = info.context
    if isinstance(context, dict):
        today = context.get("today")
        if isinstance(today, date):
            return today
    return None


def _refuse(message: str = MESSAGE) -> PydanticCustomError:
    return PydanticCustomError(CODE, message)


def _validate_day(value: Any, info: ValidationInfo) -> date:
    if isinstance(value, datetime):
        raise _refuse("应为日期 YYYY-MM-DD (expected a date YYYY-MM-DD)")
    if isinstance(value, str):
        span = _span(value.strip(), ("day",))
        if span is None:
            raise _refuse("日期格式应为 YYYY-MM-DD (date must be YYYY-MM-DD)")
        value = span.first
    if not isinstance(value, date):
        raise _refuse("日期格式应为 YYYY-MM-DD (date must be YYYY-MM-DD)")
    if not in_life(value, value, _today(info)):
        raise _refuse()
    return value


def _validate_moment(value: Any, info: ValidationInfo) -> datetime:
    if isinstance(value, str):
        text = value.strip()
        if not _MOMENT.match(text):
            raise _refuse("时间格式应为 ISO 8601 (expected an ISO 8601 date-time)")
        try:
            value = datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError as exc:
            raise _refuse("时间格式应为 ISO 8601 (expected an ISO 8601 date-time)") from exc
    if not isinstance(value, datetime):
        raise _refuse("时间格式应为 ISO 8601 (expected an ISO 8601 date-time)")
    if not in_life(value.date(), value.date(), _today(info)):
        raise _refuse()
    return value


def _period_validator(kinds: tuple[str, ...]) -> Any:
    def validate(value: Any, info: ValidationInfo) -> str:
        if not isinstance(value, str):
            raise _refuse(_format_message(kinds))
        span = _span(value.strip(), kinds)
        if span is None:
            raise _refuse(_format_message(kinds))
        if not in_life(span.first, span.last, _today(info)):
            raise _refuse()
        return span.code

    return validate


#: A business day ``YYYY-MM-DD`` in the hall's life.
Day = Annotated[
    date,
    PlainValidator(_validate_day),
    WithJsonSchema({"type": "string", "format": "date"}),
]
#: A moment (ISO 8601 date-time) in the hall's life.
Moment = Annotated[
    datetime,
    PlainValidator(_validate_moment),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
#: A rating period ``YYYY-MM`` or ``YYYY-Qn`` in the hall's life.
MonthOrQuarter = Annotated[
    str,
    PlainValidator(_period_validator(MONTH_OR_QUARTER)),
    WithJsonSchema(
        {"type": "string", "pattern": r"^[0-9]{4}-(0[1-9]|1[0-2]|Q[1-4])$", "x-period": True}
    ),
    Field(description="YYYY-MM or YYYY-Qn"),
]
#: A statistics period: a day ``YYYY-MM-DD``, a month or a quarter, in the hall's life.
StatsPeriod = Annotated[
    str,
    PlainValidator(_period_validator(DAY_MONTH_OR_QUARTER)),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^[0-9]{4}-(0[1-9]|1[0-2]|Q[1-4])(-[0-9]{2})?$",
            "x-period": True,
        }
    ),
    Field(description="YYYY-MM-DD, YYYY-MM or YYYY-Qn"),
]


def validation_context(now: datetime) -> dict[str, Any]:
    """What the endpoint wrapper passes to ``model_validate`` (see the module docstring).

    The hall is not known there: the day is the latest calendar day anywhere at ``now``
    (UTC+14), so a hall's own today plus :data:`AHEAD_DAYS` is never refused.
    """
    return {"today": (now.astimezone(UTC) + timedelta(hours=14)).date()}
