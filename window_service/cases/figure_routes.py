"""HTTP endpoints of the accountability figures: deadlines kept, first responders, queue commitments."""

from __future__ import annotations

from datetime import date, datetime

from ..api.endpoint import ApiRequest, ApiRouter
from ..api.errors import invalid
from ..halls.lookup import business_day
from ..halls.models import Hall
from . import figures as fig
from . import queries
from .access import principal_hall
from .commitments import counts as commitment_counts
from .responsibility import NO_OUTCOME_REASONS, first_responder_figures
from .schemas import (
    CommitmentOut,
    CommitmentReport,
    FiguresOut,
    FiguresQuery,
    FiguresReport,
    PeriodQuery,
    ResponderOut,
    ResponderReport,
    UnresolvedOut,
)
from .scopes import OFFICE, OFFICE_LISTS

router = ApiRouter("cases")


def period(hall: Hall, q: PeriodQuery, now: datetime) -> tuple[date, date]:
    """``[start, end]``; by default the current month up to today (hall time)."""
    today = business_day(hall, now)
    end = q.end or today
    start = q.start or end.replace(day=1)
    if start > end:
        raise invalid("invalid_period", "开始日期不能晚于结束日期 (start after end)")
    if (end - start).days > 400:
        raise invalid("invalid_period", "统计区间最长 400 天 (period too long)")
    return start, end


@router.route(
    "GET", "/accountability/figures", roles=OFFICE, response=FiguresReport, scope=OFFICE_LISTS
)
async def compliance_figures(api: ApiRequest[None, FiguresQuery]) -> FiguresReport:
    """时限考核: on-time and early-completion rates, overdue, breaches, per window/staff/…"""
    q = api.query
    now = api.state.clock.now()
    async with api.state.db.read() as session:
        hall = await principal_hall(session, api.principal)
        assert hall.id is not None
        start, end = period(hall, q, now)
        rows = await fig.compliance(
            session, hall.id, start, end, q.by, now=now, department_ids=api.departments()
        )
        return FiguresReport(
            by=q.by,
            start=start,
            end=end,
            rows=[
                FiguresOut(**f.as_dict())
                for _, f in sorted(rows.items(), key=lambda kv: str(kv[0]))
            ],
        )


@router.route(
    "GET",
    "/accountability/first-responders",
    roles=OFFICE,
    response=ResponderReport,
    scope=OFFICE_LISTS,
)
async def first_responders(api: ApiRequest[None, PeriodQuery]) -> ResponderReport:
    """首问负责: matters per staff member as first responder, and those left without outcome."""
    q = api.query
    now = api.state.clock.now()
    async with api.state.db.read() as session:
        hall = await principal_hall(session, api.principal)
        start, end = period(hall, q, now)
        figures = await first_responder_figures(
            session, hall, start, end, business_day(hall, now), department_ids=api.departments()
        )
        return ResponderReport(
            start=start,
            end=end,
            rows=[
                ResponderOut(
                    username=f.username,
                    name=f.name,
                    tickets=f.tickets,
                    consultations=f.consultations,
                    cases=f.cases,
                    referrals=f.referrals,
                    unresolved=f.unresolved_count,
                    matters=[
                        UnresolvedOut(
                            ticket_id=u.ticket_id,
                            ticket=u.number,
                            business_day=u.business_day,
                            reason=u.reason,
                            reason_label=NO_OUTCOME_REASONS.get(u.reason, u.reason),
                            service=u.service,
                        )
                        for u in f.unresolved
                    ],
                )
                for f in figures.values()
            ],
        )


@router.route(
    "GET",
    "/accountability/queue-commitments",
    roles=OFFICE,
    response=CommitmentReport,
    scope=OFFICE_LISTS,
)
async def queue_commitments(api: ApiRequest[None, PeriodQuery]) -> CommitmentReport:
    """等候/办理时限: tickets over the wait or service-time target, per service and day."""
    q = api.query
    now = api.state.clock.now()
    async with api.state.db.read() as session:
        hall = await principal_hall(session, api.principal)
        today = business_day(hall, now)
        start, end = period(hall, PeriodQuery(start=q.start or (q.end or today), end=q.end), now)
        rows = await commitment_counts(session, hall, start, end, now)
        scope = api.departments()
        if scope is not None:
            allowed = await queries.service_codes(session, scope)
            rows = [r for r in rows if r.service in allowed]
        return CommitmentReport(
            start=start,
            end=end,
            rows=[CommitmentOut.model_validate(r, from_attributes=True) for r in rows],
        )
