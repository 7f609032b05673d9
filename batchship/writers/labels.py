"""Shipping label PDFs: one 100×150 mm (or 100×100 mm) page per parcel.

Each page: channel and destination country large, a Code 128 barcode of the
tracking number, the recipient block, the SKUs to pack and a CN22 customs
declaration. Long text shrinks, wraps and is cut with "…" so nothing leaves
the page; text that no configured font can show is reported per label.
"""
from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from fpdf import FPDF

from . import barcode128
from .fonts import FontSet, TextPen, clean_text, font_set, register_fonts
from .pdf_file import save_pdf

DOT_MM = 25.4 / 203          # one dot of a 203 dpi thermal printer
MARGIN = 3.0
PT_MM = 25.4 / 72
CATEGORIES = ("Gift", "Commercial sample", "Documents", "Other")
_CATEGORY_ALIASES = {"gift": "Gift", "commercialsample": "Commercial sample", "sample": "Commercial sample",
                     "documents": "Documents", "document": "Documents", "other": "Other"}


@dataclass(frozen=True)
class CustomsItem:
    """One CN22 article line; ``weight_g`` and ``value`` are for the whole quantity."""
    description: str
    quantity: int
    weight_g: int
    value: Decimal
    currency: str
    hs_code: str
    origin: str


@dataclass(frozen=True)
class LabelData:
    tracking_number: str
    channel: str
    order_ref: str                      # "shop / order id"
    recipient_name: str
    address_lines: tuple[str, ...]
    city: str
    state: str
    postcode: str
    country: str                        # ISO 3166-1 alpha-2
    phone: str
    items: tuple[tuple[str, int], ...]  # (sku, quantity)
    customs_category: str
    customs_items: tuple[CustomsItem, ...]
    sender: str = ""                    # return address on one line
    date: str = ""                      # CN22 date (YYYY-MM-DD), printed beside the sender


@dataclass(frozen=True)
class Layout:
    """Sizes in mm (positions) and points (fonts) for one label format."""
    height: float
    header_h: float
    channel_pt: float
    country_pt: float
    barcode_h: float
    tracking_pt: float
    name_pt: float
    body_pt: float
    address_lines: int
    item_pt: float
    customs_pt: float
    customs_rows: int


LAYOUTS = {
    "100x150": Layout(height=150, header_h=15, channel_pt=16, country_pt=30, barcode_h=18,
                      tracking_pt=11, name_pt=12, body_pt=9.5, address_lines=4,
                      item_pt=7.5, customs_pt=6.5, customs_rows=4),
    "100x100": Layout(height=100, header_h=12, channel_pt=13, country_pt=24, barcode_h=12,
                      tracking_pt=9.5, name_pt=10, body_pt=8, address_lines=2,
                      item_pt=6.5, customs_pt=5.5, customs_rows=2),
}
WIDTH = 100.0


def _mm(pt: float) -> float:
    return pt * PT_MM


@dataclass
class _Texts:
    """A label's text after cleaning, with characters no font has removed (and reported)."""
    tracking: str
    channel: str
    order_ref: str
    name: str
    address: list[str]
    city_line: str
    country: str
    phone: str
    items: list[tuple[str, int]]
    category: str
    category_note: str
    customs: list[CustomsItem]
    sender: str
    date: str
    barcode: barcode128.BarcodeModules | None


def _category(raw: str) -> tuple[str, str]:
    """The CN22 box to tick, and the text to print beside "Other" when the category is no box."""
    key = "".join(ch for ch in raw.casefold() if ch.isalpha())
    if key in _CATEGORY_ALIASES:
        return _CATEGORY_ALIASES[key], ""
    return "Other", raw


def _prepare(label: LabelData, fonts: FontSet) -> tuple[_Texts, list[str]]:
    problems: list[str] = []

    def show(field: str, value) -> str:
        text = clean_text(value)
        missing = fonts.unshowable(text)
        if not missing:
            return text
        problems.append(fonts.problem(field, missing))
        return " ".join(fonts.showable(text).split())

    tracking = clean_text(label.tracking_number)
    try:
        bars = barcode128.modules(tracking)
    except barcode128.NotEncodable as exc:
        problems.append(f"tracking_number: {exc}")
        bars = None
    tracking = show("tracking_number", tracking)
    address = [show(f"address line {i}", line) for i, line in enumerate(label.address_lines, start=1)]
    city = show("city", label.city)
    state = show("state", label.state)
    postcode = show("postcode", label.postcode)
    city_line = ", ".join(part for part in (city, " ".join(p for p in (state, postcode) if p)) if part)
    category, note = _category(clean_text(label.customs_category))
    texts = _Texts(
        tracking=tracking,
        channel=show("channel", label.channel),
        order_ref=show("order_ref", label.order_ref),
        name=show("recipient_name", label.recipient_name),
        address=[line for line in address if line],
        city_line=city_line,
        country=show("country", label.country).upper(),
        phone=show("phone", label.phone),
        items=[(show(f"item {i} sku", sku), int(qty)) for i, (sku, qty) in enumerate(label.items, start=1)],
        category=category,
        category_note=show("customs_category", note),
        customs=[replace(item, description=show(f"customs item {i} description", item.description),
                         hs_code=show(f"customs item {i} hs_code", item.hs_code),
                         origin=show(f"customs item {i} origin", item.origin),
                         currency=show(f"customs item {i} currency", item.currency))
                 for i, item in enumerate(label.customs_items, start=1)],
        sender=show("sender", label.sender),
        date=show("date", label.date),
        barcode=bars,
    )
    return texts, problems


def _all_text(texts: _Texts) -> str:
    parts = [texts.tracking, texts.channel, texts.order_ref, texts.name, texts.city_line, texts.country,
             texts.phone, texts.category_note, texts.sender, texts.date, *texts.address,
             *(sku for sku, _ in texts.items)]
    for item in texts.customs:
        parts += [item.description, item.hs_code, item.origin, item.currency]
    return "".join(parts)


def module_width(total_modules: int, available_mm: float) -> float:
    """Widest whole number of printer dots per module (2–4) that fits; narrower only if it must."""
    for dots in (4, 3, 2):
        if total_modules * dots * DOT_MM <= available_mm:
            return dots * DOT_MM
    return available_mm / total_modules


class _LabelPage:
    def __init__(self, pdf: FPDF, pen: TextPen, layout: Layout):
        self.pdf, self.pen, self.lay = pdf, pen, layout
        self.x0, self.x1 = MARGIN, WIDTH - MARGIN
        self.w = self.x1 - self.x0

    def draw(self, t: _Texts) -> None:
        self.pdf.add_page()
        self.pen.start_page()
        y = self._header(t, MARGIN)
        y = self._barcode(t, y)
        y = self._recipient(t, y)
        customs_top = self.lay.height - MARGIN - self._customs_height(t)
        self._items(t, y, customs_top - 1.5)
        self._customs(t, customs_top)
        self.pen.flush()

    def _rule(self, y: float) -> None:
        self.pdf.line(self.x0, y, self.x1, y)

    def _header(self, t: _Texts, y: float) -> float:
        lay, pen = self.lay, self.pen
        box_w = 24 if lay.height > 100 else 20
        left_w = self.w - box_w - 2
        text, size = pen.fit(t.channel, left_w, lay.channel_pt, lay.channel_pt * 0.55, bold=True)
        pen.draw(self.x0, y + _mm(size) * 0.85, text, size, bold=True)
        ref_pt = lay.body_pt * 0.85
        ref, _ = pen.fit(t.order_ref, left_w, ref_pt, ref_pt)
        pen.draw(self.x0, y + lay.header_h - 1.5, ref, ref_pt)
        bx = self.x1 - box_w
        self.pdf.rect(bx, y, box_w, lay.header_h)
        code, size = pen.fit(t.country, box_w - 2, lay.country_pt, lay.country_pt * 0.4, bold=True)
        # Cap height is ~0.71 em: centre the capitals vertically in the box.
        pen.draw_centered(bx + box_w / 2, y + lay.header_h / 2 + _mm(size) * 0.355, code, size, bold=True)
        y += lay.header_h + 1.5
        self._rule(y)
        return y + 1.5

    def _barcode(self, t: _Texts, y: float) -> float:
        lay = self.lay
        if t.barcode is not None:
            mw = module_width(t.barcode.total_modules, self.w)
            left = round((WIDTH - t.barcode.total_modules * mw) / 2 / DOT_MM) * DOT_MM
            k = self.pdf.k
            bottom = (lay.height - y - lay.barcode_h) * k
            # One path of rectangles in module units (the cm scales them), filled once:
            # far faster than a rect() call per bar.
            ops = " ".join([f"{start} 0 {width} 1 re" for start, width in t.barcode.bars])
            self.pdf._out(f"q 0 g {mw * k:.4f} 0 0 {lay.barcode_h * k:.3f} {left * k:.3f} {bottom:.3f} cm "
                          f"{ops} f Q")
        y += lay.barcode_h
        text, size = self.pen.fit(t.tracking, self.w, lay.tracking_pt, lay.tracking_pt * 0.6, bold=True)
        self.pen.draw_centered(WIDTH / 2, y + _mm(size) * 1.05, text, size, bold=True)
        y += _mm(lay.tracking_pt) * 1.35
        self._rule(y)
        return y + 1.2

    def _recipient(self, t: _Texts, y: float) -> float:
        lay, pen, w = self.lay, self.pen, self.w
        small = lay.customs_pt
        pen.draw(self.x0, y + _mm(small) * 0.9, "SHIP TO", small, bold=True)
        y += _mm(small) * 1.15
        name, size = pen.fit(t.name, w, lay.name_pt, lay.name_pt * 0.7, bold=True)
        y += _mm(lay.name_pt) * 1.0
        pen.draw(self.x0, y, name, size, bold=True)
        step = _mm(lay.body_pt) * 1.2
        body = lay.body_pt
        lines: list[str] = []
        firsts: set[int] = set()       # indexes of lines that begin an address line
        for line in t.address:
            firsts.add(len(lines))
            lines += pen.wrap(line, w, body, lay.address_lines)
        keep = lay.address_lines - 1
        if len(lines) > keep + 1:
            # Keep the first lines whole and squeeze the rest into the last one.
            rest = lines[keep]
            for i in range(keep + 1, len(lines)):
                rest += (", " if i in firsts else " ") + lines[i]
            lines = lines[:keep] + [pen.truncate(rest, w, body)]
        for line in lines:
            y += step
            pen.draw(self.x0, y, line, body)
        if t.city_line:
            y += step
            text, size = pen.fit(t.city_line, w, body, body * 0.75)
            pen.draw(self.x0, y, text, size)
        y += step
        pen.draw(self.x0, y, t.country, body, bold=True)
        if t.phone:
            offset = pen.width(t.country, body, bold=True) + 4
            phone, size = pen.fit("Tel " + t.phone, w - offset, body, body * 0.75)
            pen.draw(self.x0 + offset, y, phone, size)
        y += _mm(body) * 0.6
        self._rule(y)
        return y + 0.8

    def _items(self, t: _Texts, top: float, bottom: float) -> None:
        pen, size = self.pen, self.lay.item_pt
        step = _mm(size) * 1.25
        pieces = sum(q for _, q in t.items)
        pen.draw(self.x0, top + step, f"ITEMS ({pieces} pcs)", size, bold=True)
        rows = max(0, int((bottom - top - step) // step))
        slots = rows * 2
        entries = [f"{sku} × {qty}" for sku, qty in t.items]
        if len(entries) > slots and slots > 0:
            hidden = t.items[slots - 1:]
            entries = entries[:slots - 1] + [f"+{len(hidden)} more ({sum(q for _, q in hidden)} pcs)"]
        col_w = self.w / 2 - 1
        for i, entry in enumerate(entries[:slots]):
            col, row = divmod(i, rows)   # fill the left column first, as people read a list
            text = pen.truncate(entry, col_w, size)
            pen.draw(self.x0 + col * (self.w / 2), top + step * (row + 2), text, size)

    def _customs_rows(self, t: _Texts) -> int:
        return min(len(t.customs), self.lay.customs_rows)

    def _customs_height(self, t: _Texts) -> float:
        line = _mm(self.lay.customs_pt) * 1.3
        return line * (5 + self._customs_rows(t)) + 1.0

    def _customs(self, t: _Texts, top: float) -> None:
        pen, pdf, size = self.pen, self.pdf, self.lay.customs_pt
        line = _mm(size) * 1.3
        x0, x1 = self.x0, self.x1
        pdf.rect(x0, top, self.w, self.lay.height - MARGIN - top)
        inner = x0 + 1
        y = top + line
        pen.draw(inner, y - 0.6, "CUSTOMS DECLARATION CN 22", size, bold=True)
        pen.draw_right(x1 - 1, y - 0.6, "May be opened officially", size)
        # Category boxes in one row, the declared one crossed.
        box = _mm(size) * 0.8
        x = inner
        by = y + line - 0.6
        for name in CATEGORIES:
            pdf.rect(x, by - box, box, box)
            if name == t.category:
                pdf.line(x, by - box, x + box, by)
                pdf.line(x, by, x + box, by - box)
            label = name
            if name == "Other" and t.category_note:
                label = pen.truncate(f"Other: {t.category_note}", x1 - 1 - (x + box + 0.8), size)
            pen.draw(x + box + 0.8, by, label, size)
            x += box + 0.8 + pen.width(label, size) + 2.5
        y += line
        # Columns: qty × description | HS code | origin | weight | value.
        em = size / 6.5      # column widths below were measured at 6.5 pt
        c_value = x1 - 1
        c_weight = c_value - 17 * em
        c_origin = c_weight - 19 * em
        c_hs = c_origin - 14 * em
        # Very large weights and values are cut to their column rather than printed over the next one.
        weight_room, value_room = c_weight - c_origin - 1, c_value - c_weight - 1
        y += line
        for text, at, right in (("Qty × description", inner, False), ("HS code", c_hs, False),
                                ("Origin", c_origin, False), ("Weight", c_weight, True),
                                ("Value", c_value, True)):
            (pen.draw_right if right else pen.draw)(at, y - 0.6, text, size, bold=True)
        pdf.line(x0, y + 0.2, x1, y + 0.2)
        shown = self._customs_rows(t)
        rows = t.customs[:shown]
        hidden = t.customs[shown - 1:] if len(t.customs) > shown else []
        if hidden:
            rows = rows[:shown - 1]
        for item in rows:
            y += line
            text = pen.truncate(f"{item.quantity} × {item.description}", c_hs - inner - 1.5, size)
            pen.draw(inner, y - 0.6, text, size)
            pen.draw(c_hs, y - 0.6, pen.truncate(item.hs_code, c_origin - c_hs - 0.5, size), size)
            origin = pen.truncate(item.origin, 8 * em, size)
            pen.draw(c_origin, y - 0.6, origin, size)
            room = c_weight - c_origin - pen.width(origin, size) - 1
            pen.draw_right(c_weight, y - 0.6, pen.truncate(f"{item.weight_g} g", room, size), size)
            pen.draw_right(c_value, y - 0.6, pen.truncate(f"{item.value:.2f} {item.currency}", value_room, size),
                           size)
        if hidden:
            y += line
            qty = sum(item.quantity for item in hidden)
            pen.draw(inner, y - 0.6, f"+{len(hidden)} more articles ({qty} pcs)", size)
            pen.draw_right(c_weight, y - 0.6, pen.truncate(f"{sum(item.weight_g for item in hidden)} g",
                                                           weight_room, size), size)
            pen.draw_right(c_value, y - 0.6, pen.truncate(_money(hidden), value_room, size), size)
        y += line
        pdf.line(x0, y - line + 0.2, x1, y - line + 0.2)
        pen.draw(inner, y - 0.6, "Total", size, bold=True)
        weight = pen.truncate(f"{sum(item.weight_g for item in t.customs)} g", weight_room, size, bold=True)
        pen.draw_right(c_weight, y - 0.6, weight, size, bold=True)
        total = pen.truncate(_money(t.customs), value_room, size, bold=True)
        pen.draw_right(c_value, y - 0.6, total, size, bold=True)
        y += line
        dated = f"Date {t.date}" if t.date else ""
        if dated:
            pen.draw_right(x1 - 1, y - 0.6, dated, size)
        if t.sender:
            room = self.w - 2 - (pen.width(dated, size) + 2 if dated else 0)
            pen.draw(inner, y - 0.6, pen.truncate("From: " + t.sender, room, size), size)


def _money(items) -> str:
    """Sum of values per currency, in order of first appearance: "12.50 USD + 3.00 EUR"."""
    totals: dict[str, Decimal] = {}
    for item in items:
        totals[item.currency] = totals.get(item.currency, Decimal(0)) + Decimal(item.value)
    return " + ".join(f"{v:.2f} {c}".strip() for c, v in totals.items()) or "0.00"


def render_labels(labels: Sequence[LabelData], path: Path, *, size: str = "100x150",
                  cjk_font: str = "") -> dict[str, list[str]]:
    """Write one label page per entry to ``path``.

    Returns {tracking_number: [problems]} for the labels that have text no
    configured font can show (or a tracking number Code 128 cannot carry);
    those labels are still printed, without the unshowable characters.
    """
    if size not in LAYOUTS:
        raise ValueError(f"label size must be one of {', '.join(LAYOUTS)}, not {size!r}")
    if not labels:
        raise ValueError("no labels to render")
    layout = LAYOUTS[size]
    fonts = font_set(cjk_font)
    prepared: list[_Texts] = []
    problems: dict[str, list[str]] = {}
    chars: set[str] = set()
    for label in labels:
        texts, found = _prepare(label, fonts)
        prepared.append(texts)
        chars.update(_all_text(texts))
        if found:
            problems.setdefault(label.tracking_number, []).extend(found)
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="batchship-fonts-") as workdir:
        pdf = FPDF(unit="mm", format=(WIDTH, layout.height))
        pdf.set_auto_page_break(False)
        pdf.set_margins(0, 0, 0)
        pdf.set_line_width(0.25)
        pdf.set_title("Shipping labels")
        register_fonts(pdf, fonts, set(map(ord, chars)), Path(workdir), cjk_font)
        page = _LabelPage(pdf, TextPen(pdf, fonts), layout)
        for texts in prepared:
            page.draw(texts)
        save_pdf(pdf, path)
    return problems
