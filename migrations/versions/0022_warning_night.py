"""The night each hall's efficiency warnings were proposed: one process claims it

``efficiency_warning_night`` holds one row per hall and night. The process whose row commits
reads the quarter's figures and proposes the warnings; every other process skips the hall.
Before, each process read every hall's quarter each night (the province bench: about 15 s of
one core per process on 20 halls), only to find the warnings already proposed.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import window_service.db

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "efficiency_warning_night",
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("night", sa.Date(), nullable=False),
        sa.Column("claimed_at", window_service.db.TZDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["hall_id"], ["hall.id"]),
        sa.PrimaryKeyConstraint("hall_id", "night"),
    )


def downgrade() -> None:
    op.drop_table("efficiency_warning_night")
