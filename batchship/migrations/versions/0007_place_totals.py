"""Each stock place's sum of movements, kept beside the ledger: written in the same transaction as
the movements it sums, so reading stock on hand costs the places, not the years of movements behind
them. The ledger stays the record; every run checks the kept sums against it (``on hand = sum of
movements``). An existing ledger is summed once here.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "place_totals", sa.Column("warehouse", sa.Text, nullable=False), sa.Column("sku", sa.Text, nullable=False),
        sa.Column("total", sa.BigInteger, nullable=False), sa.PrimaryKeyConstraint("warehouse", "sku"))
    op.execute("INSERT INTO place_totals (warehouse, sku, total) "
               "SELECT warehouse, sku, SUM(delta) FROM ledger GROUP BY warehouse, sku")


def downgrade() -> None:
    op.drop_table("place_totals")
