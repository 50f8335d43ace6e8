"""hall_ledger.queue_version: bumped by every commit that may change a hall's queue but issuing

Issuing keeps each process's count of the waiting tickets between batches and trusts it while
this number is unchanged (see window_service/queue/waiting.py).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("hall_ledger", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("queue_version", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("hall_ledger", schema=None) as batch_op:
        batch_op.drop_column("queue_version")
