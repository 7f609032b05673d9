"""Write a finished fpdf2 document so that readers never see half a file."""
from __future__ import annotations

import os
from pathlib import Path


def save_pdf(pdf, path: Path) -> None:
    """Write to a temporary name beside ``path``, then rename into place."""
    tmp = path.with_suffix(".tmp")
    try:
        pdf.output(str(tmp))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
