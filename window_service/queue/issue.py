"""Issuing tickets (取号), one transaction for a batch: numbers, queue time, lanes, rows, audit.

The group-commit queue (``issuing.IssueQueue``) gathers requests and calls ``issue_tickets``;
the rules are written once here for SQLite and PostgreSQL. A request and the ticket it becomes
(its row, tracking token, audit record and event) are ``new_ticket.py``'s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from ..api.errors import ApiError, conflict, invalid, not_found
from ..halls.lookup import business_day, issuing_open
from ..halls.models import Hall, Service
from ..sqlite_writes import insert_rows
from ..transaction import Tx
from . import rules
from .estimate import place_rows, rivals_snapshot
from .models import FoundTicket, Ticket
from .new_ticket import IssueRequest, IssueResult, record_issued, ticket_rows
from .numbering import Assigned, next_numbers_and_ledger
from .outlook import Outlook, fresh_outlook
from .waiting import WaitingSnapshot, counts_after, usable, waiting_now


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
    outlook: Outlook | None = None,
) -> list[IssueResult | ApiError]:
    """Hand out the next numbers for several requests in one transaction (取号, group commit).

    Each request gets its own result or error, in order. Numbers are taken per prefix with one
    counter update, in request order, so within a prefix number order is request order and
    queue order; the counter row stays locked until commit, and a rollback returns every
    number. One key twice in a batch, or a key already used today, gives the same ticket.
    ``waiting_before`` (see ``waiting.py``) spares counting the whole queue under the lock;
    ``reserved_ids`` (PostgreSQL, at least one per request, see ``waiting_snapshot``) lets
    the tickets be written with the commit. ``waiting_after`` receives the counts the batch ends
    with, for the caller to keep once the batch has committed. ``outlook`` (``outlook.py``):
    what the people ahead and the estimate rest on; read here when not given.
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
        if outlook is None:  # not the issuing queue (e.g. a remote ticket): read it all here
            outlook = await fresh_outlook(session, hall.id, day)
            waiting_before = waiting_before or await rivals_snapshot(
                session, hall.id, day, outlook, {requests[i].service.id or 0 for i in fresh}
            )
        after = await _number_and_insert(
            tx, hall, requests, fresh, results, waiting_before, reserved_ids, outlook
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
    outlook: Outlook,
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
    places = place_rows(outlook, rows, waiting, waiting_before)
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
        # SQLite: one INSERT … RETURNING, straight to aiosqlite's connection (one trip, see
        # ``sqlite_writes.py``); rows matched by their number, not by position.
        returned = await insert_rows(session, table, rows, returning=("id", "prefix", "seq_no"))
        ids = {(prefix, seq_no): ticket_id for ticket_id, prefix, seq_no in returned}
        for row in rows:
            row["id"] = ids[(row["prefix"], row["seq_no"])]
    record_issued(tx, requests, fresh, rows, waiting, results, places)
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
