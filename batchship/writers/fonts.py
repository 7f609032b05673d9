"""Fonts for the PDF writers: Noto Sans and, as fallbacks, fonts for the scripts it lacks.

Every font comes from a PyPI package the project depends on (all under the SIL Open Font
License): Noto Sans (Latin, Cyrillic, Greek, Vietnamese), Noto Sans Arabic, Heebo
(Hebrew: no Noto Sans Hebrew is packaged), Noto Sans Thai and Noto Sans CJK (Chinese,
Japanese, Korean; the collection's Japanese face, which has every Han character and
Hangul syllable). ``labels.cjk_font`` names a font of one's own that takes the CJK
font's place for the characters it has; the packaged one still covers the rest.

The packages ship variable fonts (``NotoSans[wdth,wght].ttf`` ...). fpdf2 2.8 embeds
them as is and viewers draw the default instance, but the subset still carries the
variation tables and a bold weight needs fontTools' instancer, which takes seconds on
a whole font. Cutting each font down to the characters a document uses first makes
instancing take milliseconds, so each document gets small static Regular and Bold
fonts made from exactly its text, and only the fonts its text needs. fpdf2 subsets
them again on output, so a PDF carries only the glyphs it draws.

Arabic, Hebrew and Thai need shaping (joining forms, marks, right-to-left order): their
fonts keep their OpenType layout tables and are drawn through fpdf2's text shaping
(harfbuzz, ``uharfbuzz``) after fpdf2's bidi algorithm has split a line into
directional runs. Everything else is drawn glyph by glyph, which is far faster.

fpdf2 draws text with one font per call; ``FontSet.runs`` splits a string into runs
that each font can show (the first font in fallback order that has a character wins),
so the writers can mix scripts on one line without fpdf2's slower fallback-font
machinery (``cell`` with ``set_fallback_fonts``).
"""
from __future__ import annotations

import functools
import importlib.resources
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from fontTools import subset, ttLib
from fontTools.varLib import instancer
from fpdf.enums import PDFResourceType

from ..errors import ConfigError
from .font_cache import SpareFolder, cached, forget, instance_name, kept_coverage, whole_pages

REGULAR = {"wght": 400, "wdth": 100}
BOLD = {"wght": 700, "wdth": 100}
# Characters every document may draw itself (labels, boxes, ellipsis, ×).
ALWAYS = "".join(chr(c) for c in range(0x20, 0x7F)) + "…×"

PRIMARY = "noto"
# Entries a per-text cache keeps before it starts afresh: the texts that recur from label to label
# (headings, senders, customs lines) are a few hundred, and every name and address is new, so a
# larger cache only holds, in every label worker, more texts that never come again.
TEXT_CACHE_ENTRIES = 5_000


class PerChar(dict):
    """A value per character, worked out by ``make`` when first asked for: a document meets a few
    hundred distinct characters, asked for millions of times (read with ``map(d.__getitem__, text)``)."""

    def __init__(self, make):
        super().__init__()
        self._make = make

    def __missing__(self, ch: str):
        value = self[ch] = self._make(ch)
        return value


def remember(cache: dict, key, value, limit: int = TEXT_CACHE_ENTRIES):
    """``cache[key] = value``, the cache started afresh once it holds more than ``limit`` entries;
    returns ``value``."""
    if len(cache) > limit:
        cache.clear()
    cache[key] = value
    return value

CJK = "cjk"


@dataclass(frozen=True)
class Face:
    """One font of the fallback list: the fpdf2 family it is registered as and where it is."""
    family: str
    package: str                # the Python package that ships it ("" for a configured file)
    file: str
    number: int = 0             # face in a collection (.ttc/.otc)
    shaped: bool = False        # drawn through harfbuzz: joining, marks, right to left
    name: str = ""              # for messages

    @property
    def path(self) -> Path:
        if not self.package:
            return Path(self.file)
        resource = importlib.resources.files(self.package) / self.file
        path = Path(str(resource))
        if not path.is_file():
            dist = self.package.replace("_", "-")
            raise ConfigError(f"{self.file} not found in the {self.package} package: reinstall {dist}")
        return path


NOTO = Face(PRIMARY, "fontpkg_noto_sans", "files/NotoSans[wdth,wght].ttf", name="Noto Sans")
BUNDLED_FALLBACKS = (
    Face("arabic", "fontpkg_noto_sans_arabic", "files/NotoSansArabic[wdth,wght].ttf", shaped=True,
         name="Noto Sans Arabic"),
    Face("hebrew", "fontpkg_heebo", "files/Heebo[wght].ttf", shaped=True, name="Heebo"),
    Face("thai", "fontpkg_noto_sans_thai", "files/NotoSansThai[wdth,wght].ttf", shaped=True,
         name="Noto Sans Thai"),
)
NOTO_CJK = Face("notocjk", "noto_cjk_sans_otc", "NotoSansCJK-Regular.ttc", number=0, name="Noto Sans CJK")
# Kept for callers that ask for the file itself.
NOTO_PACKAGE, NOTO_FILE = NOTO.package, "NotoSans[wdth,wght].ttf"


def noto_sans_path() -> Path:
    return NOTO.path


def _open(path: Path, number: int = -1) -> ttLib.TTFont:
    # A .ttc collection (common for CJK fonts) holds several faces; the first is the regular one.
    if path.suffix.lower() in (".ttc", ".otc"):
        number = max(number, 0)
    return ttLib.TTFont(str(path), lazy=True, fontNumber=number)


@functools.lru_cache(maxsize=16)
def _coverage(path: str, mtime_ns: int, number: int) -> frozenset[int]:
    def read() -> frozenset[int]:
        font = _open(Path(path), number)
        try:
            return frozenset(font.getBestCmap() or {})
        finally:
            font.close()
    return kept_coverage(Path(path), number, read)


def coverage(path: Path, number: int = 0) -> frozenset[int]:
    """Code points the font has a glyph for."""
    return _coverage(str(path), path.stat().st_mtime_ns, number)


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


def static_instance(source: Path, chars: set[int], axes: dict[str, float], dest: Path, *,
                    number: int = 0, layout: bool = False) -> Path:
    """A static font with only ``chars``, pinned at ``axes`` if it is variable, written to ``dest``.

    ``layout`` keeps the OpenType layout tables (and every glyph they reach from ``chars``),
    which shaping needs; without it they are dropped, since such text is drawn glyph by glyph.
    """
    font = _open(source, number)
    options = subset.Options()
    options.notdef_outline = True
    options.recommended_glyphs = True
    options.drop_tables += ["STAT"]
    if layout:
        options.layout_features = ["*"]
    else:
        options.layout_features = []
        options.drop_tables += ["GSUB", "GPOS", "GDEF"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(chars))
    subsetter.subset(font)
    if "fvar" in font:
        present = {axis.axisTag for axis in font["fvar"].axes}
        instancer.instantiateVariableFont(font, {k: v for k, v in axes.items() if k in present},
                                          inplace=True, static=True)
    font.save(str(dest))
    font.close()
    return dest


@dataclass(frozen=True)
class FontSet:
    """Which fonts a document may use, in fallback order, and which characters each can show."""
    faces: tuple[Face, ...]
    covers: tuple[frozenset[int], ...]
    cjk_name: str = ""                  # the configured CJK font's file name, if any
    _family: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def primary(self) -> frozenset[int]:
        return self.covers[0]

    @functools.cached_property
    def _showable(self) -> frozenset[str]:
        return frozenset(map(chr, frozenset().union(*self.covers)))

    @functools.cached_property
    def _primary_chars(self) -> frozenset[str]:
        return frozenset(map(chr, self.covers[0])) if self.faces[0].family == PRIMARY else frozenset()

    @functools.cached_property
    def _shaped_families(self) -> frozenset[str]:
        return frozenset(face.family for face in self.faces if face.shaped)

    @functools.cached_property
    def _faces(self) -> dict[str, Face]:
        return {face.family: face for face in self.faces}

    def face(self, family: str) -> Face:
        return self._faces[family]

    def family_of(self, ch: str) -> str:
        """The first font in fallback order that has ``ch`` (Noto Sans for one none has)."""
        family = self._family.get(ch)
        if family is None:
            code = ord(ch)
            family = next((face.family for face, cover in zip(self.faces, self.covers) if code in cover),
                          PRIMARY)
            self._family[ch] = family
        return family

    def is_shaped(self, family: str) -> bool:
        return family in self._shaped_families

    @functools.cached_property
    def _shaping(self) -> PerChar:
        shaped = self._shaped_families
        return PerChar(lambda ch: not ch.isascii() and self.family_of(ch) in shaped)

    def needs_shaping(self, text: str) -> bool:
        """Whether any character of ``text`` is drawn with a font that needs shaping."""
        if text.isascii():
            return False
        return any(map(self._shaping.__getitem__, text))

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
        """Split into (family, text) runs by the first font that has each character.

        A space or punctuation mark the current run's font also has stays in that run, so
        words of one script are not cut at every space.
        """
        if text.isascii() or self._primary_chars.issuperset(text):
            return [(PRIMARY, text)]
        result: list[tuple[str, str]] = []
        for ch in text:
            family = self.family_of(ch)
            if result and family != result[-1][0] and _neutral(ch):
                last = result[-1][0]
                if ord(ch) in self.covers[self.faces.index(self._faces[last])]:
                    family = last
            if result and result[-1][0] == family:
                result[-1] = (family, result[-1][1] + ch)
            else:
                result.append((family, ch))
        return result

    def used_families(self, chars) -> list[str]:
        """The families that text of ``chars`` is drawn with, in fallback order (Noto Sans always)."""
        used = {PRIMARY} | {self.family_of(ch) for ch in chars}
        return [face.family for face in self.faces if face.family in used]

    def problem(self, field: str, chars: str) -> str:
        quoted = ", ".join(f"'{c}'" for c in chars) if len(chars) > 1 else f"'{chars}'"
        if self.cjk_name:
            hint = f"(neither the bundled fonts nor {self.cjk_name} has it)"
        else:
            hint = "(no bundled font has it; labels.cjk_font can add one)"
        return f"{field}: cannot print {quoted} with the configured fonts {hint}"


def _neutral(ch: str) -> bool:
    return ch == " " or unicodedata.category(ch)[0] in "PZ"


def font_set(cjk_font: str = "") -> FontSet:
    faces = [NOTO, *BUNDLED_FALLBACKS]
    name = ""
    if cjk_font:
        path = Path(cjk_font).expanduser()
        if not path.is_file():
            raise ConfigError(f"labels.cjk_font: {path} is not a font file")
        faces.append(Face(CJK, "", str(path), name=path.name))
        name = path.name
    faces.append(NOTO_CJK)
    covers = []
    for face in faces:
        try:
            covers.append(coverage(face.path, face.number))
        except ConfigError:
            raise
        except Exception as exc:  # fontTools raises many kinds for a file that is no font
            if face.family == CJK:
                raise ConfigError(f"labels.cjk_font: {face.path} cannot be read as a font ({exc})")
            raise
    return FontSet(tuple(faces), tuple(covers), name)


def register_fonts(pdf, fonts: FontSet, text_chars: set[int], workdir: SpareFolder | Path,
                   cjk_font: str = "") -> None:
    """Add to ``pdf`` the fonts that text of ``text_chars`` needs, Noto Sans always.

    ``text_chars``: every code point the document will draw; each font is cut down to
    those it has (the files in ``workdir`` must live until output). Fonts with a bold
    weight get a Regular and a Bold; the CJK fonts draw bold text with their one weight.
    Turns on fpdf2's text shaping when a font that needs it is used.
    """
    chars = set(text_chars) | {ord(c) for c in ALWAYS}
    families = fonts.used_families(map(chr, chars))
    shaped = False
    for face, cover in zip(fonts.faces, fonts.covers):
        if face.family not in families:
            continue
        mine = chars & cover
        source = face.path
        if face.family == PRIMARY or face.shaped:
            suffix = source.suffix.lower().replace(".ttc", ".otf")
            for style, axes in (("", REGULAR), ("B", BOLD)):
                _add_instance(pdf, face, style, whole_pages(mine, cover), axes, suffix, workdir)
            shaped = shaped or face.shaped
        else:
            suffix = ".ttf" if _is_truetype(source, face.number) else ".otf"
            _add_instance(pdf, face, "", mine, REGULAR, suffix, workdir)
    pdf.batchship_families = tuple(families)
    if shaped:
        pdf.set_text_shaping(True)


def _add_instance(pdf, face: Face, style: str, chars: set[int], axes: dict[str, float], suffix: str,
                  workdir: SpareFolder | Path) -> None:
    """Register ``face`` in ``style`` with fpdf2 as a static font of ``chars``, from the font cache."""
    source = face.path
    name = instance_name(source, face.number, axes, face.shaped, chars, suffix)

    def make(dest: Path) -> None:
        static_instance(source, chars, axes, dest, number=face.number, layout=face.shaped)

    path = cached(name, make, workdir)
    try:
        pdf.add_font(face.family, style, str(path))
    except Exception:   # fontTools raises many kinds for a damaged file: make this one afresh, uncached
        forget(path)
        own = workdir / name
        make(own)
        pdf.add_font(face.family, style, str(own))


def _is_truetype(path: Path, number: int) -> bool:
    font = _open(path, number)
    try:
        return "glyf" in font
    finally:
        font.close()


def _glyph_code(font, ch: str) -> str:
    """``ch`` as fpdf2 encodes it in a "(...) Tj" string of ``font`` (escaped, "" without a glyph).
    Encoding adds the glyph to the font's subset: a text encoded character by character, each on
    first sight, numbers the glyphs in the order fpdf2 would, so the file is the same."""
    return font.encode_text(ch)[1:-len(") Tj")]


class TextPen:
    """Measures and draws single lines of text on an fpdf2 page (unit mm).

    Text operators are collected per page and written in one piece by
    ``flush``: fpdf2's ``cell``/``text`` cost ~25 µs a call, which alone would
    hold label rendering under 1,000 pages/s. Each font is still used once per
    page through fpdf2 (``start_page``) so it is listed in the page's resources;
    ``encode_text`` adds the glyphs to fpdf2's subset. Text must already be cleaned and free of
    characters no font can show.

    A line with Arabic, Hebrew or Thai goes through fpdf2's bidi algorithm (directional
    runs, laid out right to left where the text says so) and its text shaping (harfbuzz
    glyphs and positions, ``TTFFont.shape_text``); its width is the shaped width.
    """
    ELLIPSIS = "…"

    def __init__(self, pdf, fonts: FontSet):
        self.pdf = pdf
        self.fonts = fonts
        self.families = tuple(getattr(pdf, "batchship_families", (PRIMARY,)))
        self._widths: dict[tuple[str, bool], list[float]] = {}
        self._totals: dict[tuple[str, bool], float] = {}
        # Per weight, each character's advance in Noto Sans (for ASCII text) and in the font that
        # shows it (any other text); per font, each character's code in a "(...) Tj" string.
        self._advances = {bold: (PerChar(lambda ch, b=bold: self._font(PRIMARY, b).cw[ord(ch)]),
                                 PerChar(lambda ch, b=bold: self._font(fonts.family_of(ch), b).cw[ord(ch)]))
                          for bold in (False, True)}
        self._codes: dict[int, PerChar] = {}
        self._pieces: dict[tuple[str, bool], list[tuple[int, str, float]]] = {}
        self._shaped: dict[tuple[str, bool], list] = {}
        self._drawn: dict[tuple[float, float, str, float, bool], str] = {}
        self._ops: list[str] = []

    def _font(self, family: str, bold: bool):
        fonts = self.pdf.fonts
        if bold and family + "B" in fonts:
            return fonts[family + "B"]
        return fonts[family]

    def start_page(self) -> None:
        """Call right after ``add_page``: registers every font with the new page."""
        pdf = self.pdf
        if pdf.single_resources_object and pdf.page > 1:
            return      # every page has the one /Resources of all the document's fonts
        # What fpdf2 does when text is first set in a font on a page, without the text: at a label a
        # page, set_font and an empty text() for each font cost as much as the label.
        for key in pdf.fonts:
            if key.rstrip("B") in self.families:
                pdf._resource_catalog.add(PDFResourceType.FONT, pdf.fonts[key].i, pdf.page)

    def mark(self) -> int:
        """Where the text drawn from now on starts, for ``take``."""
        return len(self._ops)

    def take(self, mark: int) -> str:
        """The text operators drawn since ``mark``, taken out of the page's."""
        taken = " ".join(self._ops[mark:])
        del self._ops[mark:]
        return taken

    def take_block(self) -> str:
        """The text drawn since the last flush as one block of operators (taken out), or ""."""
        if not self._ops:
            return ""
        # Black regardless of the fill colour the page last set for shapes.
        block = "q 0 g BT " + " ".join(self._ops) + " ET Q"
        self._ops = []
        return block

    def flush(self) -> None:
        """Write the text drawn since the last flush into the current page."""
        block = self.take_block()
        if block:
            self.pdf._out(block)

    def _nominal_widths(self, text: str, bold: bool) -> list[float]:
        """Advance of each character's own glyph, in thousandths of an em."""
        primary, fallback = self._advances[bool(bold)]
        return list(map((primary if text.isascii() else fallback).__getitem__, text))

    def _char_widths(self, text: str, bold: bool) -> list[float]:
        """Advance of each character in thousandths of an em (shaped text: scaled to its shaped width)."""
        key = (text, bold)
        cached = self._widths.get(key)
        if cached is None:
            cached = self._nominal_widths(text, bold)
            if self.fonts.needs_shaping(text):
                shaped = sum(piece[2] for piece in self._layout(text, bold))
                nominal = sum(cached)
                if nominal:
                    cached = [w * shaped / nominal for w in cached]
            remember(self._widths, key, cached)
        return cached

    def _layout(self, text: str, bold: bool) -> list:
        """A line that needs shaping as pieces left to right: (font, glyphs, width).

        ``glyphs``: (char id in the font's subset, x advance, x offset, y offset), in
        thousandths of an em.
        """
        key = (text, bold)
        cached = self._shaped.get(key)
        if cached is not None:
            return cached
        from fpdf.bidi import BidiParagraph, auto_detect_base_direction
        from fpdf.enums import TextDirection

        base = auto_detect_base_direction(text)
        runs: list[tuple[TextDirection, str, str]] = []
        for piece, direction in BidiParagraph(text=text, base_direction=base).get_bidi_fragments():
            runs += [(direction, family, run) for family, run in self.fonts.runs(piece)]
        # Visual order, as fpdf2 lays out a line: runs of one direction together, an RTL
        # paragraph's groups from the right, an RTL group's runs from the right.
        groups: list[list[tuple[TextDirection, str, str]]] = []
        for run in runs:
            if groups and groups[-1][0][0] == run[0]:
                groups[-1].append(run)
            else:
                groups.append([run])
        if base == TextDirection.RTL:
            groups.reverse()
        ordered = [run for group in groups
                   for run in (group[::-1] if group[0][0] == TextDirection.RTL else group)]
        params = dict(self.pdf.text_shaping or {})
        pieces = []
        for direction, family, run in ordered:
            font = self._font(family, bold)
            if self.fonts.is_shaped(family) or direction == TextDirection.RTL:
                params["fragment_direction"] = direction
                scale = font.scale
                glyphs = [(g["mapped_char"], g["x_advance"] * scale, g["x_offset"] * scale, g["y_offset"] * scale)
                          for g in font.shape_text(run, 10, params) if g["mapped_char"] is not None]
            else:
                glyphs = [(font.subset.pick(ord(c)), font.cw[ord(c)], 0, 0) for c in run]
                glyphs = [g for g in glyphs if g[0] is not None]
            pieces.append((font, glyphs, sum(g[1] for g in glyphs)))
        return remember(self._shaped, key, pieces, limit=20_000)

    def width(self, text: str, size: float, bold: bool = False) -> float:
        key = (text, bold)
        total = self._totals.get(key)
        if total is None:
            total = remember(self._totals, key, sum(self._char_widths(text, bold)))
        return total * size * 0.001 / self.pdf.k

    def draw(self, x: float, baseline: float, text: str, size: float, bold: bool = False) -> None:
        # Most of a label's texts are drawn in the same place on every label (headings, the
        # sender, customs lines): their operators are remembered whole.
        key = (x, baseline, text, size, bold)
        ops = self._drawn.get(key)
        if ops is None:
            ops = remember(self._drawn, key, self._operators(x, baseline, text, size, bold))
        if ops:
            self._ops.append(ops)

    def _operators(self, x: float, baseline: float, text: str, size: float, bold: bool) -> str:
        pdf = self.pdf
        k = pdf.k
        y = (pdf.h - baseline) * k
        pieces = self._pieces.get((text, bold))
        if pieces is None:
            if self.fonts.needs_shaping(text):
                return self._shaped_operators(x, y, text, size, bold)
            pieces = self._text_pieces(text, bold)
        x *= k
        scale = size * 0.001
        ops = []
        for font_i, encoded, advance in pieces:
            ops.append(f"/F{font_i} {size:.2f} Tf 1 0 0 1 {x:.2f} {y:.2f} Tm {encoded}")
            x += advance * scale
        return " ".join(ops)

    def _text_pieces(self, text: str, bold: bool) -> list[tuple[int, str, float]]:
        """Unshaped text as (font number, its "(...) Tj" operator, advance in thousandths of an em)
        per font run; remembered, since most of a label's texts recur on other labels."""
        pieces = []
        for family, run in self.fonts.runs(text):
            font = self._font(family, bold)
            codes = self._codes.get(font.i)
            if codes is None:
                codes = self._codes[font.i] = PerChar(functools.partial(_glyph_code, font))
            pieces.append((font.i, f"({''.join(map(codes.__getitem__, run))}) Tj",
                           sum(self._char_widths(run, bold))))
        return remember(self._pieces, (text, bold), pieces)

    def _shaped_operators(self, x: float, y: float, text: str, size: float, bold: bool) -> str:
        """``y`` in PDF points from the page's foot. Each glyph is placed where harfbuzz puts it
        (its own text matrix), so marks and joined forms sit exactly as shaped."""
        k = self.pdf.k
        em = size * 0.001          # points per thousandth of an em
        pos = x * k
        ops = []
        for font, glyphs, _ in self._layout(text, bold):
            ops.append(f"/F{font.i} {size:.2f} Tf")
            for char_id, advance, dx, dy in glyphs:
                ops.append(f"1 0 0 1 {pos + dx * em:.2f} {y + dy * em:.2f} Tm "
                           f"({font.escape_text(chr(char_id))}) Tj")
                pos += advance * em
        return " ".join(ops)

    def draw_right(self, x_right: float, baseline: float, text: str, size: float, bold: bool = False) -> None:
        self.draw(x_right - self.width(text, size, bold), baseline, text, size, bold)

    def draw_centered(self, x_center: float, baseline: float, text: str, size: float, bold: bool = False) -> None:
        self.draw(x_center - self.width(text, size, bold) / 2, baseline, text, size, bold)

    def truncate(self, text: str, max_width: float, size: float, bold: bool = False) -> str:
        """``text`` cut so that it plus an ellipsis fits ``max_width``; unchanged if it fits."""
        if self.width(text, size, bold) <= max_width:
            return text
        widths = self._char_widths(text, bold)
        scale = size * 0.001 / self.pdf.k
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
