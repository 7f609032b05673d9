"""Fonts for the PDF writers: Noto Sans from ``fontpkg-noto-sans``, plus an optional CJK font.

The package ships Noto Sans only as a variable font (``NotoSans[wdth,wght].ttf``).
fpdf2 2.8 embeds it as is and viewers draw its default instance (Regular,
normal width), but the embedded subset still carries the variation tables
(fvar, gvar, HVAR ...) that PDF has no use for, and a bold weight needs
fontTools' instancer, which takes ~3 s on the whole font (fpdf2's
``add_font(variations=...)`` does exactly that, per style, per document).
Cutting the font down to the characters a document uses first makes
instancing take ~30 ms, so each document gets its own small static Regular and
Bold made from exactly its text.

fpdf2 draws text with one font per call; ``FontSet.runs`` splits a string into
runs that each font can show, so the writers can put CJK text after Latin text
on one line without fpdf2's slower fallback-font machinery (``cell`` with
``set_fallback_fonts``).
"""
from __future__ import annotations

import functools
import importlib.resources
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from fontTools import subset, ttLib
from fontTools.varLib import instancer

from ..errors import ConfigError

NOTO_PACKAGE = "fontpkg_noto_sans"
NOTO_FILE = "NotoSans[wdth,wght].ttf"
REGULAR = {"wght": 400, "wdth": 100}
BOLD = {"wght": 700, "wdth": 100}
# Characters every document may draw itself (labels, boxes, ellipsis, ×).
ALWAYS = "".join(chr(c) for c in range(0x20, 0x7F)) + "…×"

PRIMARY = "noto"
CJK = "cjk"


def noto_sans_path() -> Path:
    resource = importlib.resources.files(NOTO_PACKAGE) / "files" / NOTO_FILE
    path = Path(str(resource))
    if not path.is_file():
        raise ConfigError(f"{NOTO_FILE} not found in the {NOTO_PACKAGE} package: reinstall fontpkg-noto-sans")
    return path


def _open(path: Path) -> ttLib.TTFont:
    # A .ttc collection (common for CJK fonts) holds several faces; the first is the regular one.
    number = 0 if path.suffix.lower() in (".ttc", ".otc") else -1
    return ttLib.TTFont(str(path), lazy=True, fontNumber=number)


@functools.lru_cache(maxsize=8)
def _coverage(path: str, mtime_ns: int) -> frozenset[int]:
    font = _open(Path(path))
    try:
        return frozenset(font.getBestCmap() or {})
    finally:
        font.close()


def coverage(path: Path) -> frozenset[int]:
    """Code points the font has a glyph for."""
    return _coverage(str(path), path.stat().st_mtime_ns)


def clean_text(text: str) -> str:
    """NFC (so Vietnamese gets its precomposed letters) without control or format characters.

    Those are invisible by definition; whitespace collapses to single spaces.
    """
    text = str(text)
    if text.isascii() and text.isprintable():
        return " ".join(text.split())
    text = unicodedata.normalize("NFC", text)
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch.isspace():
            out.append(" ")
        elif cat not in ("Cc", "Cf"):
            out.append(ch)
    return " ".join("".join(out).split())


def static_instance(source: Path, chars: set[int], axes: dict[str, float], dest: Path) -> Path:
    """A static TrueType font with only ``chars``, pinned at ``axes``, written to ``dest``."""
    font = ttLib.TTFont(str(source), lazy=True)
    options = subset.Options()
    options.layout_features = []          # fpdf2 does not shape text without harfbuzz
    options.notdef_outline = True
    options.recommended_glyphs = True
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "STAT"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(chars))
    subsetter.subset(font)
    if "fvar" in font:
        instancer.instantiateVariableFont(font, axes, inplace=True, static=True)
    font.save(str(dest))
    font.close()
    return dest


@dataclass(frozen=True)
class FontSet:
    """Which fonts a document has and which characters each can show."""
    primary: frozenset[int]
    cjk: frozenset[int]
    cjk_name: str = ""

    @functools.cached_property
    def _showable(self) -> frozenset[str]:
        return frozenset(map(chr, self.primary | self.cjk))

    def can_show(self, ch: str) -> bool:
        return ch in self._showable

    def unshowable(self, text: str) -> str:
        """The distinct characters of ``text`` no font has, in order of appearance."""
        showable = self._showable
        if text.isascii() or showable.issuperset(text):
            return ""     # Noto Sans has all of printable ASCII; clean_text removed the rest
        return "".join(dict.fromkeys(ch for ch in text if ch != " " and ch not in showable))

    def showable(self, text: str) -> str:
        return "".join(ch for ch in text if ch == " " or self.can_show(ch))

    def runs(self, text: str) -> list[tuple[str, str]]:
        """Split into (family, text) runs; Noto Sans wins where both fonts have a glyph."""
        if not self.cjk:
            return [(PRIMARY, text)]
        result: list[tuple[str, str]] = []
        for ch in text:
            family = PRIMARY if ord(ch) in self.primary else CJK
            if result and result[-1][0] == family:
                result[-1] = (family, result[-1][1] + ch)
            else:
                result.append((family, ch))
        return result

    def problem(self, field: str, chars: str) -> str:
        quoted = ", ".join(f"'{c}'" for c in chars) if len(chars) > 1 else f"'{chars}'"
        if self.cjk_name:
            hint = f"(neither Noto Sans nor {self.cjk_name} has it)"
        else:
            hint = "(set labels.cjk_font)"
        return f"{field}: cannot print {quoted} with the configured fonts {hint}"


def font_set(cjk_font: str = "") -> FontSet:
    primary = coverage(noto_sans_path())
    if not cjk_font:
        return FontSet(primary, frozenset())
    path = Path(cjk_font).expanduser()
    if not path.is_file():
        raise ConfigError(f"labels.cjk_font: {path} is not a font file")
    try:
        cjk = coverage(path)
    except Exception as exc:  # fontTools raises many kinds for a file that is no font
        raise ConfigError(f"labels.cjk_font: {path} cannot be read as a font ({exc})")
    return FontSet(primary, cjk, path.name)


def register_fonts(pdf, fonts: FontSet, text_chars: set[int], workdir: Path, cjk_font: str = "") -> None:
    """Add ``noto`` (Regular and B) and, if configured, ``cjk`` to ``pdf``.

    ``text_chars``: every code point the document will draw; the Noto instances
    are cut down to those (the files in ``workdir`` must live until output).
    """
    chars = (set(text_chars) | {ord(c) for c in ALWAYS}) & set(fonts.primary)
    source = noto_sans_path()
    regular = static_instance(source, chars, REGULAR, workdir / "noto-regular.ttf")
    bold = static_instance(source, chars, BOLD, workdir / "noto-bold.ttf")
    pdf.add_font(PRIMARY, "", str(regular))
    pdf.add_font(PRIMARY, "B", str(bold))
    if fonts.cjk:
        # One face only (a .ttc's first); bold text uses it too rather than embedding it twice.
        pdf.add_font(CJK, "", str(Path(cjk_font).expanduser()), collection_font_number=0)


class TextPen:
    """Measures and draws single lines of text on an fpdf2 page (unit mm).

    Text operators are collected per page and written in one piece by
    ``flush``: fpdf2's ``cell``/``text`` cost ~25 µs a call, which alone would
    hold label rendering under 1,000 pages/s. Each font is still used once per
    page through fpdf2 (``start_page``) so it is listed in the page's resources;
    ``encode_text`` adds the glyphs to fpdf2's subset. Text must already be cleaned and free of
    characters no font can show.
    """
    ELLIPSIS = "…"

    def __init__(self, pdf, fonts: FontSet):
        self.pdf = pdf
        self.fonts = fonts
        self._widths: dict[tuple[str, bool], list[float]] = {}
        self._totals: dict[tuple[str, bool], float] = {}
        self._encoded: dict[tuple[int, str], str] = {}
        self._ops: list[str] = []

    def start_page(self) -> None:
        """Call right after ``add_page``: registers every font with the new page."""
        pdf = self.pdf
        # fpdf2 adds a font to a page's resources when text is written with it;
        # an empty string does that without drawing anything.
        for family, style in ((PRIMARY, ""), (PRIMARY, "B")) + (((CJK, ""),) if self.fonts.cjk else ()):
            pdf.set_font(family, style, 10)
            pdf.text(0, 0, "")

    def flush(self) -> None:
        """Write the text drawn since the last flush into the current page."""
        if self._ops:
            # Black regardless of the fill colour the page last set for shapes.
            self.pdf._out("q 0 g BT " + " ".join(self._ops) + " ET Q")
            self._ops = []

    def _char_widths(self, text: str, bold: bool) -> list[float]:
        """Advance of each character in thousandths of an em."""
        key = (text, bold)
        cached = self._widths.get(key)
        if cached is None:
            if len(self._widths) > 50_000:
                self._widths.clear()
            primary = self.pdf.fonts[PRIMARY + ("B" if bold else "")].cw
            cjk = self.pdf.fonts[CJK].cw if self.fonts.cjk else primary
            cached = [primary[ord(c)] if (ord(c) in self.fonts.primary or not self.fonts.cjk)
                      else cjk[ord(c)] for c in text]
            self._widths[key] = cached
        return cached

    def width(self, text: str, size: float, bold: bool = False) -> float:
        key = (text, bold)
        total = self._totals.get(key)
        if total is None:
            if len(self._totals) > 50_000:
                self._totals.clear()
            total = self._totals[key] = sum(self._char_widths(text, bold))
        return total * size * 0.001 / self.pdf.k

    def draw(self, x: float, baseline: float, text: str, size: float, bold: bool = False) -> None:
        pdf = self.pdf
        k = pdf.k
        y = (pdf.h - baseline) * k
        for family, run in self.fonts.runs(text):
            font = pdf.fonts[family + ("B" if bold and family == PRIMARY else "")]
            key = (font.i, run)
            encoded = self._encoded.get(key)
            if encoded is None:
                if len(self._encoded) > 50_000:
                    self._encoded.clear()
                encoded = self._encoded[key] = font.encode_text(run)   # "(...) Tj", adds glyphs to the subset
            self._ops.append(f"/F{font.i} {size:.2f} Tf 1 0 0 1 {x * k:.2f} {y:.2f} Tm {encoded}")
            x += self.width(run, size, bold)

    def draw_right(self, x_right: float, baseline: float, text: str, size: float, bold: bool = False) -> None:
        self.draw(x_right - self.width(text, size, bold), baseline, text, size, bold)

    def draw_centered(self, x_center: float, baseline: float, text: str, size: float, bold: bool = False) -> None:
        self.draw(x_center - self.width(text, size, bold) / 2, baseline, text, size, bold)

    def truncate(self, text: str, max_width: float, size: float, bold: bool = False) -> str:
        """``text`` cut so that it plus an ellipsis fits ``max_width``; unchanged if it fits."""
        widths = self._char_widths(text, bold)
        scale = size * 0.001 / self.pdf.k
        if sum(widths) * scale <= max_width:
            return text
        budget = max_width / scale - self._char_widths(self.ELLIPSIS, bold)[0]
        used = 0.0
        for i, w in enumerate(widths):
            if used + w > budget:
                return text[:i].rstrip() + self.ELLIPSIS
            used += w
        return text

    def fit(self, text: str, max_width: float, size: float, min_size: float,
            bold: bool = False) -> tuple[str, float]:
        """Shrink from ``size`` towards ``min_size`` until it fits, then truncate."""
        natural = self.width(text, size, bold)
        if natural <= max_width:
            return text, size
        shrunk = max(min_size, size * max_width / natural)
        shrunk = max(min_size, int(shrunk * 4) / 4)   # quarter points: few distinct sizes
        return self.truncate(text, max_width, shrunk, bold), shrunk

    def wrap(self, text: str, max_width: float, size: float, max_lines: int,
             bold: bool = False) -> list[str]:
        """Greedy word wrap; over-long words break anywhere; the last line ends in … if cut."""
        lines: list[str] = []
        current = ""
        for word in text.split(" "):
            candidate = f"{current} {word}" if current else word
            if self.width(candidate, size, bold) <= max_width:
                current = candidate
                continue
            if current:
                lines.append(current)
            current = word
            while self.width(current, size, bold) > max_width and len(current) > 1:
                widths = self._char_widths(current, bold)
                limit = max_width * self.pdf.k / (size * 0.001)
                used, cut = 0.0, 0
                for cut, w in enumerate(widths):
                    if used + w > limit:
                        break
                    used += w
                cut = max(cut, 1)
                lines.append(current[:cut])
                current = current[cut:]
        if current:
            lines.append(current)
        if len(lines) > max_lines:
            rest = " ".join(lines[max_lines - 1:])
            # The joined rest is always wider than one line, so it comes back cut with "…".
            lines = lines[:max_lines - 1] + [self.truncate(rest, max_width, size, bold)]
        return lines
