"""HTTP endpoints of star ratings, the accountability settings and the notice board."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ..accountability import config
from ..accountability.config import Weights
from ..accountability.periods import current_month, parse_period
from ..api.endpoint import PUBLIC, ApiRequest, ApiRouter
from ..api.errors import ApiError, invalid, validation_details
from ..api.scope import HALL
from ..auth.models import User
from ..auth.roles import ADMIN, HEAD, INSPECTOR
from ..halls.lookup import get_hall, local_time, own_hall
from ..halls.models import Hall
from . import queries, service
from .board import board_data
from .compute import Row
from .models import RatingPublication
from .schemas import (
    BoardOut,
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
            keys = await queries.department_keys(
                session, hall, q.subject, api.principal.department_ids
            )
            rows = [r for r in rows if r.key in keys]
        return [_row_out(r, period.code, pub, hall, version, superseded) for r in rows]


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
    scope=HALL,
)
async def publish(api: ApiRequest[PublishIn]) -> PublicationOut:
    """公示: freeze a period's star ratings once it and its appeal window are over (409
    ``period_not_over`` before, 409 for a period without records or already published)."""
    async with api.state.db.write() as session:
        hall = await own_hall(api, session)
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
    scope=HALL,
)
async def correct(api: ApiRequest[CorrectionIn]) -> PublicationOut:
    """更正: publish a new version of a published period, with its reason; it supersedes the
    version in force publicly, which stays visible (409 if the period is not published)."""
    body = api.body
    async with api.state.db.write() as session:
        hall = await own_hall(api, session)
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
        pubs, counts = await queries.publications(session, hall.id)
        later = {(p.period, p.version - 1): p for p in pubs if p.version > 1}
        return [
            await _publication_out(
                session, hall, p, int(counts.get(p.id or 0, 0)), later.get((p.period, p.version))
            )
            for p in pubs
        ]


@router.route(
    "GET", "/halls/{hall}/accountability-config", roles=OFFICE, response=ConfigOut, scope=HALL
)
async def get_config(api: ApiRequest) -> ConfigOut:
    """效能参数: weights, star thresholds, shrinkage k, rating and rectification deadlines …"""
    async with api.state.db.read() as session:
        hall = await own_hall(api, session)
        assert hall.id is not None
        settings, version = await config.current(session, hall.id)
        return ConfigOut(version=version, settings=settings.model_dump(mode="json"))


@router.route(
    "PUT",
    "/halls/{hall}/accountability-config",
    roles=[INSPECTOR, ADMIN],
    response=ConfigOut,
    scope=HALL,
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
        hall = await own_hall(api, session)
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


@router.route("GET", "/halls/{hall}/board", roles=[PUBLIC], response=BoardOut)
async def board(api: ApiRequest) -> BoardOut:
    """电子公示栏 data: staff with photo/工号/published stars, windows, 红黑榜, service guides."""
    async with api.state.db.read() as session:
        hall = await get_hall(session, api.path["hall"])
        return await board_data(session, hall)
