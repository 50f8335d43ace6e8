"""特邀廉政监督员: the invited supervisors' own observations, and what became of them.

A supervisor is an outsider with an account of the hall (role ``supervisor``). What they
observe enters the feedback channel ``supervisor`` exactly as the office's entry of it does
(``channels.enter``): it counts like any rating, a 差评 opens a rectification for the
department head, and it goes to the province's platform. The entry names the supervisor as
its author (``entered_by_id``) and is audited under their account. They see their own
observations with the progress of each one's rectification, never anyone else's.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.endpoint import ApiRequest, ApiRouter
from ..api.scope import HALL
from ..auth.roles import SUPERVISOR
from ..halls.lookup import own_hall
from ..halls.models import Hall
from . import channels, policy, rectifications
from .models import Feedback, Rectification
from .queries import names
from .schemas import ObservationIn, ObservationOut
from .views import iso

router = ApiRouter("supervision")


async def observations_out(
    session: AsyncSession, hall: Hall, rows: list[Feedback]
) -> list[ObservationOut]:
    """The observations with their rectifications' progress (what the supervisor may read)."""
    assert hall.id is not None
    rects: dict[int, Rectification] = {}
    ids = [fb.id for fb in rows if fb.id is not None]
    if ids:
        stmt = select(Rectification).where(Rectification.feedback_id.in_(ids))  # type: ignore[union-attr]
        rects = {r.feedback_id or 0: r for r in (await session.execute(stmt)).scalars()}
    known = await names(session, hall.id)
    out = []
    for fb in rows:
        rect = rects.get(fb.id or 0)
        window = known["windows"].get(fb.window_id or 0)
        staff = known["users"].get(fb.staff_id or 0)
        dept = known["departments"].get(fb.department_id)
        out.append(
            ObservationOut(
                id=fb.id or 0,
                rating=fb.rating,
                label=policy.level_label(fb.rating),
                comment=fb.comment,
                department=dept.code if dept else "",
                department_name=dept.name if dept else "",
                window=window.number if window else None,
                staff_no=(staff.staff_no or None) if staff else None,
                created_at=iso(hall, fb.created_at) or "",
                rectification=rect.id if rect else None,
                stage=rect.stage if rect else None,
                stage_label=rectifications.STAGES.get(rect.stage, rect.stage) if rect else None,
                status_label=rectifications.STATUSES.get(rect.status, rect.status)
                if rect
                else None,
                due=rect.due.isoformat() if rect else None,
                measures=rect.measures if rect else "",
            )
        )
    return out


@router.route(
    "POST",
    "/halls/{hall}/supervision/observations",
    roles=[SUPERVISOR],
    response=ObservationOut,
    status=201,
    extra_statuses=(404, 422),
    scope=HALL,
)
async def observe(api: ApiRequest[ObservationIn]) -> ObservationOut:
    """监督员反映: an invited supervisor's observation of a window, department, ticket or case;
    it enters the channel ``supervisor`` (a 差评 opens a rectification)."""
    body = api.body
    async with api.state.db.write() as session:
        hall = await own_hall(api, session)
        assert hall.id is not None
        tx = api.tx(session, hall.id)
        fb = await channels.enter(
            tx,
            hall,
            channels.Subject(
                ticket=body.ticket,
                day=body.day,
                receipt_no=body.receipt_no,
                window=body.window,
                staff_no=body.staff_no,
                department=body.department,
            ),
            channel="supervisor",
            rating=body.rating,
            comment=body.comment.strip(),
            # Not the supervisor's name: heads read the reference of their departments'
            # ratings, and a department never learns who rated it (the author is
            # ``entered_by_id`` and the audit record's actor, which only the office reads).
            reference="",
            tags=body.tags,
        )
        await tx.commit()
        [out] = await observations_out(session, hall, [fb])
        return out


@router.route(
    "GET",
    "/halls/{hall}/supervision/observations",
    roles=[SUPERVISOR],
    response=list[ObservationOut],
    extra_statuses=(404,),
    scope=HALL,
)
async def my_observations(api: ApiRequest) -> list[ObservationOut]:
    """The supervisor's own observations, newest first, with their rectifications' progress."""
    async with api.state.db.read() as session:
        hall = await own_hall(api, session)
        assert hall.id is not None
        rows = await observations_of(session, hall.id, api.principal.user_id or 0)
        return await observations_out(session, hall, rows)


async def observations_of(session: AsyncSession, hall_id: int, user_id: int) -> list[Feedback]:
    """A supervisor's own observations, newest first (the last 200)."""
    stmt = (
        select(Feedback)
        .where(
            Feedback.hall_id == hall_id,  # type: ignore[arg-type]
            Feedback.channel == "supervisor",  # type: ignore[arg-type]
            Feedback.entered_by_id == user_id,  # type: ignore[arg-type]
        )
        .order_by(Feedback.id.desc())  # type: ignore[union-attr]
        .limit(200)
    )
    return list((await session.execute(stmt)).scalars())
