"""Alerts to the citizen's phone: the hall's "N ahead" (alert_ahead) and alert_contact

hall.alert_ahead: the tracking page (and a configured SMS/WeChat gateway) alerts when this
many are ahead (default 3). alert_contact: the phone a remote ticket or an appointment gave,
kept only while a gateway is configured and until the business day ends, with the claims that
send each of its two alerts at most once.

Revision ID: 0014
Revises: 0015
Create Date: 2026-12-02 06:33:34.959170
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import window_service.db

revision: str = "0014"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("business_day", sa.Date(), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("ahead_sent_at", window_service.db.TZDateTime(timezone=True), nullable=True),
        sa.Column("called_sent_at", window_service.db.TZDateTime(timezone=True), nullable=True),
        sa.Column("created_at", window_service.db.TZDateTime(timezone=True), nullable=False),
        sa.Column("erased_at", window_service.db.TZDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
        ),
        sa.ForeignKeyConstraint(
            ["hall_id"],
            ["hall.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("appointment_id"),
        sa.UniqueConstraint("ticket_id"),
    )
    with op.batch_alter_table("alert_contact", schema=None) as batch_op:
        batch_op.create_index(
            "ix_alert_contact_open", ["hall_id", "business_day", "erased_at"], unique=False
        )

    with op.batch_alter_table("hall", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("alert_ahead", sa.Integer(), nullable=False, server_default="3")
        )


def downgrade() -> None:
    with op.batch_alter_table("hall", schema=None) as batch_op:
        batch_op.drop_column("alert_ahead")

    with op.batch_alter_table("alert_contact", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_contact_open")

    op.drop_table("alert_contact")
