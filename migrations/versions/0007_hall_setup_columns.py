"""A hall's region, a window's zone (区域) and a service's legal basis (设定依据)

Set-up by spreadsheet (hall import): halls belong to a region, windows stand in zones that a
hall display can be pointed at, and the service guide names the law a service rests on.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 19:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("hall", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "region",
                sqlmodel.sql.sqltypes.AutoString(length=32),
                nullable=False,
                server_default="",
            )
        )
    with op.batch_alter_table("window", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "zone",
                sqlmodel.sql.sqltypes.AutoString(length=100),
                nullable=False,
                server_default="",
            )
        )
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "legal_basis",
                sqlmodel.sql.sqltypes.AutoString(length=2000),
                nullable=False,
                server_default="",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.drop_column("legal_basis")
    with op.batch_alter_table("window", schema=None) as batch_op:
        batch_op.drop_column("zone")
    with op.batch_alter_table("hall", schema=None) as batch_op:
        batch_op.drop_column("region")
