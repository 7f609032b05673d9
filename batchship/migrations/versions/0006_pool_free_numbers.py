"""Waybills draw the free numbers of each channel's pool in arrival order. A partial index of the free
numbers alone, in (channel, seq) order, reads them without passing the numbers used in past runs,
which a year of history makes nearly the whole pool.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

FREE = sa.text("status = 'free'")


def upgrade() -> None:
    op.create_index("pool_free_arrival", "pool", ["channel", "seq"], sqlite_where=FREE, postgresql_where=FREE)


def downgrade() -> None:
    op.drop_index("pool_free_arrival", "pool")
