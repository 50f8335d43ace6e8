"""The wait estimate printed on each ticket (ticket.estimated_wait_seconds)

Kept so that the office can see how good the estimates were: estimate vs the wait the ticket
had, per service and day (stats/estimates.py). NULL when no staffed window served the ticket
(the ticket said 「暂无窗口办理，请留意叫号」) and for tickets issued before this revision.

Revision ID: 0011
Revises: 0015 (written on 0009; chained after main's 0015 when main was merged in)
Create Date: 2026-12-02 06:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("estimated_wait_seconds", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_column("estimated_wait_seconds")
