"""The outbox's backlog for the office: ``GET /api/v1/platform-outbox``."""

from __future__ import annotations

from ..api.endpoint import ApiRequest, ApiRouter
from ..api.schemas import Output
from ..auth.roles import ADMIN, INSPECTOR
from ..cases.access import principal_hall
from ..halls.lookup import local_time
from .backlog import backlogs, pending

router = ApiRouter("outbox")


class DeliveryOut(Output):
    id: str
    seq: int
    kind: str
    created_at: str
    attempts: int
    next_attempt_at: str | None
    delivered_at: str | None
    last_error: str


class BacklogOut(Output):
    """省级好差评平台推送 backlog of the caller's hall."""

    #: Whether a platform URL is configured (nothing leaves the hall without one).
    configured: bool
    #: Whether bodies are signed (a secret is configured).
    signed: bool
    pending: int
    delivered: int
    oldest_pending_at: str | None
    oldest_pending_age_seconds: int | None
    next_attempt_at: str | None
    last_error: str
    last_attempt_at: str | None
    #: The oldest waiting messages (up to 20).
    waiting: list[DeliveryOut]


@router.route("GET", "/platform-outbox", roles=[INSPECTOR, ADMIN], response=BacklogOut)
async def platform_backlog(api: ApiRequest) -> BacklogOut:
    """好差评平台推送: messages waiting for the outside platform, the oldest's age, last error."""
    now = api.state.clock.now()
    settings = api.state.settings
    async with api.state.db.read() as session:
        hall = await principal_hall(session, api.principal)
        assert hall.id is not None
        found = (await backlogs(session, hall.id)).get(hall.id)
        rows = await pending(session, hall.id)

    def iso(value: object) -> str | None:
        return local_time(hall, value).isoformat() if value is not None else None  # type: ignore[arg-type]

    oldest = found.oldest_pending_at if found else None
    return BacklogOut(
        configured=bool(settings.platform_url),
        signed=bool(settings.platform_secret),
        pending=found.pending if found else 0,
        delivered=found.delivered if found else 0,
        oldest_pending_at=iso(oldest),
        oldest_pending_age_seconds=max(0, int((now - oldest).total_seconds())) if oldest else None,
        next_attempt_at=iso(found.next_attempt_at if found else None),
        last_error=found.last_error if found else "",
        last_attempt_at=iso(found.last_attempt_at if found else None),
        waiting=[
            DeliveryOut(
                id=str(r.body.get("id", r.seq)),
                seq=r.seq,
                kind=r.kind,
                created_at=local_time(hall, r.created_at).isoformat(),
                attempts=r.attempts,
                next_attempt_at=iso(r.next_attempt_at),
                delivered_at=iso(r.delivered_at),
                last_error=r.last_error,
            )
            for r in rows
        ],
    )
