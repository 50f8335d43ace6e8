"""HTTP endpoints of star ratings, the accountability settings and the notice board."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select

from ..api.endpoint import PUBLIC, ApiRequest, ApiRouter
from ..api.errors import ApiError, invalid, validation_details
from ..auth.models import User
from ..auth.roles import ADMIN, HEAD, INSPECTOR, STAFF
from ..feedback.models import Feedback, counted
from ..feedback.service import callback_figures
from ..halls.lookup import get_hall, local_time
from ..halls.models import Department, Hall, Service, Window, WindowDuty
from ..inspections.service import window_departments
from . import config, service
from .compute import Row
from .config import Weights
from .models import RatingPublication, RatingRow
from .periods import current_month, parse_period
from .schemas import (
    BoardOut,
    BoardPersonOut,
    BoardServiceOut,
    BoardWindowOut,
    ConfigIn,
    ConfigOut,
    CorrectionIn,
    PublicationOut,
    PublishIn,
    RatingOut,
    RatingsQuery,
)

router = ApiRouter("ratings")
OFFICE = (INSPECTOR, ADMIN, HEAD)
RED_BLACK_SIZE = 3


def _own_hall(api: ApiRequest[Any, Any], hall: Hall) -> None:
    if api.principal.hall_id != hall.id:
        raise ApiError(403, "forbidden", "不是本大厅的人员 (another hall)")


def _row_out(
    row: Row,
    period: str,
    pub: RatingPublication | None,
    hall: Hall,
    version: int,
    superseded: bool = False,
) -> RatingOut:
    return RatingOut(
        subject=row.subject,
        key=row.key,
        name=row.name,
        stars=row.stars,
        score=row.score,
        rank=row.rank,
        reason=row.reason or None,
        evidence=row.evidence,
        components=row.components,
        samples=row.samples,
        raw=row.raw,
        hall_means=row.extra.get("hall_means", {}),
        period=period,
        published=pub is not None,
        published_at=local_time(hall, pub.published_at).isoformat() if pub else None,
        config_version=version,
        version=pub.version if pub else None,
        superseded=superseded,
    )


@router.route(
    "GET",
    "/halls/{hall}/ratings",
    roles=[PUBLIC],
    response=list[RatingOut],
    extra_statuses=(403, 404, 422),
)
async def ratings(api: ApiRequest[None, RatingsQuery]) -> list[RatingOut]:
    """星级评定 of a month or quarter: the frozen rows once published (the version in force, or
    an earlier ``version`` superseded by a correction); before that computed live
    (``published: false``) and shown only to the office."""
    q = api.query
    async with api.state.db.read() as session:
        hall = await get_hall(session, api.path["hall"])
        now = api.state.clock.now()
        period = parse_period(q.period) if q.period else current_month(hall, now)
        rows, pub, version = await service.live_or_published(
            session, hall, period, q.subject, now, q.version
        )
        if q.version is not None and pub is None:
            raise ApiError(
                404, "version_not_found", "没有这一版公示结果 (no such published version)"
            )
        superseded = False
        if pub is not None and hall.id is not None:
            latest = await service.publication(session, hall.id, period.code)
            superseded = latest is not None and latest.version > pub.version
        if pub is None and (api.principal.role not in OFFICE or api.principal.hall_id != hall.id):
            raise ApiError(
                403,
                "not_published",
                f"{period.label}星级评定尚未公示 (not published yet; the office sees live figures)",
            )
        if pub is None and api.principal.role == HEAD:
            keys = await department_keys(session, hall, q.subject, api.principal.department_ids)
            rows = [r for r in rows if r.key in keys]
        return [_row_out(r, period.code, pub, hall, version, superseded) for r in rows]


async def department_keys(
    session: Any, hall: Hall, subject: str, department_ids: frozenset[int]
) -> set[str]:
    """The rating keys a department head may see before publication: their departments',
    and the windows and staff members of those departments (by the window's department)."""
    assert hall.id is not None
    if subject == "department":
        depts = (
            await session.execute(select(Department).where(Department.hall_id == hall.id))  # type: ignore[arg-type]
        ).scalars()
        return {d.code for d in depts if d.id in department_ids}
    of_window = await window_departments(session, hall.id)
    windows = {
        w.id: w
        for w in (await session.execute(select(Window).where(Window.hall_id == hall.id))).scalars()  # type: ignore[arg-type]
    }
    own = {wid for wid, dept in of_window.items() if dept in department_ids}
    if subject == "window":
        return {str(windows[wid].number) for wid in own if wid in windows}
    users = (
        await session.execute(
            select(User).where(User.hall_id == hall.id, User.role == STAFF)  # type: ignore[arg-type]
        )
    ).scalars()
    return {u.username for u in users if u.window_id in own}


async def _publication_out(
    session: Any,
    hall: Hall,
    pub: RatingPublication,
    rows: int,
    superseded_by: RatingPublication | None = None,
) -> PublicationOut:
    by = await session.get(User, pub.published_by_id) if pub.published_by_id else None
    settings = {k: v for k, v in pub.config.items() if k not in ("version", "complete")}
    return PublicationOut(
        version=pub.version,
        correction_reason=pub.correction_reason,
        superseded=superseded_by is not None,
        superseded_at=local_time(hall, superseded_by.published_at).isoformat()
        if superseded_by is not None
        else None,
        period=pub.period,
        period_label=parse_period(pub.period).label,
        published_at=local_time(hall, pub.published_at).isoformat(),
        published_by=by.username if by else None,
        rows=rows,
        complete=bool(pub.config.get("complete")),
        config_version=int(pub.config.get("version", 0)),
        settings=settings,
    )


@router.route(
    "POST",
    "/halls/{hall}/ratings/publish",
    roles=[INSPECTOR],
    response=PublicationOut,
    status=201,
    extra_statuses=(409, 422),
)
async def publish(api: ApiRequest[PublishIn]) -> PublicationOut:
    """公示: freeze a period's star ratings once it and its appeal window are over (409
    ``period_not_over`` before, 409 for a period without records or already published)."""
    async with api.state.db.write() as session:
        hall = await get_hall(session, api.path["hall"])
        _own_hall(api, hall)
        assert hall.id is not None
        period = parse_period(api.body.period)
        tx = api.tx(session, hall.id)
        pub, count = await service.publish(tx, hall, period, api.principal.user_id)
        await tx.commit()
        return await _publication_out(session, hall, pub, count)


@router.route(
    "POST",
    "/halls/{hall}/ratings/corrections",
    roles=[INSPECTOR],
    response=PublicationOut,
    status=201,
    extra_statuses=(409, 422),
)
async def correct(api: ApiRequest[CorrectionIn]) -> PublicationOut:
    """更正: publish a new version of a published period, with its reason; it supersedes the
    version in force publicly, which stays visible (409 if the period is not published)."""
    body = api.body
    async with api.state.db.write() as session:
        hall = await get_hall(session, api.path["hall"])
        _own_hall(api, hall)
        assert hall.id is not None
        period = parse_period(body.period)
        tx = api.tx(session, hall.id)
        pub, count = await service.correct(
            tx, hall, period, body.reason.strip(), api.principal.user_id
        )
        await tx.commit()
        return await _publication_out(session, hall, pub, count)


@router.route(
    "GET", "/halls/{hall}/ratings/publications", roles=[PUBLIC], response=list[PublicationOut]
)
async def publications(api: ApiRequest) -> list[PublicationOut]:
    """The published rating periods, newest first, with every correction (更正) and the
    versions it superseded."""
    async with api.state.db.read() as session:
        hall = await get_hall(session, api.path["hall"])
        pubs = list(
            (
                await session.execute(
                    select(RatingPublication)
                    .where(RatingPublication.hall_id == hall.id)  # type: ignore[arg-type]
                    .order_by(
                        RatingPublication.published_at.desc(),  # type: ignore[attr-defined]
                        RatingPublication.version.desc(),  # type: ignore[attr-defined]
                    )
                )
            ).scalars()
        )
        counts: dict[int, int] = dict(
            (
                await session.execute(
                    select(RatingRow.publication_id, func.count())  # type: ignore[call-overload]
                    .where(RatingRow.publication_id.in_([p.id for p in pubs]))  # type: ignore[attr-defined]
                    .group_by(RatingRow.publication_id)
                )
            ).all()
        )
        later = {(p.period, p.version - 1): p for p in pubs if p.version > 1}
        return [
            await _publication_out(
                session, hall, p, int(counts.get(p.id or 0, 0)), later.get((p.period, p.version))
            )
            for p in pubs
        ]


@router.route("GET", "/halls/{hall}/accountability-config", roles=OFFICE, response=ConfigOut)
async def get_config(api: ApiRequest) -> ConfigOut:
    """效能参数: weights, star thresholds, shrinkage k, rating and rectification deadlines …"""
    async with api.state.db.read() as session:
        hall = await get_hall(session, api.path["hall"])
        _own_hall(api, hall)
        assert hall.id is not None
        settings, version = await config.current(session, hall.id)
        return ConfigOut(version=version, settings=settings.model_dump(mode="json"))


@router.route(
    "PUT",
    "/halls/{hall}/accountability-config",
    roles=[INSPECTOR, ADMIN],
    response=ConfigOut,
)
async def put_config(api: ApiRequest[ConfigIn]) -> ConfigOut:
    """Change the settings (a new audited version; published ratings keep theirs)."""
    body = api.body
    changes = body.model_dump(exclude_none=True, exclude={"reason"})
    if not changes:
        raise invalid("nothing_to_change", "没有要修改的参数 (no settings given)")
    if "weights" in changes:
        unknown = set(changes["weights"]) - set(Weights.model_fields)
        if unknown:
            raise invalid(
                "unknown_weight", f"未知的权重：{'、'.join(sorted(unknown))} (unknown weights)"
            )
    async with api.state.db.write() as session:
        hall = await get_hall(session, api.path["hall"])
        _own_hall(api, hall)
        assert hall.id is not None
        tx = api.tx(session, hall.id)
        try:
            settings, version = await config.change(tx, changes, api.principal.user_id)
        except ValidationError as exc:
            raise invalid(
                "invalid_settings", "参数无效 (invalid settings)", validation_details(exc)
            ) from exc
        await tx.commit()
        return ConfigOut(version=version, settings=settings.model_dump(mode="json"))


# -- the notice board (电子公示栏) -------------------------------------------------------------


def initials(name: str) -> str:
    """The surname of a Chinese name, or the initials of a Latin one (for the placeholder)."""
    name = name.strip()
    if not name:
        return "?"
    if name.isascii():
        return "".join(part[0] for part in name.split()[:2]).upper()
    return name[0]


def photo_url(photo: str) -> str | None:
    if photo.startswith(("/", "https://", "http://")):
        return photo
    return None


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


async def board_data(session: Any, hall: Hall) -> BoardOut:
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
        counts = (
            await session.execute(
                select(func.count(), func.count().filter(Feedback.rating >= 3)).where(  # type: ignore[arg-type, operator]
                    Feedback.hall_id == hall.id,  # type: ignore[arg-type]
                    counted(),
                    Feedback.created_at >= start,  # type: ignore[arg-type, operator]
                    Feedback.created_at < end,  # type: ignore[arg-type, operator]
                )
            )
        ).one()
        if counts[0]:
            satisfaction = round(int(counts[1]) / int(counts[0]) * 100, 1)
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


@router.route("GET", "/halls/{hall}/board", roles=[PUBLIC], response=BoardOut)
async def board(api: ApiRequest) -> BoardOut:
    """电子公示栏 data: staff with photo/工号/published stars, windows, 红黑榜, service guides."""
    async with api.state.db.read() as session:
        hall = await get_hall(session, api.path["hall"])
        return await board_data(session, hall)
