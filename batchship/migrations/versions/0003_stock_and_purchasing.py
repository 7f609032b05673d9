"""Stock receipts, adjustments and purchasing: a product its supplier, cost, source and lead time, a movement keeps its note (an adjustment's reason, a
receipt's date), a stock place the run it was first counted in, purchase orders their lines; the
reconciliation's queries by run and by event get indexes.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def text(name: str, **kw) -> sa.Column:
    return sa.Column(name, sa.Text, nullable=False, server_default="", **kw)


PRODUCT_COLUMNS = ["supplier", "supplier_sku", "unit_cost", "cost_currency", "source_url", "lead_time_days",
                   "sales_window_days"]


def upgrade() -> None:
    for column in PRODUCT_COLUMNS:
        op.add_column("products", text(column))
    op.add_column("ledger", text("note"))
    op.add_column("stock_places", text("since_run"))
    op.create_index("ledger_run", "ledger", ["run_id"])
    op.create_index("events_event", "events", ["event"])
    op.create_table(
        "purchase_orders", sa.Column("po_number", sa.Text, nullable=False),
        sa.Column("warehouse", sa.Text, nullable=False), sa.Column("sku", sa.Text, nullable=False),
        text("supplier"), sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("run_id", sa.Text, nullable=False), text("source_file"), sa.Column("source_row", sa.Integer),
        sa.PrimaryKeyConstraint("po_number", "warehouse", "sku"))


def downgrade() -> None:
    op.drop_table("purchase_orders")
    op.drop_index("events_event", "events")
    op.drop_index("ledger_run", "ledger")
    op.drop_column("stock_places", "since_run")
    op.drop_column("ledger", "note")
    for column in reversed(PRODUCT_COLUMNS):
        op.drop_column("products", column)
