"""效能告诫 in the statistics: the issued efficiency warnings of each staff member or department.

A warning is given for a quarter (``efficiency.service``), so a period counts those of the
quarters it falls in: a day or a month shows the warnings of its quarter.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from ..efficiency.service import issued_counts, quarters_of
from ..halls.models import Hall
from .figures import Group
from .period import Period


async def add_warnings(
    session: AsyncSession,
    hall: Hall,
    period: Period,
    by: str,
    subject: Callable[[str, int], tuple[str, str] | None],
    department_ids: frozenset[int] | None,
    groups: dict[str, Group],
    total: Group,
) -> None:
    """Count the period's issued warnings in the rows ``by`` staff or department (0 for the
    others); ``subject(by, id)`` is the group (key, label) of a warning's subject.

    A warned subject without tickets in the period still gets its row. A head sees the warnings
    of their departments, and of the staff who served in them (staff belong to no department).
    """
    assert hall.id is not None
    counts = await issued_counts(session, hall.id, quarters_of(period.first, period.last), by)
    for g in [*groups.values(), total]:
        g.warnings = 0
    for subject_id, n in sorted(counts.items()):
        if by == "department" and department_ids is not None and subject_id not in department_ids:
            continue
        key = subject(by, subject_id)
        if key is None or (by == "staff" and department_ids is not None and key[0] not in groups):
            continue
        row = groups.get(key[0])
        if row is None:
            row = groups[key[0]] = Group(*key, warnings=0)
        row.warnings = (row.warnings or 0) + n
        total.warnings = (total.warnings or 0) + n
