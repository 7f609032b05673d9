"""A channel's labels in one file when forwarders print some of them: the forwarder's own
label pages take the place of ours, in the order the parcels are packed.

pypdf merges: a maintained library that copies pages without re-rendering them, so the
carrier's barcodes stay exactly as the carrier drew them.
"""
from __future__ import annotations

import os
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError


def merged_labels(target: Path, parcels: list[tuple[str, str]], own: Path | None, one_per_page: bool
                  ) -> dict[str, str]:
    """Write ``target`` from ``parcels`` [(tracking number, carrier PDF path or "")] in order:
    a carrier's pages for parcels that have them, our next own page for the others (which are
    the pages of ``own``, in the same order). Sheets of several own labels (``one_per_page``
    false) come first, then the carrier pages. Returns problems per tracking number."""
    problems: dict[str, str] = {}
    writer = PdfWriter()
    own_pages = list(PdfReader(own).pages) if own and own.exists() else []
    next_own = 0
    if not one_per_page:
        for page in own_pages:
            writer.add_page(page)
        next_own = len(own_pages)
    for tracking, carrier in parcels:
        if carrier:
            try:
                for page in PdfReader(carrier).pages:
                    writer.add_page(page)
            except (OSError, PdfReadError, ValueError) as exc:
                problems[tracking] = (f"the forwarder's label could not be read ({exc.__class__.__name__}); "
                                      "print it from the forwarder's site")
        elif next_own < len(own_pages):
            writer.add_page(own_pages[next_own])
            next_own += 1
    tmp = target.with_name(target.name + ".tmp")
    with open(tmp, "wb") as f:
        writer.write(f)
    os.replace(tmp, target)
    return problems


def concatenated_zpl(target: Path, labels: list[Path]) -> dict[str, str]:
    """The forwarders' ZPL labels one after another (a thermal printer takes them as one job)."""
    tmp = target.with_name(target.name + ".tmp")
    with open(tmp, "wb") as out:
        for path in labels:
            data = path.read_bytes()
            out.write(data if data.endswith(b"\n") else data + b"\n")
    os.replace(tmp, target)
    return {}
