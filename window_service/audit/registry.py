"""What ``audit verify`` is handed by the layer that knows every domain.

Audit stands below the domains and imports none of them. ``window_service/models.py`` (top)
imports every table and then calls ``register``: from then on every audited table is mapped
(``verify.audited_tables``) and the domains' checks of their evidence files are listed (the
inspections' photos, ``inspections/evidence.py``). ``audit verify`` refuses to run before
that, so a missing import can never make it skip a table or a file without saying so.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from .verify import Breach

#: A domain's check of its evidence files under ``var_dir``: the first breach, or None.
EvidenceCheck = Callable[[AsyncSession, Path], Awaitable["Breach | None"]]

_evidence: tuple[EvidenceCheck, ...] | None = None


def register(*, evidence: Sequence[EvidenceCheck]) -> None:
    """Every table is mapped; ``evidence`` lists the checks of the domains' evidence files."""
    global _evidence
    _evidence = tuple(evidence)


def require_every_table() -> None:
    """Refuse to verify before ``window_service.models`` has mapped every table."""
    if _evidence is None:
        raise RuntimeError("audit verify needs every table: import window_service.models first")


def evidence_checks() -> tuple[EvidenceCheck, ...]:
    require_every_table()
    assert _evidence is not None
    return _evidence
