"""Audit re-key index: ``audit verify`` finds a hall's re-key record without reading its chain

``keyed_from`` asks for the first record of a hall whose action is ``audit.rekey``; without an
index that is a scan of the hall's whole chain (province bench: 28 s of a 0-record
``audit verify --since-anchor`` over 20 halls). A partial index holds only re-key records.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 08:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REKEY = sa.text("action = 'audit.rekey'")


def upgrade() -> None:
    op.create_index(
        "ix_audit_rekey",
        "audit_record",
        ["hall_id", "seq"],
        unique=False,
        sqlite_where=_REKEY,
        postgresql_where=_REKEY,
    )


def downgrade() -> None:
    op.drop_index("ix_audit_rekey", table_name="audit_record")
