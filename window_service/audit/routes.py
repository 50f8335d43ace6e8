"""Public view of the audit chain: its anchors and its current head (公示)."""

from __future__ import annotations

from pydantic import Field

from ..api.endpoint import PUBLIC, ApiRequest, ApiRouter
from ..api.schemas import Output, Query
from ..halls.lookup import get_hall, local_time
from .anchors import anchors_of, chain_head

router = ApiRouter("audit")


class AnchorsQuery(Query):
    limit: int = Field(default=60, ge=1, le=400)


class AnchorOut(Output):
    #: The business day of the anchored record.
    day: str
    seq: int
    hash: str
    #: When the anchored record was written, in hall time.
    record_at: str
    #: When the anchor was made, in hall time.
    anchored_at: str


class ChainHeadOut(Output):
    seq: int
    hash: str


class AnchorsOut(Output):
    hall: str
    head: ChainHeadOut
    anchors: list[AnchorOut]


@router.route("GET", "/halls/{hall}/audit/anchors", roles=[PUBLIC], response=AnchorsOut)
async def audit_anchors(api: ApiRequest[None, AnchorsQuery]) -> AnchorsOut:
    """审计锚点: the audit chain's head, anchored at least every 15 minutes of activity, newest first.

    Anyone may note these; if a record's hash ever differs from its published anchor, or the
    record is gone, the history up to it has been rewritten or cut short.
    """
    async with api.state.db.read() as session:
        hall = await get_hall(session, api.path["hall"])
        assert hall.id is not None
        seq, digest = await chain_head(session, hall.id)
        anchors = await anchors_of(session, hall.id, limit=api.query.limit)
        return AnchorsOut(
            hall=hall.code,
            head=ChainHeadOut(seq=seq, hash=digest),
            anchors=[
                AnchorOut(
                    day=a.day.isoformat(),
                    seq=a.seq,
                    hash=a.hash,
                    record_at=local_time(hall, a.record_at).isoformat(),
                    anchored_at=local_time(hall, a.anchored_at).isoformat(),
                )
                for a in anchors
            ],
        )
