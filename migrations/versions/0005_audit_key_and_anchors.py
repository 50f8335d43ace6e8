"""Audit chain keyed with the hall's audit key; anchors every 15 minutes, with the key's id

- ``audit_anchor``: one row per anchor (unique per hall and record seq, no longer per
  business day) and ``key_id``, the public id of the audit key it was made under.
- The re-key step (``window_service/audit/rekey.py``): every chain that already has records
  (sealed with plain SHA-256) gets one ``audit.rekey`` record sealed with the audit key, which
  names its last plain record. Old records are not re-hashed; ``audit verify`` checks them
  under plain SHA-256 and everything from the re-key record on under the key. It needs the
  key: ``WINDOW_SERVICE_AUDIT_KEY``, ``WINDOW_SERVICE_AUDIT_KEY_FILE`` or ``var/audit_key``
  (generated there when none is set, as ``serve`` would).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Names the unnamed unique constraint of 0001 on SQLite (batch mode reflects it so).
_NAMING = {"uq": "%(table_name)s_%(column_0_name)s_%(column_1_name)s_key"}


def _audit_key() -> bytes:
    key = op.get_context().config.attributes.get("audit_key")
    if key is None:
        from window_service.config import get_settings

        key = get_settings().resolved_audit_key()
    assert key is not None
    return bytes(key)


def upgrade() -> None:
    with op.batch_alter_table("audit_anchor", schema=None, naming_convention=_NAMING) as batch_op:
        batch_op.add_column(
            sa.Column(
                "key_id",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default="",
            )
        )
        batch_op.drop_constraint("audit_anchor_hall_id_business_day_key", type_="unique")
        batch_op.create_unique_constraint("audit_anchor_hall_id_seq_key", ["hall_id", "seq"])

    bind = op.get_bind()
    legacy = bind.execute(sa.text("SELECT count(*) FROM hall_ledger WHERE audit_seq > 0")).scalar()
    if legacy:
        from window_service.audit.rekey import rekey_chains
        from window_service.chain import AuditKey

        for line in rekey_chains(bind, AuditKey(_audit_key())):
            print(f"审计链已改用审计密钥 (audit chain re-keyed): {line}")


def downgrade() -> None:
    # The re-key records stay: the audit record is append-only.
    with op.batch_alter_table("audit_anchor", schema=None, naming_convention=_NAMING) as batch_op:
        batch_op.drop_constraint("audit_anchor_hall_id_seq_key", type_="unique")
        batch_op.create_unique_constraint(
            "audit_anchor_hall_id_business_day_key", ["hall_id", "business_day"]
        )
        batch_op.drop_column("key_id")
