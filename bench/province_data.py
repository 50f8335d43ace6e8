"""The province benchmark's dataset: N county-size halls with D business days of history.

The halls are seeded the way a county sets one up (the county demo's workbook through the
hall import, ``admin/setup.py``; devices as ``admin/county.py`` adds them). Their history is
loaded in exactly the shape the product writes it, and fast: each step of each ticket's life
(issue, call, start, finish or no-show, 受理 of a case, 好差评 rating) and each 暗访 visit is
one transaction recorded with the product's own ``transaction.Recording`` (``emit``,
``audit_raw``, ``seal`` under the hall's ``LedgerState`` and the audit key), with the rows'
audit states made by ``chain.row_snapshot``, receipt numbers and due dates by the case
domain's own functions and track tokens by ``queue.new_ticket.track_tokens``; the rows go in with
PostgreSQL ``COPY`` (asyncpg's ``copy_records_to_table``), one business day of a hall at a
time. Every hall's chain is anchored at the end of every day (``audit_anchor``), the ledger
holds the chain's head, so ``window-service audit verify`` passes on the result.

Left out, to keep the shape simple: 差评 (1–2 stars, which open rectifications), transfers,
corrections and the later decisions of cases (they stay 受理 "accepted").
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import multiprocessing
import queue
import random
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import select

from window_service.accountability import config as accountability
from window_service.admin.county import COUNTY_NAME, ZONES, county_setup
from window_service.admin.setup import check_workbook, create_hall
from window_service.admin.setup_apply import apply_setup
from window_service.admin.workbook_write import write_workbook
from window_service.auth.models import User
from window_service.auth.principal import hash_device_key
from window_service.auth.roles import DISPLAY, EVALUATOR, INSPECTOR, KIOSK, STAFF
from window_service.cases import deadlines as dl
from window_service.cases.calendar import load_calendar
from window_service.cases.models import Case
from window_service.cases.numbering import format_receipt_no, new_check_code
from window_service.chain import AuditKey, canonical_json, row_snapshot, to_jsonable
from window_service.db import Database, create_database
from window_service.feedback import policy
from window_service.feedback.models import Feedback
from window_service.halls.lookup import hall_zone
from window_service.halls.models import Device, Hall, Service, Window, WindowService
from window_service.inspections.models import Inspection, InspectionTemplate
from window_service.inspections.score_sheets import DEFAULT_CODE, template_for_use
from window_service.inspections.service import score_sheet
from window_service.queue import rules
from window_service.queue.models import Ticket
from window_service.queue.new_ticket import track_tokens
from window_service.queue.numbering import format_number
from window_service.transaction import Actor, LedgerState, Recording, Tx

#: Bump when the generated shape changes: the cached template databases carry it in their name.
DATASET_VERSION = "p4"  # p2: JSON as the canonical text the chain hashes; p3: first_called_at;
# p4: the housekeeping jobs caught up (province.caught_up)
DAY_START, DAY_END = 8.5, 17.5  # hall hours
INTENSITY = {8: 0.6, 9: 2.4, 10: 2.6, 11: 1.3, 12: 0.5, 13: 0.9, 14: 2.2, 15: 2.3, 16: 1.0, 17: 0.4}
OUTCOMES = [("completed", 0.62), ("accepted", 0.14), ("consulted", 0.14), ("rejected", 0.10)]
RATINGS = [(5, 0.66), (4, 0.26), (3, 0.08)]
NO_SHOW, RATE_SHARE, VISITS_PER_DAY = 0.05, 0.40, 2
TICKET = Ticket.__table__  # type: ignore[attr-defined]
CASE = Case.__table__  # type: ignore[attr-defined]
FEEDBACK = Feedback.__table__  # type: ignore[attr-defined]
INSPECTION = Inspection.__table__  # type: ignore[attr-defined]


@dataclass
class Book(Recording):
    """A ``Recording`` without a session: one historical transaction at a time, sealed at once."""

    hall_id: int
    now: datetime
    actor: Actor
    after_commit: Any = None
    locked_ledger: LedgerState | None = None
    issuing_only: bool = False
    changes_queue: bool = False
    _events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _audits: list[Any] = field(default_factory=list)


@dataclass
class HallInfo:
    hall: Hall
    services: list[Service]
    windows: list[Window]
    serves: dict[int, list[int]]  # window id → service ids
    staff: dict[int, tuple[int, str]]  # window id → (user id, username)
    kiosks: list[int]
    pads: dict[int, int]  # window id → device id
    inspector: tuple[int, str]
    points: dict[int, float]
    template: Any = None


# -- seeding: the county demo's workbook through the hall import ---------------------------
def hall_code(n: int) -> str:
    return f"p{n:02d}"


def device_key(kiosk_key: str, code: str, name: str = f"{ZONES[0]}取号机") -> str:
    """The key of a bench hall's device (by default its first kiosk's)."""
    return f"{kiosk_key}-{code}-{hashlib.sha256(name.encode()).hexdigest()[:16]}"


def _hash_once() -> None:
    """Every bench account has the same password: hash it once (argon2 takes seconds on a
    busy machine, and the import hashes ~50 accounts a hall), not once per account. The
    stored hash is a real one; only its salt is shared."""
    from window_service.auth import service as auth_service

    hashed: dict[str, str] = {}
    plain = auth_service.hash_password

    def hash_password(password: str) -> str:
        if password not in hashed:
            hashed[password] = plain(password)
        return hashed[password]

    auth_service.hash_password = hash_password  # type: ignore[assignment]


async def seed_halls(
    db: Database, halls: int, timezone: str, password: str, kiosk_key: str
) -> None:
    _hash_once()
    for n in range(1, halls + 1):
        code = hall_code(n)
        async with db.write() as session:
            tx = Tx(session, 0, datetime.now(UTC), Actor.system())
            hall = await create_hall(tx, code=code, name=f"{COUNTY_NAME}{n:02d}", timezone=timezone)
            rows = county_setup(password)
            rows.people = [
                replace(p, username=p.username.replace("county", code, 1)) for p in rows.people
            ]
            checked = await check_workbook(session, hall, write_workbook(rows))
            await apply_setup(tx, hall, checked)
            windows = (
                await session.execute(select(Window).where(Window.hall_id == hall.id))  # type: ignore[arg-type]
            ).scalars()
            devices: list[tuple[str, str, int | None]] = []
            for zone in ZONES:
                devices += [(KIOSK, f"{zone}取号机", None), (DISPLAY, f"{zone}综合屏", None)]
            devices += [(EVALUATOR, f"{w.number}号窗口评价器", w.id) for w in windows]
            for kind, name, window_id in devices:
                key = device_key(kiosk_key, code, name)
                device = Device(
                    hall_id=hall.id,
                    kind=kind,
                    name=name,
                    key_hash=hash_device_key(key),
                    window_id=window_id,
                    created_at=tx.now,
                )
                session.add(device)
                await session.flush()
                tx.audit("device.add", device)
            await template_for_use(tx, DEFAULT_CODE)  # the default sheet, stored on first use
            await tx.commit()


async def hall_infos(db: Database) -> list[HallInfo]:
    out = []
    async with db.read() as session:
        for hall in (await session.execute(select(Hall).order_by(Hall.id))).scalars():  # type: ignore[arg-type]
            if not hall.code.startswith("p"):
                continue
            services = list(
                (
                    await session.execute(
                        select(Service).where(Service.hall_id == hall.id).order_by(Service.id)
                    )
                ).scalars()
            )  # type: ignore[arg-type]
            windows = list(
                (
                    await session.execute(
                        select(Window).where(Window.hall_id == hall.id).order_by(Window.number)
                    )
                ).scalars()
            )  # type: ignore[arg-type]
            serves: dict[int, list[int]] = {}
            for ws in (
                await session.execute(
                    select(WindowService).where(
                        WindowService.window_id.in_([w.id for w in windows])
                    )
                )
            ).scalars():  # type: ignore[attr-defined]
                serves.setdefault(ws.window_id, []).append(ws.service_id)
            users = list(
                (await session.execute(select(User).where(User.hall_id == hall.id))).scalars()
            )  # type: ignore[arg-type]
            devices = list(
                (await session.execute(select(Device).where(Device.hall_id == hall.id))).scalars()
            )  # type: ignore[arg-type]
            template = (
                await session.execute(
                    select(InspectionTemplate).where(InspectionTemplate.hall_id == hall.id)
                )
            ).scalar_one()  # type: ignore[arg-type]
            settings, _ = await accountability.current(session, hall.id)  # type: ignore[arg-type]
            out.append(
                HallInfo(
                    hall,
                    services,
                    windows,
                    serves,
                    {
                        u.window_id: (u.id, u.username)
                        for u in users
                        if u.role == STAFF and u.window_id
                    },  # type: ignore[misc]
                    [d.id for d in devices if d.kind == KIOSK],  # type: ignore[misc]
                    {d.window_id: d.id for d in devices if d.kind == EVALUATOR and d.window_id},  # type: ignore[misc]
                    next((u.id, u.username) for u in users if u.role == INSPECTOR),  # type: ignore[misc]
                    {r: settings.points_for(r) for r in (3, 4, 5)},
                    template,
                )
            )
    return out


# -- history -------------------------------------------------------------------------------
def business_days(end: date, count: int) -> list[date]:
    """The ``count`` weekdays before ``end``, oldest first."""
    days: list[date] = []
    day = end
    while len(days) < count:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            days.append(day)
    return days[::-1]


@dataclass
class Batch:
    """The rows of one hall-day, per table, as tuples in the COPY column order."""

    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        self.rows.setdefault(table, []).append(row)


COLUMNS = {
    "hall_event": ("hall_id", "seq", "type", "payload", "created_at"),
    "audit_record": (
        "hall_id",
        "seq",
        "at",
        "actor",
        "action",
        "entity",
        "entity_id",
        "before",
        "after",
        "reason",
        "prev_hash",
        "hash",
    ),
    "ticket_event": ("ticket_id", "at", "action", "staff_id", "window_id", "service_id", "detail"),
    "case_event": ("case_id", "at", "action", "staff_id", "window_id", "detail"),
    "ticket_counter": ("hall_id", "prefix", "business_day", "last_number", "last_queued_at"),
    "case_counter": ("hall_id", "business_day", "last_number"),
    "audit_anchor": ("hall_id", "business_day", "seq", "hash", "record_at", "created_at", "key_id"),
}
JSON_COLUMNS = {"payload", "before", "after", "detail", "tags", "scores"}


def _js(value: Any) -> str | None:
    """A JSON column's text as the product writes it (the engines' ``json_serializer``)."""
    return None if value is None else canonical_json(value)


class Ids:
    def __init__(self, start: dict[str, int]) -> None:
        self.last = dict(start)

    def next(self, table: str) -> int:
        self.last[table] += 1
        return self.last[table]


class HallHistory:
    """One hall's history, day by day, chained after its ledger."""

    def __init__(
        self,
        info: HallInfo,
        ledger: LedgerState,
        key: AuditKey,
        ids: Ids,
        rng: random.Random,
        cal: Any,
    ) -> None:
        self.info, self.ledger, self.key, self.ids, self.rng, self.cal = (
            info,
            ledger,
            key,
            ids,
            rng,
            cal,
        )
        self.book = Book(info.hall.id or 0, datetime.now(UTC), Actor.system())
        self.batch = Batch()
        self.zone = hall_zone(info.hall)
        self.service_by_id = {s.id: s for s in info.services}
        self.windows_of: dict[int, list[Window]] = {}
        for w in info.windows:
            for sid in info.serves.get(w.id or 0, []):
                self.windows_of.setdefault(sid, []).append(w)
        self.several_zones = len({w.zone for w in info.windows}) > 1

    # one transaction
    def commit(self, now: datetime, actor: Actor, *, queue: bool = True) -> None:
        book = self.book
        book.now, book.actor, book.changes_queue = now, actor, queue
        sealed = book.seal(self.ledger, self.key)
        self.ledger = sealed.ledger
        add = self.batch.add
        for r in sealed.event_rows:
            add("hall_event", (r["hall_id"], r["seq"], r["type"], _js(r["payload"]), now))
        for a in sealed.audit_rows:
            add(
                "audit_record",
                (
                    a["hall_id"],
                    a["seq"],
                    now,
                    a["actor"],
                    a["action"],
                    a["entity"],
                    a["entity_id"],
                    _js(a["before"]),
                    _js(a["after"]),
                    a["reason"],
                    a["prev_hash"],
                    a["hash"],
                ),
            )

    def at(self, day: date, hour: float) -> datetime:
        local = datetime(day.year, day.month, day.day, tzinfo=self.zone) + timedelta(hours=hour)
        return local.astimezone(UTC)

    def day(self, day: date, tickets: int) -> Batch:
        rng, info, hall = self.rng, self.info, self.info.hall
        hours = self._arrivals(tickets)
        services = [rng.choice(info.services) for _ in hours]
        queued = [self.at(day, h) for h in hours]
        tokens = track_tokens(queued)
        free = {w.id: self.at(day, DAY_START) for w in info.windows}
        counters: dict[str, int] = {}
        waiting: dict[str, int] = {}
        steps: list[tuple[datetime, int, str, dict[str, Any]]] = []
        for i, (service, at) in enumerate(zip(services, queued, strict=True)):
            window = min(self.windows_of[service.id], key=lambda w: free[w.id])
            called = max(at + timedelta(seconds=rng.uniform(20, 90)), free[window.id])
            if called >= self.at(day, DAY_END + 0.4):
                continue  # nobody would call it: the citizen does not take a ticket
            n = counters[service.prefix] = counters.get(service.prefix, 0) + 1
            row = {c.key: None for c in TICKET.columns}
            row.update(
                id=self.ids.next("ticket"),
                hall_id=hall.id,
                service_id=service.id,
                original_service_id=service.id,
                prefix=service.prefix,
                seq_no=n,
                number=format_number(service.prefix, n),
                business_day=day,
                status=rules.WAITING,
                green=rng.random() < 0.05,
                queued_at=at,
                waiting_since=at,
                holds=0,
                recalls=0,
                call_count=0,
                track_token=tokens[i],
                device_id=rng.choice(info.kiosks),
            )
            row["priority"] = "elderly" if row["green"] else None
            steps.append((at, i, "issue", row))
            row["_window"] = window
            steps.append((called, i, "call", row))
            if rng.random() < NO_SHOW:
                end = called + timedelta(minutes=2)
                steps.append((end, i, "no_show", row))
            else:
                started = called + timedelta(seconds=rng.uniform(15, 60))
                end = started + timedelta(minutes=rng.lognormvariate(math.log(9), 0.5))
                outcome = rng.choices([o for o, _ in OUTCOMES], [w for _, w in OUTCOMES])[0]
                steps.append((started, i, "start", row))
                if outcome == "accepted" and service.promised_days > 0:
                    steps.append((end - timedelta(seconds=30), i, "case", row))
                steps.append((end, i, "finish", dict(outcome=outcome, row=row)))
                if rng.random() < RATE_SHARE:
                    steps.append((end + timedelta(seconds=rng.uniform(5, 60)), i, "rate", row))
            free[window.id] = end + timedelta(seconds=rng.uniform(5, 40))
        for v in range(VISITS_PER_DAY):
            steps.append((self.at(day, rng.uniform(9, 16.5)), tickets + v, "visit", {}))
        steps.sort(key=lambda s: (s[0], s[1]))
        case_seq = 0
        ticket_rows: dict[int, dict[str, Any]] = {}
        for now, _, kind, data in steps:
            if kind == "issue":
                self._issue(now, data, waiting)
                ticket_rows[data["id"]] = data
            elif kind == "call":
                self._call(now, data, waiting)
            elif kind in ("start", "no_show"):
                self._step(now, data, kind)
            elif kind == "finish":
                self._step(now, data["row"], "finish", outcome=data["outcome"])
            elif kind == "case":
                case_seq += 1
                self._case(now, day, data, case_seq)
            elif kind == "rate":
                self._rate(now, data)
            else:
                self._visit(now)
        b = self.batch
        for prefix, last in counters.items():
            last_at = max(r["queued_at"] for r in ticket_rows.values() if r["prefix"] == prefix)
            b.add("ticket_counter", (hall.id, prefix, day, last, last_at))
        if case_seq:
            b.add("case_counter", (hall.id, day, case_seq))
        for row in ticket_rows.values():
            b.add("ticket", tuple(row[c.key] for c in TICKET.columns))
        b.rows["ticket"] = b.rows.get("ticket", [])
        head = b.rows["audit_record"][-1]
        b.add(
            "audit_anchor",
            (
                hall.id,
                day,
                head[1],
                head[11],
                head[2],
                self.at(day, DAY_END + 0.6),
                self.key.key_id,
            ),
        )
        self.batch = Batch()
        return b

    def _arrivals(self, n: int) -> list[float]:
        hours = list(INTENSITY)
        weights = [
            INTENSITY[h] * max(0.0, min(h + 1, DAY_END - 0.5) - max(h, DAY_START)) for h in hours
        ]
        out = []
        for h in self.rng.choices(hours, weights=weights, k=n):
            out.append(self.rng.uniform(max(h, DAY_START), min(h + 1, DAY_END - 0.5)))
        return sorted(out)

    def _issue(self, now: datetime, row: dict[str, Any], waiting: dict[str, int]) -> None:
        book = self.book
        after = row["_after"] = row_snapshot(TICKET, row)
        book.audit_raw(
            "ticket.issue",
            "ticket",
            str(row["id"]),
            after=after,
            actor=Actor(f"device:{row['device_id']}", device_id=row["device_id"]),
        )
        waiting[row["prefix"]] = waiting.get(row["prefix"], 0) + 1
        book.emit(
            "queue",
            change="issued",
            ticket=row["number"],
            waiting={row["prefix"]: waiting[row["prefix"]]},
        )
        self.commit(now, Actor.system(), queue=False)
        book.issuing_only = False

    def _staff(self, row: dict[str, Any]) -> Actor:
        user_id, username = self.info.staff[row["_window"].id]
        return Actor(f"user:{username}", user_id=user_id)

    def _call(self, now: datetime, row: dict[str, Any], waiting: dict[str, int]) -> None:
        window, actor = row["_window"], self._staff(row)
        row.update(
            status=rules.CALLED,
            window_id=window.id,
            staff_id=actor.user_id,
            called_at=now,
            first_called_at=now,
            recalls=0,
            call_count=1,
            first_responder_id=actor.user_id,
        )
        self._ticket_event(row, now, "called", actor)
        self._audit(row, "ticket.call", None)
        service = self.service_by_id[row["service_id"]]
        zone = window.zone if self.several_zones else ""
        self.book.emit(
            "call",
            ticket=row["number"],
            service=service.code,
            window=window.number,
            zone=window.zone,
            recall=False,
            text=rules.call_text(row["number"], window.number, zone),
            at=now,
        )
        waiting[row["prefix"]] -= 1
        self.book.emit(
            "queue",
            change="called",
            ticket=row["number"],
            waiting={row["prefix"]: waiting[row["prefix"]]},
        )
        self.commit(now, actor)

    def _step(
        self, now: datetime, row: dict[str, Any], kind: str, outcome: str | None = None
    ) -> None:
        actor = self._staff(row)
        before = self._snap(row)
        if kind == "start":
            row.update(status=rules.SERVING, started_at=now)
            action, event = "ticket.start", "started"
        elif kind == "no_show":
            row.update(status=rules.NO_SHOW, finished_at=now)
            action, event = "ticket.no_show", "no_show"
        else:
            row.update(status=rules.DONE, outcome=outcome, finished_at=now)
            action, event = "ticket.finish", "finished"
        detail = {"outcome": outcome} if outcome else {}
        self._ticket_event(row, now, event, actor, detail)
        self._audit(row, action, before)
        self.book.emit(
            "ticket",
            ticket=row["number"],
            status=row["status"],
            window=row["_window"].number,
            outcome=row["outcome"],
        )
        self.commit(now, actor)

    def _case(self, now: datetime, day: date, ticket: dict[str, Any], seq: int) -> None:
        actor, hall = self._staff(ticket), self.info.hall
        service = self.service_by_id[ticket["service_id"]]
        dues = dl.compute_dues(
            self.cal,
            hall,
            accepted_day=day,
            accepted_at=now,
            legal_days=service.legal_days,
            promised_days=service.promised_days,
            shift=0,
        )
        row = {c.key: None for c in CASE.columns}
        row.update(
            id=self.ids.next("case_file"),
            hall_id=hall.id,
            receipt_no=format_receipt_no(hall.code, day, seq),
            check_code=new_check_code(),
            ticket_id=ticket["id"],
            service_id=service.id,
            department_id=service.department_id,
            window_id=ticket["window_id"],
            accepted_by_id=actor.user_id,
            first_responder_id=ticket["first_responder_id"],
            applicant_name="张三",
            applicant_phone="13800000000",
            accepted_at=now,
            accepted_day=day,
            legal_days=service.legal_days,
            promised_days=service.promised_days,
            extension_days=0,
            stopped_days=0,
            promised_due=dues.promised_due,
            legal_due=dues.legal_due,
            promised_due_at=dues.promised_due_at,
            legal_due_at=dues.legal_due_at,
            provisional=dues.provisional,
            status=dl.ACCEPTED,
            decision_reason="",
        )
        b = self.batch
        b.add(
            "case_event",
            (
                row["id"],
                now,
                "accepted",
                actor.user_id,
                row["window_id"],
                _js(to_jsonable({"ticket": ticket["number"]})),
            ),
        )
        b.add(
            "ticket_event",
            (
                ticket["id"],
                now,
                "case_accepted",
                actor.user_id,
                row["window_id"],
                service.id,
                _js({"receipt_no": row["receipt_no"]}),
            ),
        )
        b.add("case_file", tuple(row[c.key] for c in CASE.columns))
        self.book.audit_raw(
            "case.accept", "case_file", str(row["id"]), after=row_snapshot(CASE, row)
        )
        self.book.emit(
            "office.case",
            department_id=service.department_id,
            action="accepted",
            receipt_no=row["receipt_no"],
            status=row["status"],
            promised_due=row["promised_due"],
        )
        self.commit(now, actor, queue=False)

    def _rate(self, now: datetime, ticket: dict[str, Any]) -> None:
        rating = self.rng.choices([r for r, _ in RATINGS], [w for _, w in RATINGS])[0]
        service = self.service_by_id[ticket["service_id"]]
        pad = self.info.pads.get(ticket["window_id"])
        row = {c.key: None for c in FEEDBACK.columns}
        row.update(
            id=self.ids.next("feedback"),
            hall_id=self.info.hall.id,
            ticket_id=ticket["id"],
            window_id=ticket["window_id"],
            staff_id=ticket["staff_id"],
            service_id=service.id,
            department_id=service.department_id,
            rating=rating,
            points=self.info.points[rating],
            tags=[],
            comment="",
            contact="",
            channel="pad",
            source_ip="127.0.0.1",
            device_id=pad,
            rater_device="",
            created_at=now,
            flagged=False,
            flag_reason="",
            review="",
            review_reason="",
            voided=False,
            void_reason="",
            reference="",
        )
        self.batch.add(
            "feedback",
            tuple(_js(row[c.key]) if c.key == "tags" else row[c.key] for c in FEEDBACK.columns),
        )
        self.book.audit_raw(
            "feedback.create", "feedback", str(row["id"]), after=row_snapshot(FEEDBACK, row)
        )
        self.book.emit(
            "office.feedback",
            department_id=service.department_id,
            id=row["id"],
            ticket=ticket["number"],
            rating=rating,
            label=policy.level_label(rating),
            flagged=False,
        )
        self.commit(now, Actor(f"device:{pad}", device_id=pad), queue=False)

    def _visit(self, now: datetime) -> None:
        info = self.info
        window = self.rng.choice(info.windows)
        staff = info.staff.get(window.id or 0)
        service = self.service_by_id[info.serves[window.id or 0][0]]
        template = info.template
        scores = {
            str(item["code"]): float(round(item["max_points"] * self.rng.uniform(0.9, 1.0)))
            for item in template.items
        }
        total, max_total = score_sheet(template, scores)
        row = {c.key: None for c in INSPECTION.columns}
        row.update(
            id=self.ids.next("inspection"),
            hall_id=info.hall.id,
            template_id=template.id,
            window_id=window.id,
            staff_id=staff[0] if staff else None,
            department_id=service.department_id,
            inspector_id=info.inspector[0],
            visited_at=now - timedelta(minutes=20),
            recorded_at=now,
            scores=scores,
            total=total,
            max_total=max_total,
            notes="",
            voided=False,
            void_reason="",
        )
        for c in INSPECTION.columns:  # columns this benchmark does not know: their defaults
            if row[c.key] is None and c.default is not None and not callable(c.default.arg):
                row[c.key] = c.default.arg
        self.batch.add(
            "inspection",
            tuple(_js(row[c.key]) if c.key == "scores" else row[c.key] for c in INSPECTION.columns),
        )
        self.book.audit_raw(
            "inspection.record", "inspection", str(row["id"]), after=row_snapshot(INSPECTION, row)
        )
        self.book.emit(
            "office.inspection",
            department_id=service.department_id,
            id=row["id"],
            window=window.number,
            total=total,
        )
        self.commit(now, Actor(f"user:{info.inspector[1]}", user_id=info.inspector[0]), queue=False)

    def _snap(self, row: dict[str, Any]) -> dict[str, Any]:
        """The ticket's state as its last audit record has it (made once, by ``_audit``)."""
        return row["_after"]  # type: ignore[no-any-return]

    def _audit(self, row: dict[str, Any], action: str, before: dict[str, Any] | None) -> None:
        after = row["_after"] = row_snapshot(TICKET, row)
        self.book.audit_raw(action, "ticket", str(row["id"]), before=before, after=after)

    def _ticket_event(
        self,
        row: dict[str, Any],
        now: datetime,
        action: str,
        actor: Actor,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self.batch.add(
            "ticket_event",
            (
                row["id"],
                now,
                action,
                actor.user_id,
                row["window_id"],
                row["service_id"],
                _js(detail or {}),
            ),
        )


# -- loading -------------------------------------------------------------------------------
ORDER = (
    "ticket",
    "ticket_event",
    "case_file",
    "case_event",
    "feedback",
    "inspection",
    "ticket_counter",
    "case_counter",
    "hall_event",
    "audit_record",
    "audit_anchor",
)


def _columns(table: str) -> tuple[str, ...]:
    named = {"ticket": TICKET, "case_file": CASE, "feedback": FEEDBACK, "inspection": INSPECTION}
    if table in named:
        return tuple(c.key for c in named[table].columns)
    return COLUMNS[table]


#: Ids a worker may hand out per table: worker k numbers from the table's max id + k × this.
ID_BLOCK = 20_000_000


def _worker(args: tuple[Any, ...], out: Any, done: Any) -> None:
    out.put(asyncio.run(_load_part(*args, done=done)))


async def _load_part(
    url: str,
    dsn: str,
    key_bytes: bytes,
    hall_ids: list[int],
    start: dict[str, int],
    dates: list[date],
    tickets: int,
    seed: int,
    *,
    done: Any,
) -> dict[str, int]:
    """One worker's share: the history of ``hall_ids``, day by day, one COPY transaction
    per hall-day (chain, rows and ledger together)."""
    key = AuditKey(key_bytes)
    db = create_database(url, audit_key=key)
    try:
        infos = [i for i in await hall_infos(db) if i.hall.id in hall_ids]
        async with db.read() as session:
            calendars = {i.hall.id: await load_calendar(session, i.hall.id) for i in infos}  # type: ignore[arg-type]
    finally:
        await db.dispose()
    conn = await asyncpg.connect(dsn)
    counts: dict[str, int] = {}
    try:
        ledgers = {
            r["hall_id"]: LedgerState(
                r["last_event_seq"], r["audit_seq"], r["audit_hash"], r["queue_version"]
            )
            for r in await conn.fetch("SELECT * FROM hall_ledger")
        }
        ids = Ids(start)
        histories = [
            HallHistory(
                i,
                ledgers[i.hall.id],
                key,
                ids,
                random.Random(seed * 1000 + (i.hall.id or 0)),
                calendars[i.hall.id],
            )
            for i in infos
        ]
        for day in dates:
            for history in histories:
                batch = history.day(day, max(1, int(tickets * history.rng.uniform(0.85, 1.15))))
                async with conn.transaction():
                    for table in ORDER:
                        rows = batch.rows.get(table)
                        if rows:
                            await conn.copy_records_to_table(
                                table, records=rows, columns=list(_columns(table))
                            )
                            counts[table] = counts.get(table, 0) + len(rows)
                    lg = history.ledger
                    await conn.execute(
                        "UPDATE hall_ledger SET last_event_seq=$1, audit_seq=$2, audit_hash=$3, queue_version=$4 WHERE hall_id=$5",
                        lg.last_event_seq,
                        lg.audit_seq,
                        lg.audit_hash,
                        lg.queue_version,
                        history.info.hall.id,
                    )
                with done.get_lock():
                    done.value += 1
    finally:
        await conn.close()
    return counts


async def load_history(
    url: str,
    dsn: str,
    key: AuditKey,
    key_bytes: bytes,
    *,
    days: int,
    tickets: int,
    seed: int = 7,
    end: date | None = None,
    workers: int = 2,
    progress: bool = False,
) -> dict[str, int]:
    """Write ``days`` business days of history (about ``tickets`` a hall-day) into every
    bench hall, the halls shared among ``workers`` processes; returns the rows per table."""
    conn = await asyncpg.connect(dsn)
    try:
        hall_ids = [
            r[0] for r in await conn.fetch("SELECT id FROM hall WHERE code LIKE 'p%' ORDER BY id")
        ]
        start = {
            t: int(await conn.fetchval(f'SELECT coalesce(max(id), 0) FROM "{t}"'))
            for t in ("ticket", "case_file", "feedback", "inspection")
        }
    finally:
        await conn.close()
    dates = business_days(end or datetime.now(UTC).date(), days)
    context = multiprocessing.get_context("spawn")
    out, done = context.Queue(), context.Value("i", 0)
    procs = []
    for k in range(max(1, min(workers, len(hall_ids)))):
        part = hall_ids[k::workers]
        offset = {t: n + k * ID_BLOCK for t, n in start.items()}
        procs.append(
            context.Process(
                target=_worker,
                args=((url, dsn, key_bytes, part, offset, dates, tickets, seed), out, done),
            )
        )
    t0, total = time.monotonic(), len(dates) * len(hall_ids)
    for proc in procs:
        proc.start()
    counts: dict[str, int] = {}
    received = 0
    while received < len(procs):
        try:
            part_counts = await asyncio.to_thread(out.get, True, 1.0)
        except queue.Empty:
            if any(p.exitcode not in (None, 0) for p in procs):
                raise RuntimeError("a history worker failed") from None
        else:
            received += 1
            for table, n in part_counts.items():
                counts[table] = counts.get(table, 0) + n
        if progress:
            print(
                f"\r  history {done.value}/{total} hall-days, {time.monotonic() - t0:.0f} s",
                end="",
                flush=True,
            )
    for proc in procs:
        proc.join()
    if progress:
        print()
    conn = await asyncpg.connect(dsn)
    try:
        for table in ("ticket", "case_file", "feedback", "inspection"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), (SELECT coalesce(max(id), 1) FROM \"{table}\"))"
            )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return counts
