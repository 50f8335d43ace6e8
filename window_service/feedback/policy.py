"""The rules of a rating (一次一评): levels, points, tags, and when a ticket can be rated.

国办发〔2019〕51号 / GB/T 39734-2020: five levels, 1–2 are 差评. A ticket's QR token rates it
once, only after the service is finished (status ``done``), within ``rate_within_days`` working
days of the day it finished (default 5, counted by the official calendar of ``cases.calendar``:
the finishing day plus five working days, the last of which is still allowed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accountability import config
from ..api.errors import ApiError
from ..auth.principal import Principal
from ..auth.roles import EVALUATOR
from ..cases.calendar import load_calendar
from ..halls.lookup import business_day
from ..halls.models import Hall
from ..queue import rules
from ..queue.models import Ticket
from .models import Feedback

#: The official labels of the five levels (好差评).
LEVELS: Final = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
BAD_RATINGS: Final = (1, 2)
#: The fixed list of tags a citizen may pick (what the rating is about).
TAGS: Final = ("态度", "效率", "一次性告知", "廉洁", "等候时间", "办事流程", "环境设施", "引导咨询")
MAX_TAGS: Final = len(TAGS)


#: The channels the office enters (GB/T 39734-2020), with their names (Chinese source text).
CHANNELS = {
    "hotline_12345": "12345热线",
    "suggestion_box": "意见箱",
    "supervisor": "特邀监督员",
    "onsite_review": "现场监督查评",
}
#: Every channel's name, the citizen's own two included.
CHANNEL_LABELS = {"phone": "扫码评价", "pad": "评价器", **CHANNELS}


def level_label(rating: int) -> str:
    return LEVELS.get(rating, str(rating))


def is_bad(rating: int) -> bool:
    return rating in BAD_RATINGS


@dataclass(frozen=True)
class Rateability:
    can_rate: bool
    #: Why not: not_finished · already_rated · rating_period_over (None when it can).
    reason: str | None
    message: str
    #: The last day a rating is accepted (hall date), once the service is finished.
    deadline: date | None


REFUSALS: Final = {
    "not_finished": "办理尚未结束，办结后才能评价 (the service is not finished yet)",
    "already_rated": "该号票已评价，每次服务只能评价一次 (already rated)",
    "rating_period_over": "已超过评价期限 (the rating period is over)",
}


async def existing_feedback(session: AsyncSession, ticket_id: int) -> Feedback | None:
    return (
        await session.execute(select(Feedback).where(Feedback.ticket_id == ticket_id))  # type: ignore[arg-type]
    ).scalar_one_or_none()


async def rate_deadline(session: AsyncSession, hall: Hall, finished_at: datetime) -> date:
    assert hall.id is not None
    settings, _ = await config.current(session, hall.id)
    calendar = await load_calendar(session, hall.id)
    return calendar.add_working_days(business_day(hall, finished_at), settings.rate_within_days)


async def rateability(
    session: AsyncSession, hall: Hall, ticket: Ticket, now: datetime
) -> Rateability:
    """Whether ``ticket`` can be rated at ``now``, and if not, why."""
    if ticket.status != rules.DONE or ticket.finished_at is None:
        return Rateability(False, "not_finished", REFUSALS["not_finished"], None)
    deadline = await rate_deadline(session, hall, ticket.finished_at)
    assert ticket.id is not None
    if await existing_feedback(session, ticket.id) is not None:
        return Rateability(False, "already_rated", REFUSALS["already_rated"], deadline)
    if business_day(hall, now) > deadline:
        return Rateability(False, "rating_period_over", REFUSALS["rating_period_over"], deadline)
    return Rateability(True, None, "", deadline)


async def can_rate(session: AsyncSession, hall: Hall, ticket: Ticket, now: datetime) -> bool:
    """Finished, not yet rated, and within the rating period."""
    return (await rateability(session, hall, ticket, now)).can_rate


# -- who may rate (工作人员不得代评) --------------------------------------------------------------


def staff_cannot_rate() -> ApiError:
    """A rating sent by staff (credential or page session): refused, whatever else it says."""
    return ApiError(
        403, "staff_cannot_rate", "工作人员不得代替群众评价 (staff must not rate for citizens)"
    )


def check_rater(principal: Principal, ticket: Ticket) -> None:
    """Kiosks, displays and other windows' pads are refused; the window's own pad rates."""
    if principal.kind != "device":
        return
    if principal.role != EVALUATOR:
        raise ApiError(403, "device_cannot_rate", "该设备不能用于评价 (this device cannot rate)")
    if principal.hall_id != ticket.hall_id or principal.window_id != ticket.window_id:
        raise ApiError(
            403, "other_window", "只能评价本窗口办理的业务 (this pad belongs to another window)"
        )
