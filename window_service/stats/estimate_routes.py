"""How good the wait estimates were, for the office (inspector, admin, head): JSON."""

from __future__ import annotations

from typing import Any

from ..api.dates import StatsPeriod
from ..api.endpoint import ApiRequest, ApiRouter
from ..api.schemas import Query
from ..halls.lookup import business_day, get_hall
from .estimates import estimate_accuracy
from .period import default_period, parse_period
from .routes import OFFICE, scope_of

router = ApiRouter("stats")


class EstimatesQuery(Query):
    #: ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY-Qn``; default: this month.
    period: StatsPeriod | None = None


@router.route("GET", "/halls/{hall}/stats/estimates", roles=OFFICE, response=dict[str, Any])
async def estimates(api: ApiRequest[None, EstimatesQuery]) -> dict[str, Any]:
    """预计等候准确度: the estimate printed on each ticket vs the wait it had.

    Per service and day, per service and for the hall: tickets compared, mean estimate and
    mean wait, mean absolute error (MAE), bias and the share within ±5 minutes (minutes);
    tickets issued with no estimate (nobody on duty at a window serving them). A department
    head sees their departments only.
    """
    async with api.state.db.read() as session:
        hall = await get_hall(session, api.path["hall"])
        departments = scope_of(api.principal, hall)
        now = api.state.clock.now()
        code = api.query.period
        period = (
            parse_period(code, today=business_day(hall, now)) if code else default_period(hall, now)
        )
        return await estimate_accuracy(session, hall, period, department_ids=departments)
