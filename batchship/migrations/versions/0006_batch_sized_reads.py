"""Partial indexes, each of the few rows a run looks for among a history of finished ones, so that
what a run reads grows with the batch and not with the years behind it:

- the free numbers of each pool in arrival order (waybills draw them; nearly every number of a year
  of history is used);
- the numbers issued, and the bookings booked, by run (the ledger check looks at recent runs');
- the bookings a forwarder would not cancel (listed on every run until dealt with).

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEXES = [
    ("pool_free_arrival", "pool", ["channel", "seq"], "status = 'free'"),
    ("pool_issued_run", "pool", ["issued_run"], "status = 'issued'"),
    ("bookings_booked_run", "bookings", ["run_id"], "state = 'booked'"),
    ("bookings_cancel_failed", "bookings", ["shop", "order_id"], "state = 'cancel_failed'"),
]


def upgrade() -> None:
    for name, table, columns, where in INDEXES:
        op.create_index(name, table, columns, sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def downgrade() -> None:
    for name, table, _, _ in reversed(INDEXES):
        op.drop_index(name, table)
