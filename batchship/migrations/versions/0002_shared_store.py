"""Several sites on one store: pool numbers keep their arrival order in a column of their own
(SQLite's rowid has no PostgreSQL counterpart), and a tracking number can be on one parcel only.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("pool", sa.Column("seq", sa.BigInteger, nullable=False, server_default="0"))
    if op.get_bind().dialect.name == "sqlite":
        op.execute("UPDATE pool SET seq = rowid")
    else:
        op.execute("UPDATE pool SET seq = n FROM (SELECT tracking_number AS t, row_number() OVER "
                   "(ORDER BY ctid) AS n FROM pool) AS arrival WHERE pool.tracking_number = arrival.t")
    op.create_index("pool_arrival", "pool", ["channel", "seq"])
    # Merged orders share their leader's parcel and number: only leaders count.
    where = sa.text("tracking_number != '' AND merged_into = ''")
    op.create_index("orders_tracking_once", "orders", ["tracking_number"], unique=True,
                    sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    op.drop_index("orders_tracking_once", "orders")
    op.drop_index("pool_arrival", "pool")
    op.drop_column("pool", "seq")
