"""Erasing citizens' personal data after the retention period (个人信息保护法).

What is erased, and from when (the matter's end plus ``personal_data_years``):

==============  ==================================  =============================
table           columns                             counted from
==============  ==================================  =============================
case_file       applicant_name, applicant_phone     the decision (open cases: never)
consultation    citizen_name                        the consultation
feedback        contact (the callback phone)        the rating
appointment     name                                the slot's end
==============  ==================================  =============================

The columns are personal columns of the audit chain (``chain.PERSONAL_COLUMNS``): no audit
record holds them, so erasing them changes nothing ``audit verify`` compares. Each erasure is
itself recorded (``privacy.erased``, with the table and how many rows) so the office can see
that the rule ran. The phones of bookings and remote tickets are kept only as a keyed digest
and a masked form from the start; those stay (they carry no number).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from ..appointments.models import Appointment
from ..cases.models import Case, Consultation
from ..feedback.models import Feedback
from ..transaction import Tx


@dataclass(frozen=True)
class Rule:
    model: Any
    columns: tuple[str, ...]
    ended: str


#: The audit records' entity of an erasure (not a table: ``audit verify`` compares no row).
ERASURE = "privacy_erasure"
RULES = (
    Rule(Case, ("applicant_name", "applicant_phone"), "decided_at"),
    Rule(Consultation, ("citizen_name",), "created_at"),
    Rule(Feedback, ("contact",), "created_at"),
    Rule(Appointment, ("name",), "ends_at"),
)


def cutoff(now: datetime, years: int) -> datetime:
    """The end of matters whose personal data is due for erasure (``years`` × 365 days,
    plus one day per leap year at most: erring on keeping a day longer)."""
    return now - timedelta(days=365 * years + (years + 3) // 4)


async def erase_due(tx: Tx, now: datetime, years: int, *, batch: int = 500) -> int:
    """Erase up to ``batch`` rows per table of ``tx``'s hall whose retention has run out."""
    limit = cutoff(now, years)
    erased = 0
    for rule in RULES:
        model = rule.model
        ended = getattr(model, rule.ended)
        not_yet = [getattr(model, c) != "" for c in rule.columns]
        ids = list(
            (
                await tx.session.execute(
                    select(model.id)
                    .where(
                        model.hall_id == tx.hall_id,
                        ended.is_not(None),
                        ended < limit,
                        or_(*not_yet),
                    )
                    .order_by(model.id)
                    .limit(batch)
                )
            ).scalars()
        )
        if not ids:
            continue
        await tx.session.execute(
            update(model)
            .where(model.id.in_(ids))
            .values(dict.fromkeys(rule.columns, ""))
            .execution_options(synchronize_session=False)
        )
        tx.audit_raw(
            "privacy.erased",
            ERASURE,
            f"{model.__tablename__}:{ids[0]}-{ids[-1]}",
            after={
                "table": model.__tablename__,
                "ids": ids,
                "columns": list(rule.columns),
                "ended_before": limit.isoformat(),
            },
        )
        erased += len(ids)
    return erased
