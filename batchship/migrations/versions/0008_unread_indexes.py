"""The pool and the events keep the indexes their reads use and no others: every number a batch
adds or issues, and every event it records, is written into each index of its table.

- pool (channel, status) went unused once the free numbers of each pool had their own index (0006);
- pool (channel, seq) served no read: the next number's place (the largest seq of all) needs seq
  alone, which it now has, so adding numbers no longer reads every one a year of history holds;
- events (event): the reads by kind of event go through the run index on purpose (``event || ''``),
  so that a run reads its recent runs' events, not every shipment of the history.

Revision ID: 0008
Revises: 0007
"""
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("pool_free", "pool")
    op.drop_index("pool_arrival", "pool")
    op.create_index("pool_seq", "pool", ["seq"])
    op.drop_index("events_event", "events")


def downgrade() -> None:
    op.create_index("events_event", "events", ["event"])
    op.drop_index("pool_seq", "pool")
    op.create_index("pool_arrival", "pool", ["channel", "seq"])
    op.create_index("pool_free", "pool", ["channel", "status"])
