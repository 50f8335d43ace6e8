"""Appointments (预约): policy, service slot settings, slot seat counters, bookings; remote tickets (网上取号)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 20:03:34.057516
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import window_service.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "appointment_policy",
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("opens", sa.Time(), nullable=False),
        sa.Column("closes", sa.Time(), nullable=False),
        sa.Column("walk_in_percent", sa.Integer(), nullable=False),
        sa.Column("early_minutes", sa.Integer(), nullable=False),
        sa.Column("late_minutes", sa.Integer(), nullable=False),
        sa.Column("no_show_limit", sa.Integer(), nullable=False),
        sa.Column("no_show_days", sa.Integer(), nullable=False),
        sa.Column("block_days", sa.Integer(), nullable=False),
        sa.Column("bookings_per_phone_hour", sa.Integer(), nullable=False),
        sa.Column("bookings_per_address_hour", sa.Integer(), nullable=False),
        sa.Column("days_ahead", sa.Integer(), nullable=False),
        sa.Column("updated_at", window_service.db.TZDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["hall_id"],
            ["hall.id"],
        ),
        sa.PrimaryKeyConstraint("hall_id"),
    )
    op.create_table(
        "appointment_slot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("start", sa.Time(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["hall_id"],
            ["hall.id"],
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("service_id", "day", "start"),
    )
    with op.batch_alter_table("appointment_slot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appointment_slot_hall_id"), ["hall_id"], unique=False)

    op.create_table(
        "service_appointment",
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("updated_at", window_service.db.TZDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
        ),
        sa.PrimaryKeyConstraint("service_id"),
    )
    op.create_table(
        "appointment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("starts_at", window_service.db.TZDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", window_service.db.TZDateTime(timezone=True), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("phone_masked", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("phone_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("active_key", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("manage_token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("client_address", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", window_service.db.TZDateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", window_service.db.TZDateTime(timezone=True), nullable=True),
        sa.Column("checked_in_at", window_service.db.TZDateTime(timezone=True), nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["hall_id"],
            ["hall.id"],
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["appointment_slot.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("active_key"),
        sa.UniqueConstraint("hall_id", "code"),
        sa.UniqueConstraint("manage_token"),
    )
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.create_index("ix_appointment_due", ["status", "ends_at"], unique=False)
        batch_op.create_index("ix_appointment_phone", ["phone_digest", "status"], unique=False)
        batch_op.create_index("ix_appointment_slot", ["service_id", "day", "status"], unique=False)

    op.create_table(
        "remote_ticket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("business_day", sa.Date(), nullable=False),
        sa.Column("phone_masked", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("phone_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("serial", sa.Integer(), nullable=False),
        sa.Column("client_address", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", window_service.db.TZDateTime(timezone=True), nullable=False),
        sa.Column("checked_in_at", window_service.db.TZDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["hall_id"],
            ["hall.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hall_id", "business_day", "phone_digest", "serial"),
        sa.UniqueConstraint("ticket_id"),
    )


def downgrade() -> None:

    op.drop_table("remote_ticket")
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_index("ix_appointment_slot")
        batch_op.drop_index("ix_appointment_phone")
        batch_op.drop_index("ix_appointment_due")

    op.drop_table("appointment")
    op.drop_table("service_appointment")
    with op.batch_alter_table("appointment_slot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointment_slot_hall_id"))

    op.drop_table("appointment_slot")
    op.drop_table("appointment_policy")
