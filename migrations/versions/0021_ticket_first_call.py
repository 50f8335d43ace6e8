"""A ticket's first call on the ticket: the office figures read it without its events

``ticket.first_called_at`` is the first call (首次叫号), where the wait ends; the statistics,
the commitments, the estimate accuracy and the region comparison each found it as the
earliest "called" event of every ticket (one probe per ticket; province bench: 112 of the
198 ms the database spent on one hall-month's tickets). Filled in from the events.

A hall's tickets of a period come from a new index on (hall_id, business_day), which replaces
the index on business_day alone: on that one a hall-month read every hall's tickets of the
month (20 halls: 526k rows for 27k, 110 ms against 10 ms), and every query of tickets by day
names its hall.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 08:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import window_service.db

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("first_called_at", window_service.db.TZDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_ticket_hall_day", ["hall_id", "business_day"], unique=False)
        batch_op.drop_index(batch_op.f("ix_ticket_business_day"))
    op.execute(
        "UPDATE ticket SET first_called_at = (SELECT min(e.at) FROM ticket_event e"
        " WHERE e.ticket_id = ticket.id AND e.action = 'called')"
        " WHERE EXISTS (SELECT 1 FROM ticket_event e"
        " WHERE e.ticket_id = ticket.id AND e.action = 'called')"
    )


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_business_day"), ["business_day"], unique=False)
        batch_op.drop_index("ix_ticket_hall_day")
        batch_op.drop_column("first_called_at")
