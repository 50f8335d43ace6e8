"""Fair verdicts: held ratings reviewed by the office, corrections (更正) of published periods,
ratings without a star (样本不足) and the evidence behind a black-list place

- feedback: ``rater_device`` (bursts per device and channel), the office's review of a flagged
  rating (``review``, ``review_reason``, ``reviewed_at``, ``reviewed_by_id``);
- rating_publication: ``version`` and ``correction_reason``; unique per (hall, period, version);
- rating_row: ``stars`` and ``score`` may be empty, ``reason`` and ``evidence``.

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-01 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import window_service.db

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Gives the unnamed constraints of 0001 a name while SQLite's batch mode copies the table.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}


def _old_unique_name() -> str:
    if op.get_bind().dialect.name == "postgresql":
        return "rating_publication_hall_id_period_key"
    return "uq_rating_publication_hall_id_period"


def upgrade() -> None:
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "rater_device",
                sqlmodel.sql.sqltypes.AutoString(length=64),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(
            sa.Column(
                "review",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(
            sa.Column(
                "review_reason",
                sqlmodel.sql.sqltypes.AutoString(length=1000),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(
            sa.Column("reviewed_at", window_service.db.TZDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("reviewed_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_feedback_reviewed_by_id_app_user", "app_user", ["reviewed_by_id"], ["id"]
        )

    with op.batch_alter_table(
        "rating_publication", schema=None, naming_convention=NAMING
    ) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(
            sa.Column(
                "correction_reason",
                sqlmodel.sql.sqltypes.AutoString(length=1000),
                nullable=False,
                server_default="",
            )
        )
        batch_op.drop_constraint(_old_unique_name(), type_="unique")
        batch_op.create_unique_constraint(
            "uq_rating_publication_hall_id_period_version", ["hall_id", "period", "version"]
        )

    with op.batch_alter_table("rating_row", schema=None) as batch_op:
        batch_op.alter_column("stars", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("score", existing_type=sa.Float(), nullable=True)
        batch_op.add_column(
            sa.Column(
                "reason",
                sqlmodel.sql.sqltypes.AutoString(length=200),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(
            sa.Column("evidence", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("rating_row", schema=None) as batch_op:
        batch_op.drop_column("evidence")
        batch_op.drop_column("reason")
    with op.batch_alter_table("rating_publication", schema=None) as batch_op:
        batch_op.drop_constraint("uq_rating_publication_hall_id_period_version", type_="unique")
        batch_op.create_unique_constraint(_old_unique_name(), ["hall_id", "period"])
        batch_op.drop_column("correction_reason")
        batch_op.drop_column("version")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_constraint("fk_feedback_reviewed_by_id_app_user", type_="foreignkey")
        batch_op.drop_column("reviewed_by_id")
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("review_reason")
        batch_op.drop_column("review")
        batch_op.drop_column("rater_device")
