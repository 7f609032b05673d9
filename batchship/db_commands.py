"""`batchship db upgrade`, `db resum` and `db copy`: the store's database, as an operator handles it."""
from __future__ import annotations

from pathlib import Path

from .database import database_url, display_url, has_state, is_sqlite, make_engine, sqlite_path
from .errors import ConfigError
from .ledger_checks import allocated_within, checks
from .schema_version import HEAD, upgrade
from .store import TABLES, Store
from .workspace import Workspace, WorkspaceLock


def db_upgrade(root: Path) -> list[str]:
    url = database_url(root)
    engine = make_engine(url)
    try:
        before, after = upgrade(engine)
    finally:
        engine.dispose()
    where = display_url(url)
    if before == after:
        return [f"{where}: already at the current schema ({HEAD})"]
    return [f"{where}: schema {before or 'none'} -> {after}"]


def db_resum(root: Path) -> list[str]:
    """Each stock place's kept on-hand sum recomputed from the ledger; report lines naming the places
    whose figure changed."""
    ws = Workspace(root.resolve())
    url = database_url(root)
    if not has_state(url):
        raise ConfigError(f"{display_url(url)} holds no store yet: there is nothing to sum in {root}")
    with WorkspaceLock(ws, 0):
        store = Store(url)
        try:
            changed = store.resum_place_totals()
        finally:
            store.close()
    if changed.empty:
        return [f"{display_url(url)}: every place's on hand already equals the sum of its movements"]
    return ([f"{display_url(url)}: on hand set to the sum of the ledger's movements at {len(changed)} "
             f"place{'s' if len(changed) != 1 else ''}:", f"  {'warehouse':<12} {'sku':<24} {'was':>9} {'now':>9}"]
            + [f"  {w:<12} {s:<24} {k:>9} {n:>9}" for w, s, k, n in changed.itertuples(index=False)])


def db_copy(root: Path, target: str) -> tuple[list[str], bool]:
    """The workspace's SQLite store copied onto ``target``; report lines and whether the copy's
    ledger checks all hold."""
    ws = Workspace(root.resolve())
    source_url = "sqlite:///" + str(ws.database)
    if not has_state(source_url):
        raise ConfigError(f"{ws.database} does not exist: there is no SQLite store to copy in {root}")
    if is_sqlite(target) and sqlite_path(target) and sqlite_path(target).resolve() == ws.database:
        raise ConfigError("the target is the workspace's own SQLite file")
    with WorkspaceLock(ws, 0):   # no run changes the source while it is copied
        source = Store(source_url)
        try:
            destination = Store(target)
            try:
                held = {t: n for t, n in destination.row_counts().items() if n}
                if held:
                    raise ConfigError(f"{display_url(target)} already holds data ("
                                      + ", ".join(f"{t}: {n} rows" for t, n in held.items())
                                      + "): copy only into an empty database")
                destination.copy_from(source)
                before, after = source.row_counts(), destination.row_counts()
                frames = destination.ledger_check_frames()
                # What the workspace stated, against the copy's ledger.
                frames["on_hand"] = source.on_hand()[["warehouse", "sku", "on_hand"]]
                results = checks(**frames) + [allocated_within(**destination.allocation_frames())]
            finally:
                destination.close()
        finally:
            source.close()
    lines = [f"copied {ws.database} to {display_url(target)} (one transaction):",
             f"  {'table':<14} {'rows':>9} {'copied':>9}"]
    lines += [f"  {t:<14} {before[t]:>9} {after[t]:>9}" + ("" if before[t] == after[t] else "  DIFFERENT")
              for t in TABLES]
    ok = all(before[t] == after[t] for t in TABLES)
    lines.append("ledger checks of the copy:")
    for check in results:
        ok = ok and check.holds
        lines.append(f"  {'holds' if check.holds else 'DOES NOT HOLD'}: {check.name}")
        lines += [f"    {difference}" for difference in check.differences[:20]]
    if ok:
        lines.append(f'to work on it: database = "{display_url(target)}" in batchship.toml, or BATCHSHIP_DATABASE')
    return lines, ok
