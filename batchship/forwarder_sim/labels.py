"""Shipping labels as the forwarder serves them: a hand-written one-page PDF and a ZPL variant.

The PDF is written directly (no layout library) so that a label costs a few hundred
microseconds: one content stream of filled rectangles for the Code 128 bars and a few
Helvetica text lines. Helvetica is one of the PDF standard fonts, so nothing is embedded;
text outside Latin-1 prints as "?".
"""
from __future__ import annotations

from ..writers import barcode128

MM = 72 / 25.4
PAGE_W_MM, PAGE_H_MM = 100.0, 150.0
MARGIN_MM = 6.0
MODULE_MM = 3 * 25.4 / 203        # three dots of a 203 dpi printer
BAR_HEIGHT_MM = 25.0


def _pdf_text(text: str) -> str:
    """A PDF literal string body in WinAnsi/Latin-1, with the delimiters escaped."""
    text = text.encode("latin-1", "replace").decode("latin-1")
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").replace("\r", " ").replace("\n", " ")


def _fmt(value: float) -> str:
    return f"{value:.2f}"


def label_pdf(tracking: str, waybill: str, receiver_name: str, country: str, city: str = "",
              method: str = "") -> bytes:
    """One 100x150 mm page: forwarder header, Code 128 of the tracking number, number and receiver in text."""
    page_w, page_h = PAGE_W_MM * MM, PAGE_H_MM * MM
    bars = barcode128.modules(tracking)
    module = MODULE_MM * MM
    width = bars.total_modules * module
    if width > page_w - 2 * MARGIN_MM * MM:       # only for unusually long numbers
        module = (page_w - 2 * MARGIN_MM * MM) / bars.total_modules
        width = bars.total_modules * module
    x0 = (page_w - width) / 2
    top = page_h - 22 * MM
    bar_h = BAR_HEIGHT_MM * MM
    y0 = top - bar_h
    ops = ["0 g"]
    ops += [f"{_fmt(x0 + start * module)} {_fmt(y0)} {_fmt(w * module)} {_fmt(bar_h)} re"
            for start, w in bars.bars]
    ops.append("f")
    left = MARGIN_MM * MM

    def line(x: float, y: float, size: int, text: str) -> None:
        ops.append(f"BT /F1 {size} Tf {_fmt(x)} {_fmt(y)} Td ({_pdf_text(text)}) Tj ET")

    line(left, page_h - 12 * MM, 14, f"YUNEXPRESS SIM  {method}".rstrip())
    line(left, page_h - 18 * MM, 9, f"Waybill {waybill}")
    line(x0 + 10 * module, y0 - 7 * MM, 14, tracking)
    line(left, y0 - 20 * MM, 12, f"To: {receiver_name}")
    line(left, y0 - 27 * MM, 12, f"{city} {country}".strip())
    content = "\n".join(ops).encode("latin-1")

    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {_fmt(page_w)} {_fmt(page_h)}] "
         f"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>").encode("ascii"),
        b"<< /Length " + str(len(content)).encode("ascii") + b" >>\nstream\n" + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _zpl_text(text: str) -> str:
    """ZPL field data without the characters that start commands."""
    return "".join(ch if " " <= ch <= "~" and ch not in "^~" else "?" for ch in text)


def label_zpl(tracking: str, waybill: str, receiver_name: str, country: str, city: str = "",
              method: str = "") -> str:
    """The same label in ZPL II for a 203 dpi printer (800 x 1200 dots)."""
    return "\n".join([
        "^XA",
        "^CI28",
        "^PW800",
        "^LL1200",
        f"^FO40,40^A0N,40,40^FDYUNEXPRESS SIM {_zpl_text(method)}^FS",
        f"^FO40,90^A0N,28,28^FDWaybill {_zpl_text(waybill)}^FS",
        "^BY3,3,200",
        f"^FO60,150^BCN,200,Y,N,N^FD{_zpl_text(tracking)}^FS",
        f"^FO40,440^A0N,36,36^FDTo: {_zpl_text(receiver_name)}^FS",
        f"^FO40,490^A0N,36,36^FD{_zpl_text(f'{city} {country}'.strip())}^FS",
        "^XZ",
        "",
    ])
