"""What a hall's wait estimates rest on (预计等候的依据), read at once and kept a moment.

An ``Outlook`` holds, for one hall:

- the *staffed* windows (有人在岗): open (not paused, not closed) with a staff member on
  duty (``WindowDuty``), the services each serves, and whether it has a ticket at it now;
- every non-closed window's services, for the people ahead when nobody is on duty;
- the recent time a window spends on a ticket of a service (叫号 → 办结 or 过号, so walking
  up and no-shows count as the window's time), a trimmed mean of the last ``RECENT`` of the
  last ``RECENT_DAYS`` business days per window and service, then per service; a service
  with none yet takes its configured default, scaled by how the hall's other services run
  against theirs today.

Reading it costs a few queries of the hall's windows and one of its recent tickets, so it
is kept per hall: the staffing for ``STAFFING_SECONDS``, the service times for
``TIMES_SECONDS``. A process forgets its copy when it calls, finishes, pauses or resumes
a window (``forget``); other processes see the change when their copy expires. Numbers and
queue counts are never taken from here.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import Database
from ..halls.lookup import business_day
from ..halls.models import Hall, Service, Window, WindowDuty, WindowService
from . import rules
from .models import Ticket

#: How many recent tickets per window and service (and per service) make its time.
RECENT = 15
#: How many business days back recent tickets are looked for.
RECENT_DAYS = 7
#: How long a process keeps a hall's staffing, and its service times (seconds).
STAFFING_SECONDS = 2.0
TIMES_SECONDS = 30.0
#: After a finish in this process the service times are read again, but not more often than
#: this (a busy hall finishes a ticket every few seconds).
TIMES_AFTER_FINISH = 3.0
#: The share of a ticket's time still to run, on average, at a window that is busy now
#: (the mean residual of a service whose times vary by about half their mean).
RESIDUAL = 0.6


@dataclass(frozen=True)
class Staffing:
    #: window id → the services it serves (staffed windows only)
    staffed: dict[int, frozenset[int]]
    #: window id → the services it serves (every window not closed)
    serving: dict[int, frozenset[int]]
    #: staffed windows with a called or serving ticket now
    busy: frozenset[int]


@dataclass(frozen=True)
class ServiceTimes:
    #: (window id, service id) → minutes per ticket
    by_window: dict[tuple[int, int], float]
    #: service id → minutes per ticket (any window, or its scaled default)
    by_service: dict[int, float]

    def minutes(self, window_id: int, service_id: int) -> float:
        found = self.by_window.get((window_id, service_id))
        if found is not None:
            return found
        return self.by_service.get(service_id, 8.0)


@dataclass(frozen=True)
class Outlook:
    staffing: Staffing
    times: ServiceTimes
    #: service id → windows that would call its tickets: the staffed ones serving it, or
    #: (nobody on duty) every non-closed one serving it
    _candidates: dict[int, tuple[int, ...]] = field(default_factory=dict)

    def candidates(self, service_id: int) -> tuple[int, ...]:
        """The staffed windows serving the service (empty: nobody there to call it)."""
        found = self._candidates.get(service_id)
        if found is None:
            found = tuple(w for w, s in self.staffing.staffed.items() if service_id in s)
            self._candidates[service_id] = found
        return found

    def rivals(self, service_id: int) -> frozenset[int]:
        """The services whose waiting tickets stand before a ticket of this one: every
        service its candidate windows also serve (itself included). With nobody on duty,
        those of the windows that will serve it once staffed."""
        windows = self.candidates(service_id)
        pool = self.staffing.staffed
        if not windows:
            pool = self.staffing.serving
            windows = tuple(w for w, s in pool.items() if service_id in s)
        out = {service_id}
        for w in windows:
            out |= pool[w]
        return frozenset(out)

    def wait_minutes(self, service_id: int, ahead: dict[int, int]) -> float | None:
        """Minutes until a ticket of the service is called with ``ahead`` (service id →
        tickets before it) in front; None when no staffed window serves it.

        A window calls by queue time across its services, so the ticket is called once two
        things have happened, and the estimate is the later of the two:

        - its own service's tickets ahead are called: each staffed candidate window gives
          the service the share of its work ahead (this ticket included) that is the
          service's, at its recent pace for it, and these rates add up; when every
          candidate is busy, the first one to finish its own ticket starts the line;
        - a candidate window has no older ticket of any of its services left: each ticket
          ahead is shared among the staffed windows serving its service, a busy window first
          finishes its own ticket, and the first candidate to get there calls it.

        Counting every rival service's tickets at every candidate as one pool made a
        service with a window of its own wait behind the 综合窗口's other queues (a county
        day's estimates came out twice the waits)."""
        windows = self.candidates(service_id)
        if not windows:
            return None
        staffed = self.staffing.staffed
        busy = self.staffing.busy
        mine = max(0, ahead.get(service_id, 0))
        sharing = {
            other: sum(1 for served in staffed.values() if other in served)
            for other, n in ahead.items()
            if n > 0
        }
        rate = 0.0  # tickets of the service the candidates call per minute
        first: float | None = None  # when the first candidate has no older ticket left
        for w in windows:
            own = self.times.minutes(w, service_id)
            older = {o: ahead[o] for o in sharing if o in staffed[w]}
            work = (mine + 1) * own + sum(
                n * self.times.minutes(w, o) for o, n in older.items() if o != service_id
            )
            rate += ((mine + 1) * own / work) / own if own > 0 and work > 0 else 0.0
            free_at = sum(n * self.times.minutes(w, o) / sharing[o] for o, n in older.items())
            if w in busy:
                free_at += RESIDUAL * own
            first = free_at if first is None else min(first, free_at)
        every_busy = all(w in busy for w in windows)
        line = mine + (RESIDUAL if every_busy else 0.0)
        drained = line / rate if rate > 0 else 0.0
        return max(first or 0.0, drained)


def trimmed_mean(values: list[float]) -> float:
    """The mean without the top and bottom tenth (a forgotten finish weighs little)."""
    ordered = sorted(values)
    cut = len(ordered) // 10
    kept = ordered[cut : len(ordered) - cut] or ordered
    return sum(kept) / len(kept)


async def load_staffing(session: AsyncSession, hall_id: int) -> Staffing:
    windows: dict[int, str] = dict(
        (
            await session.execute(
                select(Window.id, Window.status).where(Window.hall_id == hall_id)  # type: ignore[call-overload]
            )
        ).all()
    )
    ids = [w for w, status in windows.items() if status != "closed"]
    if not ids:
        return Staffing({}, {}, frozenset())
    served: dict[int, set[int]] = {}
    for window_id, service_id in (
        await session.execute(
            select(WindowService.window_id, WindowService.service_id)  # type: ignore[call-overload]
            .join(Service, Service.id == WindowService.service_id)
            .where(WindowService.window_id.in_(ids), Service.active.is_(True))  # type: ignore[attr-defined]
        )
    ).all():
        served.setdefault(int(window_id), set()).add(int(service_id))
    on_duty = set(
        (
            await session.execute(
                select(WindowDuty.window_id).where(WindowDuty.window_id.in_(ids))  # type: ignore[call-overload, attr-defined]
            )
        ).scalars()
    )
    staffed_ids = [w for w in ids if windows[w] == "open" and w in on_duty]
    busy: set[int] = set()
    if staffed_ids:
        busy = set(
            (
                await session.execute(
                    select(Ticket.window_id).where(  # type: ignore[call-overload]
                        Ticket.window_id.in_(staffed_ids),  # type: ignore[union-attr]
                        Ticket.status.in_(rules.AT_WINDOW),  # type: ignore[attr-defined]
                    )
                )
            ).scalars()
        )
    serving = {w: frozenset(served.get(w, ())) for w in ids}
    return Staffing(
        {w: serving[w] for w in staffed_ids},
        serving,
        frozenset(w for w in busy if w is not None),
    )


async def load_times(session: AsyncSession, hall_id: int, today: date) -> ServiceTimes:
    """Recent minutes per ticket, per window and service and per service (see the module)."""
    defaults = {
        int(sid): float(minutes)
        for sid, minutes in (
            await session.execute(
                select(Service.id, Service.default_service_minutes).where(  # type: ignore[call-overload]
                    Service.hall_id == hall_id
                )
            )
        ).all()
    }
    c = Ticket.__table__.c  # type: ignore[attr-defined]
    recent = (
        select(
            c.window_id,
            c.service_id,
            c.called_at,
            c.finished_at,
            func.row_number()
            .over(partition_by=(c.window_id, c.service_id), order_by=c.finished_at.desc())
            .label("rank"),
        )
        .where(
            # Every leading column of the queue index (hall, service, status, day): a range
            # of recent days per service, whatever the length of the hall's history.
            c.hall_id == hall_id,
            c.service_id.in_(sorted(defaults)),
            c.business_day >= today - timedelta(days=RECENT_DAYS - 1),
            c.business_day <= today,
            c.status.in_((rules.DONE, rules.NO_SHOW)),
            c.window_id.is_not(None),
            c.called_at.is_not(None),
            c.finished_at.is_not(None),
        )
        .subquery()
    )
    rows = await session.execute(
        select(recent.c.window_id, recent.c.service_id, recent.c.called_at, recent.c.finished_at)
        .where(recent.c.rank <= RECENT)
        .order_by(recent.c.finished_at.desc())
    )
    pairs: dict[tuple[int, int], list[float]] = {}
    per_service: dict[int, list[float]] = {}
    for window_id, service_id, called, finished in rows.all():
        minutes = max(0.0, _span(called, finished) / 60)
        pairs.setdefault((int(window_id), int(service_id)), []).append(minutes)
        kept = per_service.setdefault(int(service_id), [])
        if len(kept) < RECENT:  # the latest first
            kept.append(minutes)
    by_window = {k: trimmed_mean(v) for k, v in pairs.items()}
    by_service = {k: trimmed_mean(v) for k, v in per_service.items()}
    known = [k for k in by_service if k in defaults]
    # Services with no recent ticket: their default, at the pace the others keep against
    # theirs (a hall that works faster or slower than its settings say).
    pace = sum(by_service[k] for k in known) / sum(defaults[k] for k in known) if known else 1.0
    for service_id, default in defaults.items():
        by_service.setdefault(service_id, default * pace)
    return ServiceTimes(by_window, by_service)


def _span(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds()


@dataclass
class _Kept:
    staffing: Staffing | None = None
    staffing_until: float = 0.0
    times: ServiceTimes | None = None
    times_until: float = 0.0
    times_read: float = 0.0
    day: date | None = None


class OutlookCache:
    """Each hall's outlook in this process, per database (tests run several)."""

    def __init__(self) -> None:
        self._by_db: dict[int, tuple[weakref.ref[object], dict[int, _Kept]]] = {}

    def _halls(self, db: object) -> dict[int, _Kept]:
        entry = self._by_db.get(id(db))
        if entry is None or entry[0]() is not db:
            if len(self._by_db) > 100:
                self._by_db.clear()
            entry = (weakref.ref(db), {})
            self._by_db[id(db)] = entry
        return entry[1]

    def forget(self, db: object, hall_id: int, *, times: bool = False) -> None:
        kept = self._halls(db).get(hall_id)
        if kept is not None:
            kept.staffing_until = 0.0
            if times:
                kept.times_until = min(kept.times_until, kept.times_read + TIMES_AFTER_FINISH)

    def peek(self, db: object, hall_id: int, today: date) -> Outlook | None:
        """The hall's outlook if this process's copy is fresh (no query), else None."""
        kept = self._halls(db).get(hall_id)
        now = time.monotonic()
        if (
            kept is None
            or kept.staffing is None
            or kept.times is None
            or kept.staffing_until <= now
            or kept.times_until <= now
            or kept.day != today
        ):
            return None
        return Outlook(kept.staffing, kept.times)

    async def get(
        self,
        db: object,
        session: AsyncSession,
        hall_id: int,
        today: date,
    ) -> Outlook:
        halls = self._halls(db)
        kept = halls.get(hall_id)
        if kept is None:
            if len(halls) > 1000:
                halls.clear()
            kept = halls[hall_id] = _Kept()
        now = time.monotonic()
        if kept.staffing is None or kept.staffing_until <= now:
            kept.staffing = await load_staffing(session, hall_id)
            kept.staffing_until = now + STAFFING_SECONDS
        if kept.times is None or kept.times_until <= now or kept.day != today:
            kept.times = await load_times(session, hall_id, today)
            kept.times_read, kept.times_until = now, now + TIMES_SECONDS
            kept.day = today
        return Outlook(kept.staffing, kept.times)


#: The process's outlooks (issuing, the services list, the tracking page share them).
OUTLOOKS = OutlookCache()


def forget(db: object, hall_id: int, *, times: bool = False) -> None:
    """After this process called, paused or resumed a window (``times``: finished or
    marked a no-show): read the hall's outlook afresh next time."""
    OUTLOOKS.forget(db, hall_id, times=times)


async def fresh_outlook(session: AsyncSession, hall_id: int, today: date) -> Outlook:
    """The hall's outlook read now (for a caller without the process's cache)."""
    return Outlook(await load_staffing(session, hall_id), await load_times(session, hall_id, today))


async def hall_outlook(db: Database, hall: Hall, now: datetime) -> Outlook:
    """The hall's outlook for the issuing queue: this process's copy, or read in a reader
    (outside the issuing transaction) when it is old."""
    assert hall.id is not None
    today = business_day(hall, now)
    kept = OUTLOOKS.peek(db, hall.id, today)
    if kept is not None:
        return kept
    async with db.read() as session:
        return await OUTLOOKS.get(db, session, hall.id, today)
