"""Shipping labels as ZPL II for Zebra-compatible thermal printers: the PDF labels' layout,
one ``^XA … ^XZ`` block per label.

The layout in ``labels.py`` measures text with the PDF fonts and draws through
``ZplCanvas``, which turns each text, rule, box and barcode into a ZPL field at
the printer's resolution (203 or 300 dpi). Text uses the printer's scalable
font 0, which is narrower than Noto Sans, so what fits on the PDF label fits here.

Text the printer's font 0 cannot print (anything beyond the Latin letters of its code
pages: Arabic, Chinese, Cyrillic, Polish ...) goes as a bitmap drawn with the PDF labels'
fonts instead (``zpl_graphics``), so no recipient prints blank on a thermal printer.

Field data is never written as is: ``^CI28`` makes the printer read field data as
UTF-8 and ``^FH_`` lets every byte outside printable ASCII, and the characters
``^``, ``~`` and ``_`` themselves, be written as ``_xx`` hex, so no name or address
can end a field or start a command. The barcode carries exactly the Code 128 symbols
the PDF label shows (``barcode128``), spelt with ZPL's invocation codes
(``>:`` start B, ``>;`` start C, ``>5``/``>6`` to switch, ``><`` for a ">" in the data).
"""
from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

from . import barcode128
from .font_cache import SpareFolder
from .fonts import TextPen
from .labels import LAYOUTS, PT_MM, SHEETS, LabelData, _LabelPage, continuation_parts, new_pdf, prepare_labels
from .zpl_graphics import printer_font_can_show, render_text_bitmaps

DPIS = (203, 300)
LINE_MM = 0.25          # rules and boxes, as on the PDF label
ASCENT = 0.8            # font 0: baseline sits this far down a character cell of height h
_PLAIN = frozenset(chr(c) for c in range(0x20, 0x7F)) - {"^", "~", "_"}


def field_data(text: str, block: bool = False) -> str:
    """``text`` for a ``^FH_^FD`` field: printable ASCII as is, anything else as _xx UTF-8 bytes.

    In a field block (``^FB``) a backslash starts a code of its own ("\\&" is a line break),
    so there it is written as the block's escaped backslash "\\\\".
    """
    out = "".join(ch if ch in _PLAIN else "".join(f"_{b:02X}" for b in ch.encode("utf-8", "replace"))
                  for ch in text)
    return out.replace("\\", "\\\\") if block else out


def barcode_data(symbols: list[int]) -> str:
    """Code 128 symbol values (start to check symbol, no stop) as ``^BC`` data in ZPL's invocation codes."""
    out: list[str] = []
    subset = ""
    for value in symbols[:-2]:                      # the printer adds the check symbol and stop
        if value == barcode128.START_B:
            out.append(">:")
            subset = "B"
        elif value == barcode128.START_C:
            out.append(">;")
            subset = "C"
        elif subset == "B" and value == barcode128.CODE_C:
            out.append(">5")
            subset = "C"
        elif subset == "C" and value == barcode128.CODE_B:
            out.append(">6")
            subset = "B"
        elif subset == "C":
            out.append(f"{value:02d}")
        else:
            ch = chr(value + 32)
            out.append("><" if ch == ">" else field_data(ch))
    return "".join(out)


class ZplCanvas:
    """Collects one label's ZPL fields; positions come in mm from the label's top-left corner."""

    def __init__(self, pen: TextPen, dpi: int):
        self.pen = pen
        self.dot_mm = 25.4 / dpi
        self.line_dots = max(1, round(LINE_MM / self.dot_mm))
        # ZPL fields, and (x, baseline, text, size, bold) of lines to draw as bitmaps once rendered
        self.fields: list[str | tuple[int, int, str, float, bool]] = []

    def _d(self, mm: float) -> int:
        return max(0, round(mm / self.dot_mm))

    def _text(self, x: float, baseline: float, text: str, size: float, block: tuple[float, str] | None,
              bold: bool = False) -> None:
        if not text:
            return
        if not printer_font_can_show(text):
            # ``x`` is already the line's left edge for right-aligned and centred text.
            self.fields.append((self._d(x), self._d(baseline), text, size, bold))
            return
        h = max(10, self._d(size * PT_MM))
        top = max(0, self._d(baseline) - round(h * ASCENT))
        where = f"^FO{self._d(x)},{top}"
        if block:                                   # centred or right-aligned in a block of this width
            width, justify = block
            where += f"^FB{self._d(width)},1,0,{justify}"
        self.fields.append(f"{where}^A0N,{h},{h}^FH_^FD{field_data(text, block=bool(block))}^FS")

    def draw(self, x: float, baseline: float, text: str, size: float, bold: bool = False) -> None:
        self._text(x, baseline, text, size, None, bold)

    def draw_right(self, x_right: float, baseline: float, text: str, size: float, bold: bool = False) -> None:
        width = self.pen.width(text, size, bold)
        self._text(x_right - width, baseline, text, size, (width, "R"), bold)

    def draw_centered(self, x_center: float, baseline: float, text: str, size: float, bold: bool = False) -> None:
        width = self.pen.width(text, size, bold)
        self._text(x_center - width / 2, baseline, text, size, (width, "C"), bold)

    def line(self, x0: float, y0: float, x1: float, y1: float) -> None:
        t = self.line_dots
        left, top = min(x0, x1), min(y0, y1)
        w, h = self._d(abs(x1 - x0)), self._d(abs(y1 - y0))
        if w == 0 or h == 0:                        # a rule: a box as thick as the line
            self.fields.append(f"^FO{self._d(left)},{self._d(top)}^GB{max(w, t)},{max(h, t)},{t}^FS")
        else:                                       # a diagonal: R leans right (/), L leans left (\\)
            leans = "R" if (x1 - x0) * (y1 - y0) < 0 else "L"
            self.fields.append(f"^FO{self._d(left)},{self._d(top)}^GD{w},{h},{t},B,{leans}^FS")

    def rect(self, x: float, y: float, w: float, h: float) -> None:
        t = self.line_dots
        self.fields.append(f"^FO{self._d(x)},{self._d(y)}^GB{self._d(w)},{self._d(h)},{t}^FS")

    @staticmethod
    def stamp(key, left: float, top: float, draw, form: bool = False) -> float:
        # ZPL fields are cheap to build again; a copied one would need its positions rewritten.
        return draw()

    def barcode(self, left: float, top: float, module: float, height: float,
                bars: barcode128.BarcodeModules, text: str) -> None:
        dots = max(1, math.floor(module / self.dot_mm + 1e-6))
        x = self._d(left) + barcode128.QUIET_ZONE_MODULES * dots     # ^FO is the first bar, not the quiet zone
        h = self._d(height)
        data = barcode_data(barcode128.encode(text))
        self.fields.append(f"^FO{x},{self._d(top)}^BY{dots}^BCN,{h},N,N,N,N^FH_^FD{data}^FS")


def render_zpl(labels: Sequence[LabelData], path: Path, *, size: str = "100x150", dpi: int = 203,
               cjk_font: str = "") -> dict[str, list[str]]:
    """Write one ZPL label block per entry to ``path``; problems as ``labels.render_labels`` reports them."""
    if dpi not in DPIS:
        raise ValueError(f"ZPL resolution must be 203 or 300 dpi, not {dpi!r}")
    if len(SHEETS.get(size, SHEETS["100x150"]).slots) != 1:
        raise ValueError(f"label size {size!r} is a sheet of labels for office printers: no ZPL for it")
    fonts, prepared, problems, chars = prepare_labels(labels, size, cjk_font)
    layout = LAYOUTS[size]
    dot = 25.4 / dpi
    head = (f"^XA\n^CI28\n^PW{round(layout.width / dot)}\n^LL{round(layout.height / dot)}\n"
            "^LH0,0\n^PON\n")
    blocks: list[list] = []
    with SpareFolder() as workdir:
        # Measures the layout, then draws the lines font 0 cannot print.
        pdf = new_pdf(layout.width, layout.height, fonts, chars, workdir, cjk_font)
        pen = TextPen(pdf, fonts)
        for texts in prepared:
            canvas = ZplCanvas(pen, dpi)
            page = _LabelPage(canvas, pen, layout)
            items_overflow = page.draw(texts)
            blocks.append(canvas.fields)
            # A CN 23 continuation is one more label block right after the parcel's label.
            for start, part in continuation_parts(page, texts, items_overflow):
                page.c = canvas = ZplCanvas(pen, dpi)
                page.draw_continuation(texts, 0.0, 0.0, start, part, items_overflow)
                blocks.append(canvas.fields)
        bitmaps = render_text_bitmaps(pen, {f[2:] for fields in blocks for f in fields if isinstance(f, tuple)},
                                      dpi)
    save_text(path, "".join(
        head + "\n".join(f if isinstance(f, str) else bitmaps[f[2:]].field(f[0], f[1]) for f in fields) + "\n^XZ\n"
        for fields in blocks))
    return problems


def save_text(path: Path, text: str) -> None:
    """Write ASCII ``text`` to a temporary name beside ``path``, then rename into place."""
    path = Path(path)
    tmp = path.with_suffix(".tmp")
    try:
        tmp.write_bytes(text.encode("ascii"))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
