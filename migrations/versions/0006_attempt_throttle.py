"""attempt_throttle: failed sign-ins and case lookups, counted for every process

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 20:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from window_service.db import TZDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attempt_throttle",
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("window_start", TZDateTime(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", TZDateTime(), nullable=True),
        sa.Column("updated_at", TZDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key"),
    )
    with op.batch_alter_table("attempt_throttle", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attempt_throttle_updated_at"), ["updated_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("attempt_throttle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attempt_throttle_updated_at"))
    op.drop_table("attempt_throttle")
