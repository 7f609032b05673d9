"""`batchship run --json`: the run's summary as one JSON object, for monitoring.

Keys: run_id, outbox, exit_code, files (applied, rejected, duplicate, waiting), orders (touched by
the run, and the workspace's orders per stage), labels, exceptions (problems per kind and the run's
exception events by name), outputs, output_problems, ledger_checks, timings (seconds per step) and
recovered (interrupted runs completed first, same keys without timings).

``ledger_checks`` is null when the ledger was not checked (a run that applied nothing); else
``{"holds": bool, "summary": the summary's line, "checks": [{"check", "holds", "differences"}]}``.
"""
from __future__ import annotations

from pathlib import Path

from .outputs import EXCEPTION_EVENTS
from .pipeline import RunReport
from .schemas import ORDER_STAGES
from .store import Store
from .workspace import Workspace


def run_json(report: RunReport, root: Path, exit_code: int) -> dict:
    ws = Workspace(root)
    store = Store(ws.database) if ws.database.exists() else None
    try:
        out = {"run_id": report.run_id or None,
               "outbox": str(report.outbox) if report.outbox else None,
               "exit_code": exit_code,
               **(_one_run(report.summary, store, report.run_id) if report.run_id else _nothing_done()),
               "workspace_orders_per_stage": _per_stage(store),
               "timings": {step: round(seconds, 3) for step, seconds in report.timings.items()},
               "recovered": {run_id: _one_run(s, store, run_id) for run_id, s in report.recovered.items()}}
        out["files"]["waiting"] = [{"name": name, "why": why} for name, why in report.waiting]
        return out
    finally:
        if store is not None:
            store.close()


def _nothing_done() -> dict:
    return {"files": {"applied": [], "rejected": [], "duplicate": []}, "orders_touched": 0, "labels": 0,
            "exceptions": {}, "outputs": [], "output_problems": [], "ledger_checks": None}


def _one_run(summary: dict, store: Store | None, run_id: str) -> dict:
    files = summary.get("files", {})
    events = store.run_event_counts(run_id) if store is not None else {}
    return {
        "files": {kind: list(files.get(kind, [])) for kind in ("applied", "rejected", "duplicate")},
        "error_reports": summary.get("error_reports", {}),
        "orders_touched": summary.get("touched_orders", 0),
        "labels": summary.get("labels", 0),
        "exceptions": {
            "events": {e: n for e, n in events.items() if e in EXCEPTION_EVENTS},
            "label_problems": summary.get("label_problems") or {},
            "upload_problems": summary.get("upload_problems") or {},
            "scans_not_applied": summary.get("scan_problems", 0),
            "decisions_not_applied": summary.get("action_problems", 0),
        },
        "bookings": summary.get("bookings") or {},
        "outputs": list(summary.get("outputs", [])),
        "output_problems": list(summary.get("output_problems", [])),
        "ledger_checks": _ledger_checks(summary),
    }


def _ledger_checks(summary: dict) -> dict | None:
    if not summary.get("ledger_checks"):
        return None
    results = summary.get("ledger_check_results", [])
    return {"holds": all(r["holds"] for r in results), "summary": summary["ledger_checks"], "checks": results}


def _per_stage(store: Store | None) -> dict[str, int]:
    if store is None:
        return {stage: 0 for stage in ORDER_STAGES}
    counts = store.stage_counts().groupby("stage")["orders"].sum()
    return {stage: int(counts.get(stage, 0)) for stage in ORDER_STAGES}
