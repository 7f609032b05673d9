"""Plain-text summaries for the terminal and for cron mail."""
from __future__ import annotations

from pathlib import Path

from .pipeline import RunReport
from .schemas import ORDER_STAGES
from .database import database_url, has_state
from .store import Store
from .workspace import Workspace


def format_summary(report: RunReport, root: Path) -> str:
    out = []
    for run_id, summary in report.recovered.items():
        files = summary.get("files", {})
        out.append(f"completed run {run_id}, which had been interrupted: {len(files.get('applied', []))} "
                   f"applied, {len(files.get('rejected', []))} rejected, {summary.get('labels', 0)} labels "
                   f"(outputs in outbox/{run_id})")
        out += _file_lines(summary)
    if not report.run_id:
        out.append("nothing to do yet: no file in inbox/ is ready" if report.waiting
                   else "nothing to do: no new files in inbox/")
        out += _waiting_lines(report.waiting)
        return "\n".join(out)
    s = report.summary
    files = s.get("files", {})
    out.append(f"run {report.run_id}")
    out.append(f"  files: {len(files.get('applied', []))} applied, {len(files.get('rejected', []))} rejected, "
               f"{len(files.get('duplicate', []))} skipped as already applied")
    out += _file_lines(s)
    for name in files.get("duplicate", []):
        out.append(f"    skipped (same content applied before): {name}")
    for note in s.get("notes", []):
        out.append(f"  note: {note}")
    out.append(f"  orders touched: {s.get('touched_orders', 0)}")
    store = Store(database_url(root))
    try:
        out += ["  " + line for line in _stage_lines(store)]
    finally:
        store.close()
    out.append(f"  labels written: {s.get('labels', 0)}")
    if s.get("ledger_checks"):
        out.append(f"  {s['ledger_checks']}")
    for tracking, problems in (s.get("label_problems") or {}).items():
        out.append(f"    label {tracking}: {'; '.join(problems)}")
    if s.get("scan_problems"):
        out.append(f"  handover scans not applied: {s['scan_problems']} (see the exceptions sheet)")
    if s.get("action_problems"):
        out.append(f"  staff decisions not applied: {s['action_problems']} (see the exceptions sheet)")
    booked = s.get("bookings")
    if booked:
        out.append(f"  booked with forwarders: {booked.get('booked', 0)}, not booked: "
                   f"{booked.get('booking_failed', 0)} (reasons on the exceptions sheet), cancelled with "
                   f"forwarders: {booked.get('cancelled_with_forwarder', 0)}")
    if s.get("upload_problems"):
        out.append(f"  orders left out of upload files: {len(s['upload_problems'])} (see the exceptions sheet)")
    for problem in s.get("output_problems", []):
        out.append(f"  outputs not written: {problem} (please report this; the batch itself is applied)")
    if report.outbox is not None:
        out.append(f"  outputs: {report.outbox}")
    out += _waiting_lines(report.waiting)
    return "\n".join(out)


def _file_lines(summary: dict) -> list[str]:
    """Where each rejected file's report is, and files that changed after they were applied."""
    rejected = summary.get("files", {}).get("rejected", [])
    reports = summary.get("error_reports", {})
    lines = [f"    rejected: {name} -> see {reports.get(name, f'failed/{name}.errors.xlsx')}" for name in rejected]
    lines += [f"    changed after it was read, not archived: {name} -> see {reports[name]}"
              for name in sorted(set(reports) - set(rejected))]
    return lines


def _waiting_lines(waiting: list[tuple[str, str]]) -> list[str]:
    return [f"left in inbox/ for the next run: {name} ({why})" for name, why in waiting]


def _stage_lines(store: Store) -> list[str]:
    counts = store.stage_counts()
    per_stage = counts.groupby("stage")["orders"].sum()
    lines = ["workspace orders per stage: " + ", ".join(f"{st} {int(per_stage.get(st, 0))}" for st in ORDER_STAGES)]
    in_print = counts[counts["stage"] == "print"]
    printing = in_print.groupby("stock_status")["orders"].sum()
    lines.append(f"awaiting print: {int(printing.get('in_stock', 0))} in stock, "
                 f"{int(printing.get('out_of_stock', 0))} out of stock")
    printed = in_print.groupby("printed")["orders"].sum()
    lines.append(f"in print: {int(printed.get('yes', 0))} printed (已打印), "
                 f"{int(printed.sum() - printed.get('yes', 0))} not printed (未打印)")
    return lines


def _ledger_check_line(store: Store) -> str:
    from .ledger_checks import summary_line
    from .reconciliation import run_checks
    return summary_line(run_checks(store))


def format_status(root: Path) -> str:
    ws = Workspace(root)
    if not has_state(database_url(root)):
        return f"no runs yet in {root}"
    store = Store(database_url(root))
    try:
        out = _stage_lines(store)
        out.append(_ledger_check_line(store))
        holds = store.hold_reasons()
        if len(holds):
            out.append("hold reasons:")
            out += [f"  {int(n):>6}  {reason}" for reason, n in zip(holds["hold_reason"], holds["orders"])]
        waybill = store.frame("SELECT failure_reason, COUNT(*) AS n FROM orders WHERE stage = 'waybill' "
                              "AND failure_reason != '' GROUP BY failure_reason")
        for reason, n in zip(waybill["failure_reason"], waybill["n"]):
            out.append(f"  waybill: {int(n)} orders: {reason}")
        short = store.waiting_for_stock()
        if len(short):
            out.append(f"waiting for stock: {int(short['waiting'].sum())} units of {len(short)} SKUs "
                       "(stock.xlsx, sheet 'to buy')")
        rejected = sorted(p.relative_to(ws.failed) for p in ws.failed.rglob("*")
                          if p.is_file() and not p.name.endswith(".errors.xlsx"))
        if rejected:
            out.append(f"files waiting in failed/ to be fixed and dropped again: {len(rejected)}")
            out += [f"  {p}" for p in rejected[:10]] + ([f"  … and {len(rejected) - 10} more"]
                                                         if len(rejected) > 10 else [])
        last = store.recent_runs(1)
        problems = (last[0][3].get("label_problems") or {}) if last else {}
        if problems:
            out.append(f"labels with text no font could print in the last run: {len(problems)} "
                       "(set labels.cjk_font; see the exceptions sheet)")
        out.append("last runs:")
        for run_id, started, finished, summary in store.recent_runs():
            files = summary.get("files", {})
            state = "finished" if finished else "outputs pending"
            out.append(f"  {run_id}  {state}: {len(files.get('applied', []))} applied, "
                       f"{len(files.get('rejected', []))} rejected, {summary.get('touched_orders', 0)} orders, "
                       f"{summary.get('labels', 0)} labels")
        return "\n".join(out)
    finally:
        store.close()
