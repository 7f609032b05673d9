"""Stock on hand is the sum of a place's movements: an index holding (warehouse, sku, delta) lets that
sum be read from the index alone, however long the ledger grows. It serves every lookup by place
too, so the (warehouse, sku) index it replaces goes.

Revision ID: 0004
Revises: 0003
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ledger_place_delta", "ledger", ["warehouse", "sku", "delta"])
    op.drop_index("ledger_place", "ledger")


def downgrade() -> None:
    op.create_index("ledger_place", "ledger", ["warehouse", "sku"])
    op.drop_index("ledger_place_delta", "ledger")
