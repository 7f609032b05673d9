"""`batchship formats`: the column maps a workspace reads, and which one read each file of the last run."""
from __future__ import annotations

from pathlib import Path

from .importers.templates import FORMATS_DIR, load_templates, workspace_formats_dir
from .database import database_url, has_state
from .store import Store


def format_formats(root: Path) -> str:
    templates = load_templates(workspace=root)
    bundled = {t.name for t in load_templates()}
    out = [f"column maps (bundled: {FORMATS_DIR}; this workspace's own: {workspace_formats_dir(root)}):"]
    rows = [(t.name, t.platform, t.kind,
             "workspace" + (", replaces the bundled one" if t.name in bundled else "") if t.origin == "workspace"
             else "bundled")
            for t in sorted(templates, key=lambda t: (t.kind, t.platform, t.name))]
    widths = [max(len(r[i]) for r in rows + [("name", "platform", "kind", "")]) for i in range(3)]
    out.append(f"  {'name':<{widths[0]}}  {'platform':<{widths[1]}}  {'kind':<{widths[2]}}  from")
    out += [f"  {n:<{widths[0]}}  {p:<{widths[1]}}  {k:<{widths[2]}}  {o}" for n, p, k, o in rows]
    out += _last_run(root)
    return "\n".join(out)


def _last_run(root: Path) -> list[str]:
    if not has_state(database_url(root)):
        return ["no runs yet"]
    store = Store(database_url(root))
    try:
        runs = store.recent_runs(1)
        if not runs:
            return ["no runs yet"]
        run_id = runs[0][0]
        files = store.frame(
            "SELECT r.claimed_path, r.outcome, r.detail, f.kind, f.platform FROM run_files r "
            "LEFT JOIN files f ON f.sha256 = r.sha256 AND r.sha256 != '' WHERE r.run_id = ? "
            "ORDER BY r.claimed_path", (run_id,))
    finally:
        store.close()
    out = [f"files of the last run ({run_id}):"]
    if files.empty:
        out.append("  none")
    for path, outcome, detail, kind, template in zip(files["claimed_path"], files["outcome"], files["detail"],
                                                     files["kind"], files["platform"]):
        if isinstance(template, str) and template:
            read = f"read by {template} ({kind})"
            if outcome == "duplicate":
                read += ", skipped: same content applied before"
        elif outcome == "rejected":
            read = "rejected" + (f": {detail}" if detail else "") + " (see failed/ for the report)"
        else:
            read = outcome
        out.append(f"  {path}: {read}")
    return out
