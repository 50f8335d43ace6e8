"""办件结果公示: decided cases in public, with the applicant's name masked.

A case is public from its decision on (the 双公示 rule's 7 working days are the latest it may
appear; this hall publishes at once). Listed: receipt number, service, decision, date and the
masked applicant, the same masking as the public case lookup. Never a phone number, a check
code, a full name or the decision's reasoning (which may name people).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..api.errors import invalid
from ..cases import deadlines as dl
from ..cases.models import Case
from ..cases.views import mask_name
from ..halls.lookup import business_day, local_time
from ..halls.models import Department, Hall, Service

#: The longest range one request may ask for (a quarter).
MAX_RANGE_DAYS = 92
#: Without ``from``, the list starts this many days before ``to``.
DEFAULT_RANGE_DAYS = 30
#: A case's decision (completed → approved, rejected → rejected) as the list names it.
DECISIONS = {dl.COMPLETED: "approved", dl.REJECTED: "rejected"}
DECISION_LABELS = {"approved": "准予办结", "rejected": "不予受理"}


@dataclass(frozen=True)
class Result:
    receipt_no: str
    service: str
    service_name: str
    department: str
    decision: str
    decision_label: str
    decided_at: str
    decided_day: date
    applicant: str


def result_range(
    hall: Hall, now: datetime, start: date | None, end: date | None
) -> tuple[date, date]:
    """The days asked for (hall dates, both included), checked: 422 ``invalid_period`` for a
    reversed range, one longer than ``MAX_RANGE_DAYS`` or one more than a year ahead."""
    today = business_day(hall, now)
    end = end or today
    start = start or end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if start > end:
        raise invalid("invalid_period", "开始日期不能晚于结束日期 (from is after to)")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise invalid(
            "invalid_period",
            f"查询区间最长 {MAX_RANGE_DAYS} 天 (at most {MAX_RANGE_DAYS} days at a time)",
        )
    if end > today + timedelta(days=366) or start.year < 2000:
        raise invalid("invalid_period", "日期超出大厅运行期间 (date outside the hall's life)")
    return start, end


async def decided_cases(
    session: AsyncSession, hall: Hall, start: date, end: date, *, limit: int = 1000
) -> list[Result]:
    """The hall's cases decided on ``start``..``end`` (hall dates), newest first."""
    rows = (
        await session.execute(
            select(Case, Service.code, Service.name, Department.name)
            .join(Service, col(Service.id) == col(Case.service_id))
            .join(Department, col(Department.id) == col(Case.department_id))
            .where(
                col(Case.hall_id) == hall.id,
                col(Case.status).in_(list(DECISIONS)),
                col(Case.decided_at).is_not(None),
                col(Case.decided_day) >= start,
                col(Case.decided_day) <= end,
            )
            .order_by(col(Case.decided_at).desc(), col(Case.id).desc())
            .limit(limit)
        )
    ).all()
    out = []
    for case, code, service_name, department in rows:
        assert case.decided_at is not None and case.decided_day is not None
        decision = DECISIONS[case.status]
        out.append(
            Result(
                receipt_no=case.receipt_no,
                service=code,
                service_name=service_name,
                department=department,
                decision=decision,
                decision_label=DECISION_LABELS[decision],
                decided_at=local_time(hall, case.decided_at).isoformat(),
                decided_day=case.decided_day,
                applicant=mask_name(case.applicant_name),
            )
        )
    return out


async def latest_results(
    session: AsyncSession, hall: Hall, now: datetime, n: int = 8
) -> list[Result]:
    """The last few decisions for the notice board (电子公示栏)."""
    end = business_day(hall, now)
    return await decided_cases(
        session, hall, end - timedelta(days=MAX_RANGE_DAYS - 1), end, limit=n
    )
