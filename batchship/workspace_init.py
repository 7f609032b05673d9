"""`batchship init DIR`: a ready workspace with a commented config and blank input templates
(their headers read from schemas/<kind>.headers.yaml)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from .config import CONFIG_NAME
from .schema_files import blank_headers
from .paths import TEMPLATES_DIR
from .workspace import Workspace
from .writers.xlsx import write_workbook

INPUT_KINDS = ("orders", "stock", "products", "tracking_pool", "ship_confirm", "pairing", "actions", "rules",
               "blacklist", "receipts", "adjustments", "purchase_orders")


def init_workspace(root: Path) -> list[Path]:
    ws = Workspace(root)
    ws.ensure()
    created: list[Path] = []
    config = root / CONFIG_NAME
    if not config.exists():
        shutil.copyfile(TEMPLATES_DIR / "batchship.toml", config)
        created.append(config)
    blanks = root / "templates"
    blanks.mkdir(exist_ok=True)
    for kind in INPUT_KINDS:
        path = blanks / f"{kind}.xlsx"
        if not path.exists():
            write_workbook(path, [(kind, pd.DataFrame(columns=blank_headers(kind)))])
            created.append(path)
    return created
