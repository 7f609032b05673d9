"""The store's schema as it was before versioned migrations.

A workspace made before then has these tables already (perhaps without the columns added
later): its tables are adopted and only what they lack is added, so every workspace leaves
this revision with the same schema.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ORDER_COLUMNS = [
    "shop", "order_id", "platform", "stage", "held_at", "hold_reason", "failure_reason", "notes",
    "channel", "warehouse", "tracking_number", "stock_status", "paid_at", "recipient_name",
    "address1", "address2", "city", "state", "postcode", "country", "phone", "email",
    "currency", "order_total", "goods_value", "platform_status", "shipping_service", "tags",
    "printed", "printed_run", "ignored_failure", "merge", "merged_into", "split", "split_of",
    "source_file", "source_row", "created_run", "updated_run"]
CUSTOMS = ["declared_name_en", "declared_name_cn", "declared_value", "declared_currency", "weight_g", "hs_code",
           "origin_country"]
LINE_COLUMNS = ["shop", "order_id", "line_no", "item_id", "platform_sku", "sku", "quantity", "platform_line",
                "platform_quantity", "unit_price", "raw", "source_file", "source_row"] + CUSTOMS
PRODUCT_COLUMNS = ["sku", "name"] + CUSTOMS + ["source_file", "source_row"]
INTS = {"source_row", "line_no", "quantity", "weight_g", "platform_line", "platform_quantity"}


def text(name: str, **kw) -> sa.Column:
    return sa.Column(name, sa.Text, nullable=False, server_default="", **kw)


def required(name: str, kind=sa.Text) -> sa.Column:
    return sa.Column(name, kind, nullable=False)


def integer(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer)


def wide(columns: list[str]) -> list[sa.Column]:
    return [integer(c) if c in INTS else text(c) for c in columns]


def tables() -> dict[str, tuple[list[sa.Column], list[str]]]:
    """name -> (columns, primary key)."""
    return {
        "orders": (wide(ORDER_COLUMNS), ["shop", "order_id"]),
        "lines": (wide(LINE_COLUMNS), ["shop", "order_id", "line_no"]),
        "products": (wide(PRODUCT_COLUMNS), ["sku"]),
        "pairing": ([required("shop"), required("platform_sku"), required("sku"), required("quantity", sa.Integer),
                     sa.Column("source_file", sa.Text), integer("source_row")], ["shop", "platform_sku", "sku"]),
        "stock_places": ([required("warehouse"), required("sku"), text("shelf")], ["warehouse", "sku"]),
        "ledger": ([sa.Column("id", sa.Integer, autoincrement=True), required("run_id"), required("warehouse"),
                    required("sku"), required("delta", sa.Integer), required("cause"), required("reference"),
                    text("source_file"), integer("source_row")], ["id"]),
        "pool": ([required("tracking_number"), required("channel"),
                  sa.Column("status", sa.Text, nullable=False, server_default="free"), text("shop"),
                  text("order_id"), text("issued_run"), text("source_file"), integer("source_row")],
                 ["tracking_number"]),
        "files": ([required("sha256"), required("name"), required("kind"), required("platform"), required("run_id")],
                  ["sha256"]),
        "runs": ([required("run_id"), required("started_at"), text("committed_at"), text("finished_at"),
                  sa.Column("summary", sa.Text, nullable=False, server_default="{}")], ["run_id"]),
        "run_files": ([required("run_id"), required("claimed_path"), required("name"), required("outcome"),
                       text("detail"), sa.Column("problems", sa.Text, nullable=False, server_default="[]"),
                       text("sha256")], ["run_id", "claimed_path"]),
        "bookings": ([required("reference"), required("shop"), required("order_id"), required("channel"),
                      required("forwarder"), required("state"), text("tracking_number"), text("shipment_id"),
                      text("label_path"), text("label_problem"), text("reason"),
                      sa.Column("attempts", sa.Integer, nullable=False, server_default="0"), text("run_id"),
                      text("updated_at")], ["reference"]),
        "rule_sets": ([required("kind"), required("run_id"), required("source_file"), required("rules"),
                       sa.Column("active", sa.Integer, nullable=False, server_default="1")], ["kind", "run_id"]),
        "decisions": ([required("run_id"), required("source_file"), integer("source_row"), required("shop"),
                       required("order_id"), required("action"), text("argument"), text("note"), required("result"),
                       text("reason"), required("decision_key")], []),
        "blacklist": ([required("field"), required("value"), text("note"), text("source_file"),
                       integer("source_row")], ["field", "value"]),
        "events": ([required("run_id"), required("shop"), required("order_id"), required("event"), text("detail")],
                   []),
        "uploads": ([required("shop"), required("order_id"), required("tracking_number"), required("run_id")],
                    ["shop", "order_id", "tracking_number"]),
    }


INDEXES = [
    ("orders_stage", "orders", ["stage"], {}),
    ("orders_tracking", "orders", ["tracking_number"], {}),
    ("ledger_place", "ledger", ["warehouse", "sku"], {}),
    ("ledger_once", "ledger", ["cause", "reference", "warehouse", "sku"], {"unique": True, "where": "cause = 'ship'"}),
    ("pool_free", "pool", ["channel", "status"], {}),
    ("bookings_order", "bookings", ["shop", "order_id"], {}),
    ("decisions_run", "decisions", ["run_id"], {}),
    ("decisions_order", "decisions", ["shop", "order_id"], {}),
    ("events_run", "events", ["run_id"], {}),
]


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    existing = set(inspector.get_table_names())
    for name, (columns, key) in tables().items():
        if name not in existing:
            constraints = [sa.PrimaryKeyConstraint(*key)] if key else []
            op.create_table(name, *columns, *constraints)
            continue
        have = {c["name"] for c in inspector.get_columns(name)}
        missing = [c for c in columns if c.name not in have]
        for column in missing:
            op.add_column(name, column)
        if name == "orders" and "printed" in {c.name for c in missing}:
            # Before print state was kept, every in-stock order in print had its label.
            op.execute("UPDATE orders SET printed = 'yes' WHERE stage IN ('print', 'shipped') "
                       "AND stock_status = 'in_stock' AND tracking_number != ''")
    for index, table, columns, options in INDEXES:
        where = sa.text(options["where"]) if "where" in options else None
        op.create_index(index, table, columns, unique=options.get("unique", False), if_not_exists=True,
                        sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    for name in reversed(list(tables())):
        op.drop_table(name)
