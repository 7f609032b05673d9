"""Text a thermal printer's own font cannot print, sent to it as ZPL graphic fields.

A Zebra printer's resident scalable font (font 0) has the letters of its Latin code pages
(Zebra Code Page 1252/850) and nothing else: an Arabic, Chinese, Cyrillic or Polish name sent
as field data prints as blanks or as wrong letters, with nothing to tell staff. Such a line is
drawn instead with the PDF labels' own fonts (the same fallbacks, the same shaping), rendered
at the printer's resolution by pdfium and sent as a ``^GFA`` bitmap in the text's place, so
the thermal label shows what the PDF label shows.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pypdfium2 as pdfium

from .fonts import TextPen
from .pdfium_lock import PDFIUM

PT_MM = 25.4 / 72
# Room around the baseline, in ems: stacked Vietnamese and Thai marks reach above a capital's
# height, Arabic and Thai below the descender; the bitmap is trimmed to its ink afterwards.
ABOVE, BELOW, SIDE = 1.3, 0.5, 0.25
INK = 128          # grey levels below this are printed dots


def printer_font_can_show(text: str) -> bool:
    """Whether font 0 prints ``text`` as written: Latin letters of code page 1252 only."""
    if text.isascii():
        return True
    for ch in text:
        if ch.isascii():
            continue
        try:
            ch.encode("cp1252")
        except UnicodeEncodeError:
            return False
    return True


@dataclass(frozen=True)
class TextBitmap:
    """One line of text in printer dots: ``rows`` packed 8 dots a byte, most significant first.
    ``left`` and ``top``: where its first dot sits from the text's start and baseline."""
    width: int
    height: int
    rows: bytes
    left: int
    top: int

    @property
    def bytes_per_row(self) -> int:
        return (self.width + 7) // 8

    def field(self, x: int, baseline: int) -> str:
        """A ``^GFA`` field drawing this line with its start at dot ``x`` on the dot row ``baseline``."""
        total = len(self.rows)
        return (f"^FO{max(0, x + self.left)},{max(0, baseline + self.top)}"
                f"^GFA,{total},{total},{self.bytes_per_row},{self.rows.hex().upper()}^FS")


def render_text_bitmaps(pen: TextPen, lines: set[tuple[str, float, bool]], dpi: int
                        ) -> dict[tuple[str, float, bool], TextBitmap]:
    """(text, size in pt, bold) -> its bitmap at ``dpi``; all drawn on pages of ``pen``'s document,
    which has the fonts of every character registered."""
    if not lines:
        return {}
    pdf = pen.pdf
    order = sorted(lines)
    for text, size, bold in order:
        em = size * PT_MM
        pdf.add_page(format=(pen.width(text, size, bold) + 2 * SIDE * em, (ABOVE + BELOW) * em))
        pen.start_page()
        pen.draw(SIDE * em, ABOVE * em, text, size, bold)
        pen.flush()
    data = bytes(pdf.output())
    with PDFIUM:
        document = pdfium.PdfDocument(data)
        dot = 25.4 / dpi
        bitmaps = {}
        try:
            # The text pages follow the pages the document held before (none when it only measured).
            first = len(document) - len(order)
            for n, (text, size, bold) in enumerate(order):
                em = size * PT_MM
                page = document[first + n]
                bitmap = page.render(scale=dpi / 72, grayscale=True, no_smoothtext=True)
                grey = bitmap.to_numpy()
                ink = grey.reshape(grey.shape[0], grey.shape[1]) < INK
                del grey            # a view of the bitmap's buffer, which is freed here, under the lock
                bitmap.close()
                bitmaps[(text, size, bold)] = _trimmed(ink, round(SIDE * em / dot), round(ABOVE * em / dot))
                page.close()
        finally:
            document.close()
    return bitmaps


def _trimmed(ink: np.ndarray, origin_x: int, baseline_y: int) -> TextBitmap:
    """The inked part of a rendered line, placed relative to the text's start and baseline."""
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    if not len(rows):
        return TextBitmap(8, 1, b"\x00", 0, 0)
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    part = ink[top:bottom, left:right]
    packed = np.packbits(part, axis=1)            # each row padded to whole bytes with blank dots
    return TextBitmap(int(part.shape[1]), int(part.shape[0]), packed.tobytes(),
                      int(left - origin_x), int(top - baseline_y))
