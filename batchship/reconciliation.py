"""reconciliation.xlsx: the accountant's workbook for a period of days.

Days are the seller's local days of the runs (a run id starts with its local date),
so a range of days is the sum of its days, figure by figure: the opening of a range
is its first day's opening, its closing the last day's closing, and every flow in
between (received, shipped, adjustments, counts, orders, goods and declared value,
shipping cost) adds up.

Sheets: Stock (per warehouse and SKU: opening + received − shipped ± adjustments
± count differences = closing), Movements (every ledger movement with its cause,
input file and row, order, run and time), Sales & shipments (shipped orders with
goods value, declared value and the estimated shipping cost) and their Totals (per
day, shop and currency; per day, channel and cost currency), Checks (each ledger
identity, whether it holds, each difference) and Charts (parcels per day per
channel; out-of-stock orders over time, as native Excel charts).
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pandas as pd

from .config import Config
from .errors import ConfigError
from .writers.columns import CURRENCY, DATE, DATETIME, NUMBER, QUANTITY, Money
from .frame_records import column_rows, order_keys
from .ledger_checks import STOCK_FIGURES, Check, checks, summary_line
from .store import Store
from .writers.xlsx import write_workbook

CHECK_COLUMNS = ["check", "holds", "warehouse", "sku", "order", "tracking_number", "expected", "actual",
                 "difference", "detail"]
SHIPMENT_COLUMNS = ["day", "run_id", "shop", "order_id", "parcel", "channel", "warehouse", "tracking_number",
                    "country", "currency", "goods_value", "declared_value", "declared_currency", "weight_g",
                    "zone", "shipping_cost", "cost_currency", "source_file", "source_row"]
# The columns the shared conventions (writers/columns.py) do not know by name.
RECONCILIATION_KINDS = {
    "day": DATE, "stock day": DATE, "run_started": DATETIME, "shipping_cost": Money("cost_currency"), "cost_currency": CURRENCY,
    **{c: QUANTITY for c in ("opening", "received", "shipped", "adjustments", "counts", "closing", "orders")},
    **{c: NUMBER for c in ("movement", "expected", "actual", "difference")}}
MOVEMENT_COLUMNS = ["movement", "day", "run_id", "run_started", "warehouse", "sku", "delta", "cause", "order",
                    "reference", "note", "source_file", "source_row"]


def period_keys(start: date | None, end: date | None) -> tuple[str, str]:
    """Run id bounds [start, end) of the days from ``start`` to ``end``, both included."""
    return (start.strftime("%Y%m%d") if start else "",
            (end + timedelta(days=1)).strftime("%Y%m%d") if end else "99999999")


# After every run the per-order checks (each shipped order deducted once, each issued number on its
# order) and the stock identity (no movement of unknown cause) look at the runs of the last RECENT_DAYS
# only, so their cost follows the recent volume, not the whole history; each earlier day was checked by
# the runs of its own window. The on-hand check compares every place with the sum of its whole ledger
# (an index holds those sums). `batchship report` and `batchship status` check the whole ledger.
RECENT_DAYS = 92


def run_checks(store: Store, start: str = "", end: str = "99999999", since: str = "") -> list[Check]:
    return checks(**store.ledger_check_frames(start, end, since))


def reconciliation_sheets(store: Store, config: Config, start: str = "", end: str = "99999999", since: str = ""
                          ) -> tuple[list[tuple[str, pd.DataFrame]], dict[str, list[dict]], list[Check]]:
    # The checks look at the ledger from ``since`` (all of it for a report) up to the period's end, not
    # from the period's start: a movement of no known cause booked before the period would otherwise
    # hide in its opening.
    results = run_checks(store, since, end, since)
    stock = store.stock_figures(start, end)[STOCK_FIGURES]
    shipments = shipment_rows(store.shipped_orders(start, end), store.shipped_lines(start, end), config)
    sales, shipping = totals(shipments)
    charts_data, charts = chart_sheet(shipments, store.runs_between(start, end))
    sheets = [("Stock", stock), ("Movements", movement_rows(store.ledger_rows(start, end))),
              ("Sales & shipments", _numbers(shipments, ("goods_value", "declared_value", "shipping_cost"))),
              ("Sales totals", _numbers(sales, ("goods_value", "declared_value"))),
              ("Shipping totals", _numbers(shipping, ("shipping_cost",))),
              ("Checks", check_rows(results)), ("Charts", charts_data)]
    return sheets, {"Charts": charts}, results


def write_reconciliation(path: Path, store: Store, config: Config, start: str = "", end: str = "99999999",
                         since: str = "") -> tuple[Path, list[Check]]:
    sheets, charts, results = reconciliation_sheets(store, config, start, end, since)
    kinds = {name: RECONCILIATION_KINDS for name, _ in sheets}
    return write_workbook(path, sheets, charts=charts, style=config.workbook_style, kinds=kinds), results


def _day(run_id: pd.Series) -> pd.Series:
    text = run_id.astype(str)
    return text.str[:4] + "-" + text.str[4:6] + "-" + text.str[6:8]


def movement_rows(ledger: pd.DataFrame) -> pd.DataFrame:
    ledger = ledger.copy()
    ledger["day"] = _day(ledger["run_id"]) if len(ledger) else pd.Series(dtype=str)
    ledger["order"] = ledger["reference"].where(ledger["cause"] == "ship", "")
    ledger["source_row"] = ledger["source_row"].astype("Int64")
    return ledger.reindex(columns=MOVEMENT_COLUMNS)


def _decimal(text) -> Decimal:
    try:
        return Decimal(str(text)) if str(text).strip() else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def shipment_rows(orders: pd.DataFrame, lines: pd.DataFrame, config: Config) -> pd.DataFrame:
    """One row per shipped order. A merged parcel is costed once, on its leading order, by the
    weight of all its orders' lines."""
    if orders.empty:
        return pd.DataFrame(columns=SHIPMENT_COLUMNS)
    lines = lines.copy()
    lines["declared"] = [_decimal(v) * int(q) for v, q in column_rows(lines, ["declared_value", "quantity"])]
    lines["grams"] = lines["weight_g"].fillna(0).astype("int64") * lines["quantity"].astype("int64")
    per_order = {}
    for (shop, oid), group in lines.groupby(["shop", "order_id"], sort=False):
        currencies = sorted({c for c in group["declared_currency"] if c})
        per_order[(shop, oid)] = (sum(group["declared"], Decimal(0)), ",".join(currencies), int(group["grams"].sum()))
    out = orders.copy()
    keys = order_keys(out)
    out["day"] = _day(out["run_id"])
    out["parcel"] = out["merged_into"].where(out["merged_into"] != "", out["order_id"])
    out["declared_value"] = [per_order.get(k, (Decimal(0), "", 0))[0] for k in keys]
    out["declared_currency"] = [per_order.get(k, (Decimal(0), "", 0))[1] for k in keys]
    out["weight_g"] = [per_order.get(k, (Decimal(0), "", 0))[2] for k in keys]
    out["goods_value"] = [_decimal(v) for v in out["goods_value"]]
    parcel_grams = out.groupby(["shop", "parcel"])["weight_g"].sum()
    zones, costs, cost_currencies = [], [], []
    for shop, oid, parcel, channel, country in zip(out["shop"], out["order_id"], out["parcel"], out["channel"],
                                                   out["country"]):
        card = config.rate_cards.get(channel)
        zone = card.zone_of(country) if card else None
        lead = parcel == oid
        cost = card.cost(country, int(parcel_grams[(shop, parcel)])) if card and zone and lead else None
        zones.append(zone.name if zone else "")
        costs.append(cost if cost is not None else (Decimal(0) if card and zone else None))
        cost_currencies.append(card.currency if card and zone else "")
    out["zone"], out["shipping_cost"], out["cost_currency"] = zones, costs, cost_currencies
    out["source_row"] = out["source_row"].astype("Int64")
    return out[SHIPMENT_COLUMNS]


def totals(shipments: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per day, shop, currency and declared currency: orders, goods and declared value;
    per day, channel and cost currency: parcels, weight and estimated shipping cost), summed exactly."""
    # each amount beside its currency
    sales_cols = ["day", "shop", "orders", "currency", "goods_value", "declared_currency", "declared_value"]
    ship_cols = ["day", "channel", "parcels", "weight_g", "cost_currency", "shipping_cost"]
    if shipments.empty:
        return pd.DataFrame(columns=sales_cols), pd.DataFrame(columns=ship_cols)
    sales = shipments.groupby(["day", "shop", "currency", "declared_currency"], as_index=False).agg(
        orders=("order_id", "count"), goods_value=("goods_value", lambda v: sum(v, Decimal(0))),
        declared_value=("declared_value", lambda v: sum(v, Decimal(0))))
    costed = shipments[shipments["parcel"] == shipments["order_id"]]
    shipping = costed.groupby(["day", "channel", "cost_currency"], as_index=False).agg(
        parcels=("order_id", "count"), weight_g=("weight_g", "sum"),
        shipping_cost=("shipping_cost", lambda v: sum((c for c in v if c is not None), Decimal(0))))
    return sales[sales_cols], shipping[ship_cols]


def check_rows(results: list[Check]) -> pd.DataFrame:
    rows = []
    for c in results:
        if c.holds:
            rows.append({"check": c.name, "holds": "yes"})
        for d in c.differences:
            rows.append({"check": c.name, "holds": "NO", **d})
    frame = pd.DataFrame(rows).reindex(columns=CHECK_COLUMNS)
    for column in CHECK_COLUMNS:
        if column in ("expected", "actual", "difference"):
            frame[column] = frame[column].astype("Int64")
        else:
            frame[column] = frame[column].astype(object).where(frame[column].notna(), "")
    return frame


def chart_sheet(shipments: pd.DataFrame, runs: list[tuple[str, str, dict]]) -> tuple[pd.DataFrame, list[dict]]:
    """The charts' data side by side on one sheet: parcels per day per channel, then out-of-stock
    orders after each day's last run."""
    parcels = shipments[shipments["parcel"] == shipments["order_id"]]
    per_day = (parcels.groupby(["day", "channel"]).size().unstack(fill_value=0)
               if len(parcels) else pd.DataFrame())
    per_day = per_day.astype("int64").reset_index() if len(per_day) else pd.DataFrame(columns=["day"])
    channels = [c for c in per_day.columns if c != "day"]
    waiting = {}
    for run_id, _, summary in runs:
        if "out_of_stock_orders" in summary:
            waiting[_day(pd.Series([run_id])).iloc[0]] = int(summary["out_of_stock_orders"])
    stock_days = pd.DataFrame({"stock day": list(waiting), "out-of-stock orders": list(waiting.values())})
    left = per_day.rename(columns={c: f"parcels {c}" for c in channels})
    rows = max(len(left), len(stock_days))
    data = pd.concat([left.reindex(range(rows)), pd.DataFrame({"": [""] * rows}),
                      stock_days.reindex(range(rows))], axis=1)
    for column in data.columns:
        if column.startswith("parcels ") or column == "out-of-stock orders":
            data[column] = data[column].astype("Int64")
    for column in ("day", "", "stock day"):
        data[column] = data[column].astype(object).where(data[column].notna(), "")
    charts = [{"type": "column", "subtype": "stacked", "title": "Parcels per day per channel", "x": "day",
               "series": [f"parcels {c}" for c in channels], "anchor": "H2", "y_title": "parcels"},
              {"type": "line", "title": "Out-of-stock orders over time", "x": "stock day",
               "series": ["out-of-stock orders"], "anchor": "H22", "y_title": "orders"}]
    return data, [c for c in charts if c["series"]]


def _numbers(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """Exact sums become numbers for Excel at the very end (two decimals are what is shown)."""
    frame = frame.copy()
    for c in columns:
        frame[c] = pd.array([None if v is None or v == "" else float(v) for v in frame[c]], dtype="Float64")
    return frame


def write_run_reconciliation(out: Path, store: Store, config: Config, run_id: str) -> Path:
    """Every run: the run's day so far, and in the run's summary the one line on the ledger checks
    and the out-of-stock orders after the run (the chart's points)."""
    start = run_id[:8]
    day = date(int(start[:4]), int(start[4:6]), int(start[6:8]))
    end = (day + timedelta(days=1)).strftime("%Y%m%d")
    since = (day - timedelta(days=RECENT_DAYS)).strftime("%Y%m%d")
    summary = store.run_summary(run_id)
    summary["out_of_stock_orders"] = store.out_of_stock_orders()
    store.update_summary(run_id, summary)
    path, results = write_reconciliation(out / "reconciliation.xlsx", store, config, start, end, since)
    summary["ledger_checks"] = summary_line(results)
    summary["ledger_check_results"] = [{"check": c.name, "holds": c.holds, "differences": len(c.differences)}
                                       for c in results]
    store.update_summary(run_id, summary)
    return path


def write_report(root: Path, config: Config, start: date, end: date, out: Path | None = None) -> tuple[Path, str]:
    """`batchship report`: the workbook for the days from ``start`` to ``end``; (its path, the checks' line)."""
    from .workspace import Workspace
    ws = Workspace(root)
    if not ws.database.exists():
        raise ConfigError(f"no runs yet in {root}: nothing to report")
    path = out or ws.outbox / f"reconciliation-{start.isoformat()}-{end.isoformat()}.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    store = Store(ws.database)
    try:
        path, results = write_reconciliation(path, store, config, *period_keys(start, end))
    finally:
        store.close()
    return path, summary_line(results)
