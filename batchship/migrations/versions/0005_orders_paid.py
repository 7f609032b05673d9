"""Purchase suggestions sum the sales of a recent window of days by the orders' payment time: an
index on paid_at reads that window alone instead of every order the store ever held.

Revision ID: 0005
Revises: 0004
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("orders_paid", "orders", ["paid_at"])


def downgrade() -> None:
    op.drop_index("orders_paid", "orders")
