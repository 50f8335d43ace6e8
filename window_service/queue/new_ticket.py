"""A new ticket (新票): the request for it, its row, its tracking token, and its record.

``issue.issue_tickets`` sorts a batch's requests and numbers them; here a numbered request
becomes the ticket's row (every column, the tracking token drawn with the batch's), and a
written row its audit record, its event on the hall's screens and its answer.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..api.errors import ApiError
from ..chain import row_snapshot
from ..halls.models import Service
from ..transaction import Actor, Recording
from . import rules
from .models import FoundTicket, IssuedTicket, Ticket
from .numbering import format_number
from .waiting import Counts


@dataclass(frozen=True)
class Issuer:
    device_id: int | None = None
    user_id: int | None = None


@dataclass(frozen=True)
class IssueRequest:
    """One kiosk/staff request for a ticket (取号), as a batch member."""

    service: Service
    priority: str | None = None
    idempotency_key: str | None = None
    issuer: Issuer = Issuer()
    actor: Actor | None = None
    #: 网上取号: the ticket is numbered now but waits as ``remote`` until checked in.
    remote: bool = False


@dataclass
class IssueResult:
    """The ticket handed out (``created``) or found by its idempotency key (not created).

    ``ahead`` is known for a new ticket (counted under the numbering lock); None for a ticket
    found again, whose place may have changed since. ``wait_seconds``: a new ticket's
    estimate as recorded (None: no staffed window serves it, or a ticket found again).
    """

    ticket: Ticket | IssuedTicket | FoundTicket
    created: bool
    ahead: int | None
    wait_seconds: float | None = None


#: A tracking token's random part: 120 bits, 20 URL-safe base64 characters.
TOKEN_RANDOM_BYTES = 15
_TOKEN_RANDOM_CHARS = TOKEN_RANDOM_BYTES * 4 // 3


def track_tokens(queued_at: list[datetime]) -> list[str]:
    """The tokens of tickets' tracking pages (扫码查看排队进度), one per queue time: 120
    random bits, which make it unguessable, after the queue time in milliseconds as 9 hex
    digits. Tickets issued together then sit side by side in the token's unique index, so a
    batch of tickets changes one or two of its pages (a few kilobytes to write at the commit)
    rather than a page per ticket scattered over the whole index.

    The random bits of all of them are drawn from the OS at once: 15 bytes encode to 20
    characters without padding, so one encoded draw cuts into the tokens' random parts."""
    pool = base64.urlsafe_b64encode(secrets.token_bytes(TOKEN_RANDOM_BYTES * len(queued_at)))
    text = pool.decode("ascii")
    tokens = []
    for i, at in enumerate(queued_at):
        ms = int(at.timestamp() * 1000) % 16**9
        start = i * _TOKEN_RANDOM_CHARS
        tokens.append(f"{ms:09x}{text[start : start + _TOKEN_RANDOM_CHARS]}")
    return tokens


def ticket_rows(
    hall_id: int,
    day: date,
    requests: list[IssueRequest],
    fresh: list[int],
    numbers: dict[int, tuple[int, datetime]],
) -> list[dict[str, Any]]:
    """The new tickets' rows, every column but the id (``numbers``: index → number, queue
    time)."""
    rows: list[dict[str, Any]] = []
    tokens = track_tokens([numbers[i][1] for i in fresh])
    for i, token in zip(fresh, tokens, strict=True):
        request = requests[i]
        service = request.service
        n, queued_at = numbers[i]
        rows.append(
            {
                "hall_id": hall_id,
                "service_id": service.id,
                "original_service_id": service.id,
                "prefix": service.prefix,
                "seq_no": n,
                "number": format_number(service.prefix, n),
                "business_day": day,
                "status": rules.REMOTE if request.remote else rules.WAITING,
                "priority": request.priority,
                "green": request.priority is not None,
                "queued_at": queued_at,
                "called_at": None,
                "started_at": None,
                "finished_at": None,
                "window_id": None,
                "staff_id": None,
                "first_responder_id": None,
                "outcome": None,
                "recalls": 0,
                "call_count": 0,
                "track_token": token,
                "idempotency_key": request.idempotency_key or None,
                "device_id": request.issuer.device_id,
                "issued_by_id": request.issuer.user_id,
                # a remote ticket's wait starts when it is checked in (appointments)
                "waiting_since": None if request.remote else queued_at,
                "target_window_id": None,
                "holds": 0,
                # The estimate printed on it (set by ``estimate.place_rows``), kept to judge it.
                "estimated_wait_seconds": None,
            }
        )
    return rows


def record_issued(
    tx: Recording,
    requests: list[IssueRequest],
    fresh: list[int],
    rows: list[dict[str, Any]],
    waiting: Counts,
    results: list[IssueResult | ApiError | None],
    places: list[int],
) -> None:
    """Each new ticket (``rows``, ids included) is audited, announced and answered with its
    place (``places``): ``waiting`` holds the counts before it, and is counted on."""
    table = Ticket.__table__  # type: ignore[attr-defined]
    for i, row, ahead in zip(fresh, rows, places, strict=True):
        ticket_id = row["id"]
        ticket = IssuedTicket.from_row(row)
        service = requests[i].service
        assert service.id is not None
        green = waiting.get((service.id, True), 0)
        plain = waiting.get((service.id, False), 0)
        remote = ticket.status == rules.REMOTE  # not in the waiting line until checked in
        if not remote:
            waiting[(service.id, ticket.green)] = waiting.get((service.id, ticket.green), 0) + 1
        tx.audit_raw(
            "ticket.issue",
            Ticket.__tablename__,
            str(ticket_id),
            after=row_snapshot(table, row),
            actor=requests[i].actor,
        )
        tx.emit(
            "queue",
            change="issued",
            ticket=ticket.number,
            waiting={service.prefix: green + plain + (0 if remote else 1)},
        )
        results[i] = IssueResult(ticket, True, ahead, row["estimated_wait_seconds"])
