"""Packing slips (配货单): one A5 page per order, in label order, for the packer to check the parcel.

Each slip: the order's reference, a Code 128 barcode of its tracking number (of the order id when it
has none, or when the number cannot be encoded), who it goes to, and every item with its SKU, name
and quantity. An order with more items than a page holds goes on over further pages of its own, each
headed with the order and counted "page i of n".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF

from . import barcode128
from .font_cache import SpareFolder
from .fonts import TextPen, clean_text, font_set, register_fonts
from .labels import module_width
from .pdf_file import save_pdf

PAGE_W, PAGE_H = 148.0, 210.0          # A5 portrait
MARGIN = 10.0
BODY_PT = 10.0
LINE = BODY_PT * 25.4 / 72 * 1.3
PAD = 1.0
BARCODE_H = 16.0
MAX_NAME_LINES = 2
# (header, width mm, right aligned)
COLUMNS = (("SKU", 38.0, False), ("Name", 72.0, False), ("Qty", 14.0, True))   # 124 + 2 gaps = 128 mm
GAP = 2.0


@dataclass(frozen=True)
class PackingSlip:
    order_ref: str                          # "shop / order id"
    order_id: str
    tracking_number: str
    recipient: str                          # name, country
    items: tuple[tuple[str, str, int], ...]  # (sku, name, quantity)


@dataclass
class _Prepared:
    ref: str
    code: str                               # what the barcode carries
    bars: barcode128.BarcodeModules | None
    tracking: str
    recipient: str
    items: list[tuple[str, str, int]]


def _barcode(slip: PackingSlip) -> tuple[str, barcode128.BarcodeModules | None, list[str]]:
    problems = []
    for text in (clean_text(slip.tracking_number), clean_text(slip.order_id)):
        if not text:
            continue
        try:
            return text, barcode128.modules(text), problems
        except barcode128.NotEncodable as exc:
            problems.append(f"barcode of {text!r}: {exc}")
    return "", None, problems


def render_packing_slips(slips: Sequence[PackingSlip], path: Path, *, cjk_font: str = "",
                         title: str = "Packing slips") -> dict[str, list[str]]:
    """Write the slips to ``path`` (atomically), one order after the other in the order given.

    Returns {order_ref: [problems]} for text no configured font can show (printed without it) and
    for orders whose barcode could not be made."""
    fonts = font_set(cjk_font)
    problems: dict[str, list[str]] = {}
    prepared: list[_Prepared] = []
    for slip in slips:
        ref = clean_text(slip.order_ref)
        found: list[str] = []

        def show(field: str, value) -> str:
            text = clean_text(value)
            missing = fonts.unshowable(text)
            if missing:
                found.append(fonts.problem(field, missing))
                text = " ".join(fonts.showable(text).split())
            return text

        code, bars, barcode_problems = _barcode(slip)
        found += barcode_problems
        prepared.append(_Prepared(
            ref=show("order_ref", slip.order_ref), code=show("barcode", code), bars=bars,
            tracking=show("tracking_number", slip.tracking_number), recipient=show("recipient", slip.recipient),
            items=[(show(f"item {i} sku", sku), show(f"item {i} name", name), int(qty))
                   for i, (sku, name, qty) in enumerate(slip.items, start=1)]))
        if found:
            problems.setdefault(ref, []).extend(found)
    chars = {ord(c) for c in "PACKING SLIP Order Tracking To: Page of pcs SKU Name Qty Total (continued)0123456789/–"}
    for p in prepared:
        for text in (p.ref, p.code, p.tracking, p.recipient, *(s + n for s, n, _ in p.items)):
            chars.update(map(ord, text))
    path = Path(path)
    with SpareFolder() as workdir:
        pdf = FPDF(unit="mm", format=(PAGE_W, PAGE_H))
        pdf.set_auto_page_break(False)
        pdf.set_margins(0, 0, 0)
        pdf.set_title(clean_text(title) or "Packing slips")
        register_fonts(pdf, fonts, chars, workdir, cjk_font)
        pen = TextPen(pdf, fonts)
        for number, p in enumerate(prepared, start=1):
            _draw_slip(pdf, pen, p, number, len(prepared))
        if not prepared:
            pdf.add_page()
        save_pdf(pdf, path)
    return problems


def _rows(pen: TextPen, p: _Prepared) -> list[tuple[list[str], list[str], str, float]]:
    """Each item as (sku lines, name lines, quantity, height)."""
    widths = [w for _, w, _ in COLUMNS]
    rows = []
    for sku, name, qty in p.items:
        sku_lines = pen.wrap(sku, widths[0], BODY_PT, 2) or [""]
        name_lines = pen.wrap(name, widths[1], BODY_PT, MAX_NAME_LINES) if name else [""]
        rows.append((sku_lines, name_lines, str(qty), max(len(sku_lines), len(name_lines)) * LINE + 2 * PAD))
    return rows


def _draw_slip(pdf: FPDF, pen: TextPen, p: _Prepared, number: int, total: int) -> None:
    rows = _rows(pen, p)
    bottom = PAGE_H - MARGIN - 10
    first_top = MARGIN + 8 + 8.5 + BARCODE_H + 6 + 7 + 8     # below the head of the first page
    later_top = MARGIN + 8 + 7 + 8                          # continuation pages: title and reference
    pages: list[list[int]] = [[]]
    y = first_top
    for i, (_, _, _, h) in enumerate(rows):
        if y + h > bottom - (LINE + 2 if i == len(rows) - 1 else 0) and pages[-1]:
            pages.append([])
            y = later_top
        pages[-1].append(i)
        y += h
    xs, x = [], MARGIN
    for _, width, _ in COLUMNS:
        xs.append(x)
        x += width + GAP
    right = PAGE_W - MARGIN
    for page_no, indexes in enumerate(pages, start=1):
        pdf.add_page()
        pen.start_page()
        pen.draw(MARGIN, MARGIN + 5, "PACKING SLIP" + (" (continued)" if page_no > 1 else ""), 14, bold=True)
        pen.draw_right(right, MARGIN + 5, f"{number} / {total}", 11, bold=True)
        ref, size = pen.fit(p.ref, right - MARGIN, 12, 8, bold=True)
        y = MARGIN + 8 + 5
        pen.draw(MARGIN, y, ref, size, bold=True)
        y += 3.5
        if page_no == 1:
            if p.bars is not None:
                mw = module_width(p.bars.total_modules, right - MARGIN)
                left = (PAGE_W - p.bars.total_modules * mw) / 2
                k = pdf.k
                pdf._out(f"q 0 g {mw * k:.4f} 0 0 {BARCODE_H * k:.3f} {left * k:.3f} "
                         f"{(PAGE_H - y - BARCODE_H) * k:.3f} cm {p.bars.pdf_path} f Q")
            y += BARCODE_H + 4.5
            pen.draw_centered(PAGE_W / 2, y, pen.truncate(p.code, right - MARGIN, 10, bold=True), 10, bold=True)
            y += 6
            line = "To: " + p.recipient if p.recipient else ""
            if p.tracking and p.tracking != p.code:
                line = (line + "    " if line else "") + "Tracking " + p.tracking
            pen.draw(MARGIN, y, pen.truncate(line, right - MARGIN, BODY_PT), BODY_PT)
            y += 3
        y += 5
        for (name, width, right_aligned), x in zip(COLUMNS, xs):
            if right_aligned:
                pen.draw_right(x + width, y, name, BODY_PT, bold=True)
            else:
                pen.draw(x, y, name, BODY_PT, bold=True)
        y += 1.5
        pdf.set_line_width(0.4)
        pdf.line(MARGIN, y, right, y)
        pdf.set_line_width(0.15)
        for i in indexes:
            sku_lines, name_lines, qty, h = rows[i]
            base = y + PAD + LINE * 0.75
            for n, text in enumerate(sku_lines):
                pen.draw(xs[0], base + n * LINE, text, BODY_PT)
            for n, text in enumerate(name_lines):
                pen.draw(xs[1], base + n * LINE, text, BODY_PT)
            pen.draw_right(xs[2] + COLUMNS[2][1], base, qty, BODY_PT + 1, bold=True)
            y += h
            pdf.line(MARGIN, y, right, y)
        if page_no == len(pages):
            pieces = sum(q for _, _, q in p.items)
            pen.draw_right(right, y + LINE, f"Total: {len(p.items)} SKUs, {pieces} pcs", BODY_PT, bold=True)
        footer = PAGE_H - MARGIN
        pen.draw(MARGIN, footer, pen.truncate(p.ref, 90, 7.5), 7.5)
        pen.draw_right(right, footer, f"Page {page_no} of {len(pages)}", 7.5)
        pen.flush()
