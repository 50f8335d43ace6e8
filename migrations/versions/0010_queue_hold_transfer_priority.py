"""Queue: fair priority, hold (挂起), transfer to a window, waits of remote tickets

hall.priority_streak_limit: at most this many green calls in a row at a window while an
ordinary ticket it could call is past its wait target; ticket.waiting_since: when the
citizen began to wait (the queue time, or a remote ticket's check-in); ticket.target_window_id:
a ticket transferred to a named window; ticket.holds: how often it was held;
ix_ticket_event_window: a window's latest calls (the priority streak).

Revision ID: 0010
Revises: 0015
Create Date: 2026-12-02 06:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import window_service.db

revision: str = "0010"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("hall", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("priority_streak_limit", sa.Integer(), nullable=False, server_default="3")
        )
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("waiting_since", window_service.db.TZDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("target_window_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("holds", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_foreign_key(
            "fk_ticket_target_window_id_window", "window", ["target_window_id"], ["id"]
        )
    with op.batch_alter_table("ticket_event", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_event_window", ["window_id", "id"], unique=False)
    # Waits so far: from the queue time, or from a remote ticket's check-in (none before).
    op.execute(
        "UPDATE ticket SET waiting_since = queued_at WHERE id NOT IN "
        "(SELECT ticket_id FROM remote_ticket)"
    )
    op.execute(
        "UPDATE ticket SET waiting_since = (SELECT checked_in_at FROM remote_ticket "
        "WHERE remote_ticket.ticket_id = ticket.id) WHERE id IN (SELECT ticket_id FROM remote_ticket)"
    )


def downgrade() -> None:
    with op.batch_alter_table("ticket_event", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_event_window")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_constraint("fk_ticket_target_window_id_window", type_="foreignkey")
        batch_op.drop_column("holds")
        batch_op.drop_column("target_window_id")
        batch_op.drop_column("waiting_since")
    with op.batch_alter_table("hall", schema=None) as batch_op:
        batch_op.drop_column("priority_streak_limit")
