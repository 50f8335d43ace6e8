"""The rules of efficiency warnings (效能告诫, 诫勉).

Repeated breaches by a staff member or a department in a quarter propose a formal warning to
the office (defaults of the domain page: 3 substantiated 差评, 2 failed inspections or 2
一次性告知 breaches; the hall's accountability settings may change them). The office issues it
(with a reason and a serial number for the printed 告诫书) or declines it (with a reason).
The figures are those the star ratings use: a 差评 counts when it is neither voided nor held
as suspicious, an inspection fails below the inspection threshold, a 一次性告知 breach is a
second correction notice on one matter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accountability import config
from ..accountability.periods import Period, parse_period
from ..api.errors import conflict, invalid, not_found
from ..auth.models import User
from ..cases.figures import compliance
from ..chain import snapshot
from ..halls.models import Department, Hall
from ..ratings.compute import compute
from ..transaction import Tx
from .models import EfficiencyWarning

SUBJECTS = ("staff", "department")
PROPOSED, ISSUED, DECLINED = "proposed", "issued", "declined"
STATUSES = (PROPOSED, ISSUED, DECLINED)
#: The grounds, in the order the pages show them.
GROUNDS = ("bad_ratings", "failed_inspections", "notice_breaches")


def quarter(code: str) -> Period:
    """A quarter ``YYYY-Qn`` in the hall's life, else 422 ``invalid_period``."""
    period = parse_period(code)
    if "Q" not in period.code:
        raise invalid("invalid_period", "效能告诫按季度提出，请选择季度 (a quarter: YYYY-Qn)")
    return period


def thresholds(settings: config.Settings) -> dict[str, int]:
    return {
        "bad_ratings": settings.warn_bad_ratings,
        "failed_inspections": settings.warn_failed_inspections,
        "notice_breaches": settings.warn_notice_breaches,
    }


async def candidates(
    session: AsyncSession, hall: Hall, period: Period, now: datetime
) -> list[tuple[str, int, str, str, dict[str, int]]]:
    """(subject, subject id, key, name, grounds) of everyone whose counts reach a threshold."""
    assert hall.id is not None
    settings, _ = await config.current(session, hall.id)
    limits = thresholds(settings)
    last = date.fromordinal(period.after.toordinal() - 1)
    found = []
    for subject in SUBJECTS:
        rows = await compute(session, hall, period, subject, settings, now)
        notices = await compliance(
            session, hall.id, period.first, last, subject, now=now, tickets=False
        )
        ids = await _subject_ids(session, hall.id, subject)
        seen = {r.key: r for r in rows}
        for key in set(seen) | {str(k) for k in notices}:
            row = seen.get(key)
            grounds = {
                "bad_ratings": row.evidence.get("bad_ratings", 0) if row else 0,
                "failed_inspections": row.evidence.get("failed_inspections", 0) if row else 0,
                "notice_breaches": next(
                    (f.breaches for k, f in notices.items() if str(k) == key), 0
                ),
            }
            if key in ids and any(grounds[g] >= limits[g] for g in GROUNDS):
                name = row.name if row else key
                found.append((subject, ids[key], key, name, grounds))
    return sorted(found, key=lambda c: (c[0], c[2]))


async def _subject_ids(session: AsyncSession, hall_id: int, subject: str) -> dict[str, int]:
    if subject == "staff":
        stmt = select(User.username, User.id).where(User.hall_id == hall_id)  # type: ignore[call-overload]
    else:
        stmt = select(Department.code, Department.id).where(Department.hall_id == hall_id)  # type: ignore[call-overload]
    return {k: i for k, i in (await session.execute(stmt)).all()}


async def propose(tx: Tx, hall: Hall, period: Period) -> list[EfficiencyWarning]:
    """Propose a warning for everyone over a threshold in ``period`` (once per subject).

    A proposal still undecided has its grounds brought up to date; a decided one is left as
    decided. Returns the warnings proposed or updated now.
    """
    assert hall.id is not None
    session = tx.session
    existing = {
        (w.subject, w.subject_id): w
        for w in (
            await session.execute(
                select(EfficiencyWarning).where(
                    EfficiencyWarning.hall_id == hall.id,  # type: ignore[arg-type]
                    EfficiencyWarning.period == period.code,  # type: ignore[arg-type]
                )
            )
        ).scalars()
    }
    changed = []
    for subject, subject_id, _key, _name, grounds in await candidates(
        session, hall, period, tx.now
    ):
        warning = existing.get((subject, subject_id))
        if warning is None:
            warning = EfficiencyWarning(
                hall_id=hall.id,
                period=period.code,
                subject=subject,
                subject_id=subject_id,
                department_id=subject_id if subject == "department" else None,
                grounds=grounds,
                proposed_at=tx.now,
            )
            session.add(warning)
            await session.flush()
            tx.audit("efficiency_warning.proposed", warning)
            changed.append(warning)
        elif warning.status == PROPOSED and warning.grounds != grounds:
            before = snapshot(warning)
            warning.grounds = grounds
            tx.audit("efficiency_warning.updated", warning, before=before)
            changed.append(warning)
    for warning in changed:
        tx.emit("office.warning", department_id=warning.department_id, id=warning.id)
    return changed


async def get_warning(session: AsyncSession, warning_id: int) -> EfficiencyWarning:
    warning = await session.get(EfficiencyWarning, warning_id)
    if warning is None:
        raise not_found("warning", "没有这条效能告诫 (no such warning)")
    return warning


async def decide(
    tx: Tx, hall: Hall, warning: EfficiencyWarning, *, issue: bool, reason: str
) -> EfficiencyWarning:
    """Issue (下发) or decline (不予告诫) a proposed warning, with the office's reason."""
    if warning.status != PROPOSED:
        raise conflict("warning_decided", "这条效能告诫已经处理过 (already decided)")
    reason = reason.strip()
    if not reason:
        raise invalid("reason_required", "请填写理由 (a reason is required)")
    before = snapshot(warning)
    warning.status = ISSUED if issue else DECLINED
    warning.reason = reason
    warning.decided_at = tx.now
    warning.decided_by_id = tx.actor.user_id
    if issue:
        warning.serial = await _next_serial(tx.session, hall, tx.now)
    tx.audit(f"efficiency_warning.{warning.status}", warning, before=before, reason=reason)
    tx.emit("office.warning", department_id=warning.department_id, id=warning.id)
    return warning


async def _next_serial(session: AsyncSession, hall: Hall, now: datetime) -> str:
    """The next 告诫书 number of the year, ``YYYY-NNN`` (the unique index refuses a race)."""
    year = f"{now.year:04d}-"
    stmt = select(func.count()).where(
        EfficiencyWarning.hall_id == hall.id,  # type: ignore[arg-type]
        EfficiencyWarning.serial.like(f"{year}%"),  # type: ignore[union-attr]
    )
    count = int((await session.execute(stmt)).scalar_one())
    return f"{year}{count + 1:03d}"


async def warnings_of(
    session: AsyncSession, hall_id: int, period: str | None = None, status: str | None = None
) -> list[EfficiencyWarning]:
    stmt = select(EfficiencyWarning).where(EfficiencyWarning.hall_id == hall_id)  # type: ignore[arg-type]
    if period:
        stmt = stmt.where(EfficiencyWarning.period == period)  # type: ignore[arg-type]
    if status:
        stmt = stmt.where(EfficiencyWarning.status == status)  # type: ignore[arg-type]
    stmt = stmt.order_by(EfficiencyWarning.period.desc(), EfficiencyWarning.id)  # type: ignore[attr-defined, arg-type]
    return list((await session.execute(stmt)).scalars())


async def issued_counts(
    session: AsyncSession, hall_id: int, periods: Sequence[str], subject: str
) -> dict[int, int]:
    """Issued warnings per subject id over ``periods`` (the figures count them)."""
    stmt = (
        select(EfficiencyWarning.subject_id, func.count())  # type: ignore[call-overload]
        .where(
            EfficiencyWarning.hall_id == hall_id,
            EfficiencyWarning.subject == subject,
            EfficiencyWarning.status == ISSUED,
            EfficiencyWarning.period.in_(list(periods)),  # type: ignore[attr-defined]
        )
        .group_by(EfficiencyWarning.subject_id)
    )
    return {sid: int(n) for sid, n in (await session.execute(stmt)).all()}


def quarters_of(first: date, last: date) -> list[str]:
    """The quarters ``YYYY-Qn`` that ``[first, last]`` touches."""
    out = []
    y, q = first.year, (first.month - 1) // 3 + 1
    while (y, q) <= (last.year, (last.month - 1) // 3 + 1):
        out.append(f"{y:04d}-Q{q}")
        y, q = (y + 1, 1) if q == 4 else (y, q + 1)
    return out
