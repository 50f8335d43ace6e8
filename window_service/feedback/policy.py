"""Whether a ticket can be rated now (一次一评)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ..halls.models import Hall
from ..queue import rules
from ..queue.models import Ticket


async def can_rate(session: AsyncSession, hall: Hall, ticket: Ticket, now: datetime) -> bool:
    """Only a finished service can be rated."""
    return ticket.status == rules.DONE
