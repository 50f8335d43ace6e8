"""What the administrator's route files share: who may call them, their scope, and the commit
that turns a raced duplicate into a 409."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from ..api.errors import conflict
from ..api.scope import Scope
from ..auth.roles import ADMIN
from ..transaction import Tx

ADMIN_ONLY = [ADMIN]
#: A department, service, window, account or device: of the administrator's own hall.
CONFIG = Scope("hall", "配置", "configuration")


async def commit(tx: Tx) -> None:
    """Commit; a duplicate that slipped past the checks (two administrators racing) is a 409."""
    try:
        await tx.commit()
    except IntegrityError as exc:
        await tx.session.rollback()
        raise conflict(
            "duplicate", "与已有配置重复，请刷新后重试 (duplicate; reload and retry)"
        ) from exc
