"""Handover manifest PDF (交接单): A4 portrait, one row per parcel, totals and signature lines.

Every page repeats the head (manifest id as a Code 128 barcode, channel, warehouses, date,
sender) and the column headers; pages are laid out first and drawn second, as in the pick
list, so every footer can say "page i of n".
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from fpdf import FPDF

from . import barcode128
from .font_cache import SpareFolder
from .fonts import FontSet, TextPen, clean_text, font_set, register_fonts
from .labels import module_width
from .pdf_file import save_pdf

PAGE_W, PAGE_H = 210.0, 297.0
MARGIN = 12.0
BODY_PT = 8.5
MIN_PT = 5.0                            # long tracking numbers shrink to this before they are cut
TITLE_PT = 13.0
LINE = BODY_PT * 25.4 / 72 * 1.25       # mm per text line in a row
PAD = 1.2
BARCODE_TOP = MARGIN + 8
BARCODE_H = 12.0
BARCODE_ROOM = 112.0                    # mm left of the channel block
INFO_X = MARGIN + BARCODE_ROOM + 4
TOP = MARGIN + 40                       # first row below the head and the column headers
BOTTOM = PAGE_H - MARGIN - 8            # keep clear of the footer
# (header, width mm, right aligned)
COLUMNS = (("#", 8.0, True), ("Tracking number", 38.0, False), ("Shop / order", 52.0, False),
           ("Country", 12.0, False), ("Items", 12.0, True), ("Weight g", 18.0, True),
           ("Declared value", 34.0, True))      # 174 mm + 6 gaps = 186 mm
GAP = 2.0
SIGNATURES = ("Handed over by", "Received by", "Time")
SIGNATURE_H = 20.0


@dataclass(frozen=True)
class ManifestParcel:
    tracking_number: str
    shop: str
    order_id: str
    country: str
    warehouse: str
    items: int
    weight_g: int
    values: tuple[tuple[str, Decimal], ...]     # (currency, declared value), by currency

    @property
    def order_ref(self) -> str:
        return f"{self.shop} / {self.order_id}"


@dataclass(frozen=True)
class Manifest:
    manifest_id: str
    channel: str
    warehouses: tuple[str, ...]
    date: str
    sender: str
    parcels: tuple[ManifestParcel, ...]

    @property
    def items(self) -> int:
        return sum(p.items for p in self.parcels)

    @property
    def weight_g(self) -> int:
        return sum(p.weight_g for p in self.parcels)

    @property
    def weight_kg(self) -> Decimal:
        """Exact: grams are whole numbers, so three decimals hold every total."""
        return (Decimal(self.weight_g) / 1000).quantize(Decimal("0.001"))

    @property
    def currencies(self) -> tuple[str, ...]:
        return tuple(sorted({c for p in self.parcels for c, _ in p.values}))

    @property
    def values(self) -> tuple[tuple[str, Decimal], ...]:
        totals: dict[str, Decimal] = {}
        for parcel in self.parcels:
            for currency, value in parcel.values:
                totals[currency] = totals.get(currency, Decimal(0)) + value
        return tuple(sorted(totals.items()))


def amount(value: Decimal) -> str:
    """Two decimals, or more when the amount has them: a manifest never rounds money."""
    return f"{value:.2f}" if value == value.quantize(Decimal("0.01")) else f"{value.normalize():f}"


def money_text(values: tuple[tuple[str, Decimal], ...]) -> list[str]:
    """One "12.50 USD" per currency."""
    return [f"{amount(v)} {c}".strip() for c, v in values] or ["0.00"]


@dataclass
class _Block:
    kind: str                                   # "row", "end"
    height: float
    cells: tuple[list[tuple[str, float]], ...] = ()


def _column_x() -> list[float]:
    xs, x = [], MARGIN
    for _, width, _ in COLUMNS:
        xs.append(x)
        x += width + GAP
    return xs


@dataclass
class _Texts:
    """The manifest's text after cleaning, without characters no font has."""
    manifest_id: str
    channel: str
    warehouses: str
    date: str
    sender: str
    rows: list[tuple[str, str, str, list[str]]]     # tracking, order ref, country, value lines
    totals: list[str]


def _prepare(manifest: Manifest, fonts: FontSet) -> tuple[_Texts, dict[str, list[str]]]:
    problems: dict[str, list[str]] = {}

    def show(ref: str, field: str, value: str) -> str:
        text = clean_text(value)
        missing = fonts.unshowable(text)
        if missing:
            problems.setdefault(ref, []).append(fonts.problem(field, missing))
            text = " ".join(fonts.showable(text).split())
        return text

    head = "manifest"
    rows = []
    for p in manifest.parcels:
        ref = p.tracking_number or p.order_ref
        rows.append((show(ref, "tracking_number", p.tracking_number), show(ref, "order", p.order_ref),
                     show(ref, "country", p.country), [show(ref, "currency", t) for t in money_text(p.values)]))
    texts = _Texts(
        manifest_id=show(head, "manifest id", manifest.manifest_id),
        channel=show(head, "channel", manifest.channel),
        warehouses=show(head, "warehouse", ", ".join(manifest.warehouses)),
        date=show(head, "date", manifest.date),
        sender=show(head, "sender", manifest.sender),
        rows=rows,
        totals=[show(head, "currency", t) for t in money_text(manifest.values)],
    )
    return texts, problems


def _all_text(t: _Texts) -> str:
    parts = [t.manifest_id, t.channel, t.warehouses, t.date, t.sender, *t.totals]
    for tracking, order, country, values in t.rows:
        parts += [tracking, order, country, *values]
    return "".join(parts)


def _end_lines(manifest: Manifest, t: _Texts, pen: TextPen) -> list[str]:
    """The summary under the table: counts, weight, value per currency."""
    width = PAGE_W - 2 * MARGIN
    first = (f"Parcels: {len(manifest.parcels)}    Items: {manifest.items}    "
             f"Total weight: {manifest.weight_kg:.3f} kg")
    return [first] + pen.wrap("Declared value: " + ", ".join(t.totals), width, BODY_PT, 20, bold=True)


def _layout(manifest: Manifest, t: _Texts, pen: TextPen) -> list[list[_Block]]:
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

    for n, (p, (tracking, order, country, values)) in enumerate(zip(manifest.parcels, t.rows), start=1):
        track, size = pen.fit(tracking, widths[1], BODY_PT, MIN_PT)
        cells = (
            [(str(n), BODY_PT)],
            [(track, size)],
            [(line, BODY_PT) for line in pen.wrap(order, widths[2], BODY_PT, 2)] or [("", BODY_PT)],
            [(pen.truncate(country, widths[3], BODY_PT), BODY_PT)],
            [(str(p.items), BODY_PT)],
            [(str(p.weight_g), BODY_PT)],
            [(pen.truncate(v, widths[6], BODY_PT), BODY_PT) for v in values],
        )
        place(_Block("row", max(len(c) for c in cells) * LINE + 2 * PAD, cells))
    total_cells = (
        [("", BODY_PT)], [("Total", BODY_PT)], [(f"{len(manifest.parcels)} parcels", BODY_PT)], [("", BODY_PT)],
        [(str(manifest.items), BODY_PT)], [(str(manifest.weight_g), BODY_PT)],
        [(pen.truncate(v, widths[6], BODY_PT, bold=True), BODY_PT) for v in t.totals],
    )
    end_lines = _end_lines(manifest, t, pen)
    total_h = max(len(c) for c in total_cells) * LINE + 2 * PAD
    end = _Block("end", total_h + len(end_lines) * LINE + 3 * PAD + SIGNATURE_H,
                 total_cells + ([(line, BODY_PT) for line in end_lines],))
    place(end)
    return pages


def _draw_head(pdf: FPDF, pen: TextPen, t: _Texts, bars: barcode128.BarcodeModules | None, parcels: int,
               xs: list[float]) -> None:
    right = PAGE_W - MARGIN
    pen.draw(MARGIN, MARGIN + 5, "Handover manifest", TITLE_PT, bold=True)
    pen.draw_right(right, MARGIN + 5, f"Date {t.date}", 10.0, bold=True)
    if bars is not None:
        mw = module_width(bars.total_modules, BARCODE_ROOM)
        # The first bar lines up with the text; the quiet zone before it lies in the margin.
        left = MARGIN - barcode128.QUIET_ZONE_MODULES * mw
        k = pdf.k
        bottom = (PAGE_H - BARCODE_TOP - BARCODE_H) * k
        pdf._out(f"q 0 g {mw * k:.4f} 0 0 {BARCODE_H * k:.3f} {left * k:.3f} {bottom:.3f} cm {bars.pdf_path} f Q")
    ident, size = pen.fit(t.manifest_id, BARCODE_ROOM, 10.0, 6.0, bold=True)
    pen.draw(MARGIN, BARCODE_TOP + BARCODE_H + 4.5, ident, size, bold=True)
    room = right - INFO_X
    pen.draw(INFO_X, BARCODE_TOP + 2.5, "Channel", 7.0)
    channel, size = pen.fit(t.channel, room, 12.0, 7.0, bold=True)
    pen.draw(INFO_X, BARCODE_TOP + 7.5, channel, size, bold=True)
    pen.draw(INFO_X, BARCODE_TOP + 12.5, pen.truncate(f"Warehouse: {t.warehouses}", room, BODY_PT), BODY_PT)
    pen.draw(INFO_X, BARCODE_TOP + 16.5, f"Parcels: {parcels}", BODY_PT)
    pen.draw(MARGIN, TOP - 8, pen.truncate(f"Sender: {t.sender}", right - MARGIN, BODY_PT), BODY_PT)
    header_y = TOP - 2.5
    for (name, width, right_aligned), x in zip(COLUMNS, xs):
        (pen.draw_right if right_aligned else pen.draw)(x + width if right_aligned else x, header_y, name,
                                                         BODY_PT, bold=True)
    pdf.set_line_width(0.4)
    pdf.line(MARGIN, TOP - 1, right, TOP - 1)
    pdf.set_line_width(0.15)


def _draw_cells(pen: TextPen, cells, base: float, xs: list[float], bold: bool = False) -> None:
    for (_, width, right_aligned), x, lines in zip(COLUMNS, xs, cells):
        for n, (line, size) in enumerate(lines):
            if right_aligned:
                pen.draw_right(x + width, base + n * LINE, line, size, bold=bold)
            else:
                pen.draw(x, base + n * LINE, line, size, bold=bold)


def _draw_end(pdf: FPDF, pen: TextPen, block: _Block, y: float, xs: list[float]) -> None:
    right = PAGE_W - MARGIN
    cells, summary = block.cells[:-1], block.cells[-1]
    total_h = max(len(c) for c in cells) * LINE + 2 * PAD
    pdf.set_fill_color(235, 235, 235)
    pdf.rect(MARGIN, y + 0.3, right - MARGIN, total_h - 0.6, style="F")
    _draw_cells(pen, cells, y + PAD + LINE * 0.75, xs, bold=True)
    pdf.set_line_width(0.4)
    pdf.line(MARGIN, y + total_h, right, y + total_h)
    pdf.set_line_width(0.15)
    y += total_h + PAD
    for line, size in summary:
        y += LINE
        pen.draw(MARGIN, y - LINE * 0.25, line, size, bold=True)
    y += 2 * PAD
    width = (right - MARGIN - 2 * 6) / 3
    for n, label in enumerate(SIGNATURES):
        x = MARGIN + n * (width + 6)
        pen.draw(x, y + 4, label, BODY_PT, bold=True)
        pdf.line(x, y + SIGNATURE_H - 3, x + width, y + SIGNATURE_H - 3)


def _draw_page(pdf: FPDF, pen: TextPen, t: _Texts, bars, parcels: int, blocks: list[_Block], number: int,
               total: int, xs: list[float]) -> None:
    pdf.add_page()
    pen.start_page()
    _draw_head(pdf, pen, t, bars, parcels, xs)
    right = PAGE_W - MARGIN
    y = TOP
    for block in blocks:
        if block.kind == "end":
            _draw_end(pdf, pen, block, y, xs)
        else:
            _draw_cells(pen, block.cells, y + PAD + LINE * 0.75, xs)
            pdf.line(MARGIN, y + block.height, right, y + block.height)
        y += block.height
    footer = PAGE_H - MARGIN
    pen.draw(MARGIN, footer, pen.truncate(f"Manifest {t.manifest_id} · {t.channel} · {t.date}", 140, 7.5), 7.5)
    pen.draw_right(right, footer, f"Page {number} of {total}", 7.5)
    pen.flush()


def render_manifest(manifest: Manifest, path: Path, *, cjk_font: str = "") -> dict[str, list[str]]:
    """Write the manifest to ``path`` (atomically).

    Returns {tracking number or "manifest": [problems]} for text no configured font can show
    (printed without those characters) and a manifest id Code 128 cannot carry (no barcode).
    """
    fonts = font_set(cjk_font)
    texts, problems = _prepare(manifest, fonts)
    try:
        bars = barcode128.modules(texts.manifest_id)
    except barcode128.NotEncodable as exc:
        problems.setdefault("manifest", []).append(f"manifest id: {exc}")
        bars = None
    chars = {ord(c) for c in _all_text(texts)} | {ord(c) for c in "·"}
    path = Path(path)
    with SpareFolder() as workdir:
        pdf = FPDF(unit="mm", format="A4")
        pdf.set_auto_page_break(False)
        pdf.set_margins(0, 0, 0)
        pdf.set_title(f"Handover manifest {texts.manifest_id}")
        register_fonts(pdf, fonts, chars, workdir, cjk_font)
        pen = TextPen(pdf, fonts)
        pages = _layout(manifest, texts, pen)
        xs = _column_x()
        for number, blocks in enumerate(pages, start=1):
            _draw_page(pdf, pen, texts, bars, len(manifest.parcels), blocks, number, len(pages), xs)
        save_pdf(pdf, path)
    return problems
