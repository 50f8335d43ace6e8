"""The rules of the queue: issuing, calling and every step of a ticket's life.

Functions take a ``Tx`` (session, hall clock, actor) and plain values, change rows, and say
what happened (events for screens, audit records); they know nothing of HTTP.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.errors import ApiError, conflict, invalid, not_found
from ..chain import row_snapshot, snapshot
from ..halls.lookup import business_day, issuing_open, spoken_zone, window_service_ids
from ..halls.models import Hall, Service, Window, WindowDuty, WindowService
from ..transaction import Actor, Recording, Tx
from . import rules
from .models import FoundTicket, IssuedTicket, Ticket, TicketEvent
from .numbering import Assigned, format_number, next_numbers_and_ledger
from .waiting import Counts, WaitingSnapshot, counts_after, usable, waiting_now


@dataclass(frozen=True)
class Issuer:
    device_id: int | None = None
    user_id: int | None = None


async def find_by_idempotency_key(
    session: AsyncSession, hall: Hall, key: str, at: datetime
) -> Ticket | None:
    day = business_day(hall, at)
    stmt = select(Ticket).where(
        Ticket.hall_id == hall.id,  # type: ignore[arg-type]
        Ticket.business_day == day,  # type: ignore[arg-type]
        Ticket.idempotency_key == key,  # type: ignore[arg-type]
    )
    return (await session.execute(stmt)).scalar_one_or_none()


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
    found again, whose place may have changed since.
    """

    ticket: Ticket | IssuedTicket | FoundTicket
    created: bool
    ahead: int | None


@dataclass
class SortedRequests:
    """A batch's requests sorted out before numbering: ``results`` holds the answer of each
    request already known (a ticket found by its key, or an error), ``fresh`` the indexes of
    those that get a new number, ``repeats`` (index, first index) a key used twice in the
    batch."""

    results: list[IssueResult | ApiError | None]
    fresh: list[int]
    repeats: list[tuple[int, int]]

    def answer_repeats(self) -> None:
        """A key's second request in the batch gets the first one's ticket (not created)."""
        results = self.results
        for i, first in self.repeats:
            original = results[first]
            results[i] = (
                IssueResult(original.ticket, False, original.ahead)
                if isinstance(original, IssueResult)
                else original
            )


def sort_requests(
    hall: Hall,
    requests: list[IssueRequest],
    known: dict[str, Ticket] | dict[str, FoundTicket],
    open_now: bool,
) -> SortedRequests:
    """Which requests get a new number. ``known``: today's tickets by idempotency key."""
    results: list[IssueResult | ApiError | None] = [None] * len(requests)
    fresh: list[int] = []
    first_with_key: dict[str, int] = {}
    repeats: list[tuple[int, int]] = []
    for i, request in enumerate(requests):
        key = request.idempotency_key
        if key and key in known:
            results[i] = IssueResult(known[key], False, None)
        elif key and key in first_with_key:
            repeats.append((i, first_with_key[key]))
        elif not open_now:
            results[i] = conflict(
                "outside_issuing_hours", "当前不在取号时间内 (the hall is not issuing tickets now)"
            )
        elif request.priority is not None and request.priority not in rules.GREEN_PRIORITIES:
            results[i] = invalid("invalid_priority", "绿色通道类别无效 (unknown priority)")
        elif request.service.hall_id != hall.id or not request.service.active:
            results[i] = not_found("service", "没有这个事项 (unknown service)")
        else:
            fresh.append(i)
            if key:
                first_with_key[key] = i
    return SortedRequests(results, fresh, repeats)


async def issue_tickets(
    tx: Tx,
    hall: Hall,
    requests: list[IssueRequest],
    *,
    check_hours: bool = True,
    waiting_before: WaitingSnapshot | None = None,
    reserved_ids: list[int] | None = None,
    waiting_after: Callable[[WaitingSnapshot], None] | None = None,
) -> list[IssueResult | ApiError]:
    """Hand out the next numbers for several requests in one transaction (取号, group commit).

    Each request gets its own result or error, in order. Numbers are taken per prefix with one
    counter update, in request order, so within a prefix number order is request order and
    queue order; the counter row stays locked until commit, and a rollback returns every
    number. One key twice in a batch, or a key already used today, gives the same ticket.
    ``waiting_before`` (see ``waiting.py``) spares counting the whole queue under the lock;
    ``reserved_ids`` (PostgreSQL, at least one per request, see ``waiting_snapshot``) lets
    the tickets be written with the commit. ``waiting_after`` receives the counts the batch ends
    with, for the caller to keep once the batch has committed.
    """
    session = tx.session
    assert hall.id is not None
    day = business_day(hall, tx.now)
    keys = {r.idempotency_key for r in requests if r.idempotency_key}
    known: dict[str, Ticket] = {}
    if keys:
        rows = await session.execute(
            select(Ticket).where(
                Ticket.hall_id == hall.id,  # type: ignore[arg-type]
                Ticket.business_day == day,  # type: ignore[arg-type]
                Ticket.idempotency_key.in_(keys),  # type: ignore[union-attr]
            )
        )
        known = {t.idempotency_key: t for t in rows.scalars() if t.idempotency_key}
    open_now = not check_hours or issuing_open(hall, tx.now)
    sorted_out = sort_requests(hall, requests, known, open_now)
    results, fresh = sorted_out.results, sorted_out.fresh
    if fresh:
        after = await _number_and_insert(
            tx, hall, requests, fresh, results, waiting_before, reserved_ids
        )
        if after is not None and waiting_after is not None:
            waiting_after(after)
    sorted_out.answer_repeats()
    return [r for r in results if r is not None]


async def _number_and_insert(
    tx: Tx,
    hall: Hall,
    requests: list[IssueRequest],
    fresh: list[int],
    results: list[IssueResult | ApiError | None],
    waiting_before: WaitingSnapshot | None,
    reserved_ids: list[int] | None,
) -> WaitingSnapshot | None:
    session = tx.session
    assert hall.id is not None
    day = business_day(hall, tx.now)
    by_prefix = prefix_groups(requests, fresh)
    counts_by_prefix = {prefix: len(members) for prefix, members in by_prefix.items()}
    assigned, tx.locked_ledger = await next_numbers_and_ledger(
        session, hall.id, day, tx.now, counts_by_prefix
    )
    ledger = tx.locked_ledger
    assert ledger is not None
    numbers = numbers_of(by_prefix, assigned)
    # Who is already waiting (today) in the services concerned, before these tickets.
    concerned = concerned_services(requests, fresh)
    numbered_before = {p: a.last - a.count for p, a in assigned.items()}
    lanes_needed = any(requests[i].priority is not None for i in fresh)
    waiting = await waiting_now(
        session,
        hall.id,
        day,
        concerned,
        waiting_before,
        numbered_before=numbered_before,
        lanes_needed=lanes_needed,
        queue_version=ledger.queue_version,
    )
    lanes_exact = lanes_stay_exact(
        waiting_before, day, ledger.queue_version, numbered_before, lanes_needed
    )
    rows = ticket_rows(hall.id, day, requests, fresh, numbers)
    # The new tickets are answered and audited from the values written (IssuedTicket), not
    # from ORM objects: building and inspecting a mapped object per ticket cost more than
    # the rest of the insert.
    table = Ticket.__table__  # type: ignore[attr-defined]
    if reserved_ids is not None:
        # PostgreSQL: ids reserved before the locks; the rows go with the commit statement.
        assert len(reserved_ids) >= len(rows)
        for row, ticket_id in zip(rows, reserved_ids, strict=False):
            row["id"] = ticket_id
        tx.insert_at_commit(table, rows)
    else:
        # One INSERT … RETURNING; rows matched by their number, not by position (asking
        # SQLAlchemy to keep the parameter order makes it send one INSERT per row on SQLite).
        returned = await session.execute(
            insert(table).returning(table.c.id, table.c.prefix, table.c.seq_no), rows
        )
        ids = {(prefix, seq_no): ticket_id for ticket_id, prefix, seq_no in returned.all()}
        for row in rows:
            row["id"] = ids[(row["prefix"], row["seq_no"])]
    record_issued(tx, requests, fresh, rows, waiting, results)
    issued = {p: a.last for p, a in assigned.items()}
    return counts_after(
        waiting_before,
        day,
        concerned,
        waiting,
        issued,
        ledger.queue_version,
        lanes_exact=lanes_exact,
    )


def prefix_groups(requests: list[IssueRequest], fresh: list[int]) -> dict[str, list[int]]:
    """The fresh requests by their service's prefix (each prefix numbered once)."""
    by_prefix: dict[str, list[int]] = {}
    for i in fresh:
        by_prefix.setdefault(requests[i].service.prefix, []).append(i)
    return by_prefix


def numbers_of(
    by_prefix: dict[str, list[int]], assigned: dict[str, Assigned]
) -> dict[int, tuple[int, datetime]]:
    """Each fresh request's number and queue time, in request order within its prefix."""
    numbers: dict[int, tuple[int, datetime]] = {}
    for prefix, members in by_prefix.items():
        for i, n in zip(members, assigned[prefix].numbers, strict=True):
            numbers[i] = (n, assigned[prefix].queued_at)
    return numbers


def concerned_services(requests: list[IssueRequest], fresh: list[int]) -> list[Service]:
    return list({requests[i].service.id: requests[i].service for i in fresh}.values())


def lanes_stay_exact(
    before: WaitingSnapshot | None,
    day: date,
    queue_version: int,
    numbered_before: dict[str, int],
    lanes_needed: bool,
) -> bool:
    """Whether the counts a batch ends with still split the lanes exactly: tickets another
    process numbered since the snapshot are added to the plain lane unread (the totals stay
    exact, the split between the lanes may not)."""
    return (
        lanes_needed
        or before is None
        or not usable(before, day, queue_version)
        or all(before.issued.get(p, 0) == n for p, n in numbered_before.items())
    )


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
) -> None:
    """Each new ticket (``rows``, ids included) is audited, announced and answered with its
    place: ``waiting`` holds the counts before it, and is counted on."""
    table = Ticket.__table__  # type: ignore[attr-defined]
    for i, row in zip(fresh, rows, strict=True):
        ticket_id = row["id"]
        ticket = IssuedTicket.from_row(row)
        service = requests[i].service
        assert service.id is not None
        green = waiting.get((service.id, True), 0)
        plain = waiting.get((service.id, False), 0)
        # A new ticket queues last in its lane; green tickets go before every plain one.
        ahead = green if ticket.green else green + plain
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
        results[i] = IssueResult(ticket, True, ahead)


async def waiting_count(session: AsyncSession, hall_id: int, service_id: int) -> int:
    stmt = select(func.count()).where(
        Ticket.hall_id == hall_id,  # type: ignore[arg-type]
        Ticket.service_id == service_id,  # type: ignore[arg-type]
        Ticket.status == rules.WAITING,  # type: ignore[arg-type]
    )
    return int((await session.execute(stmt)).scalar_one())


async def emit_queue(
    tx: Tx, hall_id: int, services: list[Service], *, change: str, ticket: str | None = None
) -> None:
    """Tell screens the new waiting counts of the services a change touched."""
    waiting = {}
    for service in services:
        assert service.id is not None
        waiting[service.prefix] = await waiting_count(tx.session, hall_id, service.id)
    tx.emit("queue", change=change, ticket=ticket, waiting=waiting)


def _record(tx: Tx, ticket: Ticket, action: str, **detail: object) -> None:
    assert ticket.id is not None
    tx.session.add(
        TicketEvent(
            ticket_id=ticket.id,
            at=tx.now,
            action=action,
            staff_id=tx.actor.user_id,
            window_id=ticket.window_id,
            service_id=ticket.service_id,
            detail=dict(detail),
        )
    )


async def current_at_window(session: AsyncSession, window_id: int) -> Ticket | None:
    stmt = (
        select(Ticket)
        .where(Ticket.window_id == window_id, Ticket.status.in_(rules.AT_WINDOW))  # type: ignore[arg-type, attr-defined]
        .order_by(Ticket.called_at.desc())  # type: ignore[union-attr]
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def call_next(
    tx: Tx, hall: Hall, window: Window, services: dict[int, Service]
) -> Ticket | None:
    """叫号: the next ticket for ``window`` (green channel first, then queue time), or None.

    The window row is locked first, so two terminals of one window are served one at a time
    and the second sees the first's call; the candidate ticket is locked with SKIP LOCKED on
    PostgreSQL, so two windows never take the same ticket.
    """
    session = tx.session
    assert window.id is not None and hall.id is not None
    if window.status != "open":
        raise conflict("window_not_open", "窗口已暂停服务，请先恢复 (the window is paused)")
    busy = await current_at_window(session, window.id)
    if busy is not None:
        raise conflict(
            "window_busy",
            f"窗口当前还有 {busy.number} 号未办结，请先办结、过号或回队 "
            "(finish, mark no-show or return the current ticket first)",
        )
    service_ids = await window_service_ids(session, window.id)
    if not service_ids:
        return None
    stmt = (
        select(Ticket)
        .where(
            Ticket.hall_id == hall.id,  # type: ignore[arg-type]
            Ticket.service_id.in_(service_ids),  # type: ignore[attr-defined]
            Ticket.status == rules.WAITING,  # type: ignore[arg-type]
            Ticket.business_day == business_day(hall, tx.now),  # type: ignore[arg-type]
        )
        .order_by(Ticket.green.desc(), Ticket.queued_at, Ticket.id)  # type: ignore[attr-defined, arg-type]
        .limit(1)
    )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    ticket = (await session.execute(stmt)).scalar_one_or_none()
    if ticket is None:
        return None
    staff_id = tx.actor.user_id
    ticket.status = rules.CALLED
    ticket.window_id = window.id
    ticket.staff_id = staff_id
    ticket.called_at = tx.now
    ticket.recalls = 0
    ticket.call_count += 1
    if ticket.first_responder_id is None:
        ticket.first_responder_id = staff_id
    if staff_id is not None:
        await _put_on_duty(tx, window, staff_id)
    _record(tx, ticket, "called")
    tx.audit("ticket.call", ticket)
    service = services[ticket.service_id]
    _emit_call(tx, ticket, service, window, await spoken_zone(session, window), recall=False)
    await emit_queue(tx, hall.id, [service], change="called", ticket=ticket.number)
    return ticket


async def _put_on_duty(tx: Tx, window: Window, staff_id: int) -> None:
    """The staff member is now on duty at this window (and at no other)."""
    session = tx.session
    assert window.id is not None
    duty = await session.get(WindowDuty, window.id)
    if duty is not None and duty.staff_id == staff_id:
        return
    await session.execute(
        delete(WindowDuty).where(
            (WindowDuty.staff_id == staff_id) | (WindowDuty.window_id == window.id)  # type: ignore[arg-type]
        )
    )
    session.add(WindowDuty(window_id=window.id, staff_id=staff_id, since=tx.now))


def _emit_call(
    tx: Tx, ticket: Ticket, service: Service, window: Window, zone: str, *, recall: bool
) -> None:
    tx.emit(
        "call",
        ticket=ticket.number,
        service=service.code,
        window=window.number,
        zone=window.zone,
        recall=recall,
        text=rules.call_text(ticket.number, window.number, zone),
        at=tx.now,
    )


async def recall(tx: Tx, hall: Hall, window: Window, services: dict[int, Service]) -> Ticket:
    """重呼: announce the window's called ticket again (at most ``hall.recall_limit`` times)."""
    assert window.id is not None
    ticket = await current_at_window(tx.session, window.id)
    if ticket is None or ticket.status != rules.CALLED:
        raise conflict("nothing_to_recall", "窗口当前没有已叫号的号票可重呼 (no called ticket)")
    if ticket.recalls >= hall.recall_limit:
        raise conflict(
            "recall_limit",
            f"同一号票最多重呼 {hall.recall_limit} 次，请标记过号 (recall limit reached)",
        )
    before = snapshot(ticket)
    ticket.recalls += 1
    _record(tx, ticket, "recalled", recalls=ticket.recalls)
    tx.audit("ticket.recall", ticket, before=before)
    zone = await spoken_zone(tx.session, window)
    _emit_call(tx, ticket, services[ticket.service_id], window, zone, recall=True)
    return ticket


def _require(ticket: Ticket, *states: str, action: str) -> None:
    if ticket.status not in states:
        label = rules.STATUS_LABELS.get(ticket.status, ticket.status)
        raise conflict(
            "invalid_state",
            f"号票 {ticket.number} 当前状态为「{label}」，不能{action} "
            f"(not allowed while the ticket is {ticket.status})",
        )


def _emit_ticket(tx: Tx, ticket: Ticket, window: Window | None) -> None:
    tx.emit(
        "ticket",
        ticket=ticket.number,
        status=ticket.status,
        window=window.number if window is not None else None,
        outcome=ticket.outcome,
    )


async def start(tx: Tx, ticket: Ticket, window: Window | None) -> Ticket:
    """开始办理."""
    _require(ticket, rules.CALLED, action="开始办理")
    before = snapshot(ticket)
    ticket.status = rules.SERVING
    ticket.started_at = tx.now
    ticket.staff_id = tx.actor.user_id or ticket.staff_id
    _record(tx, ticket, "started")
    tx.audit("ticket.start", ticket, before=before)
    _emit_ticket(tx, ticket, window)
    return ticket


async def finish(tx: Tx, ticket: Ticket, window: Window | None, outcome: str) -> Ticket:
    """办结 with an outcome (completed · accepted · correction · rejected · consulted)."""
    if outcome not in rules.OUTCOMES:
        raise invalid("invalid_outcome", "办理结果无效 (unknown outcome)")
    _require(ticket, rules.SERVING, action="办结")
    before = snapshot(ticket)
    ticket.status = rules.DONE
    ticket.outcome = outcome
    ticket.finished_at = tx.now
    _record(tx, ticket, "finished", outcome=outcome)
    tx.audit("ticket.finish", ticket, before=before)
    _emit_ticket(tx, ticket, window)
    return ticket


async def no_show(tx: Tx, ticket: Ticket, window: Window | None) -> Ticket:
    """过号: the called citizen did not come."""
    _require(ticket, rules.CALLED, action="标记过号")
    before = snapshot(ticket)
    ticket.status = rules.NO_SHOW
    ticket.finished_at = tx.now
    _record(tx, ticket, "no_show")
    tx.audit("ticket.no_show", ticket, before=before)
    _emit_ticket(tx, ticket, window)
    return ticket


async def return_to_queue(
    tx: Tx, ticket: Ticket, window: Window | None, service: Service
) -> Ticket:
    """回队: a called ticket waits again, keeping its queue time."""
    _require(ticket, rules.CALLED, action="回队")
    before = snapshot(ticket)
    ticket.status = rules.WAITING
    ticket.window_id = None
    _record(tx, ticket, "returned", window=window.number if window else None)
    tx.audit("ticket.return", ticket, before=before)
    _emit_ticket(tx, ticket, window)
    await emit_queue(tx, ticket.hall_id, [service], change="returned", ticket=ticket.number)
    return ticket


async def cancel(tx: Tx, ticket: Ticket, window: Window | None, service: Service) -> Ticket:
    """取消 a waiting or called ticket."""
    _require(ticket, rules.WAITING, rules.CALLED, action="取消")
    before = snapshot(ticket)
    was_waiting = ticket.status == rules.WAITING
    ticket.status = rules.CANCELLED
    ticket.finished_at = tx.now
    _record(tx, ticket, "cancelled")
    tx.audit("ticket.cancel", ticket, before=before)
    _emit_ticket(tx, ticket, window)
    if was_waiting:
        await emit_queue(tx, ticket.hall_id, [service], change="cancelled", ticket=ticket.number)
    return ticket


async def transfer(
    tx: Tx, ticket: Ticket, window: Window | None, source: Service, target: Service
) -> Ticket:
    """转移: the ticket waits for another service, keeping its number and queue time."""
    _require(ticket, rules.WAITING, rules.CALLED, rules.SERVING, action="转移")
    if target.id == ticket.service_id:
        raise conflict("same_service", "号票已在该事项队列中 (already queued for that service)")
    if target.hall_id != ticket.hall_id or not target.active:
        raise not_found("service", "没有这个事项 (unknown service)")
    before = snapshot(ticket)
    ticket.status = rules.WAITING
    ticket.service_id = target.id  # type: ignore[assignment]
    ticket.window_id = None
    ticket.started_at = None
    _record(tx, ticket, "transferred", from_service=source.code, to_service=target.code)
    tx.audit("ticket.transfer", ticket, before=before)
    _emit_ticket(tx, ticket, window)
    await emit_queue(
        tx, ticket.hall_id, [source, target], change="transferred", ticket=ticket.number
    )
    return ticket


async def set_window_status(tx: Tx, window: Window, status: str) -> Window:
    """暂停 / 恢复 a window."""
    if status not in ("open", "paused", "closed"):
        raise invalid("invalid_status", "窗口状态无效 (unknown window status)")
    if window.status == "closed" and status != "closed":
        # closed by the administrator (a window no longer in the hall's set-up): only the
        # administrator's configuration opens it again
        raise conflict("window_closed", "窗口已关闭，请联系管理员 (the window is closed)")
    before = snapshot(window)
    window.status = status
    tx.audit(f"window.{status}", window, before=before)
    tx.emit("window", window=window.number, status=status)
    return window


async def expire_past_days(tx: Tx, hall: Hall, *, batch: int = 500) -> int:
    """Close tickets still waiting (or remote tickets never checked in) after their business
    day ended (过期). Never deletes."""
    today = business_day(hall, tx.now)
    stmt = (
        select(Ticket)
        .where(
            Ticket.hall_id == hall.id,  # type: ignore[arg-type]
            Ticket.status.in_((rules.WAITING, rules.REMOTE)),  # type: ignore[attr-defined]
            Ticket.business_day < today,  # type: ignore[arg-type]
        )
        .order_by(Ticket.id)  # type: ignore[arg-type]
        .limit(batch)
    )
    tickets = list((await tx.session.execute(stmt)).scalars())
    for ticket in tickets:
        before = snapshot(ticket)
        ticket.status = rules.EXPIRED
        ticket.finished_at = tx.now
        _record(tx, ticket, "expired")
        tx.audit("ticket.expire", ticket, before=before, reason="business day ended")
    if tickets:
        touched = {t.service_id for t in tickets}
        services = [s for sid in sorted(touched) if (s := await tx.session.get(Service, sid))]
        await emit_queue(tx, hall.id, services, change="expired")  # type: ignore[arg-type]
    return len(tickets)


async def window_services_codes(session: AsyncSession, hall_id: int) -> dict[int, list[int]]:
    rows = await session.execute(
        select(WindowService.window_id, WindowService.service_id)
        .join(Window, Window.id == WindowService.window_id)  # type: ignore[arg-type]
        .where(Window.hall_id == hall_id)  # type: ignore[arg-type]
        .order_by(WindowService.window_id, WindowService.position)  # type: ignore[arg-type]
    )
    out: dict[int, list[int]] = {}
    for window_id, service_id in rows:
        out.setdefault(window_id, []).append(service_id)
    return out
