"""The office's live watch: cases crossing into yellow or red, tickets breaking their targets.

Run by housekeeping (``watch_commitments`` in ``housekeeping.JOBS``). Each crossing is emitted
once — per case, level and promised deadline (an extension or resumed clock that moves the
deadline can warn again) and per ticket and target — as ``office.*`` events, whose payload only
signed-in staff sockets receive. Idempotent: several processes may run it at once (the unique
constraints keep the record single; a loser's transaction rolls back and retries next round).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from ..halls.lookup import business_day, local_time
from ..halls.models import Hall, Service, Window
from ..state import AppState
from ..transaction import Actor, Tx
from . import deadlines as dl
from .calendar import WorkCalendar, load_calendar
from .commitments import announce_breaches
from .models import Case, CaseWarningNotice


def policy_of(state: AppState) -> dl.WarningPolicy:
    return dl.WarningPolicy(
        state.settings.case_yellow_working_days, state.settings.case_immediate_yellow_minutes
    )


async def announce_warnings(tx: Tx, hall: Hall, cal: WorkCalendar, policy: dl.WarningPolicy) -> int:
    """Announce the cases that crossed into yellow or red since the last round.

    A red notice for the current deadline is the last word on a case (only an extension or a
    resumed clock, which moves the deadline, can warn again), so those cases are left out in
    the query: a hall with years of overdue cases reads only the few that can still change.
    """
    session = tx.session
    already_red = exists().where(
        col(CaseWarningNotice.case_id) == Case.id,
        col(CaseWarningNotice.level) == dl.RED,
        col(CaseWarningNotice.promised_due) == Case.promised_due,
    )
    cases = list(
        (
            await session.execute(
                select(Case).where(
                    col(Case.hall_id) == hall.id,
                    col(Case.status) == dl.ACCEPTED,
                    col(Case.promised_due)
                    < dl.warning_horizon(cal, business_day(hall, tx.now), policy),
                    ~already_red,
                )
            )
        ).scalars()
    )
    if not cases:
        return 0
    announced = {
        (n.case_id, n.level, n.promised_due)
        for n in (
            await session.execute(
                select(CaseWarningNotice).where(
                    col(CaseWarningNotice.case_id).in_([c.id for c in cases])
                )
            )
        ).scalars()
    }
    services = {
        s.id: s
        for s in (
            await session.execute(select(Service).where(col(Service.hall_id) == hall.id))
        ).scalars()
    }
    windows = {
        w.id: w.number
        for w in (
            await session.execute(select(Window).where(col(Window.hall_id) == hall.id))
        ).scalars()
    }
    count = 0
    for case in cases:
        level = dl.warning_of(cal, hall, case, tx.now, policy)
        if level is None or (case.id, level, case.promised_due) in announced:
            continue
        assert case.id is not None
        session.add(
            CaseWarningNotice(
                case_id=case.id, level=level, promised_due=case.promised_due, at=tx.now
            )
        )
        svc = services[case.service_id]
        tx.emit(
            "office.case_warning",
            department_id=case.department_id,
            receipt_no=case.receipt_no,
            level=level,
            label=dl.WARNING_LABELS[level],
            service=svc.code,
            service_name=svc.name,
            window=windows.get(case.window_id) if case.window_id else None,
            promised_due=(
                local_time(hall, case.promised_due_at).isoformat()
                if case.promised_due_at
                else case.promised_due.isoformat()
            ),
            provisional=case.provisional,
        )
        count += 1
    return count


async def watch_hall(state: AppState, hall: Hall, now: datetime) -> int:
    assert hall.id is not None
    async with state.db.write() as session:
        tx = Tx(session, hall.id, now, Actor.system(), state.hub.publish_local)
        cal = await load_calendar(session, hall.id)
        count = await announce_warnings(tx, hall, cal, policy_of(state))
        count += await announce_breaches(tx, hall)
        await tx.commit()
    return count


async def watch_commitments(state: AppState) -> None:
    """Housekeeping job: announce new case warnings and queue-target breaches."""
    async with state.db.read() as session:
        halls = list((await session.execute(select(Hall))).scalars())
    for hall in halls:
        try:
            await watch_hall(state, hall, state.clock.now())
        except IntegrityError:
            continue  # another process announced the same crossing first
