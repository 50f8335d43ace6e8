"""The electronic notice board (电子公示栏): staff with photo, 工号 and published stars, the
windows, 红黑榜, the service guides and the month's satisfaction and callback rates."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accountability.periods import parse_period
from ..auth.models import User
from ..auth.photos import photo_url
from ..auth.roles import STAFF
from ..feedback.figures import callback_figures, rating_figures
from ..halls.lookup import local_time
from ..halls.models import Department, Hall, Service, Window, WindowDuty
from . import service
from .compute import Row
from .schemas import BoardOut, BoardPersonOut, BoardServiceOut, BoardWindowOut

RED_BLACK_SIZE = 3


def initials(name: str) -> str:
    """The surname of a Chinese name, or the initials of a Latin one (for the placeholder)."""
    name = name.strip()
    if not name:
        return "?"
    if name.isascii():
        return "".join(part[0] for part in name.split()[:2]).upper()
    return name[0]


def red_black(
    people: list[BoardPersonOut], rows: dict[str, Row]
) -> tuple[list[BoardPersonOut], list[BoardPersonOut]]:
    """红榜: the best rated with ≥ 4 stars. 黑榜: ≤ 2 stars *and* at least one substantiated 差评,
    failed inspection or breach in the period. A subject without a star is on neither."""
    rated = sorted(
        (p for p in people if p.stars is not None and p.score is not None),
        key=lambda p: (-(p.score or 0.0), p.username),
    )
    red = [p for p in rated if (p.stars or 0) >= 4][:RED_BLACK_SIZE]
    black = [
        p for p in reversed(rated) if (p.stars or 5) <= 2 and rows[p.username].has_evidence_against
    ][:RED_BLACK_SIZE]
    return red, black


async def board_data(session: AsyncSession, hall: Hall) -> BoardOut:
    """What the notice board shows: staff with stars, windows, 红黑榜, service guides."""
    assert hall.id is not None
    pub = await service.latest_month(session, hall.id)
    staff_rows: dict[str, Row] = {}
    window_rows: dict[str, Row] = {}
    if pub is not None:
        staff_rows = {r.key: r for r in await service.published_rows(session, pub, "staff")}
        window_rows = {r.key: r for r in await service.published_rows(session, pub, "window")}
    windows = list(
        (
            await session.execute(
                select(Window).where(Window.hall_id == hall.id).order_by(Window.number)  # type: ignore[arg-type]
            )
        ).scalars()
    )
    numbers = {w.id: w.number for w in windows}
    on_duty = {
        d.staff_id
        for d in (
            await session.execute(
                select(WindowDuty).where(WindowDuty.window_id.in_(list(numbers)))  # type: ignore[attr-defined]
            )
        ).scalars()
    }
    users = (
        await session.execute(
            select(User)
            .where(User.hall_id == hall.id, User.role == STAFF, User.active.is_(True))  # type: ignore[arg-type, attr-defined]
            .order_by(User.username)  # type: ignore[arg-type]
        )
    ).scalars()
    people = []
    for user in users:
        row = staff_rows.get(user.username)
        people.append(
            BoardPersonOut(
                username=user.username,
                name=user.display_name or user.username,
                staff_no=user.staff_no,
                initials=initials(user.display_name or user.username),
                photo_url=photo_url(user.photo),
                window=numbers.get(user.window_id) if user.window_id else None,
                on_duty=user.id in on_duty,
                stars=row.stars if row else None,
                score=row.score if row else None,
                reason=row.reason if row else "",
            )
        )
    people.sort(key=lambda p: (not p.on_duty, p.window or 999, p.username))
    red, black = red_black(people, staff_rows)
    services = (
        await session.execute(
            select(Service, Department)
            .join(Department, Department.id == Service.department_id)  # type: ignore[arg-type]
            .where(Service.hall_id == hall.id, Service.active.is_(True))  # type: ignore[arg-type, attr-defined]
            .order_by(Service.sort_order, Service.prefix)  # type: ignore[arg-type]
        )
    ).all()
    satisfaction = None
    callback = None
    if pub is not None:
        start, end = parse_period(pub.period).bounds(hall)
        satisfaction = (await rating_figures(session, hall.id, start, end)).satisfaction_rate
        callback = (await callback_figures(session, hall.id, start, end))["callback_rate"]
    return BoardOut(
        hall=hall.code,
        hall_name=hall.name,
        period=pub.period if pub else None,
        period_label=parse_period(pub.period).label if pub else None,
        published_at=local_time(hall, pub.published_at).isoformat() if pub else None,
        version=pub.version if pub else None,
        correction_reason=pub.correction_reason if pub else "",
        staff=people,
        windows=[
            BoardWindowOut(
                number=w.number,
                name=w.name or f"{w.number}号窗口",
                stars=window_rows[str(w.number)].stars if str(w.number) in window_rows else None,
                score=window_rows[str(w.number)].score if str(w.number) in window_rows else None,
            )
            for w in windows
        ],
        red=red,
        black=black,
        services=[
            BoardServiceOut(
                code=s.code,
                name=s.name,
                department=d.name,
                legal_days=s.legal_days,
                promised_days=s.promised_days,
                fees=s.fees,
                materials=s.materials,
                guide=s.guide,
                legal_basis=s.legal_basis,
            )
            for s, d in services
        ],
        satisfaction_rate=satisfaction,
        callback_rate=callback,
    )
