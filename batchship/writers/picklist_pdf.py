"""Pick-list PDF: A4 portrait table, grouped by warehouse, in the order the rows come.

A row is one SKU and never grows past its name's and its orders' few lines: the orders column names
the first orders and how many more there are (the workbook's lines sheet and the packing slips name
them all), so a run of 20,000 order lines prints as many rows as it has SKUs.

Pages are laid out first and drawn second, so every footer can say "page i of n".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF

from .font_cache import SpareFolder
from .fonts import FontSet, TextPen, clean_text, font_set, register_fonts
from .pdf_file import save_pdf

PAGE_W, PAGE_H = 210.0, 297.0
MARGIN = 12.0
BODY_PT = 8.5
HEAD_PT = 8.5
TITLE_PT = 13.0
LINE = BODY_PT * 25.4 / 72 * 1.25       # mm per text line in a row
PAD = 1.2                               # mm above and below a row's text
TOP = MARGIN + 14                       # first row below title and column headers
BOTTOM = PAGE_H - MARGIN - 8            # keep clear of the footer
# (header, width mm, right aligned)
COLUMNS = (("Shelf", 18.0, False), ("SKU", 34.0, False), ("Name", 50.0, False),
           ("Qty", 12.0, True), ("Orders", 64.0, False))      # 178 mm + 4 gaps = 186 mm
GAP = 2.0
MAX_NAME_LINES = 3
MAX_ORDER_LINES = 2                     # the orders column: first orders, then "+N more"


@dataclass(frozen=True)
class PickRow:
    warehouse: str
    shelf: str
    sku: str
    name: str
    quantity: int
    orders: tuple[str, ...]
    order_count: int = 0                # orders served, when ``orders`` names only some; 0: len(orders)


@dataclass
class _Block:
    """One horizontal band of a page: a warehouse heading, a pick row or a warehouse total."""
    kind: str                       # "group", "row", "total"
    height: float
    cells: tuple[list[str], ...] = ()
    text: str = ""


def _column_x() -> list[float]:
    xs, x = [], MARGIN
    for _, width, _ in COLUMNS:
        xs.append(x)
        x += width + GAP
    return xs


def _wrap_orders(pen: TextPen, orders: Sequence[str], width: float, max_lines: int, total: int = 0
                 ) -> list[str]:
    """Order ids packed into lines, never split inside an id; "+N more" when they don't fit.
    ``total``: how many orders there are when ``orders`` names only the first."""
    lines: list[list[str]] = []
    current: list[str] = []
    total = max(total, len(orders))
    for order in orders:
        if len(lines) > max_lines:
            break
        if current and pen.width(", ".join(current + [order]) + ",", BODY_PT) > width:
            lines.append(current)
            current = []
        current.append(order)
    if current:
        lines.append(current)
    if len(lines) > max_lines or sum(len(line) for line in lines) < total:
        lines = lines[:max_lines] or [[]]
        last = lines[-1]
        shown = sum(len(line) for line in lines)
        while last and pen.width(", ".join(last + [f"+{total - shown} more"]), BODY_PT) > width:
            last.pop()
            shown -= 1
        last.append(f"+{total - shown} more")
    texts = [", ".join(line) + ("," if n < len(lines) - 1 else "") for n, line in enumerate(lines)]
    return [pen.truncate(text, width, BODY_PT) for text in texts]


def _layout(rows: Sequence[PickRow], texts: list[tuple[str, ...]], pen: TextPen) -> list[list[_Block]]:
    widths = [w for _, w, _ in COLUMNS]
    pages: list[list[_Block]] = [[]]
    y = TOP

    def place(block: _Block) -> None:
        nonlocal y
        if y + block.height > BOTTOM and pages[-1]:
            pages.append([])
            y = TOP
        pages[-1].append(block)
        y += block.height

    index = 0
    while index < len(rows):
        end = index
        while end < len(rows) and rows[end].warehouse == rows[index].warehouse:
            end += 1
        warehouse = texts[index][0] or "(no warehouse)"
        heading = _Block("group", LINE + 2 * PAD, text=f"Warehouse {warehouse}")
        for i in range(index, end):
            _, shelf, sku, name, orders = texts[i]
            cells = (
                [pen.truncate(shelf, widths[0], BODY_PT)],
                [pen.truncate(sku, widths[1], BODY_PT)],
                pen.wrap(name, widths[2], BODY_PT, MAX_NAME_LINES) if name else [""],
                [str(rows[i].quantity)],
                _wrap_orders(pen, orders.split("\x00") if orders else [], widths[4], MAX_ORDER_LINES,
                             max(rows[i].order_count, len(rows[i].orders))) or [""],
            )
            block = _Block("row", max(len(c) for c in cells) * LINE + 2 * PAD, cells)
            first = i == index
            if y + block.height + (heading.height if first else 0) > BOTTOM and pages[-1]:
                pages.append([])
                y = TOP
                if not first:
                    # The warehouse goes on: say so under the new page's column headers.
                    place(_Block("group", heading.height, text=heading.text + " (continued)"))
            if first:
                place(heading)
            place(block)
        pieces = sum(row.quantity for row in rows[index:end])
        place(_Block("total", LINE + 2 * PAD, text=f"Total warehouse {warehouse}: {end - index} SKUs, {pieces} pcs"))
        index = end
    return pages


def _draw_page(pdf: FPDF, pen: TextPen, blocks: list[_Block], title: str, number: int, total: int,
               xs: list[float]) -> None:
    pdf.add_page()
    pen.start_page()
    right = PAGE_W - MARGIN
    title_fit, size = pen.fit(title, right - MARGIN, TITLE_PT, TITLE_PT * 0.7, bold=True)
    pen.draw(MARGIN, MARGIN + 5, title_fit, size, bold=True)
    header_y = TOP - 2.5
    for (name, width, right_aligned), x in zip(COLUMNS, xs):
        if right_aligned:
            pen.draw_right(x + width, header_y, name, HEAD_PT, bold=True)
        else:
            pen.draw(x, header_y, name, HEAD_PT, bold=True)
    pdf.set_line_width(0.4)
    pdf.line(MARGIN, TOP - 1, right, TOP - 1)
    pdf.set_line_width(0.15)
    y = TOP
    for block in blocks:
        base = y + PAD + LINE * 0.75
        if block.kind == "group":
            pdf.set_fill_color(225, 225, 225)
            pdf.rect(MARGIN, y + 0.3, right - MARGIN, block.height - 0.6, style="F")
            pen.draw(MARGIN + 1, base, block.text, BODY_PT, bold=True)
        elif block.kind == "total":
            pen.draw_right(right, base, block.text, BODY_PT, bold=True)
            pdf.line(MARGIN, y + block.height, right, y + block.height)
        else:
            for (_, width, right_aligned), x, lines in zip(COLUMNS, xs, block.cells):
                for n, line in enumerate(lines):
                    if right_aligned:
                        pen.draw_right(x + width, base + n * LINE, line, BODY_PT, bold=True)
                    else:
                        pen.draw(x, base + n * LINE, line, BODY_PT)
            pdf.line(MARGIN, y + block.height, right, y + block.height)
        y += block.height
    footer = PAGE_H - MARGIN
    pen.draw(MARGIN, footer, pen.truncate(title, 120, 7.5), 7.5)
    pen.draw_right(right, footer, f"Page {number} of {total}", 7.5)
    pen.flush()


def render_picklist(rows: Sequence[PickRow], path: Path, *, title: str,
                    cjk_font: str = "") -> dict[str, list[str]]:
    """Write the pick list to ``path`` (atomically). Rows must already be in picking order.

    Returns {sku: [problems]} for text no configured font can show; that text
    is printed without the unshowable characters.
    """
    fonts: FontSet = font_set(cjk_font)
    problems: dict[str, list[str]] = {}
    texts: list[tuple[str, ...]] = []

    def show(sku: str, field: str, value: str) -> str:
        text = clean_text(value)
        missing = fonts.unshowable(text)
        if missing:
            problems.setdefault(sku, []).append(fonts.problem(field, missing))
            text = " ".join(fonts.showable(text).split())
        return text

    for row in rows:
        sku = clean_text(row.sku)
        # Two lines of the column never hold more than a few dozen ids: only those are read.
        orders = [show(sku, "order", o) for o in row.orders[:60]]
        texts.append((show(sku, "warehouse", row.warehouse), show(sku, "shelf", row.shelf),
                      show(sku, "sku", row.sku), show(sku, "name", row.name),
                      "\x00".join(o for o in orders if o)))
    title = clean_text(title)
    chars = {ord(c) for c in fonts.showable(title)}
    for parts in texts:
        for part in parts:
            chars.update(map(ord, part))
    chars.discard(0)      # the separator of the order ids, never printed
    title = fonts.showable(title)
    path = Path(path)
    with SpareFolder() as workdir:
        pdf = FPDF(unit="mm", format="A4")
        pdf.set_auto_page_break(False)
        pdf.set_margins(0, 0, 0)
        pdf.set_title(title or "Pick list")
        register_fonts(pdf, fonts, chars, workdir, cjk_font)
        pen = TextPen(pdf, fonts)
        pages = _layout(rows, texts, pen) if rows else [[]]
        xs = _column_x()
        for number, blocks in enumerate(pages, start=1):
            _draw_page(pdf, pen, blocks, title, number, len(pages), xs)
        save_pdf(pdf, path)
    return problems
