"""Regions (区划: 县 → 市 → 省) and the region office's accounts

A region groups halls (``hall.region`` names its code); a ``region_inspector`` account belongs
to a region instead of a hall, so ``app_user.hall_id`` may now be empty and
``app_user.region_id`` names the region.

Revision ID: 0012
Revises: 0014 (re-chained after merging main; written against 0009)
Create Date: 2026-12-02 06:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import window_service.db

revision: str = "0012"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "region",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("level", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", window_service.db.TZDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["region.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("region", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_region_code"), ["code"], unique=True)
        batch_op.create_index(batch_op.f("ix_region_parent_id"), ["parent_id"], unique=False)
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region_id", sa.Integer(), nullable=True))
        batch_op.alter_column("hall_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f("ix_app_user_region_id"), ["region_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_app_user_region_id_region"), "region", ["region_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_app_user_region_id_region"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_app_user_region_id"))
        batch_op.alter_column("hall_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("region_id")
    with op.batch_alter_table("region", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_region_parent_id"))
        batch_op.drop_index(batch_op.f("ix_region_code"))
    op.drop_table("region")
