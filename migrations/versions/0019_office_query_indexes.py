"""Office query indexes: a period's figures read only the hall's rows of that period

A ticket's first call (叫号) comes from an index on (ticket_id, action, at), which also
serves every lookup of a ticket's events (it replaces the index on ticket_id alone); a
hall's cases decided or due in a period from (hall_id, decided_day) and
(hall_id, promised_due). Measured by bench/province.py.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 18:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ticket_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ticket_event_first_call", ["ticket_id", "action", "at"], unique=False
        )
        batch_op.drop_index(batch_op.f("ix_ticket_event_ticket_id"))
    with op.batch_alter_table("case_file", schema=None) as batch_op:
        batch_op.create_index("ix_case_hall_decided", ["hall_id", "decided_day"], unique=False)
        batch_op.create_index("ix_case_hall_due", ["hall_id", "promised_due"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_file", schema=None) as batch_op:
        batch_op.drop_index("ix_case_hall_due")
        batch_op.drop_index("ix_case_hall_decided")
    with op.batch_alter_table("ticket_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_event_ticket_id"), ["ticket_id"], unique=False)
        batch_op.drop_index("ix_ticket_event_first_call")
